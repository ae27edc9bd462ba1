"""hash_files and VerifyCache against hashlib: sizes around the read buffer, many files at once, the cache's key."""

from __future__ import annotations

import os


def _file(tmp_path, name: str, size: int):
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p
