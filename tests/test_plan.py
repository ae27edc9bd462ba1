import os
import stat

import pytest

from rdic_ops.errors import NotConverged
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change, Plan, Status, converge


def file_plan(path, want):
    """A tiny operation: make `path` hold `want`."""
    plan = Plan("file")
    have = path.read_text() if path.exists() else None
    if have == want:
        plan.add(Change(str(path), "none", have, want, reason="already as declared"))
    else:
        plan.add(Change(str(path), "create" if have is None else "update", have, want,
                        apply=lambda: atomic_write(path, want)))
    return plan


def test_converge_applies_then_reports_zero_changes(tmp_path):
    target = tmp_path / "a.conf"
    first = converge(lambda: file_plan(target, "x=1\ny=2\n"))
    assert first.status is Status.changed and first.changed == 1
    assert target.read_text() == "x=1\ny=2\n"
    second = converge(lambda: file_plan(target, "x=1\ny=2\n"))
    assert second.status is Status.ok and second.changed == 0


def test_dry_run_changes_nothing_and_shows_diff(tmp_path):
    target = tmp_path / "a.conf"
    target.write_text("x=1\ny=2\n")
    result = converge(lambda: file_plan(target, "x=1\ny=3\n"), dry_run=True)
    assert result.status is Status.pending and result.changed == 1
    assert target.read_text() == "x=1\ny=2\n"
    diff = result.changes[0].diff()
    assert "-y=2" in diff and "+y=3" in diff


def test_a_change_that_does_not_stick_fails_verification(tmp_path):
    plan = Plan("liar", [Change("thing", "update", "a", "b", apply=lambda: None)])
    with pytest.raises(NotConverged, match="thing"):
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
