"""Every rule of the plan core, one assertion each (written against mutation testing's survivors)."""

from __future__ import annotations

import pytest

from rdic_ops.errors import NotConverged, RdicError
from rdic_ops.plan import SECRET_MASK, Change, Check, Plan, Status, StepResult, converge, fold, worst


def test_shown_masks_only_secret_values_that_exist():
    assert Change("k", "update", "a", "b", secret=True).shown("a") == SECRET_MASK
    assert Change("k", "update", "a", "b", secret=True).shown(None) is None
    assert Change("k", "update", "a", "b").shown("a") == "a"
    assert Change("k", "update", "a", "b").shown(None) is None


def test_diff_of_a_multi_line_change_names_both_sides_and_ends_every_line():
    c = Change("f.conf", "update", "a=1\nb=2", "a=1\nb=3")
    lines = c.diff().splitlines(keepends=True)
    assert lines[0] == "--- f.conf (now)\n" and lines[1] == "+++ f.conf (planned)\n"
    assert "-b=2\n" in lines and "+b=3\n" in lines and " a=1\n" in lines
    assert all(line.endswith("\n") for line in lines)


def test_diff_is_empty_for_secrets_no_ops_and_one_line_values():
    assert Change("f", "update", "a\nb", "a\nc", secret=True).diff() == ""
    assert Change("f", "none", "a\nb", "a\nb").diff() == ""
    assert Change("f", "update", "a", "b").diff() == ""


def test_diff_of_a_created_file_starts_from_nothing():
    d = Change("new.conf", "create", None, "x=1\ny=2\n").diff()
    assert "+x=1\n" in d and "+y=2\n" in d and not any(ln.startswith("-") and not ln.startswith("---")
                                                          for ln in d.splitlines())


def test_change_to_dict_is_complete_and_masked():
    c = Change("t", "update", "old", "new", reason="why")
    assert c.to_dict() == {"target": "t", "action": "update", "changed": True, "before": "old", "after": "new",
                           "reason": "why"}
    s = Change("t", "none", "x", "x", secret=True).to_dict()
    assert s["before"] == s["after"] == SECRET_MASK and s["changed"] is False


def test_plan_add_check_and_pending():
    p = Plan("s")
    a = p.add(Change("a", "none"))
    b = p.add(Change("b", "update", apply=lambda: None))
    k = p.check(Check("c", Status.warn))
    assert a is p.changes[0] and b is p.changes[1] and k is p.checks[0]
    assert p.pending == [b]


def test_check_to_dict():
    assert Check("n", Status.warn, "e", "f", "r").to_dict() == {"name": "n", "status": "warn", "expected": "e",
                                                              "found": "f", "remedy": "r"}


@pytest.mark.parametrize("status,counted", [(Status.changed, 2), (Status.pending, 2), (Status.ok, 0),
                                            (Status.failed, 0), (Status.skipped, 0), (Status.warn, 0)])
def test_step_result_counts_changes_only_when_changed_or_pending(status, counted):
    r = StepResult("s", status, [Change("a", "update"), Change("b", "none"), Change("c", "pull")])
    assert r.changed == counted


def test_step_result_to_dict():
    r = StepResult("s", Status.changed, [Change("a", "update")], [Check("c", Status.ok)], 1.23456, "m", "r")
    assert r.to_dict() == {"step": "s", "status": "changed", "changed": 1, "duration_s": 1.235, "message": "m",
                           "remedy": "r", "changes": [r.changes[0].to_dict()], "checks": [r.checks[0].to_dict()]}


def test_worst_orders_failed_warn_ok_and_ignores_skipped():
    rows = lambda *ss: [Check(str(i), s) for i, s in enumerate(ss)]
    assert worst(rows(Status.ok, Status.warn, Status.failed)) is Status.failed
    assert worst(rows(Status.ok, Status.warn)) is Status.warn
    assert worst(rows(Status.ok, Status.skipped)) is Status.ok
    assert worst([]) is Status.ok


def test_fold_names_failures_and_takes_the_first_remedy():
    rows = [Check("a", Status.ok), Check("b", Status.failed, remedy=""), Check("c", Status.failed, remedy="fix c"),
            Check("d", Status.warn)]
    r = fold("doctor", rows, t0=None)
    assert r.status is Status.failed and r.message == "2 failed: b, c" and r.remedy == "fix c"
    assert r.checks == rows and r.checks is not rows and r.duration_s == 0.0


