"""Will this env's models fit, resident together? And if not, what should change (ranked by cost)?"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from rdic_ops.config.compose import CONF_DIR, choices
from rdic_ops.config.schema import (
    ROLES,
    Device,
    EmbeddingBackend,
    GpuVendor,
    ModelKind,
    ModelSpec,
    RootConfig,
    RuntimeKind,
)
from rdic_ops.errors import UsageError
from rdic_ops.facts.hardware import metal_budget
from rdic_ops.gguf.read import GgufInfo, inspect, mismatches
from rdic_ops.memory import estimate
from rdic_ops.memory.estimate import MiB, ModelMemory, WeightsLayout
from rdic_ops.models.store import model_file
from rdic_ops.units import GiB


@dataclass
class Row:
    roles: list[str]
    model: str
    where: str  # gpu | cpu
    source: str  # "gguf <path>" or "config"
    memory: ModelMemory
    warnings: list[str] = field(default_factory=list)


@dataclass
class Recommendation:
    cost: int  # 1 = free, 5 = slows every request
    title: str
    detail: str
    overrides: list[str]
    total: int  # accelerator bytes after the change
    fits: bool

    def to_dict(self) -> dict:
        return {"cost": self.cost, "title": self.title, "detail": self.detail, "overrides": self.overrides,
                "total_bytes": self.total, "fits": self.fits}


@dataclass
class FitReport:
    env: str
    budget_name: str
    budget: int
    rows: list[Row]
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def accel_total(self) -> int:
        return sum(r.memory.gpu_total for r in self.rows)

    @property
    def host_total(self) -> int:
        return sum(r.memory.cpu_total for r in self.rows)

    @property
    def used(self) -> int:
        """What counts against the budget: accelerator memory, or host RAM on a CPU-only env."""
        return self.host_total if self.budget_name == "RAM" else self.accel_total

    @property
    def fits(self) -> bool:
        return self.used <= self.budget

    def to_dict(self) -> dict:
        return {
            "env": self.env, "budget_name": self.budget_name, "budget_bytes": self.budget,
            "accelerator_bytes": self.accel_total, "host_bytes": self.host_total, "used_bytes": self.used,
            "fits": self.fits,
            "models": [{"roles": r.roles, "model": r.model, "where": r.where, "source": r.source,
                        "warnings": r.warnings, **r.memory.to_dict()} for r in self.rows],
            "recommendations": [x.to_dict() for x in self.recommendations],
        }


def budget(cfg: RootConfig) -> tuple[str, int]:
    hw = cfg.env.hardware
    if hw.gpu_vendor is GpuVendor.nvidia:
        return "VRAM", int((hw.vram_gb - hw.reserved_vram_gb) * GiB)
    if hw.gpu_vendor is GpuVendor.apple:
        return "Metal working set", metal_budget(int(hw.ram_gb * GiB))
    return "RAM", int(hw.ram_gb * GiB)


def runtime_knobs(cfg: RootConfig) -> dict:
    rt = cfg.env.runtime
    if rt.kind is RuntimeKind.ollama:
        o = rt.ollama
        # Ollama's runner gets num_ctx x OLLAMA_NUM_PARALLEL cells; a quantized KV cache needs flash attention.
        kv = o.kv_cache_type.value if o.flash_attention else "f16"
        return {"type_k": kv, "type_v": kv, "n_seq": o.num_parallel, "unified": True,
                "flash_attn": o.flash_attention, "n_gpu_layers": -1}
    kv = rt.kv_cache_type.value if rt.flash_attention else "f16"
    return {"type_k": kv, "type_v": kv, "n_seq": 1, "unified": False, "flash_attn": rt.flash_attention,
            "n_gpu_layers": rt.n_gpu_layers}


def load_model_spec(name: str) -> ModelSpec:
    """A model file of conf/model/, validated by its schema (for alternatives the env does not use)."""
    from omegaconf import OmegaConf

    if name not in choices("model"):
        raise UsageError(f"unknown model {name!r} (choices: {', '.join(choices('model'))})")
    merged = OmegaConf.merge(OmegaConf.structured(ModelSpec), OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"))
    return OmegaConf.to_object(merged)


def _gguf(cfg: RootConfig, spec: ModelSpec) -> GgufInfo | None:
    path = model_file(cfg, spec)
    if path is None or not path.exists():
        return None
    return inspect(path)


def _model_row(cfg: RootConfig, roles: list[str], spec: ModelSpec, n_ctx: int, device: Device,
               embedding_backend: EmbeddingBackend | None, info_cache: dict) -> Row:
    knobs = runtime_knobs(cfg)
    on_gpu = cfg.env.hardware.gpu_vendor is not GpuVendor.none and device is not Device.cpu
    overhead = cfg.env.runtime.backend_overhead_mb * MiB if on_gpu else 0
    if embedding_backend is EmbeddingBackend.sentence_transformers:
        # PyTorch holds the weights in fp32: parameters x 4 bytes, plus activations of one batch.
        bpw = estimate.BYTES_PER_WEIGHT.get(spec.quantization.upper(), 4.0)
        weights = int(spec.file_size / bpw * 4)
        mem = ModelMemory(spec.name, n_ctx, weights, estimate.KvCache(streams=0), 0, 0, overhead,
                          n_layer=spec.shape.n_layer)
        if on_gpu:
            mem.gpu_layers, mem.gpu_weights = spec.shape.n_layer, weights
        return Row(roles, spec.name, "gpu" if on_gpu else "cpu", "config (sentence-transformers, fp32)", mem)
    if spec.name not in info_cache:
        info_cache[spec.name] = _gguf(cfg, spec)
    info = info_cache[spec.name]
    warnings = []
    if info is not None:
        shape, layout, source = info.shape(), WeightsLayout.from_gguf(info), f"gguf {info.path}"
        warnings = mismatches(info, spec.shape)
        has_kv = info.has_kv
    else:
        shape, source = spec.shape, "config"
        layout = WeightsLayout.from_config(shape, spec.file_size, spec.quantization)
        has_kv = spec.kind is ModelKind.llm
    n_seq = knobs["n_seq"] if has_kv else 1
    mem = estimate.model_memory(
        spec.name, shape, layout, n_ctx * (n_seq if knobs["unified"] else 1), type_k=knobs["type_k"],
        type_v=knobs["type_v"], n_seq=n_seq, unified=knobs["unified"], flash_attn=knobs["flash_attn"],
        n_gpu_layers=knobs["n_gpu_layers"], has_kv=has_kv, gpu=on_gpu, overhead=overhead,
    )
    return Row(roles, spec.name, "gpu" if on_gpu else "cpu", source, mem, warnings)


def resident_rows(cfg: RootConfig, info_cache: dict | None = None) -> list[Row]:
    """One row per distinct (model, context) that the env keeps loaded at the same time."""
    info_cache = {} if info_cache is None else info_cache
    groups: dict[tuple, list[str]] = {}
    for role in ROLES:
        r = getattr(cfg, role)
        on_cpu = r.device is Device.cpu or cfg.env.hardware.gpu_vendor is GpuVendor.none
        if not r.resident and not on_cpu:  # loaded on demand: not part of the co-resident set
            continue
        key = (r.model.name, r.num_ctx, r.device)
        groups.setdefault(key, []).append(role)
    rows = []
    for (_name, n_ctx, device), roles in groups.items():
        r = getattr(cfg, roles[0])
        backend = r.backend if roles[0] == "embedding" else None
        rows.append(_model_row(cfg, roles, r.model, n_ctx, device, backend, info_cache))
    return rows


def _total(cfg: RootConfig, info_cache: dict) -> int:
    rows = resident_rows(cfg, info_cache)
    if budget(cfg)[0] == "RAM":
        return sum(r.memory.cpu_total for r in rows)
    return sum(r.memory.gpu_total for r in rows)


def recommendations(cfg: RootConfig, info_cache: dict) -> list[Recommendation]:
    """Changes that bring the env under budget, cheapest first; each re-planned with numbers."""
    _, limit = budget(cfg)
    out: list[Recommendation] = []

    def consider(cost, title, detail, overrides, mutate):
        trial = copy.deepcopy(cfg)
        mutate(trial)
        total = _total(trial, info_cache)
        out.append(Recommendation(cost, title, detail, overrides, total, total <= limit))

    rt = cfg.env.runtime
    llm_roles = [r for r in ("extraction", "chat") if getattr(cfg, r).resident]
    if rt.kind is RuntimeKind.ollama:
        o = rt.ollama
        if o.kv_cache_type.value == "f16" or not o.flash_attention:
            def kv_q8(c):
                c.env.runtime.ollama.kv_cache_type = type(o.kv_cache_type)("q8_0")
                c.env.runtime.ollama.flash_attention = True
            consider(1, "q8_0 KV cache", "halves the KV cache; needs flash attention (OLLAMA_FLASH_ATTENTION=1)",
                     ["env.runtime.ollama.kv_cache_type=q8_0", "env.runtime.ollama.flash_attention=true"], kv_q8)
        if o.num_parallel > 1:
            consider(1, "one request at a time", "OLLAMA_NUM_PARALLEL multiplies every KV cache",
                     ["env.runtime.ollama.num_parallel=1"],
                     lambda c: setattr(c.env.runtime.ollama, "num_parallel", 1))
    elif rt.kv_cache_type.value == "f16" or not rt.flash_attention:
        def kv_q8_cpp(c):
            c.env.runtime.kv_cache_type = type(rt.kv_cache_type)("q8_0")
            c.env.runtime.flash_attention = True
        consider(1, "q8_0 KV cache", "halves the KV cache (llama.cpp type_k/type_v, flash attention on)",
                 ["env.runtime.kv_cache_type=q8_0", "env.runtime.flash_attention=true"], kv_q8_cpp)
    emb = cfg.embedding
    if emb.resident and emb.device is not Device.cpu and cfg.env.hardware.gpu_vendor is not GpuVendor.none:
        def emb_cpu(c):
            c.embedding.device, c.embedding.backend = Device.cpu, EmbeddingBackend.sentence_transformers
            c.embedding.resident = False
        consider(1, "embeddings on the CPU", "sentence-transformers on the CPU frees the embedding model's VRAM",
                 ["embedding.device=cpu", "embedding.backend=sentence_transformers", "embedding.resident=false"],
                 emb_cpu)
    for n_ctx in (16384, 8192, 4096, 2048):
        if all(getattr(cfg, r).num_ctx > n_ctx for r in llm_roles) and llm_roles:
            def smaller(c, n=n_ctx):
                for r in llm_roles:
                    getattr(c, r).num_ctx = n
            consider(2, f"context {n_ctx}", "a smaller num_ctx shrinks the KV cache and attention buffers",
                     [f"{r}.num_ctx={n_ctx}" for r in llm_roles], smaller)
            if out[-1].fits:
                break
    if len(llm_roles) == 2 and cfg.extraction.model.name != cfg.chat.model.name:
        for keep, drop in (("extraction", "chat"), ("chat", "extraction")):
            name = getattr(cfg, keep).model.name

            def same(c, keep=keep, drop=drop):
                getattr(c, drop).model = copy.deepcopy(getattr(c, keep).model)
                getattr(c, drop).num_ctx = getattr(c, keep).num_ctx
            # Keeping the extraction model is the seed's Option B; giving extraction to the chat model
            # risks extraction quality, so it costs more.
            consider(2 if keep == "extraction" else 3, f"{name} for both roles",
                     "one resident model serves extraction and chat: no swaps", [f"{drop}.model={name}"], same)
    for role in llm_roles:
        spec = getattr(cfg, role).model
        for alt in choices("model"):
            other = load_model_spec(alt)
            if (other.arch == spec.arch and other.params == spec.params and other.name != spec.name
                    and 0 < other.file_size < spec.file_size):
                consider(3, f"{role}: {other.name}", f"lighter quantization ({other.quantization} instead "
                         f"of {spec.quantization}): smaller and faster, some quality lost",
                         [f"{role}.model={other.name}"],
                         lambda c, r=role, o=other: setattr(getattr(c, r), "model", o))
    if len(llm_roles) == 2:
        rows = resident_rows(cfg, info_cache)
        biggest = max((r.memory.gpu_total for r in rows), default=0)
        out.append(Recommendation(
            4, "one model loaded at a time", "OLLAMA_MAX_LOADED_MODELS=1: each model fits alone, but every "
            "switch between extraction and chat reloads a model (the seeds' 76 s)",
            ["env.runtime.ollama.max_loaded_models=1", "chat.resident=false"], biggest, biggest <= limit))
    out.sort(key=lambda r: (not r.fits, r.cost, r.total))
    return out


def plan_env(cfg: RootConfig) -> FitReport:
    info_cache: dict = {}
    name, limit = budget(cfg)
    report = FitReport(cfg.env.name, name, limit, resident_rows(cfg, info_cache))
    if not report.fits:
        report.recommendations = recommendations(cfg, info_cache)
    return report


def plan_gguf(path: str | Path, n_ctx: int, *, kv_type: str = "f16", n_seq: int = 1) -> tuple[FitReport, dict]:
    """Plan one GGUF file on the CPU backend; returns the report and the llama.cpp settings it assumed."""
    info = inspect(path)
    quantized = kv_type != "f16"
    knobs = {"type_k": kv_type, "type_v": kv_type, "n_seq": n_seq, "unified": False, "flash_attn": quantized,
             "n_gpu_layers": 0}
    mem = estimate.model_memory(info.name, info.shape(), WeightsLayout.from_gguf(info), n_ctx, type_k=kv_type,
                                type_v=kv_type, n_seq=n_seq, flash_attn=quantized, has_kv=info.has_kv, gpu=False)
    row = Row(["file"], info.name, "cpu", f"gguf {info.path}", mem)
    return FitReport(info.name, "file", mem.total, [row]), knobs


@dataclass
class OracleComparison:
    model: str
    n_ctx: int
    estimate_kv: int
    oracle_kv: int
    estimate_total: int  # weights + KV + compute + output, as llama.cpp's CPU backend counts them
    oracle_total: int

    @property
    def error_pct(self) -> float:
        return 100.0 * (self.estimate_total - self.oracle_total) / self.oracle_total if self.oracle_total else 0.0

    def to_dict(self) -> dict:
        return {**self.__dict__, "error_pct": round(self.error_pct, 2)}


def compare_with_oracle(knobs: dict, rows: list[Row]) -> list[OracleComparison]:
    """Ask llama.cpp (no-alloc dry run) about every row that has a GGUF on disk, with the same settings."""
    from rdic_ops.memory import oracle

    out = []
    for row in rows:
        if not row.source.startswith("gguf "):
            continue
        mem = row.memory
        has_kv = mem.kv.streams > 0
        setting = oracle.OracleSetting(
            mem.n_ctx * (knobs["n_seq"] if knobs["unified"] and has_kv else 1), knobs["type_k"], knobs["type_v"],
            knobs["n_seq"] if has_kv else 1, knobs["unified"], False, knobs["flash_attn"],
            embeddings=not has_kv)
        rep = oracle.run(row.source[5:], [setting])
        res = rep.results[0]
        if not res.ok:
            raise UsageError(f"llama.cpp refused {row.model} at n_ctx {mem.n_ctx}: {res.error}")
        est = mem.weights + mem.kv.bytes + mem.compute + mem.output
        out.append(OracleComparison(row.model, mem.n_ctx, mem.kv.bytes, int(res.kv_mib * MiB), est, rep.total(res)))
    return out
