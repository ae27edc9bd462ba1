"""Fleet over real SSH: `invoke fleet.doctor` on 4 loopback hosts vs 1, and bootstrap time per host.

Run (as root, openssh-server installed): .venv/bin/python benchmarks/fleet.py [--runs 7]
The hosts are this machine behind sshd instances on 127.0.0.2-127.0.0.5 (tests/support/sshd.py), each with its own
HOME. Bootstrap installs the wheel with --no-deps into a venv whose Python sees this venv's packages.
Doctor: the two sides alternate run by run; the figure is the median of the paired ratios (4 hosts / 1).
Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
INVOKE = str(Path(sys.executable).with_name("invoke"))


def _lab(base: Path, n: int):
    import yaml
    from support.sshd import Host, keygen, site_packages_view

    key = keygen(base / "client")
    site = site_packages_view(base / "site")
    hosts = []
    for i in range(n):
        hosts.append(Host(f"h{i + 1}", f"127.0.0.{i + 2}", base / f"h{i + 1}", base / "client.pub", site).start())
    inv = {
        "defaults": ["/fleet_schema", "_self_"],
        "name": "bench",
        "parallel": n,
        "known_hosts": str(base / "known_hosts"),
        "bootstrap": {"install_deps": False, "min_free_mb": 16},
        "hosts": {h.name: h.inventory(key) for h in hosts},
    }
    path = base / "bench.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return hosts, str(path)


def _invoke(*args: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([INVOKE, *args], cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"invoke {' '.join(args)} failed: {out.stderr.strip()[-500:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--hosts", type=int, default=4)
    args = ap.parse_args()
    from support.sshd import available

    if available():
        raise SystemExit(available())
    with tempfile.TemporaryDirectory(prefix="rdic-fleet-bench-") as tmp:
        os.environ["RDIC_STATE_DIR"] = str(Path(tmp) / "controller")
        hosts, inv = _lab(Path(tmp), args.hosts)
        try:
            fleet = f"--fleet={inv}"
            _invoke("fleet.inventory", fleet)  # the wheel is built on first need: build it outside the timings
            one_first = _invoke("fleet.bootstrap", fleet, "--hosts=h1")
            one_second = _invoke("fleet.bootstrap", fleet, "--hosts=h1")
            rest = ",".join(h.name for h in hosts[1:])
            all_first = _invoke("fleet.bootstrap", fleet, f"--hosts={rest}", f"--parallel={args.hosts}")
            all_second = _invoke("fleet.bootstrap", fleet, f"--parallel={args.hosts}")
            ones, alls, ratios = [], [], []
            for i in range(args.runs):
                pair = {}
                for side in ("one", "all") if i % 2 == 0 else ("all", "one"):
                    extra = ["--hosts=h1"] if side == "one" else [f"--parallel={args.hosts}"]
                    pair[side] = _invoke("fleet.doctor", fleet, *extra)
                ones.append(pair["one"])
                alls.append(pair["all"])
                ratios.append(pair["all"] / pair["one"])
        finally:
            for h in hosts:
                h.stop()
    print(f"| measure | wall time (s) | runs={args.runs}, cores={os.cpu_count()} |")
    print("|---|---|---|")
    print(f"| bootstrap, 1 host, first time (venv + wheel + tasks.py) | {one_first:.2f} | |")
    print(f"| bootstrap, 1 host, second time (0 changes) | {one_second:.2f} | |")
    print(f"| bootstrap, {args.hosts - 1} more hosts at once, first time | {all_first:.2f} | |")
    print(f"| bootstrap, {args.hosts} hosts, second time | {all_second:.2f} | |")
    print(f"| `fleet.doctor`, 1 host (median) | {statistics.median(ones):.2f} | min {min(ones):.2f} |")
    print(
        f"| `fleet.doctor`, {args.hosts} hosts, --parallel={args.hosts} (median) | {statistics.median(alls):.2f} "
        f"| min {min(alls):.2f} |"
    )
    print(
        f"| ratio {args.hosts} hosts / 1 host (median of paired ratios) | {statistics.median(ratios):.2f}x "
        f"| range {min(ratios):.2f}-{max(ratios):.2f} |"
    )


if __name__ == "__main__":
    main()
