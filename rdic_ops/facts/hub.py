"""Can this machine fetch a file from the Hugging Face Hub right now? One bounded HEAD request.

The probe is bounded: it answers within about its timeout whatever the network does. The endpoint is
HF_ENDPOINT (as huggingface_hub reads it), else https://huggingface.co; HF_HUB_OFFLINE=1 answers "no" without
a request. The probe asks for the very file an env would download, so "reachable"
means that file can be fetched (a redirect to the CDN counts), not merely that some server answered.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from dataclasses import dataclass

from rdic_ops.redact import mask_url

DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = ("1", "true", "yes", "on")


@dataclass
class HubFact:
    reachable: bool
    endpoint: str
    reason: str  # what was seen, in a few words (for the one-line "why")


def endpoint(environ: dict | None = None) -> str:
    environ = os.environ if environ is None else environ
    return (environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def file_url(base: str, repo: str, revision: str, filename: str) -> str:
    quote = urllib.parse.quote
    return f"{base}/{repo}/resolve/{quote(revision, safe='')}/{quote(filename)}"


def probe(
    repo: str, filename: str, revision: str = "main", *, timeout_s: float = 3.0, environ: dict | None = None
) -> HubFact:
    """HEAD the file's resolve URL; the whole probe (name lookup included) ends within about ``timeout_s``."""
    environ = os.environ if environ is None else environ
    base = endpoint(environ)
    # the reason is printed on one line, and never with the endpoint's userinfo or a token in its query
    shown = mask_url(base if base.isprintable() else ascii(base))
    if str(environ.get("HF_HUB_OFFLINE", "")).lower() in _TRUE:
        return HubFact(False, shown, "HF_HUB_OFFLINE is set")
    url = file_url(base, repo, revision, filename)
    found: list[HubFact] = []
    # A thread bounds what httpx's timeouts do not: a name lookup that hangs (daemon: never holds up exit).
    worker = threading.Thread(target=lambda: found.append(_head(url, shown, repo, filename, timeout_s)), daemon=True)
    worker.start()
    worker.join(timeout_s + 0.5)
    return found[0] if found else HubFact(False, shown, f"no answer from {shown} within {timeout_s:g} s")


def _head(url: str, shown: str, repo: str, filename: str, timeout_s: float) -> HubFact:
    import httpx

    try:
        r = httpx.head(url, timeout=httpx.Timeout(timeout_s), follow_redirects=False)
    except httpx.TimeoutException:
        return HubFact(False, shown, f"no answer from {shown} within {timeout_s:g} s")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        detail = (mask_url(str(exc)).strip().splitlines() or [type(exc).__name__])[0][:80]  # masked, then cut
        return HubFact(False, shown, f"{shown} is not reachable ({detail})")
    if r.status_code < 400:  # 200, or a 30x to the CDN
        return HubFact(True, shown, f"{shown} serves {repo}/{filename}")
    return HubFact(False, shown, f"{shown} answered HTTP {r.status_code} for {repo}/{filename}")
