"""Will this env's models fit under its residency policy? And if not, what should change (ranked by cost)?

The resident set must fit together; each on-demand model must fit beside it or, evicting it, alone
(rdic_ops.memory.residency). The plan shows both, with the swap cost of every on-demand load.
"""

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
from rdic_ops.memory import estimate, residency
from rdic_ops.memory.estimate import ModelMemory, WeightsLayout
from rdic_ops.memory.residency import OnDemand
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
    load_s: float = 0.0  # estimated load time (file read + host -> GPU copy)


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
    rows: list[Row]  # the resident set (and what runs on the CPU beside it)
    recommendations: list[Recommendation] = field(default_factory=list)
    on_demand: list[OnDemand] = field(default_factory=list)
    note: str = ""  # where the budget comes from, when not from the profile

    @property
    def accel_total(self) -> int:
        return sum(r.memory.gpu_total for r in self.rows)

    @property
    def host_total(self) -> int:
        return sum(r.memory.cpu_total for r in self.rows)

    @property
    def used(self) -> int:
        """What counts against the budget: accelerator memory, or host RAM on a CPU-only env."""
        return self.host_total if self.budget_name.startswith("RAM") else self.accel_total

    @property
    def headroom(self) -> int:
        return self.budget - self.used

    @property
    def resident_fits(self) -> bool:
        return self.used <= self.budget

    @property
    def fits(self) -> bool:
        """The declared policy fits: the resident set together, each on-demand model beside it or alone."""
        return self.resident_fits and all(od.fits for od in self.on_demand)

    def to_dict(self) -> dict:
        return {
            "env": self.env, "budget_name": self.budget_name, "budget_bytes": self.budget, "budget_note": self.note,
            "accelerator_bytes": self.accel_total, "host_bytes": self.host_total, "used_bytes": self.used,
            "headroom_bytes": self.headroom, "resident_fits": self.resident_fits, "fits": self.fits,
            "models": [{"roles": r.roles, "model": r.model, "where": r.where, "source": r.source,
                        "warnings": r.warnings, "load_s": round(r.load_s, 2), **r.memory.to_dict()}
                       for r in self.rows],
            "on_demand": [{**od.to_dict(), **od.row.memory.to_dict()} for od in self.on_demand],
            "recommendations": [x.to_dict() for x in self.recommendations],
        }


def budget(cfg: RootConfig) -> tuple[str, int]:
    hw = cfg.env.hardware
    if hw.from_facts:
        return "RAM available", machine_budget()[0]
    if hw.gpu_vendor is GpuVendor.nvidia:
        return "VRAM", int((hw.vram_gb - hw.reserved_vram_gb) * GiB)
    if hw.gpu_vendor is GpuVendor.apple:
        return "Metal working set", metal_budget(int(hw.ram_gb * GiB))
    return "RAM", int(hw.ram_gb * GiB)


def machine_budget() -> tuple[int, int, int]:
    """(RAM available, RAM total, cores) of the machine at hand (the budget of a from_facts profile)."""
    from rdic_ops.facts.hardware import cpu_cores, memory

    total, available = memory()
    return available or total, total, cpu_cores()


def budget_note(cfg: RootConfig) -> str:
    if not cfg.env.hardware.from_facts:
        return ""
    available, total, cores = machine_budget()
    return (f"this machine's facts: {available / GiB:.1f} GiB of {total / GiB:.1f} GiB RAM available, "
            f"{cores} cores")


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
               embedding_backend: EmbeddingBackend | None, info_cache: dict, n_gpu_layers: int = -1) -> Row:
    knobs = runtime_knobs(cfg)
    if n_gpu_layers >= 0:  # the role's own offload wins over the runtime's
        knobs["n_gpu_layers"] = n_gpu_layers if knobs["n_gpu_layers"] < 0 else min(n_gpu_layers,
                                                                                    knobs["n_gpu_layers"])
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
        return Row(roles, spec.name, "gpu" if on_gpu else "cpu", "config (sentence-transformers, fp32)", mem,
                   load_s=residency.load_seconds(cfg.env.hardware, spec.file_size, mem.gpu_weights))
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
    file_bytes = Path(info.path).stat().st_size if info is not None else spec.file_size
    load = residency.load_seconds(cfg.env.hardware, file_bytes or mem.weights, mem.gpu_weights)
    return Row(roles, spec.name, "gpu" if on_gpu else "cpu", source, mem, warnings, load)


def _rows(cfg: RootConfig, info_cache: dict | None, resident: bool) -> list[Row]:
    """One row per distinct (model, context, device) of the resident set, or of the on-demand roles."""
    info_cache = {} if info_cache is None else info_cache
    groups: dict[tuple, list[str]] = {}
    for role in ROLES:
        r = getattr(cfg, role)
        on_cpu = r.device is Device.cpu or cfg.env.hardware.gpu_vendor is GpuVendor.none
        # CPU models sit in host RAM beside the accelerator's set: they count with the resident rows.
        if (r.resident or on_cpu) != resident:
            continue
        key = (r.model.name, r.num_ctx, r.device, r.n_gpu_layers)
        groups.setdefault(key, []).append(role)
    rows = []
    for (_name, n_ctx, device, ngl), roles in groups.items():
        r = getattr(cfg, roles[0])
        backend = r.backend if roles[0] == "embedding" else None
        rows.append(_model_row(cfg, roles, r.model, n_ctx, device, backend, info_cache, ngl))
    return rows


def resident_rows(cfg: RootConfig, info_cache: dict | None = None) -> list[Row]:
    return _rows(cfg, info_cache, True)


def on_demand_rows(cfg: RootConfig, info_cache: dict | None = None) -> list[Row]:
    return _rows(cfg, info_cache, False)


def counted(name: str, row: Row) -> int:
    """The bytes of a row that count against a budget of this name."""
    return row.memory.cpu_total if name.startswith("RAM") else row.memory.gpu_total


def place(cfg: RootConfig, rows: list[Row], info_cache: dict) -> list[OnDemand]:
    """Each on-demand model against what the resident rows leave of the budget."""
    name, limit = budget(cfg)
    held = [(r, counted(name, r)) for r in rows]
    return [residency.on_demand(cfg.env.hardware, od, counted(name, od), held, limit)
            for od in on_demand_rows(cfg, info_cache)]


def total_used(cfg: RootConfig, info_cache: dict) -> int:
    """What the policy needs at its peak: the resident set, or an on-demand model that cannot fit alone."""
    name, limit = budget(cfg)
    rows = resident_rows(cfg, info_cache)
    used = sum(counted(name, r) for r in rows)
    worst = [od.need for od in place(cfg, rows, info_cache) if not od.fits]
    return max([used, *worst])


def plan_env(cfg: RootConfig) -> FitReport:
    info_cache: dict = {}
    name, limit = budget(cfg)
    rows = resident_rows(cfg, info_cache)
    report = FitReport(cfg.env.name, name, limit, rows, note=budget_note(cfg))
    report.on_demand = place(cfg, rows, info_cache)
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
