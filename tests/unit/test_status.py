"""What a step came to and what a check found (rdic_ops/status.py): a check only observes, so it is never
changed or pending, and a list of checks adds up to its worst row, skipped rows counting for nothing."""

import pytest

from rdic_ops.status import CHECK_STATUSES, Check, Status, worst


def test_a_check_has_four_statuses_and_a_step_six():
    assert {s.value for s in Status} == {"ok", "changed", "pending", "skipped", "warn", "failed"}
    assert CHECK_STATUSES == {Status.ok, Status.warn, Status.failed, Status.skipped}
    assert Status("warn") is Status.warn and Status.ok == "ok"  # JSON and YAML spell them as strings


@pytest.mark.parametrize("status", [Status.changed, Status.pending])
def test_a_check_refuses_a_step_s_status(status):
    with pytest.raises(ValueError, match=r"check 'gpu': status .* is a step's, not a check's"):
        Check("gpu", status)


def test_a_check_as_json():
    c = Check("vram", Status.warn, "6 GiB", "5.5 GiB", "close a browser")
    assert c.to_dict() == {
        "name": "vram",
        "status": "warn",
        "expected": "6 GiB",
        "found": "5.5 GiB",
        "remedy": "close a browser",
    }


@pytest.mark.parametrize(
    ("statuses", "want"),
    [
        ([], Status.ok),
        ([Status.skipped], Status.ok),
        ([Status.ok, Status.skipped], Status.ok),
        ([Status.ok, Status.warn], Status.warn),
        ([Status.warn, Status.failed, Status.ok], Status.failed),
        ([Status.skipped, Status.failed], Status.failed),
    ],
)
def test_worst_is_failed_then_warn_then_ok(statuses, want):
    assert worst([Check(str(i), s) for i, s in enumerate(statuses)]) is want
