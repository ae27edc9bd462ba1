"""Will this env's models fit under its residency policy? And if not, what should change (ranked by cost)?

The resident set must fit together; each on-demand model must fit beside it or, evicting it, alone
(rdic_ops.memory.residency). The plan shows both, with the swap cost of every on-demand load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdic_ops.config.schema import GpuVendor, RootConfig
from rdic_ops.facts.hardware import metal_budget
from rdic_ops.gguf.read import inspect
from rdic_ops.memory import estimate, residency
from rdic_ops.memory.estimate import WeightsLayout
from rdic_ops.memory.residency import OnDemand
from rdic_ops.memory.rows import Row, on_demand_rows, resident_rows
from rdic_ops.units import GiB


@dataclass
class Recommendation:
    cost: int  # 1 = free, 5 = slows every request
    title: str
    detail: str
    overrides: list[str]
    total: int  # accelerator bytes after the change
    fits: bool

    def to_dict(self) -> dict:
        return {
            "cost": self.cost,
            "title": self.title,
            "detail": self.detail,
            "overrides": self.overrides,
            "total_bytes": self.total,
            "fits": self.fits,
        }


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
            "env": self.env,
            "budget_name": self.budget_name,
            "budget_bytes": self.budget,
            "budget_note": self.note,
            "accelerator_bytes": self.accel_total,
            "host_bytes": self.host_total,
            "used_bytes": self.used,
            "headroom_bytes": self.headroom,
            "resident_fits": self.resident_fits,
            "fits": self.fits,
            "models": [
                {
                    "roles": r.roles,
                    "model": r.model,
                    "where": r.where,
                    "source": r.source,
                    "warnings": r.warnings,
                    "load_s": round(r.load_s, 2),
                    **r.memory.to_dict(),
                }
                for r in self.rows
            ],
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
    return f"this machine's facts: {available / GiB:.1f} GiB of {total / GiB:.1f} GiB RAM available, {cores} cores"


def counted(name: str, row: Row) -> int:
    """The bytes of a row that count against a budget of this name."""
    return row.memory.cpu_total if name.startswith("RAM") else row.memory.gpu_total


def place(cfg: RootConfig, rows: list[Row], info_cache: dict) -> list[OnDemand]:
    """Each on-demand model against what the resident rows leave of the budget."""
    name, limit = budget(cfg)
    held = [(r, counted(name, r)) for r in rows]
    return [
        residency.on_demand(cfg.env.hardware, od, counted(name, od), held, limit)
        for od in on_demand_rows(cfg, info_cache)
    ]


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
    knobs = {
        "type_k": kv_type,
        "type_v": kv_type,
        "n_seq": n_seq,
        "unified": False,
        "flash_attn": quantized,
        "n_gpu_layers": 0,
    }
    mem = estimate.model_memory(
        info.name,
        info.shape(),
        WeightsLayout.from_gguf(info),
        n_ctx,
        type_k=kv_type,
        type_v=kv_type,
        n_seq=n_seq,
        flash_attn=quantized,
        has_kv=info.has_kv,
        gpu=False,
    )
    row = Row(["file"], info.name, "cpu", f"gguf {info.path}", mem)
    return FitReport(info.name, "file", mem.total, [row]), knobs
