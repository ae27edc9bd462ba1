"""What a user names: a file read bounded and without ever blocking, and a path a flag names for output checked
before any work (split from fsutil.py, which writes; fsutil re-exports these names)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rdic_ops.errors import RdicError, UsageError

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
    gone), in a directory that exists (a mistyped directory is a mistake to report, not one to create: the file
    would land where nobody looks); else a UsageError (exit 2) naming the flag, before any work is done. ``~`` is
    the home directory, as the shell would have it (``--plot=~/x.png`` reaches us unexpanded); the path returned
    is the one to write."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_file():
        raise UsageError(f"{flag} {path}: {_kind(path.stat().st_mode)}, not a file ({flag} names a file to write)")
    why = _ancestor_problem(path)
    if why:
        raise UsageError(f"{flag} {path}: cannot be created: {why}")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"{flag} {path}: no such directory {path.parent} (create it first, or fix the path)")
    return path
