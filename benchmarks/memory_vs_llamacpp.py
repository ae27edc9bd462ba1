"""The memory estimator against llama.cpp's own buffers (no-alloc dry run, CPU backend).

Run: .venv/bin/python benchmarks/memory_vs_llamacpp.py [--dir /tmp/rdic-shapes] [--header-only]
Builds sparse GGUF files of the real shapes (no disk blocks for tensor data), asks llama.cpp for each
context/KV type, and prints a Markdown table: KV estimate vs llama.cpp, total estimate vs llama.cpp.
Also times the GGUF header scan against gguf's GGUFReader on the same file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rdic_ops first
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paired import conditions, median, ratio, rounds
from support.shapes import REAL, build

from rdic_ops.gguf.read import inspect
from rdic_ops.memory import estimate, oracle

MiB = 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=None)
    ap.add_argument("--header-only", action="store_true", help="only the GGUF header timing")
    args = ap.parse_args()
    d = Path(args.dir or tempfile.mkdtemp(prefix="rdic-shapes-"))
    d.mkdir(parents=True, exist_ok=True)
    if not args.header_only:
        table(d)
    header_timing(build(d, "gemma3-4b-it-q8_0"))


def table(d: Path) -> None:
    print(
        "| model | n_ctx | KV type | seqs | KV est (MiB) | KV llama.cpp (MiB) | total est (MiB) "
        "| total llama.cpp (MiB) | error |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for name in REAL:
        path = build(d, name)
        info = inspect(path)
        ctxs = (2048, 8192, 32768, 131072) if info.has_kv else (512, 8192)
        settings = [
            oracle.OracleSetting(c, kv, kv, seq, flash_attn=kv != "f16", embeddings=not info.has_kv)
            for c in ctxs
            for kv in ("f16", "q8_0")
            for seq in (1, 4)
        ]
        rep = oracle.run(str(path), settings)
        for r in rep.results:
            s = r.setting
            kv = estimate.kv_cache(
                info.shape(), s.n_ctx, type_k=s.type_k, type_v=s.type_v, n_seq=s.n_seq, has_kv=info.has_kv
            )
            comp = estimate.compute_buffer(
                info.shape(), s.n_ctx, n_seq=s.n_seq, flash_attn=s.flash_attn, has_kv=info.has_kv
            )
            ours = info.tensor_bytes + kv.bytes + comp + estimate.output_buffer(info.shape(), s.n_seq, info.has_kv)
            theirs = rep.total(r)
            err = 100 * (ours - theirs) / theirs
            worst = max(worst, abs(err))
            print(
                f"| {name} | {s.n_ctx} | {s.type_k} | {s.n_seq} | {kv.bytes / MiB:,.2f} | {r.kv_mib:,.2f} "
                f"| {ours / MiB:,.0f} | {theirs / MiB:,.0f} | {err:+.2f}% |"
            )
    print(f"\nworst total error: {worst:.2f}%")


def header_timing(path: Path) -> None:
    from gguf import GGUFReader

    print("\n" + conditions("warm: the file's pages read by the estimate above"))
    times = rounds({"inspect": lambda: inspect(path), "GGUFReader": lambda: GGUFReader(path)}, 3)
    print(
        f"GGUF header of gemma3-4b (262,144 tokens): rdic_ops inspect {median(times['inspect']):.3f} s, "
        f"gguf.GGUFReader {median(times['GGUFReader']):.2f} s (medians), "
        f"inspect {ratio(times, 'GGUFReader', 'inspect').text(0)} faster"
    )


if __name__ == "__main__":
    main()