def test_fold_counts_warnings_and_keeps_a_given_message():
    rows = [Check("a", Status.ok), Check("d", Status.warn)]
    assert fold("x", rows).message == "2 checks, 1 warnings"
    assert fold("x", rows, message="mine", remedy="r").message == "mine"
    assert fold("x", rows, remedy="r").remedy == "r"
    r = fold("x", [Check("a", Status.failed, remedy="auto")], remedy="given")
    assert r.remedy == "given"


def test_fold_measures_from_t0():
    import time

    r = fold("x", [], t0=time.perf_counter() - 5)
    assert 5 <= r.duration_s < 60


class Counter:
    def __init__(self):
        self.value = 0

    def plan(self, want: int, checks=()) -> Plan:
        p = Plan("count", checks=list(checks), notes=["n1", "n2"])
        if self.value == want:
            p.add(Change("value", "none", str(self.value), str(want)))
        else:
            p.add(Change("value", "update", str(self.value), str(want), apply=lambda: setattr(self, "value", want)))
        return p


def test_converge_nothing_to_do_joins_the_notes_and_runs_verify():
    c = Counter()
    r = converge(lambda: c.plan(0, [Check("seen", Status.ok)]), verify=lambda: [Check("after", Status.ok)])
    assert r.status is Status.ok and r.message == "n1; n2" and [x.name for x in r.checks] == ["seen", "after"]


def test_converge_dry_run_reports_pending_and_never_verifies():
    c = Counter()
    calls = []
    r = converge(lambda: c.plan(3, [Check("seen", Status.ok)]), dry_run=True,
                 verify=lambda: calls.append(1) or [])
    assert r.status is Status.pending and r.message == "1 change(s) would be made" and c.value == 0
    assert calls == [] and [x.name for x in r.checks] == ["seen"]
    c.value = 3
    assert converge(lambda: c.plan(3), dry_run=True, verify=lambda: calls.append(1) or []).status is Status.ok
    assert calls == []


def test_converge_applies_verifies_and_reports():
    c = Counter()
    r = converge(lambda: c.plan(3, [Check("seen", Status.ok)]), verify=lambda: [Check("after", Status.ok)])
    assert c.value == 3 and r.status is Status.changed and r.message == "1 change(s) applied and verified"
    assert [x.name for x in r.checks] == ["seen", "after"] and r.duration_s >= 0


def test_converge_refuses_a_change_without_a_way_to_apply():
    with pytest.raises(RdicError, match="count: value: no way to apply 'update'"):
        converge(lambda: Plan("count", [Change("value", "update")]))


def test_converge_names_every_target_still_pending():
    plan = Plan("s", [Change("a", "update", apply=lambda: None), Change("b", "pull", apply=lambda: None)])
    with pytest.raises(NotConverged, match="s: still differs after apply: a, b"):
        converge(lambda: plan)


def test_diff_of_a_deleted_file_ends_in_nothing():
    d = Change("old.conf", "delete", "x=1\ny=2\n", None).diff()
    assert "-x=1\n" in d and not any(ln.startswith("+") and not ln.startswith("+++") for ln in d.splitlines())


def test_fold_counts_only_warnings_and_leaves_no_remedy_when_none_is_known():
    rows = [Check("a", Status.ok), Check("b", Status.ok), Check("c", Status.warn)]
    assert fold("x", rows).message == "3 checks, 1 warnings"
    r = fold("y", [Check("a", Status.failed)], changes=[Change("t", "none")])
    assert r.remedy == "" and r.step == "y" and r.changes == [Change("t", "none")]
    assert fold("z", []).changes == [] and fold("z", []).step == "z"


@pytest.mark.parametrize("want,dry,status", [(0, False, Status.ok), (3, True, Status.pending),
                                             (3, False, Status.changed)])
def test_every_converge_result_names_its_step_changes_and_time(want, dry, status):
    c = Counter()
    plans = []

    def make():
        plans.append(c.plan(want))
        return plans[-1]

    r = converge(make, dry_run=dry)
    assert r.status is status and r.step == "count" and r.changes == plans[0].changes
    assert 0 <= r.duration_s < 5


@pytest.mark.parametrize("value, dry_run, status", [(3, False, Status.ok), (0, True, Status.pending),
                                                    (0, False, Status.changed)])
def test_converge_times_every_path(value, dry_run, status):
    import time

    c = Counter()
    c.value = value

    def slow_plan():
        time.sleep(0.02)
        return c.plan(3)

    r = converge(slow_plan, dry_run=dry_run)
    assert r.status is status and r.duration_s >= 0.02


def test_converge_says_nothing_to_do_when_a_plan_has_no_notes():
    r = converge(lambda: Plan("s", [Change("k", "none", 1, 1)]))
    assert r.status is Status.ok and r.message == "nothing to do"
