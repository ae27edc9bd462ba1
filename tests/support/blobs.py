"""Files of random bytes for the hashing and check tests (tests/unit/models/test_hashing.py, test_check.py)."""

from __future__ import annotations

import os


def _file(tmp_path, name: str, size: int):
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p
