"""Start-up cost of the command line: `invoke --list` and `invoke doctor` against `import invoke`.

Run: .venv/bin/python benchmarks/startup.py [--runs 15]
Prints a Markdown table (median and min wall time of each command, and the ratio to the baseline).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # warm the page cache once
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    cases = {
        'python -c "import invoke"': [sys.executable, "-c", "import invoke"],
        "invoke --list": [str(BIN / "invoke"), "--list"],
        "invoke doctor --env=local --json": [str(BIN / "invoke"), "doctor", "--env=local", "--json"],
    }
    results = {name: timed(cmd, args.runs) for name, cmd in cases.items()}
    base = statistics.median(results['python -c "import invoke"'])
    print(f"| command | median (s) | min (s) | x baseline | runs={args.runs} |")
    print("|---|---|---|---|---|")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"| `{name}` | {med:.3f} | {min(times):.3f} | {med / base:.2f} | |")


if __name__ == "__main__":
    main()
