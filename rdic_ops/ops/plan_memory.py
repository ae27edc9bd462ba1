"""`invoke plan-memory`: will the env's models fit (or one GGUF file), and what to change if not."""

from __future__ import annotations

from rdic_ops.config.compose import compose
from rdic_ops.errors import UsageError
from rdic_ops.memory import planner


def overrides_for(ctx: int, kv_type: str) -> list[str]:
    """--ctx and --kv-type as config overrides of every LLM role and both runtimes."""
    out = []
    if ctx:
        out += [f"extraction.num_ctx={ctx}", f"chat.num_ctx={ctx}"]
    if kv_type:
        out += [f"env.runtime.kv_cache_type={kv_type}", f"env.runtime.ollama.kv_cache_type={kv_type}",
                "env.runtime.flash_attention=true", "env.runtime.ollama.flash_attention=true"]
    return out


def run(env: str, overrides: list[str], *, ctx: int = 0, kv_type: str = "", gguf: str = "", parallel: int = 1,
        oracle: bool = False):
    """(report, comparisons with llama.cpp's own figures when ``oracle``)."""
    from rdic_ops.memory.compare import compare_with_oracle

    if ctx < 0 or parallel < 1:
        raise UsageError("--ctx must be >= 1 and --parallel >= 1")
    if gguf:
        report, knobs = planner.plan_gguf(gguf, ctx or 4096, kv_type=kv_type or "f16", n_seq=parallel)
        return report, (compare_with_oracle(knobs, report.rows) if oracle else [])
    cfg = compose(env, list(overrides) + overrides_for(ctx, kv_type))
    report = planner.plan_env(cfg)
    return report, (compare_with_oracle(planner.runtime_knobs(cfg), report.rows) if oracle else [])
