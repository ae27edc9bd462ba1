"""What a step came to and what a check found: the six statuses, a read-only check's row, and their sum.

A step (rdic_ops/plan.py's ``StepResult``) is ok, changed, pending, skipped, warn or failed; a ``Check`` only
observes, so it is one of four (``CheckStatus``). ``worst`` adds a list of checks up to one status. plan.py
re-exports all of them: an operation imports them from there, with the plan they end up in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal, get_args


class Status(str, Enum):
    """What a step came to (any of the six), or what a check found (``CheckStatus``: four of them)."""

    ok = "ok"  # step: already in the desired state; check: as expected
    changed = "changed"  # step only: changes applied and verified
    pending = "pending"  # step only: dry-run: changes that would be applied
    skipped = "skipped"  # does not apply here (the reason says why)
    warn = "warn"
    failed = "failed"


# A check only observes: it can be ok, warn, failed or skipped, never changed or pending (Check refuses them).
CheckStatus = Literal[Status.ok, Status.warn, Status.failed, Status.skipped]
CHECK_STATUSES: frozenset[Status] = frozenset(get_args(CheckStatus))


@dataclass
class Check:
    """One row of a read-only probe (doctor, smoke): ok / warn / failed / skipped, with a remedy."""

    name: str
    status: CheckStatus
    expected: str = ""
    found: str = ""
    remedy: str = ""

    def __post_init__(self):
        if self.status not in CHECK_STATUSES:  # a check observes; only a step changes or would change
            raise ValueError(f"check {self.name!r}: status {self.status!r} is a step's, not a check's")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status.value,
            "expected": self.expected,
            "found": self.found,
            "remedy": self.remedy,
        }


def worst(checks: list[Check]) -> CheckStatus:
    """The status a list of checks adds up to: failed > warn > ok (skipped rows do not count)."""
    if any(c.status is Status.failed for c in checks):
        return Status.failed
    return Status.warn if any(c.status is Status.warn for c in checks) else Status.ok
