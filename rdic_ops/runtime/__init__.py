"""Model runtimes: Ollama (official client) and llama.cpp (a llama_cpp.server process rdic-ops manages)."""

from __future__ import annotations

from rdic_ops.config.schema import RootConfig, RuntimeKind


def for_env(cfg: RootConfig):
    if cfg.env.runtime.kind is RuntimeKind.ollama:
        from rdic_ops.runtime.ollama import OllamaRuntime

        return OllamaRuntime(cfg)
    from rdic_ops.runtime.llamacpp import LlamaCppRuntime

    return LlamaCppRuntime(cfg)
