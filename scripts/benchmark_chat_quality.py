#!/usr/bin/env python3
"""The RTX 3060 laptop's own benchmark script, kept as an entry point:
`python scripts/benchmark_chat_quality.py --model llama3.2:3b`.

It delegates to `invoke bench`: --model takes an Ollama tag or a conf/model name, --env picks the profile.
"""

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAGS = {
    "llama3.2:3b": "llama3.2-3b-q4_k_m",
    "gemma-3-4b-it-Q8_0": "gemma3-4b-it-q8_0",
    "gemma-3-4b-it-Q4_K_M": "gemma3-4b-it-q4_k_m",
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--env", default="rtx3060")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    models = ",".join(TAGS.get(m, m) for m in args.model)
    invoke = Path(sys.executable).with_name("invoke")
    cmd = [str(invoke), "-r", str(ROOT), "bench", f"--env={args.env}", f"--runs={args.runs}"]
    sys.exit(subprocess.call(cmd + ([f"--models={models}"] if models else [])))
