"""Which model a context setting belongs to, when it sits beside model settings (YAML block, .env file,
Python dict or class): one model -> that one; several -> the one whose key shares the context key's prefix
(``ROUTER_MODEL_PATH`` / ``ROUTER_N_CTX``); otherwise undecided (None)."""

from __future__ import annotations

import re

CTX_NAME = re.compile(
    r"(?i)^(?:.*[_.-])?(n_ctx|num_ctx|ctx|ctx_size|context|context_length|context_size|"
    r"context_window|max_context|n-ctx|ctx-size|num-ctx)$"
)
MODEL_NAME = re.compile(r"(?i)(model|gguf|weights|checkpoint|repo_id)")
_SUFFIX = re.compile(
    r"(?i)[_.-]?(n_ctx|num_ctx|ctx_size|ctx|context_length|context_size|context_window|"
    r"max_context|context|model_path|model_file|model_name|model_id|model|path|file|gguf|tag|url|"
    r"repo_id|repo)$"
)


def prefix(key: str) -> str:
    """``ROUTER_MODEL_PATH`` and ``ROUTER_N_CTX`` -> ``router``: the name both keys share."""
    while True:
        shorter = _SUFFIX.sub("", key)
        if shorter == key:
            return key.lower()
        key = shorter


def pair(ctx_key: str, models: list[tuple[str, str]]) -> str | None:
    """``models``: (key, 'old' | 'new' | 'other') beside the context key. The kind it belongs to, or None."""
    kinds = {k for _, k in models}
    own = prefix(ctx_key)  # RERANKER_N_CTX beside MODEL alone names another component: not guessed
    if own and kinds & {"old", "new"} and all(prefix(key) != own for key, _ in models):
        return None
    if len(models) > 1:
        paired = {k for key, k in models if prefix(key) == prefix(ctx_key)}
        if len(paired) == 1:
            return paired.pop()
        return kinds.pop() if len(kinds) == 1 else None
    return kinds.pop() if kinds else None
