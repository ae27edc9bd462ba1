"""Provider outcomes as the project's Check rows, as the ✓/✗ lines of a project's `python -m tests.test_apis`, and as
a step of other operations."""

from __future__ import annotations

import time

from rdic_ops.plan import Check, Status, StepResult, fold
from rdic_ops.providers.base import Outcome

MET = "🎉 All API requirements met!"


def _found(o: Outcome) -> str:
    if not o.ok:
        return f"{o.failure.replace('_', ' ')}: {o.reason}"
    parts = [f"{o.latency_s:.2f} s"]
    if o.ttft_s is not None:
        parts.append(f"first token {o.ttft_s:.2f} s")
    if o.input_tokens is not None or o.output_tokens is not None:
        parts.append(
            f"{o.input_tokens if o.input_tokens is not None else '?'} in / "
            f"{o.output_tokens if o.output_tokens is not None else '?'} out tokens"
        )
    parts.append(f"answer {o.answer!r}")
    return ", ".join(parts) + (f"; {o.note}" if o.note else "")


def to_check(o: Outcome, strict: bool = True) -> Check:
    """One row: pass -> ok; a failure -> failed, or warn when the provider is optional (or not strict)."""
    status = Status.ok if o.ok else (Status.warn if (o.optional or not strict) else Status.failed)
    if o.ok and o.note:
        status = Status.warn
    key = f"key {o.key_env}={o.key_shown}" if o.key_env else "no key"
    return Check(
        f"provider {o.name}", status, f"{o.kind} {o.model} at {o.endpoint} ({key})", _found(o), "" if o.ok else o.remedy
    )


def step(
    outcomes: list[Outcome], *, t0: float | None = None, strict: bool = True, name: str = "providers"
) -> StepResult:
    checks = [to_check(o, strict) for o in outcomes]
    failed = [o for o in outcomes if not o.ok and not o.optional]
    if not outcomes:
        return StepResult(name, Status.skipped, message="the env declares no providers")
    required = sum(not o.optional for o in outcomes)
    message = (
        f"{len(failed)} of {required} required provider(s) failed: "
        + ", ".join(f"{o.name} ({o.failure.replace('_', ' ')})" for o in failed)
        if failed
        else f"{sum(o.ok for o in outcomes)} of {len(outcomes)} providers answered"
    )
    return fold(name, checks, t0=t0, message=message)


def lines(outcomes: list[Outcome]) -> list[str]:
    """tests.test_apis' lines: `✓ PASS: name`, a failure with its one-line reason and remedy, then the verdict."""
    out = []
    for o in outcomes:
        if o.ok:
            out.append(f"✓ PASS: {o.name}")
        else:
            mark = "! WARN" if o.optional else "✗ FAIL"
            optional = " (optional)" if o.optional else ""
            out.append(f"{mark}: {o.name}{optional}: {o.failure.replace('_', ' ')}: {o.reason} -> {o.remedy}")
    failed = [o for o in outcomes if not o.ok and not o.optional]
    warned = [o for o in outcomes if not o.ok and o.optional]
    out.append("")
    if failed:
        out.append(f"✗ {len(failed)} of {sum(not o.optional for o in outcomes)} API requirements not met")
    else:
        out.append(
            MET + (f" ({len(warned)} optional not available: {', '.join(o.name for o in warned)})" if warned else "")
        )
    return out


def provider_checks(cfg, *, strict: bool = True, only: list[str] = ()) -> StepResult:
    """The hook other operations call (setup, migrate-model): the env's provider checks as one step result.

    ``strict=False`` (a status view) reports failures as warnings. An env without providers: skipped.
    """
    from rdic_ops.providers.runner import run

    t0 = time.perf_counter()
    return step(run(cfg, only), t0=t0, strict=strict)
