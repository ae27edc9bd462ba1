"""Safe file writes: temp file + fsync + rename, and a backup before every edit; safe reads of a user's file.

Every file rdic-ops writes goes through ``atomic_write``: a reader (or the next run, after a crash or a full
disk) sees the old file or the new one, never half of it. The few files that grow on purpose (an append-only
log, a resumable checkpoint) say so where they are opened.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from pathlib import Path

from rdic_ops.errors import StepFailed

# Reading a file a user names, and output paths a flag names: rdic_ops/fsread.py (one layer below)
from rdic_ops.fsread import (  # noqa: F401  (re-exported: fsutil was their home)
    MAX_CONF_BYTES,
    MAX_LOCK_BYTES,
    MAX_QUESTIONS_BYTES,
    MAX_RATINGS_BYTES,
    MAX_WSLCONFIG_BYTES,
    MiB,
    output_dir,
    output_file,
    read_user_file,
    read_user_text,
    user_file_problem,
)

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class WriteFailed(StepFailed, OSError):
    """The disk (or the quota) is full: nothing was replaced. A StepFailed (exit 1, one line) that is still an
    OSError, so a best-effort cache write that swallows OSError keeps doing so."""


def open_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 less the umask (read without changing it)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: the classic read (set and restore at once)
    os.umask(mask)
    return 0o666 & ~mask


class ChangedMeanwhile(StepFailed):
    """The file no longer held the bytes the caller read: someone wrote it meanwhile; it was left as it is."""


def atomic_write(
    path: str | os.PathLike,
    data: str | bytes,
    *,
    mode: int | None = None,
    shared: bool = False,
    unchanged: bytes | None = None,
) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of it.

    The mode: ``mode`` if given, else the old file's; a new file is private (0600, mkstemp's) unless
    ``shared`` (reports, plots, models.lock: what ``open()`` would give, 0666 less the umask).
    ``unchanged``: the bytes the caller read and edited; checked again right before the rename (the window
    left is that read and the rename), and ChangedMeanwhile raised with the file as it is when they differ.
    A full disk raises WriteFailed, with the old file intact and no temp file left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    if mode is None and path.exists():
        mode = path.stat().st_mode & 0o7777
    if mode is None and shared:
        mode = open_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise_if_full(path, exc)
        raise
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if unchanged is not None and current_bytes(path) != unchanged:
            raise ChangedMeanwhile(f"{path}: changed while rdic-ops was editing it: left as it is")
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise_if_full(path, exc)
        raise
    fsync_dir(path.parent)
    return path


def current_bytes(path: Path) -> bytes | None:
    """What ``path`` holds now; None when it cannot be read (gone, a directory)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # tempfile's names (mkstemp in atomic_write: 8 of these)


def leftover_temps(path: Path, since: float) -> list[Path]:
    """Temp files atomic_write left beside ``path`` when it was killed between mkstemp and the rename: named
    ``.NAME.XXXXXXXX.tmp`` and modified at or after ``since`` (a file of that name from before is not ours)."""
    prefix = f".{path.name}."
    found = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for p in entries:
        middle = p.name[len(prefix) : -len(".tmp")]
        if not (p.name.startswith(prefix) and p.name.endswith(".tmp") and len(middle) == 8):
            continue
        try:
            fresh = p.is_file() and not p.is_symlink() and p.stat().st_mtime >= since
        except OSError:
            continue
        if fresh and all(c in TEMP_CHARS for c in middle):
            found.append(p)
    return found


def raise_if_full(path: Path, exc: OSError) -> None:
    """A full disk as one line (WriteFailed); any other OSError goes on as it was (callers catch
    PermissionError)."""
    if exc.errno in _FULL:
        raise WriteFailed(
            f"cannot write {path}: {os.strerror(exc.errno)}; the old file (if any) is left as it was",
            remedy="free some space and re-run",
        ) from exc


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
    dest = unique_path(target_dir, f"{path.name}.", ".bak")
    shutil.copy2(path, dest)
    return dest


def stamp() -> str:
    """The local time to the second, as names of backups and set-aside files carry it: 20261123-120000."""
    return time.strftime("%Y%m%d-%H%M%S")


def unique_path(directory: str | os.PathLike, prefix: str = "", suffix: str = "") -> Path:
    """``directory/<prefix><stamp><suffix>``, or with ``-1``, ``-2``... after the stamp while that name is
    taken (by a file, a directory or a dangling link): a name nothing has yet, for a backup, a quarantined
    file or a set-aside journal. The caller creates it."""
    directory, now = Path(directory), stamp()
    dest = directory / f"{prefix}{now}{suffix}"
    n = 1
    while os.path.lexists(dest):
        dest = directory / f"{prefix}{now}-{n}{suffix}"
        n += 1
    return dest
