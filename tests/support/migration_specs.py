"""A small migration spec and its value table, for the engine's unit tests (tests/unit/migration/test_values.py
and test_textedit.py)."""

from rdic_ops.config.migration import MigrationSpec, ModelFacts
from rdic_ops.migration.values import compile_table


def spec(n_ctx=True, **kw) -> MigrationSpec:
    src = ModelFacts(files=["old-8b.gguf"], repos=["org/Old-8B-GGUF"], urls=["https://ex.com/old"],
                     ollama_tags=["llama3.1:8b-q4", "llama3.1:8b"], labels=["Llama 3.1 8B", "llama-3.1-8b", "Chat"],
                     n_ctx=4096 if n_ctx else None)
    dst = ModelFacts(files=["new-12b.gguf"], repos=["org/New-12B-GGUF"], urls=["https://ex.com/new"],
                     ollama_tags=["gemma3:12b-q4", "gemma3:12b"], labels=["Gemma 3 12B", "gemma-3-12b", "Chat"],
                     n_ctx=32768 if n_ctx else None)
    kw.setdefault("renames", {"get_llama": "get_gemma", "same": "same"})
    return MigrationSpec(source=src, target=dst, **kw)


def table():  # built in each test: mutmut switches mutants at call time, not at import
    return compile_table(spec())
