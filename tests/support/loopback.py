"""The lifecycle every loopback stand-in shares: a threaded HTTP server on a free 127.0.0.1 port.

A subclass sets ``handler`` (a BaseHTTPRequestHandler class); each request's handler sees the stand-in
as ``self.app``.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer


def free_port() -> int:
    """A loopback port nobody listens on now (the OS's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    handler: type
    httpd: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> str:
        class Handler(self.handler):
            app = self

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
