"""`plan-memory --plot FILE.png`: the plan as stacked bars against the budget line.

One bar for the resident set (each model's weights, KV cache and compute buffer stacked), then one bar per
on-demand model as it loads: what stays resident (grey) plus the model itself, with its swap cost above.
"""

from __future__ import annotations

import io
from pathlib import Path

from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write
from rdic_ops.units import GiB

COLORS = {"weights": "#4c72b0", "KV cache": "#dd8452", "compute + overhead": "#55a868"}
KEPT = "#b0b0b0"


def parts(budget_name: str, mem) -> dict[str, float]:
    """GiB of one model that count against the budget, by component (host share on a RAM budget)."""
    if budget_name == "file":
        w, kv, total = mem.weights, mem.kv.bytes, mem.total
    elif budget_name.startswith("RAM"):
        w, kv, total = mem.weights - mem.gpu_weights, mem.kv.bytes - mem.gpu_kv, mem.cpu_total
    else:
        w, kv, total = mem.gpu_weights, mem.gpu_kv, mem.gpu_total
    return {"weights": w / GiB, "KV cache": kv / GiB, "compute + overhead": max(total - w - kv, 0) / GiB}


def _stack(ax, x: int, segments: list[tuple[str, str, float]]) -> float:
    """Draw (model, component, GiB) segments bottom-up at x; returns the top."""
    bottom = 0.0
    for model, comp, gib in segments:
        if gib <= 0:
            continue
        color = KEPT if comp == "kept" else COLORS[comp]
        ax.bar(x, gib, bottom=bottom, color=color, edgecolor="white", linewidth=0.6, width=0.6)
        if gib > 0.25:
            label = model if comp in ("kept", "weights") else ""
            ax.text(x, bottom + gib / 2, label, ha="center", va="center", fontsize=7, color="white")
        bottom += gib
    return bottom


def _bars(report) -> list[tuple[str, list[tuple[str, str, float]], str]]:
    """(label, segments, note) for the resident set and each on-demand load."""
    name = report.budget_name
    counted = [r for r in report.rows if sum(parts(name, r.memory).values()) > 0]
    resident = [(r.model, comp, v) for r in counted for comp, v in parts(name, r.memory).items()]
    room = report.headroom / GiB
    bars = [("resident set", resident, f"headroom {room:.2f} GiB" if room >= 0 else f"over by {-room:.2f} GiB")]
    for od in report.on_demand:
        kept = [(r.model, "kept", sum(parts(name, r.memory).values())) for r in counted if r.model not in od.evicts]
        own = [(od.row.model, comp, v) for comp, v in parts(name, od.row.memory).items()]
        note = f"evicts {', '.join(od.evicts)}\nswap ~{od.swap_s:.1f} s" if od.evicts else f"load ~{od.load_s:.1f} s"
        if not od.fits:
            note = "does not fit"
        bars.append((f"on demand:\n{od.row.model}", kept + own, note))
    return bars


def plot(report, path: str | Path) -> Path:
    """Write the plan as a PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path).expanduser()
    if path.suffix.lower() != ".png":
        raise UsageError(f"--plot {path}: give a .png file name")
    if not path.parent.is_dir():
        raise UsageError(f"--plot {path}: no such directory {path.parent}")
    bars = _bars(report)
    fig, ax = plt.subplots(figsize=(3.8 + 2.0 * len(bars), 4.8))
    top = report.budget / GiB
    for x, (_label, segments, note) in enumerate(bars):
        height = _stack(ax, x, segments)
        ax.text(x, height + top * 0.01, note, ha="center", va="bottom", fontsize=8)
        top = max(top, height)
    ax.axhline(report.budget / GiB, color="#c44e52", linestyle="--", linewidth=1.5)
    ax.text(
        -0.45,
        report.budget / GiB,
        f"{report.budget_name} {report.budget / GiB:.2f} GiB",
        color="#c44e52",
        va="bottom",
        ha="left",
        fontsize=8,
    )
    ax.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("GiB")
    verdict = "fits" if report.fits else "does not fit"
    ax.set_title(f"memory plan: {report.env} ({verdict})", fontsize=10)
    legend = [Patch(color=c, label=k) for k, c in COLORS.items()] + [Patch(color=KEPT, label="stays resident")]
    ax.legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    buf = io.BytesIO()  # drawn in memory, then written whole: a full disk leaves the old PNG, not a 0-byte one
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write(path, buf.getvalue(), shared=True)
