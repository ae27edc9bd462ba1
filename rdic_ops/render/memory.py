"""The memory plan of an env (plan-memory) and the estimate beside llama.cpp's own numbers."""

from __future__ import annotations

from rdic_ops.terminal import console
from rdic_ops.terminal import escape as _e
from rdic_ops.units import gib, mib


def print_fit(report, comparisons=(), out=None) -> None:
    """The memory plan of an env: a row per resident model, the total against the budget, the advice."""
    from rich.table import Table

    out = out or console()
    kind = "file" if report.budget_name == "file" else "env"
    t = Table(title=f"memory plan: {kind} {report.env}" + (" - resident set" if kind == "env" else ""))
    for col in ("roles", "model", "where", "ctx", "weights", "KV cache", "compute", "overhead", "total", "load"):
        t.add_column(col, justify="right" if col not in ("roles", "model", "where") else "left")
    for r in report.rows:
        t.add_row(*_fit_cells(r.roles, r.model, r.where, r.memory), f"~{r.load_s:.1f} s")
    out.print(t)
    for r in report.rows:
        for w in r.warnings:
            out.print(f"[yellow]warning[/] {_e(r.model)}: {_e(w)} (the GGUF wins)")
    if kind == "env" and report.on_demand:
        out.print(_on_demand_table(report.on_demand))
    if kind == "env":
        verdict = "[green]fits[/]" if report.fits else "[bold red]does not fit[/]"
        out.print(
            f"{report.budget_name}: resident set {gib(report.used, 2)} of {gib(report.budget, 2)}, headroom "
            f"{gib(report.headroom, 2)} -> {verdict}" + (f" ({_e(report.note)})" if report.note else "")
        )
    if report.recommendations:
        out.print(_recommendations_table(report.recommendations))
    if comparisons:
        print_oracle(comparisons, out)


def _on_demand_table(on_demand):
    """Each on-demand model beside the resident set or evicting it, and the room left."""
    from rich.table import Table

    t = Table(title="on demand - loaded when a request needs it (swap cost: file read + copy to the GPU)")
    for col in (
        "roles",
        "model",
        "where",
        "ctx",
        "weights",
        "KV cache",
        "compute",
        "overhead",
        "total",
        "left",
        "when it loads",
    ):
        t.add_column(
            col, justify="right" if col not in ("roles", "model", "where", "when it loads") else "left", overflow="fold"
        )
    for od in on_demand:
        style = "green" if od.beside else "yellow" if od.fits else "red"
        t.add_row(
            *_fit_cells(od.row.roles, od.row.model, od.row.where, od.row.memory),
            gib(od.left, 2),
            f"[{style}]{_e(od.verdict())}[/]",
        )
    return t


def _recommendations_table(recommendations):
    """The levers, cheapest first, each re-planned: what it costs, what the plan comes to, the --set to apply it."""
    from rich.table import Table

    t = Table(title="what to change (cheapest first; re-planned with each change)")
    for col in ("cost", "change", "then", "fits", "why", "apply with"):
        t.add_column(col, overflow="fold")
    for x in recommendations:
        t.add_row(
            str(x.cost),
            _e(x.title),
            gib(x.total, 2),
            "yes" if x.fits else "no",
            _e(x.detail),
            _e(" ".join(f"--set {o}" for o in x.overrides)),
        )
    return t


def _fit_cells(roles, model, where, m) -> list[str]:
    where = where if where == "cpu" else f"gpu {m.gpu_layers}/{m.n_layer} layers"
    ctx = str(m.n_ctx) if m.kv.streams else "-"
    return [
        _e(",".join(roles)),
        _e(model),
        where,
        ctx,
        mib(m.weights),
        mib(m.kv.bytes),
        mib(m.compute + m.output),
        mib(m.overhead),
        mib(m.total),
    ]


def print_oracle(comparisons, out=None) -> None:
    from rich.table import Table

    out = out or console()
    t = Table(title="estimate vs llama.cpp (no-alloc dry run, CPU backend)")
    for col in ("model", "ctx", "KV est", "KV llama.cpp", "total est", "total llama.cpp", "error"):
        t.add_column(col, justify="right" if col != "model" else "left")
    for c in comparisons:
        t.add_row(
            _e(c.model),
            str(c.n_ctx),
            mib(c.estimate_kv),
            mib(c.oracle_kv),
            mib(c.estimate_total),
            mib(c.oracle_total),
            f"{c.error_pct:+.1f}%",
        )
    out.print(t)
