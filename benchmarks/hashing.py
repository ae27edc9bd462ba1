"""Verify throughput: rdic-ops' sha256 against `sha256sum`, parallel against one-by-one, and the cache.

Run: .venv/bin/python benchmarks/hashing.py [--dir /tmp/rdic-hash] [--gib 2]
Writes one file of --gib GiB and four of --gib/4 GiB (random bytes), then measures, in this one run:
1. one file: rdic_ops.models.hashing.hash_files vs `sha256sum` (goal >= 0.95x);
2. four files: hash_files in parallel vs the same files one after another (goal >= 1.7x on 2 cores);
3. an unchanged re-verify with the cache vs a full re-hash (goal >= 50x).
Files are read from the page cache after the first pass (24 GiB RAM here), so this measures hashing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rdic_ops.models.hashing import VerifyCache, hash_files, sha256_file

MiB = 1024 * 1024


def make(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(16 * MiB)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
    return path


def best(fn, runs=3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=None)
    ap.add_argument("--gib", type=float, default=2.0)
    args = ap.parse_args()
    d = Path(args.dir or tempfile.mkdtemp(prefix="rdic-hash-"))
    d.mkdir(parents=True, exist_ok=True)
    size = int(args.gib * 1024 * MiB)
    big = make(d / "one.bin", size)
    quarters = [make(d / f"part{i}.bin", size // 4) for i in range(4)]
    gib = size / (1024 * MiB)

    ours = best(lambda: hash_files([big], full=True, show_progress=False))
    theirs = best(lambda: subprocess.run(["sha256sum", str(big)], check=True, capture_output=True))
    print(f"| one {gib:g} GiB file | rdic-ops {gib / ours:.2f} GiB/s | sha256sum {gib / theirs:.2f} GiB/s "
          f"| ratio {theirs / ours:.2f}x |")

    par = best(lambda: hash_files(quarters, full=True, show_progress=False))
    seq = best(lambda: [sha256_file(p) for p in quarters])
    print(f"| four {gib / 4:g} GiB files | parallel {par:.2f} s | one-by-one {seq:.2f} s | speed-up {seq / par:.2f}x |")

    cache = VerifyCache(d / "cache.json")
    hash_files(quarters + [big], cache=cache, show_progress=False)
    cache.save()
    cold = best(lambda: hash_files(quarters + [big], full=True, show_progress=False), runs=1)
    warm = statistics.median(
        [best(lambda: hash_files(quarters + [big], cache=VerifyCache(d / "cache.json"), show_progress=False), 1)
         for _ in range(5)])
    print(f"| re-verify {2 * gib:g} GiB, unchanged | full {cold:.2f} s | cached {warm * 1000:.2f} ms "
          f"| speed-up {cold / warm:,.0f}x |")


if __name__ == "__main__":
    main()
