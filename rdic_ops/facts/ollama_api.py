"""Facts about a running Ollama server: is it there, and which version (GET /api/version)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServerFacts:
    host: str
    version: str | None  # None: not reachable
    reason: str = ""  # why not reachable


def server(host: str, timeout: float = 3.0) -> ServerFacts:
    import httpx

    from rdic_ops.redact import mask_url

    host = host.rstrip("/")
    shown = mask_url(host)  # the facts are printed: never the password of a URL
    try:
        r = httpx.get(f"{host}/api/version", timeout=timeout)
        if r.status_code != 200:
            return ServerFacts(shown, None, f"HTTP {r.status_code}")
        return ServerFacts(shown, str(r.json().get("version", "?")))
    except (httpx.HTTPError, ValueError) as exc:
        return ServerFacts(shown, None, type(exc).__name__)
