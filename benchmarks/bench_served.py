"""Does `invoke bench` on llama.cpp measure what is served? Its engine against the served runtime, paired.

Run: .venv/bin/python benchmarks/bench_served.py [--runs 9] [--tokens 64] [--tiny]
The `local` env with its generated llama GGUF widened to 8 layers x 768 (57M parameters, F32, random
weights; --tiny keeps the 2 x 64 one), then, on the same salted prompts, round by round in rotating order:
- served: the llama_cpp.server that `invoke preload` starts, over HTTP (what the user gets);
- bench: the engine `invoke bench` uses now (in-process, built from the server's own settings);
- old bench: the engine before issue 21 (llama-cpp-python's defaults: n_threads = cores / 2).
Per side: TTFT and delivered tokens/s at the client (tokens after the first / seconds after the first),
and llama.cpp's own counters where the side has them; then the per-round ratio of each side to served.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rdic_ops first
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paired import Ratio, conditions, load, median, rounds
from support.loopback import free_port

from rdic_ops.config.compose import compose
from rdic_ops.ops import models, preload
from rdic_ops.runtime import for_env
from rdic_ops.runtime.inprocess import InProcessLlamaCpp

WIDE = {"n_layer": 8, "n_embd": 768, "n_head": 12, "n_head_kv": 12, "head_dim": 64, "n_ff": 2048}


def overrides(port: int, tiny: bool) -> list[str]:
    out = [f"env.runtime.llamacpp_port={port}"]
    if not tiny:
        for role in ("extraction", "chat"):
            out += [
                f"{role}.model.{k}={v}"
                for k, v in {
                    **{f"shape.{k}": v for k, v in WIDE.items()},
                    "path": "bench-57m.gguf",
                    "params": "57M",
                }.items()
            ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--tiny", action="store_true")
    args = ap.parse_args()
    os.environ["RDIC_STATE_DIR"] = str(Path(tempfile.mkdtemp(prefix="rdic-served-")) / "state")
    cfg = compose("local", overrides(free_port(), args.tiny))
    models.pull(cfg)
    preload.preload(cfg)
    rt, tag = for_env(cfg), cfg.chat.model.name
    bench = InProcessLlamaCpp(cfg)
    import llama_cpp

    old = object.__new__(InProcessLlamaCpp)
    old.llama = llama_cpp.Llama(model_path=bench.llama.model_path, n_ctx=cfg.chat.num_ctx, verbose=False, seed=0)
    old.lib = llama_cpp
    gens: dict[str, list] = {"served": [], "bench": [], "old bench": []}
    # Random weights often emit byte tokens that llama.cpp holds back as incomplete UTF-8 (nothing to see, and
    # llama-cpp-python then runs past max_tokens): keep salted prompts whose greedy answer is args.tokens
    # visible pieces, screened on the old engine; round k gives every side the k-th prompt (each side sees it once).
    good: list[str] = []
    for i in range(50 * (args.runs + 1)):
        p = f"[{time.time_ns()}-{i}] Was ist ein Interrupt in der SPS?"
        if old.generate(p, args.tokens).delivered == args.tokens:
            good.append(p)
        if len(good) == args.runs + 1:
            break
    if len(good) < args.runs + 1:
        sys.exit(f"only {len(good)} of {50 * (args.runs + 1)} prompts gave {args.tokens} visible tokens")
    calls = {name: iter(good) for name in gens}

    def prompt(side: str) -> str:
        return next(calls[side])

    try:
        print(conditions("warm: model files in the page cache, every engine loaded and warmed up once"))
        print(
            f"model: {tag} {cfg.chat.model.params or ''} ({'2 x 64' if args.tiny else '8 x 768'}), "
            f"engine settings: {bench.settings}"
        )
        rounds(
            {
                "served": lambda: gens["served"].append(
                    rt.generate(tag, prompt("served"), num_ctx=cfg.chat.num_ctx, max_tokens=args.tokens)
                ),
                "bench": lambda: gens["bench"].append(bench.generate(prompt("bench"), args.tokens)),
                "old bench": lambda: gens["old bench"].append(old.generate(prompt("old bench"), args.tokens)),
            },
            args.runs,
        )
    finally:
        bench.close()
        old.close()
        preload.preload(cfg, unload=True)
    report(gens, args.runs)


def report(gens: dict[str, list], runs: int) -> None:
    """Rounds in which some side delivered fewer than 2 pieces are left out of every row (a random-weights
    model often emits byte tokens that llama.cpp holds back as incomplete UTF-8: there is no rate to see)."""
    for g in gens.values():
        del g[0]  # the warm-up round
    keep = [i for i in range(runs) if all(gs[i].delivered >= 2 for gs in gens.values())]
    gens = {name: [gs[i] for i in keep] for name, gs in gens.items()}
    print(f"\n{len(keep)} of {runs} rounds delivered text on every side\n")
    if not keep:
        return
    print(
        "| side | TTFT ms (median) | delivered tok/s (median) | llama.cpp counters: gen tok/s (median) "
        "| delivered vs served | TTFT vs served |\n|---|---|---|---|---|---|"
    )
    served = gens["served"]
    for name, gs in gens.items():
        counters = "-" if name == "served" else f"{median([g.tokens_per_s for g in gs]):.1f}"
        rel = Ratio([g.delivered_tokens_per_s / s.delivered_tokens_per_s for g, s in zip(gs, served, strict=True)])
        ttft = Ratio([g.ttft_s / s.ttft_s for g, s in zip(gs, served, strict=True)])
        print(
            f"| {name} | {median([g.ttft_s for g in gs]) * 1000:.1f} | "
            f"{median([g.delivered_tokens_per_s for g in gs]):.1f} | {counters} | {rel.text()} | {ttft.text()} |"
        )
    print(f"\n{runs} rounds, {load()} at end")


if __name__ == "__main__":
    main()
