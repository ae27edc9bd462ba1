"""Every file rdic-ops reads from a user is read one way (fsutil.read_user_file): a regular file of bounded size,
never blocking. A FIFO, a device, a directory, a dangling link or a file past its bound is exit 2 in one line
naming the file, never a hang, never memory without end, never its contents; output flags are checked before
any work; config errors name the key and file:line, never a value read from a file; a migration's regular
expressions that could backtrack without end are refused when it is loaded.

Every CLI row runs in a child with its address space capped (3 GB: /dev/zero read whole would take it all)
and a timeout (a FIFO read blocks for ever): on the code before this, each row failed or timed out instead.
"""

import os
from pathlib import Path

import yaml

SECRET = "hf_PLANTSITESECRET0123456789"


def special(path: Path, kind: str) -> Path:
    """Make ``path`` a FIFO, a link to /dev/zero, a directory or a dangling link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "dir":
        path.mkdir()
    elif kind == "dangling":
        path.symlink_to(path.parent / "no-such-file")
    return path


WHY = {"fifo": "a FIFO (named pipe), not a regular file", "zero": "a character device, not a regular file",
       "dir": "a directory, not a regular file", "dangling": "a symbolic link to a file that does not exist"}


def _migration(tmp_path, **extra) -> Path:
    data = {"name": "m", "from": {"labels": ["Llama 3.1 8B"], "n_ctx": 4096},
            "to": {"labels": ["Gemma 3 12B"], "n_ctx": 8192}, **extra}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
