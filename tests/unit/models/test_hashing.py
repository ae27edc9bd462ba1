"""hash_files and VerifyCache against hashlib: sizes around the read buffer, many files at once, the cache's key."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from support.blobs import _file

from rdic_ops.models import hashing
from rdic_ops.models.check import check_file
from rdic_ops.models.hashing import FileKey, VerifyCache, hash_files, path_key

BUF = hashing.BUFSIZE


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


def test_the_cache_file_round_trips_and_is_written_only_when_changed(tmp_path):
    f = tmp_path / "cache.json"
    fresh = VerifyCache(f)
    assert not fresh.dirty
    fresh.save()
    assert not f.exists()  # nothing changed: nothing written
    p = _file(tmp_path, "m.gguf", 10)
    key = FileKey.of(p)
    fresh.put(key, "d1")
    fresh.record(p, "d2", 10)
    fresh.save()
    assert not fresh.dirty
    data = json.loads(f.read_text())
    assert data == {"version": 2, "files": {path_key(p): {"size": 10, "mtime_ns": key.mtime_ns, "inode": key.inode,
                                                            "sha256": "d1"}},
                    "recorded": {path_key(p): {"sha256": "d2", "size": 10}}}
    assert str(tmp_path) not in f.read_text()  # no path: one may come from an environment variable
    stamp = f.stat().st_mtime_ns
    os.utime(f, ns=(stamp - 10**9, stamp - 10**9))
    fresh.save()  # saved already: not written again
    assert f.stat().st_mtime_ns == stamp - 10**9
    again = VerifyCache(f)
    assert not again.dirty and again.get(key) == "d1" and again.recorded(p) == ("d2", 10)
    again.forget(tmp_path / "other")
    assert not again.dirty  # nothing to forget
    again.forget(p)
    assert again.dirty and again.get(key) is None


def test_a_cache_without_a_path_never_writes():
    c = VerifyCache(None)
    c.put(FileKey("/x", 1, 1, 1), "d")
    c.save()  # no path: nothing to write, no error
    assert c.dirty


def test_cache_files_with_one_part_missing_keep_the_other(tmp_path):
    f = tmp_path / "cache.json"
    f.write_text(json.dumps({"version": 1, "recorded": {"/m": {"sha256": "a", "size": 3}}}))
    assert VerifyCache(f).recorded("/m") == ("a", 3)
    f.write_text(json.dumps({"version": 1, "files": {"/m": {"size": 1, "mtime_ns": 2, "inode": 3, "sha256": "b"}}}))
    c = VerifyCache(f)
    assert c.get(FileKey("/m", 1, 2, 3)) == "b" and c.recorded("/m") is None


@pytest.mark.parametrize("entry", [None, "x", {"sha256": "a"}, {"size": 3}, []])
def test_a_malformed_record_is_no_record(tmp_path, entry):
    f = tmp_path / "cache.json"
    f.write_text(json.dumps({"version": 1, "recorded": {"/m": entry}}))
    assert VerifyCache(f).recorded("/m") is None


def test_progress_bar_counts_every_byte_of_every_file(tmp_path, monkeypatch):
    calls = []

    class Bar:
        def start(self):
            calls.append("start")

        def add_task(self, description, total):
            calls.append(("task", description, total))
            return 7

        def advance(self, task, n):
            calls.append(("advance", task, n))

        def stop(self):
            calls.append("stop")

    shows = []
    monkeypatch.setattr(hashing, "_progress", lambda total, show: shows.append((total, show)) or Bar())
    files = [_file(tmp_path, "a", BUF + 3), _file(tmp_path, "b", 5)]
    hash_files(files, show_progress=True)
    total = BUF + 8
    assert shows == [(total, True)]
    assert calls[0] == "start" and calls[1] == ("task", "sha256 2 file(s)", total) and calls[-1] == "stop"
    advances = [c for c in calls if c[0] == "advance"]
    assert {c[1] for c in advances} == {7} and sum(c[2] for c in advances) == total


def test_progress_bar_only_when_there_are_bytes_and_it_is_wanted():
    assert hashing._progress(0, True) is None
    assert hashing._progress(1, False) is None
    bar = hashing._progress(1, True)
    assert bar is not None and bar.live.transient


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing to hash side by side")
def test_files_are_hashed_side_by_side(tmp_path, monkeypatch):
    import threading

    meet = threading.Barrier(2, timeout=10)  # both files must be in flight at once, or this breaks
    real = hashing.sha256_file
    monkeypatch.setattr(hashing, "sha256_file", lambda p, *a, **k: meet.wait() is None or real(p, *a, **k))
    files = [_file(tmp_path, "a", 10), _file(tmp_path, "b", 20)]
    assert hash_files(files) == {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_workers_bounds_how_many_files_are_read_at_once(tmp_path, monkeypatch):
    import threading
    import time

    lock, now, most = threading.Lock(), [0], [0]
    real = hashing.sha256_file

    def counted(p, *a, **k):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.02)  # long enough for a second thread to start, if the pool has one
        try:
            return real(p, *a, **k)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(hashing, "sha256_file", counted)
    files = [_file(tmp_path, f"f{i}", 10) for i in range(4)]
    assert hash_files(files, workers=1) == {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert most == [1]


def test_one_file_hasher():
    """A guard: models/hashing.sha256_file is the only function that hashes a file (embeddings/store.py had
    its own copy for the vector store's sha256)."""
    import re
    from pathlib import Path

    pkg = Path(hashing.__file__).resolve().parents[1]
    copy = re.compile(r"def \w*sha256\w*\(\s*path|hashlib\.sha256\(\w+\.read_bytes\(\)\)|iter\(lambda: *\w+\.read\(")
    bad = [f"{p.relative_to(pkg.parent)}:{n}" for p in sorted(pkg.rglob("*.py")) if p.name != "hashing.py"
           for n, line in enumerate(p.read_text().splitlines(), 1) if copy.search(line)]
    assert bad == []


def test_a_version_1_cache_is_read_and_written_back_without_paths(tmp_path):
    """verify.json kept each file's path (a models_dir from ${oc.env:...} reached the cache, found by the second
    tester of issue 26): an older file is still a hit, and the next save drops the paths."""
    f, p = tmp_path / "cache.json", _file(tmp_path, "m.gguf", 10)
    key = FileKey.of(p)
    old = {"size": 10, "mtime_ns": key.mtime_ns, "inode": key.inode, "sha256": "d1"}
    f.write_text(json.dumps({"version": 1, "files": {key.path: old}, "recorded": {key.path: {"sha256": "d2",
                                                                                              "size": 10}}}))
    cache = VerifyCache(f)
    assert cache.get(key) == "d1" and cache.recorded(p) == ("d2", 10) and cache.dirty
    cache.save()
    assert str(tmp_path) not in f.read_text() and VerifyCache(f).get(key) == "d1"
