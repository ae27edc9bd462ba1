"""Safe file writes: temp file + fsync + rename, and a backup before every edit."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup(path: str | os.PathLike, backup_dir: str | os.PathLike | None = None) -> Path | None:
    """Copy ``path`` (bytes and mode) to ``<name>.<timestamp>.bak`` before it is edited; None if absent."""
    path = Path(path)
    if not path.exists():
        return None
    target_dir = Path(backup_dir) if backup_dir else path.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = target_dir / f"{path.name}.{stamp}.bak"
    n = 1
    while dest.exists():
        dest = target_dir / f"{path.name}.{stamp}-{n}.bak"
        n += 1
    shutil.copy2(path, dest)
    return dest
