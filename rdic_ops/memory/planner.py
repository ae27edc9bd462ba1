"""Will this env's models fit, resident together? And if not, what should change (ranked by cost)?"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
from rdic_ops.facts.hardware import metal_budget
from rdic_ops.gguf.read import GgufInfo, inspect, mismatches
from rdic_ops.memory import estimate
from rdic_ops.memory.estimate import ModelMemory, WeightsLayout
from rdic_ops.models.store import model_file
from rdic_ops.units import GiB, MiB


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


def total_used(cfg: RootConfig, info_cache: dict) -> int:
    rows = resident_rows(cfg, info_cache)
    if budget(cfg)[0] == "RAM":
        return sum(r.memory.cpu_total for r in rows)
    return sum(r.memory.gpu_total for r in rows)


def plan_env(cfg: RootConfig) -> FitReport:
    info_cache: dict = {}
    name, limit = budget(cfg)
    report = FitReport(cfg.env.name, name, limit, resident_rows(cfg, info_cache))
    if not report.fits:
        from rdic_ops.memory.advice import recommendations

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
