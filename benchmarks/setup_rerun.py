"""A second `invoke setup` that has nothing to do, on the `local` env, paired with `import invoke`.

Run: .venv/bin/python benchmarks/setup_rerun.py [--runs 7]
One `invoke setup --env=local` in a fresh RDIC_STATE_DIR (models built, server started, the full smoke
suite, which records the embedding dimension), then rounds in rotating order (benchmarks/paired.py) of:
`python -c "import invoke"` (the anchor: it scales with the machine's load), `invoke setup --json` (nothing
to do: must report 0 changes), and the same with `--skip=smoke`. Goal: the re-run under 2.5 s. The server
is stopped at the end. --before DIR adds `invoke setup --json` run in DIR, a copy of older code
(`git archive REV | tar -x -C DIR`), on the same state, as a side of the same rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rdic_ops first
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paired import ROOT, command, conditions, load, median, ratio, rounds
from support.loopback import free_port

INVOKE = str(Path(sys.executable).with_name("invoke"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--before", default=None, help="a copy of older code to run as an extra side")
    args = ap.parse_args()
    env = {"RDIC_STATE_DIR": str(Path(tempfile.mkdtemp(prefix="rdic-setup-")) / "state")}
    port = f"--set=env.runtime.llamacpp_port={free_port()}"
    setup = [INVOKE, "setup", "--env=local", port, "--json"]
    try:
        first = subprocess.run(setup, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        print(f"first setup: {json.loads(first.stdout)['changed']} change(s)")
        print(conditions("warm: model files, config cache and embedding dimension recorded by the first setup"))
        sides = {
            'python -c "import invoke"': command([sys.executable, "-c", "import invoke"], env, cwd=str(ROOT)),
            "invoke setup --env=local --json": zero_changes(setup, env),
            "invoke setup --env=local --json --skip=smoke": zero_changes([*setup, "--skip=smoke"], env),
        }
        if args.before:
            sides["before: invoke setup --env=local --json"] = zero_changes(setup, env, args.before)
        times = rounds(sides, args.runs)
    finally:
        subprocess.run(
            [INVOKE, "preload", "--env=local", port, "--unload"],
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, **env},
        )
    base = 'python -c "import invoke"'
    print("\n| command | median s | min-max s | x `import invoke` (median of per-round ratios) |\n|---|---|---|---|")
    for name, ts in times.items():
        print(f"| `{name}` | {median(ts):.2f} | {min(ts):.2f}-{max(ts):.2f} | {ratio(times, name, base).text()} |")
    if args.before:
        print(
            f"\nthis code vs before, per round: "
            f"{ratio(times, 'before: invoke setup --env=local --json', 'invoke setup --env=local --json').text()}"
            " faster"
        )
    print(f"\n{load()} at end")


def zero_changes(argv: list[str], env: dict, cwd: str | Path = ROOT):
    def run() -> None:
        out = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        assert json.loads(out.stdout)["changed"] == 0, out.stdout

    return run


if __name__ == "__main__":
    main()
