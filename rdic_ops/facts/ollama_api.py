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

    host = host.rstrip("/")
    try:
        r = httpx.get(f"{host}/api/version", timeout=timeout)
        if r.status_code != 200:
            return ServerFacts(host, None, f"HTTP {r.status_code}")
        return ServerFacts(host, str(r.json().get("version", "?")))
    except (httpx.HTTPError, ValueError) as exc:
        return ServerFacts(host, None, type(exc).__name__)
