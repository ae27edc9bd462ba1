import os
import stat

import pytest

from rdic_ops.errors import StepFailed
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change, Plan, Status, converge


def file_plan(path, want):
    """A tiny operation: make `path` hold `want`."""
    plan = Plan("file")
    have = path.read_text() if path.exists() else None
    if have == want:
        plan.add(Change.noop(str(path), have, reason="already as declared"))
    else:
        plan.add(Change(str(path), "create" if have is None else "update", have, want,
                        apply=lambda: atomic_write(path, want)))
    return plan


def test_converge_applies_then_reports_zero_changes(tmp_path):
    target = tmp_path / "a.conf"
    first = converge(lambda: file_plan(target, "x=1\ny=2\n"))
    assert first.status is Status.changed and first.change_count == 1 and first.applied == first.changes
    assert target.read_text() == "x=1\ny=2\n"
    second = converge(lambda: file_plan(target, "x=1\ny=2\n"))
    assert second.status is Status.ok and second.change_count == 0


def test_dry_run_changes_nothing_and_shows_diff(tmp_path):
    target = tmp_path / "a.conf"
    target.write_text("x=1\ny=2\n")
    result = converge(lambda: file_plan(target, "x=1\ny=3\n"), dry_run=True)
    assert result.status is Status.pending and result.change_count == 1 and result.applied == []
    assert target.read_text() == "x=1\ny=2\n"
    diff = result.changes[0].diff()
    assert "-y=2" in diff and "+y=3" in diff


def test_a_change_that_does_not_stick_fails_verification(tmp_path):
    plan = Plan("liar", [Change("thing", "update", "a", "b", apply=lambda: None)])
    result = converge(lambda: plan)
    assert result.status is Status.failed and result.message.startswith("still differs after apply: thing;")
    assert result.applied == plan.changes  # it was applied: it just did not stick


def write_plan(tmp_path, done: list[str]):
    """Three files in order; the second one's directory is a file, so its write fails (as root too)."""
    (tmp_path / "blocker").write_text("a file, not a directory")
    targets = [tmp_path / "a.conf", tmp_path / "blocker" / "b.conf", tmp_path / "c.conf"]

    def write(path):
        done.append(path.name)
        atomic_write(path, "x=1\n")

    plan = Plan("files")
    for path in targets:
        plan.add(Change(str(path), "create", None, "x=1\n", apply=lambda path=path: write(path)))
    return plan, targets


def test_a_failed_apply_is_a_failed_result_listing_what_was_applied_before_it(tmp_path):
    done = []
    plan, (a, b, c) = write_plan(tmp_path, done)
    result = converge(lambda: plan)
    assert result.status is Status.failed and done == ["a.conf", "b.conf"]  # c.conf never tried
    assert a.read_text() == "x=1\n" and not c.exists()
    assert result.applied == [plan.changes[0]] and result.change_count == 1
    # what failed (the target, the OS's reason and path), then the record of what was applied before it
    assert result.message == f"{b}: file exists: {b.parent}; applied before the failure (1 of 3): {a}"
    d = result.to_dict()
    assert d["status"] == "failed" and d["changed"] == 1
    assert [(x["target"], x["applied"]) for x in d["changes"]] == [(str(a), True), (str(b), False), (str(c), False)]


def test_a_refusal_keeps_its_remedy_and_the_first_failure_applies_nothing():
    plan = Plan("s", [Change("t", "update", apply=lambda: (_ for _ in ()).throw(StepFailed("no", remedy="fix it"))),
                      Change("u", "update", apply=lambda: None)])
    result = converge(lambda: plan)
    assert result.status is Status.failed and result.remedy == "fix it" and result.applied == []
    assert result.message == "t: no; nothing applied (2 change(s) pending)" and result.change_count == 0


def test_a_replan_that_fails_after_apply_is_a_failed_result_with_the_record():
    plans = []

    def make():
        if plans:
            raise StepFailed("cannot read the service's environment")
        plans.append(Plan("s", [Change("t", "restart", apply=lambda: None)]))
        return plans[0]

    result = converge(make)
    assert result.status is Status.failed and result.applied == plans[0].changes
    assert result.message == ("re-reading the facts after apply: cannot read the service's environment; "
                              "applied before the failure (1 of 1): t")


def test_a_bug_in_an_apply_still_propagates():
    plan = Plan("s", [Change("t", "update", apply=lambda: {}["missing"])])
    with pytest.raises(KeyError):
        converge(lambda: plan)


def test_secrets_never_rendered():
    c = Change("OPENAI_API_KEY", "update", "sk-old", "sk-new-secret", secret=True)
    d = c.to_dict()
    assert "sk-" not in str(d) and c.diff() == ""


def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path):
    p = tmp_path / "f"
    p.write_text("old")
    os.chmod(p, 0o600)
    atomic_write(p, "new")
    assert p.read_text() == "new" and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert [x.name for x in tmp_path.iterdir()] == ["f"]


def test_backup_copies_before_edit(tmp_path):
    p = tmp_path / "f"
    assert backup(p) is None
    p.write_text("v1")
    b1, b2 = backup(p), backup(p)
    assert b1 != b2 and b1.read_text() == b2.read_text() == "v1"
