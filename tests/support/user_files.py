"""Files a user hands rdic-ops in the shapes it must refuse (FIFO, device, directory, dangling link, too large),
for tests/unit/test_fsutil_reads.py and tests/integration/test_trust_reads.py."""

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
