"""Secrets are never printed: passwords in URLs and the values of secret-named keys become a mask.

Used where text leaves rdic-ops (the renderer, error lines, `invoke config`) and where a secret is known to
pass (the Ollama URL, an app's .env). A secret is masked, never shortened: no prefix of it is shown.
"""

from __future__ import annotations

import re

SECRET_MASK = "********"
# scheme://user:password@host -> scheme://user:********@host (any text, any scheme)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)([^@\s/]+)@")
_SECRET_NAME = re.compile(r"(api[_\-]?key|token|secret|passw(or)?d|credential|private[_\-]?key|auth)", re.I)


def is_secret_name(name: str) -> bool:
    """Does a key or variable name hold a secret (EMBEDDING_BINDING_API_KEY, HF_TOKEN, db_password, ...)?
    A key ending in ``_env`` (hf_token_env, api_key_env) holds the NAME of a variable, never the secret."""
    name = name or ""
    return bool(_SECRET_NAME.search(name)) and not name.lower().endswith("_env")


def mask_text(text: str) -> str:
    """Any text with the password of every URL in it masked."""
    return _URL_PASSWORD.sub(lambda m: m[1] + SECRET_MASK + "@", text) if "://" in text else text


def mask_url(url: str) -> str:
    return mask_text(url)


def mask_data(obj: object, key: str = "") -> object:
    """A copy of plain data (dicts, lists, strings) with URL passwords and secret-named values masked."""
    if isinstance(obj, dict):
        return {k: mask_data(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [mask_data(v, key) for v in obj]
    if isinstance(obj, str):
        return SECRET_MASK if (obj and is_secret_name(key)) else mask_text(obj)
    return obj
