"""`invoke bench.rate`: score each answer 1-5 in the terminal; the sheet is saved after every answer."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path

from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write

FIELDS = ["model", "question", "run", "answer", "score"]


def sheet_of(run_dir: str) -> Path:
    sheet = Path(run_dir) / "ratings.csv"
    if not sheet.exists():
        raise UsageError(f"--run {run_dir}: no ratings.csv there (run invoke bench first)")
    return sheet


def summary_of(run_dir: str) -> dict:
    """The run's summary.json (written by invoke bench), or a UsageError saying what is missing."""
    import json

    path = Path(run_dir) / "summary.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--run {run_dir}: no summary.json there (run invoke bench first)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--run {run_dir}: summary.json is unreadable ({type(exc).__name__}); "
                         "re-run invoke bench") from None


def _save(sheet: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS)
    w.writeheader()
    w.writerows(rows)
    atomic_write(sheet, buf.getvalue())


def rate(sheet: Path, ask: Callable[[str], str] = input, show: Callable[[str], None] = print) -> int:
    """Ask for a score for every unscored answer (enter skips, q stops); returns how many were scored."""
    with open(sheet, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if ask is input and (sys.stdin is None or sys.stdin.closed) and any(not r["score"].strip() for r in rows):
        raise UsageError("bench.rate reads scores from stdin, which is closed",
                         remedy="run it in a terminal, or pipe the scores in, one 1-5 per line")
    scored = 0
    for row in rows:
        if row["score"].strip():
            continue
        show(f"\n[{row['model']} / {row['question']}]\n{row['answer'].strip() or '(empty answer)'}\n")
        try:
            answer = ask("score 1-5 (enter: skip, q: stop): ").strip()
        except (EOFError, RuntimeError):  # stdin at its end or closed (input(): lost sys.stdin): keep the scores
            break
        if answer == "q":
            break
        if answer in ("1", "2", "3", "4", "5"):
            row["score"] = answer
            scored += 1
            _save(sheet, rows)
    return scored
