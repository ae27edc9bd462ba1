"""The one plan/apply core every operation uses: facts -> plan -> apply -> verify.

An operation is a function that reads facts and returns a ``Plan``: a list of ``Change``s, each saying
what it would change (before/after) and carrying the callable that makes the change. A change whose
action is ``none`` is a no-op that says why. ``converge`` applies the plan (unless dry-run), re-reads the
facts by planning again and fails when anything is still pending - so ``changed`` is always truthful and
a second run reports zero changes.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from rdic_ops.errors import NotConverged, RdicError

SECRET_MASK = "********"


class Status(str, Enum):
    ok = "ok"  # already in the desired state
    changed = "changed"  # changes applied and verified
    pending = "pending"  # dry-run: changes that would be applied
    skipped = "skipped"  # does not apply here (the reason says why)
    warn = "warn"
    failed = "failed"


@dataclass
class Change:
    target: str  # what: a file, a model, a server setting
    action: str  # create | update | delete | pull | load | run | ... ; "none" = nothing to do
    before: str | None = None
    after: str | None = None
    reason: str = ""  # why the change is needed, or why nothing is to be done
    secret: bool = False  # before/after hold a secret: never printed
    apply: Callable[[], object] | None = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.action != "none"

    def shown(self, value: str | None) -> str | None:
        return SECRET_MASK if (self.secret and value is not None) else value

    def diff(self) -> str:
        """Unified diff of before -> after for text targets (files); empty for one-line values."""
        if self.secret or not self.changed:
            return ""
        before, after = self.before or "", self.after or ""
        if "\n" not in before + after:
            return ""
        lines = difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            fromfile=f"{self.target} (now)", tofile=f"{self.target} (planned)",
        )
        return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)

    def to_dict(self) -> dict:
        return {
            "target": self.target, "action": self.action, "changed": self.changed,
            "before": self.shown(self.before), "after": self.shown(self.after), "reason": self.reason,
        }


@dataclass
class Check:
    """One row of a read-only probe (doctor, smoke): ok / warn / fail / skip, with a remedy."""

    name: str
    status: Status
    expected: str = ""
    found: str = ""
    remedy: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status.value, "expected": self.expected,
                "found": self.found, "remedy": self.remedy}


@dataclass
class Plan:
    """What an operation would change (``changes``) and what it observed on the way (``checks``).

    Checks are read-only rows (a warning about a line WSL misreads, a parity figure, a test run): they travel
    with the plan into the step's result, so no operation has to attach them after ``converge``.
    """

    step: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.changed]

    def add(self, change: Change) -> Change:
        self.changes.append(change)
        return change

    def check(self, check: Check) -> Check:
        self.checks.append(check)
        return check


@dataclass
class StepResult:
    step: str
    status: Status
    changes: list[Change] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    duration_s: float = 0.0
    message: str = ""
    remedy: str = ""

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.changes) if self.status in (Status.changed, Status.pending) else 0

    def to_dict(self) -> dict:
        return {
            "step": self.step, "status": self.status.value, "changed": self.changed,
            "duration_s": round(self.duration_s, 3), "message": self.message, "remedy": self.remedy,
            "changes": [c.to_dict() for c in self.changes], "checks": [c.to_dict() for c in self.checks],
        }


def worst(checks: list[Check]) -> Status:
    """The status a list of checks adds up to: failed > warn > ok (skipped rows do not count)."""
    if any(c.status is Status.failed for c in checks):
        return Status.failed
    return Status.warn if any(c.status is Status.warn for c in checks) else Status.ok


def fold(step: str, checks: list[Check], *, t0: float | None = None, changes: list[Change] | None = None,
         message: str = "", remedy: str = "") -> StepResult:
    """A read-only step's result from its checks: status = the worst row, message = counts (unless given)."""
    status = worst(checks)
    failed = [c for c in checks if c.status is Status.failed]
    warned = [c for c in checks if c.status is Status.warn]
    if not message:
        message = (f"{len(failed)} failed: {', '.join(c.name for c in failed)}" if failed
                   else f"{len(checks)} checks, {len(warned)} warnings")
    if not remedy and failed:
        remedy = next((c.remedy for c in failed if c.remedy), "")
    return StepResult(step, status, changes=list(changes or []), checks=list(checks),
                      duration_s=time.perf_counter() - t0 if t0 is not None else 0.0, message=message, remedy=remedy)


def converge(make_plan: Callable[[], Plan], *, dry_run: bool = False,
             verify: Callable[[], list[Check]] | None = None) -> StepResult:
    """Plan, apply what is pending (unless dry-run), then plan again to verify nothing is left.

    The result carries the checks of the first plan (what was observed before acting), then those of
    ``verify`` - measurements taken on the converged state, never in a dry run (a dry run only reads).
    """
    t0 = time.perf_counter()
    plan = make_plan()
    todo = plan.pending
    if not todo:
        after = verify() if verify and not dry_run else []
        return StepResult(plan.step, Status.ok, plan.changes, checks=plan.checks + after,
                          duration_s=time.perf_counter() - t0, message="; ".join(plan.notes) or "nothing to do")
    if dry_run:
        return StepResult(plan.step, Status.pending, plan.changes, checks=plan.checks,
                          duration_s=time.perf_counter() - t0, message=f"{len(todo)} change(s) would be made")
    for change in todo:
        if change.apply is None:
            raise RdicError(f"{plan.step}: {change.target}: no way to apply '{change.action}'")
        change.apply()
    left = make_plan().pending
    if left:
        names = ", ".join(c.target for c in left)
        raise NotConverged(f"{plan.step}: still differs after apply: {names}")
    after = verify() if verify else []
    return StepResult(plan.step, Status.changed, plan.changes, checks=plan.checks + after,
                      duration_s=time.perf_counter() - t0, message=f"{len(todo)} change(s) applied and verified")
