"""A journal read back is checked before anything acts on it: it names files that a rollback overwrites.

journal.json lives in the state dir, where anything (a crash, an editor, an attacker with write access to the
state dir but not to the project) may have changed it. A path that leaves the project (absolute, ``..``, a NUL)
would have a rollback write outside it, a mode past 0o7777 crashed the restore; a truncated file read as "never
applied" and a rollback said "nothing to roll back" while the project stayed migrated. So: every field has a
type and a range, every path is relative and stays inside the project, and a journal that fails is an error
that names the file (exit 2), never a guess.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from rdic_ops.errors import UsageError

STATUSES = {"applying", "applied", "rolled-back", "discarded"}
_SHA = re.compile(r"[0-9a-f]{64}")
MAX_BYTES = 64 * 1024 * 1024  # a journal lists files and hashes: megabytes at most, never gigabytes


def _bad(path: Path, why: str) -> UsageError:
    return UsageError(
        f"{path}: damaged migration journal ({why})",
        remedy=f"nothing was restored; the backups are in {path.parent / 'backups'}: move the journal "
        "aside to start over, or restore the files from there by hand",
    )


def checked_error(path: Path) -> UsageError:
    """The error for a journal that is no regular file, or one too large to be one."""
    return _bad(path, f"not a regular file of at most {MAX_BYTES // 2**20} MiB")


def relative(path: Path, rel: object, what: str) -> str:
    """A project path as the journal may name it: relative, inside the project, plain text."""
    if not isinstance(rel, str) or not rel or "\0" in rel or "\\" in rel:
        raise _bad(path, f"{what} is not a relative path")
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or rel != p.as_posix():
        raise _bad(path, f"{what} {rel!r} leaves the project")
    return rel


def _file_entry(path: Path, i: int, f: object) -> None:
    if not isinstance(f, dict):
        raise _bad(path, f"files[{i}] is not an object")
    relative(path, f.get("path"), f"files[{i}].path")
    for key in ("before_sha256", "after_sha256"):
        if (key in f or key == "before_sha256") and not (isinstance(f.get(key), str) and _SHA.fullmatch(f[key])):
            raise _bad(path, f"files[{i}].{key} is not a sha256")
    mode = f.get("mode")
    if mode is not None and (type(mode) is not int or not 0 <= mode <= 0o7777):
        raise _bad(path, f"files[{i}].mode is not a file mode (0 to 0o7777)")


def checked(path: Path, text: str) -> dict:
    """The journal's data, or UsageError naming the file and what is wrong (its contents are never quoted)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise _bad(path, "not JSON: cut short or edited") from None
    if not isinstance(data, dict):
        raise _bad(path, "not a JSON object")
    if "status" in data and data["status"] not in STATUSES:
        raise _bad(path, "unknown status")
    files = data.get("files", [])
    if not isinstance(files, list):
        raise _bad(path, "files is not a list")
    for i, f in enumerate(files):
        _file_entry(path, i, f)
    placed = data.get("placed", [])
    if not isinstance(placed, list):
        raise _bad(path, "placed is not a list")
    for i, rel in enumerate(placed):
        relative(path, rel, f"placed[{i}]")
    ids = data.get("placed_ids", {})
    if not isinstance(ids, dict) or not all(
        isinstance(v, list) and len(v) == 2 and all(type(x) is int for x in v) for v in ids.values()
    ):
        raise _bad(path, "placed_ids is not a map of [device, inode]")
    for rel in ids:
        relative(path, rel, "placed_ids")
    return data
