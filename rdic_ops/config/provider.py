"""Schema of conf/provider/*.yaml: a model API next to the local ones, checked by `invoke providers.check`.

An env selects providers in its defaults list, one line each, under a short key that `--set` can reach:

    defaults:
      - /provider@providers.haiku: claude-haiku-4.5

The key itself is never in config: ``api_key_env`` is the NAME of the environment variable that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Optional

from rdic_ops.config.regexguard import regex_problem
from rdic_ops.errors import ConfigError


class ProviderKind(str, Enum):
    anthropic = "anthropic"  # the Anthropic Messages API, through the official `anthropic` SDK
    openai = "openai"  # any OpenAI-compatible chat API (OpenAI, DeepSeek, OpenRouter, vLLM), `openai` SDK
    ollama = "ollama"  # an Ollama server, through the official `ollama` client
    llamacpp = "llamacpp"  # llama.cpp's OpenAI-compatible server (default: the env's managed llama_cpp.server)


@dataclass
class ProviderSpec:
    name: str = "???"  # what the report prints: "✓ PASS: <name>"
    kind: ProviderKind = ProviderKind.openai
    # The model id at the provider. None (ollama, llamacpp): the env's chat model.
    model: Optional[str] = None
    # Base URL. None: the SDK's default (anthropic, openai), the env's Ollama host or llama.cpp server.
    endpoint: Optional[str] = None
    # The NAME of the environment variable holding the key (never the key). None: no key needed.
    api_key_env: Optional[str] = None
    timeout_s: float = 30.0  # the whole check (model listed + one completion) must finish within this
    max_retries: int = 0  # the SDK's own retries (its backoff honours retry-after); 0 reports the first failure
    prompt: str = "Reply with the single word: pong"
    # A regular expression the answer must contain (case-insensitive); empty: any answer passes.
    expect: str = "pong"
    max_tokens: int = 16
    optional: bool = False  # a failure warns instead of failing the check
    description: str = ""


_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
_KEYS = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def check_providers(providers: dict) -> None:
    """Rules a type cannot express (the numbers' ranges are rules.RANGES' providers.*). Messages never repeat a
    value that might be a key."""
    for key, p in providers.items():
        where = f"providers.{key}"
        if not _KEYS.match(key):
            raise ConfigError(
                f"providers: key {key[:40]!r} must be letters, digits, '-' or '_' (it is what --set and --only use)"
            )
        if p.api_key_env is not None and not _ENV_NAME.match(p.api_key_env):
            raise ConfigError(
                f"{where}.api_key_env: must be the NAME of an environment variable in capitals "
                "(e.g. ANTHROPIC_API_KEY), not the key itself; put the key in that variable"
            )
        if p.endpoint is not None and not re.match(r"^https?://[^\s/]+", p.endpoint):
            raise ConfigError(f"{where}.endpoint: expected an http(s):// URL")
        why = regex_problem(p.expect)  # searched in a server's reply: one that backtracks without end is refused
        if why:
            raise ConfigError(f"{where}.expect: {why}")
        if p.kind in (ProviderKind.anthropic, ProviderKind.openai) and not p.model:
            raise ConfigError(f"{where}.model: a {p.kind.value} provider needs a model id")
