"""hash_files and VerifyCache against hashlib: sizes around the read buffer, many files at once, the cache's key."""

from __future__ import annotations

import hashlib
import os

import pytest

from rdic_ops.models import hashing
from rdic_ops.models.check import check_file
from rdic_ops.models.hashing import FileKey, VerifyCache, hash_files

BUF = hashing.BUFSIZE


def _file(tmp_path, name: str, size: int):
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p


@pytest.mark.parametrize("size", [0, 1, BUF - 1, BUF, BUF + 1, 2 * BUF + 7])
def test_digest_equals_hashlib(tmp_path, size):
    p = _file(tmp_path, f"f{size}", size)
    assert hash_files([p])[str(p)] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_many_files_in_parallel_each_get_their_own_digest(tmp_path):
    files = [_file(tmp_path, f"f{i}", 1000 * i + 3) for i in range(9)]
    got = hash_files(files, workers=4)
    assert got == {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_progress_counts_every_byte(tmp_path):
    p = _file(tmp_path, "f", 2 * BUF + 5)
    seen = []
    hashing.sha256_file(p, seen.append, bufsize=BUF)
    assert sum(seen) == p.stat().st_size and len(seen) == 3


def test_cache_hit_skips_the_read_and_full_rehashes(tmp_path, monkeypatch):
    p = _file(tmp_path, "f", 4096)
    cache = VerifyCache(tmp_path / "cache.json")
    first = hash_files([p], cache=cache)[str(p)]
    cache.save()
    reads = []
    real = hashing.sha256_file
    monkeypatch.setattr(hashing, "sha256_file", lambda path, *a, **k: reads.append(path) or real(path, *a, **k))
    again = VerifyCache(tmp_path / "cache.json")
    assert hash_files([p], cache=again)[str(p)] == first and reads == []
    assert hash_files([p], cache=again, full=True)[str(p)] == first and reads == [str(p)]


def test_the_cache_is_keyed_by_size_mtime_and_inode(tmp_path):
    p = _file(tmp_path, "f", 100)
    key = FileKey.of(p)
    cache = VerifyCache(None)
    cache.put(key, "abc")
    assert cache.get(key) == "abc"
    for changed in (dict(size=101), dict(mtime_ns=key.mtime_ns + 1), dict(inode=key.inode + 1)):
        assert cache.get(FileKey(**{**key.__dict__, **changed})) is None
    cache.forget(p)
    assert cache.get(key) is None and cache.dirty


def test_a_damaged_cache_file_is_only_a_slower_verify(tmp_path):
    (tmp_path / "cache.json").write_text("{not json")
    assert VerifyCache(tmp_path / "cache.json").entries == {}


def test_same_size_corruption_with_mtime_restored_is_caught_only_by_full(tmp_path):
    """By design the cache trusts (size, mtime, inode): a same-size edit that restores mtime passes a cached
    verify. `--full` re-hashes and finds it (docs: models.verify)."""
    p = _file(tmp_path, "model.gguf", 8192)
    good = hashlib.sha256(p.read_bytes()).hexdigest()
    cache = VerifyCache(tmp_path / "cache.json")
    assert check_file(p, good, None, cache, full=False) is None
    st = os.stat(p)
    data = bytearray(p.read_bytes())
    data[100] ^= 0xFF
    with open(p, "r+b") as fh:  # same inode, same size
        fh.write(data)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check_file(p, good, None, cache, full=False) is None  # the documented blind spot
    problem = check_file(p, good, None, cache, full=True)
    assert problem is not None and problem.kind == "corrupted"


def test_missing_truncated_and_oversize_are_named(tmp_path):
    cache = VerifyCache(None)
    assert check_file(tmp_path / "nope", None, None, cache, False).kind == "missing"
    p = _file(tmp_path, "f", 10)
    assert check_file(p, None, 20, cache, False).kind == "truncated"
    assert check_file(p, None, 5, cache, False).kind == "oversize"
    assert check_file(p, None, 10, cache, False) is None
