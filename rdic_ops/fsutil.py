"""Safe file writes: temp file + fsync + rename, and a backup before every edit; safe reads of a user's file.

Every file rdic-ops writes goes through ``atomic_write``: a reader (or the next run, after a crash or a full
disk) sees the old file or the new one, never half of it. The few files that grow on purpose (an append-only
log, a resumable checkpoint) say so where they are opened.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from rdic_ops.errors import RdicError, StepFailed, UsageError

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


def atomic_write(path: str | os.PathLike, data: str | bytes, *, mode: int | None = None, shared: bool = False) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half of it.

    The mode: ``mode`` if given, else the old file's; a new file is private (0600, mkstemp's) unless
    ``shared`` (reports, plots, models.lock: what ``open()`` would give, 0666 less the umask).
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
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise_if_full(path, exc)
        raise
    fsync_dir(path.parent)
    return path


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


# ---- reading a file a user names ---------------------------------------------------------------------------
# Every file rdic-ops reads from a user (a flag's path, the site file, conf/, models.lock, a run's ratings.csv,
# .wslconfig) goes through read_user_file: a regular file no larger than its kind's bound, read without ever
# blocking. The bounds sit far above any real file and far below what would hurt (the whole file is held in
# memory, then parsed):
MiB = 1024 * 1024
MAX_CONF_BYTES = 1 * MiB  # a YAML file of conf/, the site file, a migration, a fleet inventory: ours are 2 KiB
MAX_QUESTIONS_BYTES = 4 * MiB  # --questions: 1,000 questions (bench's MAX_QUESTIONS) of 4 KiB each
MAX_LOCK_BYTES = 4 * MiB  # models.lock: an entry is ~400 bytes: 10,000 models
MAX_RATINGS_BYTES = 16 * MiB  # ratings.csv: answers a person scores one by one: 2,000 answers of 2K tokens
MAX_WSLCONFIG_BYTES = 1 * MiB  # .wslconfig: a few dozen keys; WSL's own settings file, never data
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _missing(path: str | os.PathLike) -> str:
    return "a symbolic link to a file that does not exist" if os.path.islink(path) else "no such file"


def user_file_problem(path: str | os.PathLike, max_bytes: int) -> str | None:
    """Why ``path`` cannot be read as a user's file, from its metadata only (nothing is opened): not there, not
    a regular file (a symlink is judged by its target), larger than ``max_bytes``; None when it can."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _missing(path)
    except OSError as exc:
        return f"cannot read it ({(exc.strerror or type(exc).__name__).lower()})"
    if not stat.S_ISREG(st.st_mode):
        return f"{_kind(st.st_mode)}, not a regular file"
    if st.st_size > max_bytes:
        return f"{_size(st.st_size)}: larger than the {_size(max_bytes)} such a file may be"
    return None


def read_user_file(
    path: str | os.PathLike, what: str, max_bytes: int, *, error: type[RdicError] = UsageError, missing_ok: bool = False
) -> bytes | None:
    """The bytes of a file a user names, or ``error`` (exit 2 for UsageError/ConfigError) naming ``what`` and
    the path and why, never its contents: not a regular file (a FIFO, a device, a directory, a socket), larger
    than ``max_bytes``, unreadable. Never blocks: stat before open, open with O_NONBLOCK, the opened file
    checked again, at most ``max_bytes`` + 1 read. ``missing_ok``: None when nothing is there (a dangling
    symlink is still an error: something is meant to be there)."""
    label = f"{what} {path}" if what else str(path)
    if missing_ok and not os.path.lexists(path):
        return None
    why = user_file_problem(path, max_bytes)
    if why:
        raise error(f"{label}: {why}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:  # replaced or made unreadable since the stat
        raise error(f"{label}: cannot read it ({(exc.strerror or type(exc).__name__).lower()})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for something else between the stat and the open
            raise error(f"{label}: {_kind(st.st_mode)}, not a regular file")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(MiB, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"{label}: cannot read it ({(exc.strerror or type(exc).__name__).lower()})") from None
    finally:
        os.close(fd)
    if size > max_bytes:  # it grew while read
        raise error(f"{label}: larger than the {_size(max_bytes)} such a file may be")
    return b"".join(chunks)


def read_user_text(
    path: str | os.PathLike, what: str, max_bytes: int, *, error: type[RdicError] = UsageError, missing_ok: bool = False
) -> str | None:
    """read_user_file, decoded as UTF-8; bytes that are not are ``error`` naming the line, never the bytes."""
    raw = read_user_file(path, what, max_bytes, error=error, missing_ok=missing_ok)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        label, line = f"{what} {path}" if what else str(path), raw.count(b"\n", 0, exc.start) + 1
        raise error(f"{label}: line {line}: not UTF-8 text") from None


# ---- paths a flag names for output ---------------------------------------------------------------------------


def _ancestor_problem(path: Path) -> str | None:
    """Why nothing can be created at ``path``: its nearest existing ancestor is no directory."""
    parent = path.absolute().parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    return None if parent.is_dir() else f"{parent} is not a directory"


def output_dir(path: str | os.PathLike, flag: str) -> Path:
    """A directory a flag names for output (bench --out): one that exists, or none yet that can be made; else a
    UsageError (exit 2) naming the flag, before any work is done."""
    path = Path(path)
    if os.path.lexists(path):
        if not path.is_dir():
            kind = "a file" if path.is_file() else _missing(path) if not path.exists() else _kind(path.stat().st_mode)
            raise UsageError(f"{flag} {path}: {kind}, not a directory ({flag} names a directory for the results)")
        return path
    why = _ancestor_problem(path)
    if why:
        raise UsageError(f"{flag} {path}: cannot be created: {why}")
    return path


def output_file(path: str | os.PathLike, flag: str) -> Path:
    """A file a flag names for output (smoke --junit, plan-memory --plot), written whole by atomic_write: a
    regular file or nothing yet, never a directory, a device or a FIFO (replaced by a rename, /dev/null would be
    gone); else a UsageError (exit 2) naming the flag, before any work is done."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise UsageError(f"{flag} {path}: {_kind(path.stat().st_mode)}, not a file ({flag} names a file to write)")
    why = _ancestor_problem(path)
    if why:
        raise UsageError(f"{flag} {path}: cannot be created: {why}")
    return path
