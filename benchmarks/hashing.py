"""Verify throughput against the strongest anchors: `openssl dgst -sha256`, a plain hashlib loop, sha256sum.

Run: .venv/bin/python benchmarks/hashing.py [--dir /tmp/rdic-hash] [--gib 2] [--runs 7]
Writes one file of --gib GiB and four of --gib/4 GiB (random bytes; kept for the next run), reads them
once so they are in the page cache (warm cache: this measures hashing, not the disk), then, paired
(benchmarks/paired.py: the sides alternate round by round, median of per-round ratios):
1. one file: rdic_ops' hash_files against `openssl dgst -sha256` (goal >= 1.00x), a plain hashlib loop
   (1 MiB reads), hashlib.file_digest, coreutils `sha256sum` (secondary: no SHA extensions), and the
   same code with the 8 MiB reads it had before;
2. four files: hash_files in parallel against the same files one after another (goal >= 1.85x on 2 cores);
3. an unchanged re-verify with the cache against a full re-hash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import command, conditions, load, median, ratio, rounds

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


def plain_loop(path: Path) -> str:
    """What anyone would write first: read 1 MiB, update, repeat."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(MiB):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def one_file(big: Path, runs: int) -> None:
    gib = big.stat().st_size / (1024 * MiB)
    times = rounds(
        {
            "rdic-ops": lambda: hash_files([big], full=True, show_progress=False),
            "rdic-ops before issue 21 (8 MiB reads)": lambda: sha256_file(big, bufsize=8 * MiB),
            "openssl dgst -sha256": command(["openssl", "dgst", "-sha256", str(big)]),
            "hashlib loop (1 MiB reads)": lambda: plain_loop(big),
            "hashlib.file_digest": lambda: file_digest(big),
            "sha256sum (coreutils)": command(["sha256sum", str(big)]),
        },
        runs,
    )
    print(f"\n### one {gib:g} GiB file\n")
    print("| anchor | anchor GiB/s (median) | rdic-ops GiB/s (median) | rdic-ops speed vs anchor |")
    print("|---|---|---|---|")
    ours = median(times["rdic-ops"])
    for name in list(times)[1:]:
        print(
            f"| {name} | {gib / median(times[name]):.2f} | {gib / ours:.2f} | {ratio(times, name, 'rdic-ops').text()} |"
        )


def four_files(quarters: list[Path], runs: int) -> None:
    times = rounds(
        {
            "parallel": lambda: hash_files(quarters, full=True, show_progress=False),
            "one-by-one": lambda: [sha256_file(p) for p in quarters],
        },
        runs,
    )
    size = sum(p.stat().st_size for p in quarters) / (1024 * MiB)
    print(f"\n### four files, {size:g} GiB in all\n")
    print("| parallel s (median) | one-by-one s (median) | speed-up |\n|---|---|---|")
    print(
        f"| {median(times['parallel']):.2f} | {median(times['one-by-one']):.2f} | "
        f"{ratio(times, 'one-by-one', 'parallel').text()} |"
    )


def reverify(files: list[Path], d: Path, runs: int) -> None:
    cache = VerifyCache(d / "cache.json")
    hash_files(files, cache=cache, show_progress=False)
    cache.save()
    times = rounds(
        {
            "cached": lambda: hash_files(files, cache=VerifyCache(d / "cache.json"), show_progress=False),
            "full": lambda: hash_files(files, full=True, show_progress=False),
        },
        runs,
    )
    size = sum(p.stat().st_size for p in files) / (1024 * MiB)
    print(f"\n### re-verify {size:g} GiB, unchanged\n")
    print("| cached ms (median) | full re-hash s (median) | speed-up |\n|---|---|---|")
    print(
        f"| {median(times['cached']) * 1000:.2f} | {median(times['full']):.2f} | "
        f"{ratio(times, 'full', 'cached').text(0)} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=None)
    ap.add_argument("--gib", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    d = Path(args.dir or tempfile.mkdtemp(prefix="rdic-hash-"))
    d.mkdir(parents=True, exist_ok=True)
    size = int(args.gib * 1024 * MiB)
    big = make(d / "one.bin", size)
    quarters = [make(d / f"part{i}.bin", size // 4) for i in range(4)]
    for p in [big, *quarters]:
        sha256_file(p)  # into the page cache
    print(conditions("warm page cache (every file read once before timing)"))
    one_file(big, args.runs)
    four_files(quarters, args.runs)
    reverify([big, *quarters], d, max(3, args.runs // 2))
    print(f"\n{load()} at end")


if __name__ == "__main__":
    main()
