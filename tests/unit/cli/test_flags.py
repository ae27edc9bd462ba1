"""The flags' ranges (rdic_ops/cli/flags.py; issue 26 item 3) through the command line, in this process
(support.cli.run): each range stated in --help, and the reported inputs refused at once, one line naming the flag
and its range, exit 2. The bounds are written out here by hand: a wrong limit in the code is a failing test,
never a test that agrees with it. The config's side is tests/unit/config/test_rules_ranges.py."""

from __future__ import annotations

import pytest
from support import cli


def one_line(out, code=2) -> str:
    assert out.returncode == code, (out.returncode, out.stderr[-2000:])
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr + out.stdout, out.stderr
    return lines[0]


def test_help_states_each_range():
    out = cli.run("embeddings.bench", "--help")
    text = " ".join(out.stdout.split())
    assert "[integer from 1 to 100000; default: 256]" in text
    assert "[comma-separated integers from 1 to 4096; default: 8,32]" in text


def test_fleet_help_states_its_ranges():
    """The fleet tasks' help is derived the same way (one task decorator for every task)."""
    text = " ".join(cli.run("fleet.bench", "--help").stdout.split())
    assert "[integer from 1 to 256; default: 1]" in text and "[integer from 1 to 100; default: 3]" in text


@pytest.mark.parametrize("args, line", [
    (["plan-memory", "--ctx=99999999999"], "--ctx=99999999999: out of range (expected an integer from 1 to 1048576)"),
    (["embeddings.bench", "--texts=99999999999999"],
     "--texts=99999999999999: out of range (expected an integer from 1 to 100000)"),
    (["fleet.doctor", "--fleet=lab", "--parallel=257"], "--parallel=257: out of range (expected an integer from 1 "
                                                        "to 256)"),
    (["fleet.setup", "--fleet=lab", "--parallel=0"], "--parallel=0: out of range (expected an integer from 1 to 256)"),
    (["bench", "--runs=101"], "--runs=101: out of range (expected an integer from 1 to 100)"),
])
def test_the_reported_inputs_are_refused_at_once(args, line):
    """The tester's inputs: 6 minutes and 24 GB, a 979,614,258 MiB plan; now one line, exit 2, in seconds."""
    assert one_line(cli.run(*args)) == f"rdic-ops: {line}"


def test_ctx_of_a_gguf_is_held_to_its_trained_context(tmp_path, tiny_gguf):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf)  # n_ctx_train 2048 (conf/model/tiny-llama-gguf.yaml)
    assert cli.run("plan-memory", f"--gguf={path}", "--ctx=2048").returncode == 0
    out = cli.run("plan-memory", f"--gguf={path}", "--ctx=2049", "--json")
    want = f"--ctx=2049: above the trained context of {path} (2048 tokens; expected an integer from 1 to 2048)"
    assert one_line(out) == f"rdic-ops: {want}"
    import json

    assert json.loads(out.stdout) == {"error": want, "step": "plan-memory", "exit_code": 2}
