"""Issue 26 item 3: YAML aliases are bounded in every YAML file rdic-ops reads from a user. A billion-laughs
file (nine anchors, each a list of nine aliases of the one before) took about 2 minutes and gigabytes in
the site file before its error; now every reader refuses it in milliseconds, naming the file and the line of
the anchor whose aliases cross the bound (1,000 nodes added by aliases)."""

from __future__ import annotations

import time

from support.cli import run_invoke
from support.yaml_bombs import PROBLEM, _conf, laughs


def test_the_site_file_through_the_cli(tmp_path):
    """The reported case: about 2 minutes before; now one line, exit 2, in the time invoke takes to start."""
    conf = _conf(tmp_path)
    (conf / "site" / "default.yaml").write_text(laughs(9))
    t0 = time.perf_counter()
    out = run_invoke("config", "--env=local", env={"RDIC_CONF_DIR": str(conf)}, timeout=30)
    elapsed = time.perf_counter() - t0
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"rdic-ops: config error: {conf / 'site' / 'default.yaml'}:3: {PROBLEM} (fix the YAML there)"]
    assert elapsed < 10, elapsed
