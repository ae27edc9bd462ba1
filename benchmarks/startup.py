"""Start-up cost of the command line against `python -c "import invoke"`, paired.

Run: .venv/bin/python benchmarks/startup.py [--runs 21]
Every round runs each command once, in rotating order (benchmarks/paired.py), with its own RDIC_STATE_DIR
(a warm config cache, made by one run before timing) and warm file caches. Rows: `invoke --list`, `invoke
doctor` (config from the cache), `invoke doctor` with RDIC_CONFIG_CACHE=0 (Hydra composes: what compose
costs), `invoke plan-memory --gguf` on the tiny GGUF. Each as the median of per-round ratios to `import
invoke` (goal: doctor <= 2x), with min/max; medians in seconds beside them.
--before DIR adds the same doctor and plan-memory commands run in DIR, a copy of older code
(`git archive REV | tar -x -C DIR`), as sides of the same rounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import ROOT, command, conditions, load, median, ratio, rounds

BIN = Path(sys.executable).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--before", default=None, help="a copy of older code to run as extra sides")
    args = ap.parse_args()
    state = Path(tempfile.mkdtemp(prefix="rdic-startup-")) / "state"
    env = {"RDIC_STATE_DIR": str(state)}
    gguf = state / "tiny.gguf"
    from rdic_ops.config.compose import load_model_spec
    from rdic_ops.gguf import write

    spec = load_model_spec("tiny-llama-gguf")
    gguf.parent.mkdir(parents=True, exist_ok=True)
    write.write(gguf, spec.arch, spec.shape, data="random", name="tiny", seed=0)
    inv = str(BIN / "invoke")
    sides = {
        'python -c "import invoke"': command([sys.executable, "-c", "import invoke"], env, cwd=str(ROOT)),
        "invoke --list": command([inv, "--list"], env, cwd=str(ROOT)),
        "invoke doctor --env=local --json": command([inv, "doctor", "--env=local", "--json"], env, cwd=str(ROOT)),
        "the same, RDIC_CONFIG_CACHE=0 (Hydra composes)": command(
            [inv, "doctor", "--env=local", "--json"], {**env, "RDIC_CONFIG_CACHE": "0"}, cwd=str(ROOT)
        ),
        f"invoke plan-memory --gguf={gguf.name} --json": command(
            [inv, "plan-memory", f"--gguf={gguf}", "--json"], env, cwd=str(ROOT)
        ),
    }
    if args.before:
        for argv in (["doctor", "--env=local", "--json"], ["plan-memory", f"--gguf={gguf}", "--json"]):
            sides[f"before: invoke {' '.join(argv).replace(str(gguf), gguf.name)}"] = command(
                [inv, *argv], env, cwd=args.before
            )
    print(conditions("warm: file caches and the config cache filled by a warm-up round"))
    times = rounds(sides, args.runs)
    base = 'python -c "import invoke"'
    print("\n| command | median s | x `import invoke` (median of per-round ratios, min-max, runs) |")
    print("|---|---|---|")
    for name in sides:
        print(f"| `{name}` | {median(times[name]):.3f} | {ratio(times, name, base).text()} |")
    cached, composed = "invoke doctor --env=local --json", "the same, RDIC_CONFIG_CACHE=0 (Hydra composes)"
    for name in [n for n in sides if n.startswith("before: ")]:
        now = next(n for n in sides if n.startswith("invoke " + name.split("invoke ", 1)[1].split(" --")[0]))
        print(f"\n`{now}` vs {name}: {ratio(times, name, now).text()} faster (per round)")
    cost = median([a - b for a, b in zip(times[composed], times[cached], strict=True)])
    print(f"\ncompose costs doctor {cost:.3f} s a run (median of per-round differences); {load()} at end")


if __name__ == "__main__":
    main()
