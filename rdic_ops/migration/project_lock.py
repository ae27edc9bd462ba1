"""One apply or rollback at a time on a project: an advisory lock on a file beside the journals."""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

from rdic_ops.errors import StepFailed


@contextmanager
def exclusive(migrations_dir: Path, root: Path):
    """One apply or rollback at a time on a project, whatever the migration: a second one is refused while
    the first runs (two at once left a project half-migrated, and the rollback then said "nothing to do").
    An advisory lock on a file beside the journals: the kernel drops it when the process ends, a crash too."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    migrations_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(migrations_dir / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StepFailed(
                f"another migrate-model is changing {root} right now: not started",
                remedy="wait for it to finish, then re-run",
            ) from None
        yield
    finally:
        os.close(fd)
