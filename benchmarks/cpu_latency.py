"""How long the `cpu` env's smoke checks take with Gemma 3 1B it Q4_K_M, without downloading it.

Run: .venv/bin/python benchmarks/cpu_latency.py [--threads 1,2] [--runs 5]

The model file is written at its real shape and quantization layout (rdic_ops.gguf.write, data="sparse": the
tensor data is a hole that reads as zeros). llama.cpp's work per token does not depend on the weights' values,
so the timings are the real model's; only the text is not. For each thread count (alternated run by run) it
times: load, a 24-token prompt (the chat-formatted known question is about 22 real Gemma tokens) plus 16
generated tokens (the known-answer check), a 512-token prompt, and 64 generated tokens. Medians are printed as
a Markdown table; the last row is the paired ratio of the two thread counts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rdic_ops.config.compose import load_model_spec
from rdic_ops.gguf import write as gguf_build

MODEL = "gemma3-1b-it-q4_k_m"


def measure(path: Path, threads: int, n_ctx: int, seed: int) -> dict:
    import llama_cpp

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_batch=512, verbose=False)
    out = {"load_s": time.perf_counter() - t0}
    vocab = llm.n_vocab()

    def prompt(n):
        return [2] + [int(t) for t in rng.integers(300, vocab, n - 1)]

    def decode(n):  # one token at a time, as generation does (the token id does not change the work)
        for _ in range(n):
            llm.eval([int(rng.integers(300, vocab))])

    try:
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt(24))
        decode(16)
        out["known_answer_s"] = time.perf_counter() - t0
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt(512))
        out["prompt512_tps"] = 512 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        decode(64)
        out["gen64_s"] = time.perf_counter() - t0
        out["gen_tps"] = 64 / out["gen64_s"]
    finally:
        llm.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n-ctx", type=int, default=2048)
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    spec = load_model_spec(MODEL)
    path = Path(tempfile.mkdtemp(prefix="rdic-cpu-")) / f"{MODEL}.gguf"
    gguf_build.write(path, spec.arch, spec.shape, quantization=spec.quantization, data="sparse", name=MODEL)
    print(f"{MODEL}: {path.stat().st_size:,} bytes (the Hub lists 806 MB), n_ctx {args.n_ctx}")
    results: dict[int, list[dict]] = {t: [] for t in threads}
    for run in range(args.runs):
        for t in threads if run % 2 == 0 else threads[::-1]:  # alternate the order run by run
            results[t].append(measure(path, t, args.n_ctx, seed=run))
    keys = ["load_s", "known_answer_s", "prompt512_tps", "gen64_s", "gen_tps"]
    print("| threads | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for t in threads:
        print(f"| {t} | " + " | ".join(f"{statistics.median(r[k] for r in results[t]):.2f}" for k in keys) + " |")
    if len(threads) == 2:
        a, b = threads
        ratios = [statistics.median(rb[k] / ra[k] for ra, rb in zip(results[a], results[b], strict=True)) for k in keys]
        print(f"| {b}/{a} (median of paired ratios) | " + " | ".join(f"{x:.2f}" for x in ratios) + " |")
    path.unlink()


if __name__ == "__main__":
    main()
