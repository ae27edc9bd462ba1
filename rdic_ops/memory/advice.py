"""Advice when an env does not fit: every lever, each re-planned with numbers, cheapest first."""

from __future__ import annotations

import copy

from rdic_ops.config.compose import choices, load_model_spec
from rdic_ops.config.schema import Device, EmbeddingBackend, GpuVendor, RootConfig, RuntimeKind
from rdic_ops.memory.planner import Recommendation, budget, resident_rows, total_used


class _Advisor:
    """Collects candidate changes; each is applied to a copy of the config and planned again."""

    def __init__(self, cfg: RootConfig, info_cache: dict):
        self.cfg, self.info_cache = cfg, info_cache
        self.limit = budget(cfg)[1]
        self.out: list[Recommendation] = []
        self.llm_roles = [r for r in ("extraction", "chat") if getattr(cfg, r).resident]

    def consider(self, cost, title, detail, overrides, mutate) -> Recommendation:
        trial = copy.deepcopy(self.cfg)
        mutate(trial)
        total = total_used(trial, self.info_cache)
        rec = Recommendation(cost, title, detail, overrides, total, total <= self.limit)
        self.out.append(rec)
        return rec


def _kv_levers(a: _Advisor) -> None:
    rt = a.cfg.env.runtime
    if rt.kind is RuntimeKind.ollama:
        o = rt.ollama
        if o.kv_cache_type.value == "f16" or not o.flash_attention:
            def kv_q8(c):
                c.env.runtime.ollama.kv_cache_type = type(o.kv_cache_type)("q8_0")
                c.env.runtime.ollama.flash_attention = True
            a.consider(1, "q8_0 KV cache", "halves the KV cache; needs flash attention (OLLAMA_FLASH_ATTENTION=1)",
                       ["env.runtime.ollama.kv_cache_type=q8_0", "env.runtime.ollama.flash_attention=true"], kv_q8)
        if o.num_parallel > 1:
            a.consider(1, "one request at a time", "OLLAMA_NUM_PARALLEL multiplies every KV cache",
                       ["env.runtime.ollama.num_parallel=1"],
                       lambda c: setattr(c.env.runtime.ollama, "num_parallel", 1))
    elif rt.kv_cache_type.value == "f16" or not rt.flash_attention:
        def kv_q8_cpp(c):
            c.env.runtime.kv_cache_type = type(rt.kv_cache_type)("q8_0")
            c.env.runtime.flash_attention = True
        a.consider(1, "q8_0 KV cache", "halves the KV cache (llama.cpp type_k/type_v, flash attention on)",
                   ["env.runtime.kv_cache_type=q8_0", "env.runtime.flash_attention=true"], kv_q8_cpp)


def _embedding_lever(a: _Advisor) -> None:
    emb = a.cfg.embedding
    if emb.resident and emb.device is not Device.cpu and a.cfg.env.hardware.gpu_vendor is not GpuVendor.none:
        def emb_cpu(c):
            c.embedding.device, c.embedding.backend = Device.cpu, EmbeddingBackend.sentence_transformers
            c.embedding.resident = False
        a.consider(1, "embeddings on the CPU", "sentence-transformers on the CPU frees the embedding model's VRAM",
                   ["embedding.device=cpu", "embedding.backend=sentence_transformers", "embedding.resident=false"],
                   emb_cpu)


def _context_levers(a: _Advisor) -> None:
    roles = a.llm_roles
    for n_ctx in (16384, 8192, 4096, 2048):
        if roles and all(getattr(a.cfg, r).num_ctx > n_ctx for r in roles):
            def smaller(c, n=n_ctx):
                for r in roles:
                    getattr(c, r).num_ctx = n
            rec = a.consider(2, f"context {n_ctx}", "a smaller num_ctx shrinks the KV cache and attention buffers",
                             [f"{r}.num_ctx={n_ctx}" for r in roles], smaller)
            if rec.fits:
                break


def _one_model_levers(a: _Advisor) -> None:
    cfg = a.cfg
    if len(a.llm_roles) != 2 or cfg.extraction.model.name == cfg.chat.model.name:
        return
    for keep, drop in (("extraction", "chat"), ("chat", "extraction")):
        name = getattr(cfg, keep).model.name

        def same(c, keep=keep, drop=drop):
            getattr(c, drop).model = copy.deepcopy(getattr(c, keep).model)
            getattr(c, drop).num_ctx = getattr(c, keep).num_ctx
        # Keeping the extraction model is the seed's Option B; giving extraction to the chat model
        # risks extraction quality, so it costs more.
        a.consider(2 if keep == "extraction" else 3, f"{name} for both roles",
                   "one resident model serves extraction and chat: no swaps", [f"{drop}.model={name}"], same)


def _quantization_levers(a: _Advisor) -> None:
    for role in a.llm_roles:
        spec = getattr(a.cfg, role).model
        for alt in choices("model"):
            other = load_model_spec(alt)
            if (other.arch == spec.arch and other.params == spec.params and other.name != spec.name
                    and 0 < other.file_size < spec.file_size):
                a.consider(3, f"{role}: {other.name}", f"lighter quantization ({other.quantization} instead "
                           f"of {spec.quantization}): smaller and faster, some quality lost",
                           [f"{role}.model={other.name}"],
                           lambda c, r=role, o=other: setattr(getattr(c, r), "model", o))


def _one_at_a_time(a: _Advisor) -> None:
    if len(a.llm_roles) == 2:
        rows = resident_rows(a.cfg, a.info_cache)
        biggest = max((r.memory.gpu_total for r in rows), default=0)
        a.out.append(Recommendation(
            4, "one model loaded at a time", "OLLAMA_MAX_LOADED_MODELS=1: each model fits alone, but every "
            "switch between extraction and chat reloads a model (the seeds' 76 s)",
            ["env.runtime.ollama.max_loaded_models=1", "chat.resident=false"], biggest, biggest <= a.limit))


def recommendations(cfg: RootConfig, info_cache: dict) -> list[Recommendation]:
    """Changes that bring the env under budget, cheapest first; each re-planned with numbers."""
    a = _Advisor(cfg, info_cache)
    for lever in (_kv_levers, _embedding_lever, _context_levers, _one_model_levers, _quantization_levers,
                  _one_at_a_time):
        lever(a)
    a.out.sort(key=lambda r: (not r.fits, r.cost, r.total))
    return a.out
