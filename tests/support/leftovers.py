"""What a write that failed half-way may leave beside its target (tests/unit/test_fsutil_writes.py and
tests/integration/test_trust_writes.py)."""

from pathlib import Path

OLD = b"the old file, intact\n"


def leftovers(directory: Path, *keep: str) -> list[str]:
    """What else is in the directory (the test's own RDIC_STATE_DIR aside)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in (*keep, "state"))
