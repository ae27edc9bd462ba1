"""Provider outcomes as rows, a step and `tests.test_apis` lines (rdic_ops/providers/report.py): a required
provider that fails fails the step, an optional one warns, a pass with a note warns, and the lines end in the
verdict."""

from rdic_ops.plan import Status
from rdic_ops.providers.base import Outcome
from rdic_ops.providers.report import MET, lines, step, to_check


def outcome(name, ok=True, optional=False, **kw):
    base = dict(
        key=name,
        name=name,
        kind="openai",
        model="gpt-x",
        endpoint="https://api",
        key_env="OPENAI_API_KEY",
        key_shown="sk-…a1b2",
        optional=optional,
        ok=ok,
    )
    if not ok:
        base.update(failure="model_not_found", reason="gpt-x is not listed", remedy="pick a listed model")
    return Outcome(**{**base, **kw})


def test_a_passing_row_shows_latency_tokens_and_the_answer():
    c = to_check(outcome("oa", latency_s=1.5, ttft_s=0.25, input_tokens=12, answer="Paris"))
    assert (c.name, c.status, c.remedy) == ("provider oa", Status.ok, "")
    assert c.expected == "openai gpt-x at https://api (key OPENAI_API_KEY=sk-…a1b2)"
    assert c.found == "1.50 s, first token 0.25 s, 12 in / ? out tokens, answer 'Paris'"
    assert to_check(outcome("oa", note="deprecated model")).status is Status.warn


def test_a_failing_row_is_failed_or_a_warning_when_optional_or_not_strict():
    c = to_check(outcome("oa", ok=False))
    assert (c.status, c.found, c.remedy) == (
        Status.failed,
        "model not found: gpt-x is not listed",
        "pick a listed model",
    )
    assert to_check(outcome("oa", ok=False, optional=True)).status is Status.warn
    assert to_check(outcome("oa", ok=False), strict=False).status is Status.warn
    assert to_check(outcome("local", key_env=None)).expected.endswith("(no key)")


def test_the_step_fails_only_on_a_required_provider():
    r = step([outcome("a"), outcome("b", ok=False), outcome("c", ok=False, optional=True)])
    assert r.status is Status.failed and r.message == "1 of 2 required provider(s) failed: b (model not found)"
    ok = step([outcome("a"), outcome("c", ok=False, optional=True)])
    assert ok.status is Status.warn and ok.message == "1 of 2 providers answered"
    none = step([])
    assert (none.status, none.message) == (Status.skipped, "the env declares no providers")


def test_lines_are_the_test_apis_output():
    assert lines([outcome("a"), outcome("c", ok=False, optional=True)]) == [
        "✓ PASS: a",
        "! WARN: c (optional): model not found: gpt-x is not listed -> pick a listed model",
        "",
        f"{MET} (1 optional not available: c)",
    ]
    out = lines([outcome("a"), outcome("b", ok=False)])
    assert out[1] == "✗ FAIL: b: model not found: gpt-x is not listed -> pick a listed model"
    assert out[-1] == "✗ 1 of 2 API requirements not met"
    assert lines([outcome("a")])[-1] == MET
