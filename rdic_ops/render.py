"""One renderer for every operation: rich tables and diffs for people, JSON for CI."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from contextlib import contextmanager

from rdic_ops.plan import Change, Check, Status, StepResult
from rdic_ops.redact import mask_data, mask_text
from rdic_ops.units import gib, mib

_STYLE = {
    Status.ok: "green", Status.changed: "yellow", Status.pending: "cyan", Status.skipped: "dim",
    Status.warn: "yellow", Status.failed: "bold red",
}


# Off a terminal (a file, a pipe, a CI log) nothing is cut: tables and diffs get all the width they need.
UNBOUNDED = 4096


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else UNBOUNDED
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _e(text: object) -> str:
    """Escape data so rich does not read `[extra]` in a remedy as markup."""
    from rich.markup import escape

    return escape(mask_text("" if text is None else str(text)))


def _status(s: Status) -> str:
    return f"[{_STYLE[s]}]{s.value}[/]"


def checks_table(checks: Iterable[Check], title: str = ""):
    from rich.table import Table

    t = Table(title=title or None, show_lines=False)
    for col in ("check", "status", "expected", "found", "remedy"):
        t.add_column(col, overflow="fold")
    for c in checks:
        t.add_row(_e(c.name), _status(c.status), _e(c.expected), _e(c.found), _e(c.remedy))
    return t


def changes_table(changes: Iterable[Change], title: str = ""):
    from rich.table import Table

    t = Table(title=title or None)
    for col in ("target", "action", "before", "after", "reason"):
        t.add_column(col, overflow="fold")
    for c in changes:
        one_line = lambda v: "" if v is None else (v if "\n" not in v else "(text, see diff)")
        t.add_row(_e(c.target), _e(c.action) if c.changed else "[dim]none[/]",
                  _e(one_line(c.shown(c.before))), _e(one_line(c.shown(c.after))), _e(c.reason))
    return t


def summary_table(results: Iterable[StepResult], title: str = "summary"):
    from rich.table import Table

    t = Table(title=title)
    for col in ("step", "result", "changed", "duration", "message"):
        t.add_column(col, overflow="fold")
    for r in results:
        t.add_row(_e(r.step), _status(r.status), str(r.changed), f"{r.duration_s:.2f}s",
                  _e(r.message + (f" -> {r.remedy}" if r.remedy else "")))
    return t


def print_step(result: StepResult, out=None) -> None:
    """Checks, then changes (with unified diffs for text), of one step."""
    from rich.syntax import Syntax

    out = out or console()
    if result.checks:
        out.print(checks_table(result.checks, title=result.step))
    if result.changes:
        out.print(changes_table(result.changes, title=f"{result.step}: plan"))
        for c in result.changes:
            d = c.diff()
            if d:
                out.print(Syntax(d, "diff", theme="ansi_dark", background_color="default"))


def print_report(results: list[StepResult], out=None) -> None:
    out = out or console()
    for r in results:
        print_step(r, out)
    out.print(summary_table(results))
    total = sum(r.changed for r in results)
    verb = "would change" if any(r.status is Status.pending for r in results) else "changed"
    out.print(f"{total} {verb}")


def emit_json(payload: object, stream=None) -> None:
    stream = stream or sys.stdout
    json.dump(mask_data(json.loads(json.dumps(payload, default=str))), stream, indent=2, default=str)
    stream.write("\n")


def report_dict(results: list[StepResult], **extra) -> dict:
    return {
        **extra,
        "changed": sum(r.changed for r in results),
        "failed": [r.step for r in results if r.status is Status.failed],
        "steps": [r.to_dict() for r in results],
    }


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
        t = Table(title="on demand - loaded when a request needs it (swap cost: file read + copy to the GPU)")
        for col in ("roles", "model", "where", "ctx", "weights", "KV cache", "compute", "overhead", "total",
                    "left", "when it loads"):
            t.add_column(col, justify="right" if col not in ("roles", "model", "where", "when it loads") else "left",
                         overflow="fold")
        for od in report.on_demand:
            style = "green" if od.beside else "yellow" if od.fits else "red"
            t.add_row(*_fit_cells(od.row.roles, od.row.model, od.row.where, od.row.memory), gib(od.left, 2),
                      f"[{style}]{_e(od.verdict())}[/]")
        out.print(t)
    if kind == "env":
        verdict = "[green]fits[/]" if report.fits else "[bold red]does not fit[/]"
        out.print(f"{report.budget_name}: resident set {gib(report.used, 2)} of {gib(report.budget, 2)}, headroom "
                  f"{gib(report.headroom, 2)} -> {verdict}" + (f" ({_e(report.note)})" if report.note else ""))
    if report.recommendations:
        t = Table(title="what to change (cheapest first; re-planned with each change)")
        for col in ("cost", "change", "then", "fits", "why", "apply with"):
            t.add_column(col, overflow="fold")
        for x in report.recommendations:
            t.add_row(str(x.cost), _e(x.title), gib(x.total, 2), "yes" if x.fits else "no", _e(x.detail),
                      _e(" ".join(f"--set {o}" for o in x.overrides)))
        out.print(t)
    if comparisons:
        print_oracle(comparisons, out)


def _fit_cells(roles, model, where, m) -> list[str]:
    where = where if where == "cpu" else f"gpu {m.gpu_layers}/{m.n_layer} layers"
    ctx = str(m.n_ctx) if m.kv.streams else "-"
    return [_e(",".join(roles)), _e(model), where, ctx, mib(m.weights), mib(m.kv.bytes), mib(m.compute + m.output),
            mib(m.overhead), mib(m.total)]


def print_oracle(comparisons, out=None) -> None:
    from rich.table import Table

    out = out or console()
    t = Table(title="estimate vs llama.cpp (no-alloc dry run, CPU backend)")
    for col in ("model", "ctx", "KV est", "KV llama.cpp", "total est", "total llama.cpp", "error"):
        t.add_column(col, justify="right" if col != "model" else "left")
    for c in comparisons:
        t.add_row(_e(c.model), str(c.n_ctx), mib(c.estimate_kv), mib(c.oracle_kv), mib(c.estimate_total),
                  mib(c.oracle_total), f"{c.error_pct:+.1f}%")
    out.print(t)


@contextmanager
def waiting(text: str):
    """A spinner with what is being waited for, on a terminal's stderr; nothing in a log or a pipe."""
    if not sys.stderr.isatty():
        yield
        return
    with console(stderr=True).status(_e(text)):
        yield


def byte_progress(show: bool | None = None, *, transient: bool = False):
    """A progress bar with bytes and bytes/s on stderr, or None when not wanted (not a TTY, CI, --json)."""
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    console=console(stderr=True), transient=transient)


def print_embedding_bench(rows, n_texts: int, out=None) -> None:
    from rich.table import Table

    t = Table(title=f"embeddings on this machine ({n_texts} texts)")
    for col in ("backend", "batch", "max_seq_length", "texts/s", "min cosine vs torch fp32", "note"):
        t.add_column(col)
    for r in rows:
        par = "-" if r.parity_min is None else f"{r.parity_min:.6f}"
        t.add_row(_e(r.backend), str(r.batch_size), str(r.max_seq_length), f"{r.texts_per_s:.1f}", par, _e(r.note))
    (out or console()).print(t)
