"""llama.cpp in this process (llama-cpp-python): for measurements that need the engine's own counters.

The served runtime (llamacpp.py) answers over HTTP and reports no per-request counters; the benchmark
loads the same GGUF here and reads llama_perf_context for exactly one generation. llama_cpp is imported
only when an engine is created.
"""

from __future__ import annotations

import time

from rdic_ops.config.schema import RootConfig
from rdic_ops.errors import StepFailed
from rdic_ops.runtime.base import Generation


class InProcessLlamaCpp:
    name = "llamacpp-inprocess"

    def __init__(self, cfg: RootConfig, role: str = "chat"):
        from rdic_ops.models.store import model_file

        r = getattr(cfg, role)
        path = model_file(cfg, r.model)
        if path is None or not path.exists():
            raise StepFailed(f"{r.model.name}: no GGUF at {path}", remedy="invoke models.pull")
        import llama_cpp

        t0 = time.perf_counter()
        self.llama = llama_cpp.Llama(model_path=str(path), n_ctx=r.num_ctx, verbose=False, seed=0,
                                     n_threads=cfg.env.runtime.n_threads or None)
        self.load_s = time.perf_counter() - t0
        self.lib = llama_cpp

    def generate(self, prompt: str, max_tokens: int) -> Generation:
        """One streamed completion; TTFT at the client, tokens and seconds from llama.cpp's perf counters."""
        ctx = self.llama._ctx.ctx
        self.llama.reset()
        self.lib.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        first, pieces = None, []
        for chunk in self.llama.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=True):
            if first is None:
                first = time.perf_counter() - t0
            pieces.append(chunk["choices"][0]["text"])
        total = time.perf_counter() - t0
        perf = self.lib.llama_perf_context(ctx)
        counters = {"t_p_eval_ms": perf.t_p_eval_ms, "t_eval_ms": perf.t_eval_ms, "n_p_eval": perf.n_p_eval,
                    "n_eval": perf.n_eval}
        return Generation("".join(pieces), first or 0.0, total, prompt_tokens=perf.n_p_eval, eval_tokens=perf.n_eval,
                          prompt_s=perf.t_p_eval_ms / 1000, eval_s=perf.t_eval_ms / 1000, raw=counters)

    def close(self) -> None:
        self.llama.close()
