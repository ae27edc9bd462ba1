"""Cold vs warm time to first token, on the llama.cpp runtime and through the Ollama path.

Run: .venv/bin/python benchmarks/ttft.py [--runs 5]
Cold and warm requests alternate (benchmarks/paired.py rounds, rotating order); each row gives medians and
the median of per-round cold/warm ratios with min/max.
llama.cpp: the `local` env's model in the llama_cpp.server rdic-ops manages; cold = server stopped, then
preload + first token; warm = the server already holds the model. Ollama: the official client against the
loopback Ollama server of tests/ (which runs the same GGUF through llama.cpp); cold = model unloaded
(keep_alive 0), warm = loaded by `invoke preload`. The model is the project's tiny GGUF: this measures the
mechanism (what a preload saves per request), not a 4B model's 76 s load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rdic_ops first
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paired import Ratio, conditions, load
from support.loopback import free_port
from support.ollama_server import FakeOllama, publish

from rdic_ops.config.compose import compose
from rdic_ops.ops import models, preload
from rdic_ops.runtime import for_env

PROMPT = "Erkläre mir die Funktion eines Timers in TIA Portal. #{}"


def med(xs):
    return statistics.median(xs) * 1000


def row(name: str, cold: list[float], warm: list[float], extra: str = "") -> None:
    r = Ratio([c / w for c, w in zip(cold, warm, strict=True)])
    print(f"| {name} | {med(cold):.0f} ms{extra} | {med(warm):.1f} ms | {r.text(1)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rdic-ttft-"))
    os.environ["RDIC_STATE_DIR"] = str(tmp / "state")
    cfg = compose("local", [f"env.runtime.llamacpp_port={free_port()}"])
    models.pull(cfg)
    rt = for_env(cfg)
    print(conditions("model file in the page cache; cold = server stopped, warm = model resident"))
    print("\n| runtime | cold TTFT (median) | warm TTFT (median) | cold / warm |\n|---|---|---|---|")
    cold, warm = [], []
    for i in range(args.runs):
        sides = [("cold", i), ("warm", i)] if i % 2 == 0 else [("warm", i), ("cold", i)]
        for side, n in sides:
            if side == "cold":
                preload.preload(cfg, unload=True)
                t0 = time.perf_counter()
                preload.preload(cfg)
                g = rt.generate("tiny-llama-gguf", PROMPT.format(n), num_ctx=512, max_tokens=1)
                cold.append(time.perf_counter() - t0 - g.total_s + g.ttft_s)
            else:
                preload.preload(cfg)
                warm.append(rt.generate("tiny-llama-gguf", PROMPT.format(f"w{n}"), num_ctx=512, max_tokens=1).ttft_s)
    preload.preload(cfg, unload=True)
    row("llama.cpp (llama_cpp.server)", cold, warm)

    server = FakeOllama(tmp / "ollama", tmp / "registry")
    server.start()
    gguf = Path(cfg.paths.models_dir).expanduser() / "tiny-llama.gguf"
    publish(server.registry, "llama3.2:3b", gguf.read_bytes())
    ocfg = compose(
        "rtx3060",
        [
            f"env.runtime.ollama.host={server.url}",
            f"env.runtime.ollama.models_dir={tmp / 'ollama'}",
            "embedding.backend=ollama",
            "chat.num_ctx=512",
            "extraction.model=llama3.2-3b-q4_k_m",
            "extraction.num_ctx=512",
        ],
    )
    models.pull(ocfg, ["llama3.2-3b-q4_k_m"])
    ort = for_env(ocfg)
    cold, warm, loads = [], [], []
    for i in range(args.runs):
        if i % 2:  # warm first on odd rounds: the model is resident from the previous cold request
            warm.append(ort.generate("llama3.2:3b", PROMPT.format(f"w{i}"), num_ctx=512, max_tokens=1).ttft_s)
        ort.unload("llama3.2:3b")
        g = ort.generate("llama3.2:3b", PROMPT.format(i), num_ctx=512, max_tokens=1)
        cold.append(g.ttft_s)
        loads.append(g.load_s)
        if not i % 2:
            warm.append(ort.generate("llama3.2:3b", PROMPT.format(f"w{i}"), num_ctx=512, max_tokens=1).ttft_s)
    server.stop()
    row("Ollama path (loopback server)", cold, warm, f" (load_duration {med(loads):.0f} ms)")
    print(f"\n{args.runs} rounds, {load()} at end")


if __name__ == "__main__":
    main()
