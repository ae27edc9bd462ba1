"""The CLI error contract's table, shared by its in-process rows (tests/unit/cli/test_contract.py) and its
process and file-system rows (tests/integration/test_cli_contract.py): bad values per flag, tasks not walked,
and the one check of a one-line error."""

from __future__ import annotations

import json

from support import cli

# `test` runs pytest itself: walking it would run the suite inside the suite.
NOT_WALKED = {"test": "runs the test suite itself"}


# A bad value for every task (exit 2): a new task without a row here fails test_every_task_has_a_row.
BAD_VALUE: dict[str, list[str] | None] = {
    "bench.rate": ["--run=/no/such/run"],
    "bench.run": ["--runs=abc"],
    "config": ["--env=nope"],
    "doctor": ["--env=nope"],
    "embeddings.bench": ["--texts=0"],
    "fleet.bench": ["--fleet=lab", "--runs=0"],
    "fleet.bootstrap": ["--fleet=nope"],
    "fleet.doctor": ["--fleet=lab", "--parallel=abc"],
    "fleet.inventory": ["--fleet=lab", "--format=xml"],
    "fleet.models-verify": ["--fleet=/no/such/inventory.yaml"],
    "fleet.setup": ["--fleet="],
    "fleet.smoke": ["--fleet=lab", "--set", "hosts.rtx-a.port=99999"],
    "migrate-embeddings": ["--from=bogus"],
    "migrate-model": ["--target=/no/such/dir"],
    "models.lock": ["--env=local", "--model=nope"],
    "models.pull": ["--env=local", "--model=nope"],
    "models.verify": ["--env=local", "--model=nope"],
    "plan-memory": ["--ctx=abc"],
    "preload": ["--env=local", "--set", "chat.keep_alive=-2"],
    "providers.check": ["--env=local", "--set", "env.runtime.n_threads=-1"],
    "route": ["--since=abc"],
    "server-settings": ["--env=local", "--set", "env.runtime.ollama.host=ftp://h"],
    "setup": ["--env=local", "--only=nope"],
    "smoke": ["--env=local", "--set", "chat.num_ctx=0"],
    "version": None,  # takes --json only: there is no value to get wrong
    "wsl.tune": ["--env=local", "--path=/no/such/dir/.wslconfig"],
}


# What each task does on the offline default when nothing is wrong: the runs the faults below break.
PLAIN: dict[str, list[str]] = {
    "bench.rate": ["--run={tmp}/run"], "bench.run": ["--env=local", "--runs=1", "--max-tokens=1", "--out={tmp}/b"],
    "config": ["--env=local"], "doctor": ["--env=local"], "embeddings.bench": ["--env=local", "--texts=1"],
    "migrate-embeddings": ["--env=local", "--dry-run"], "migrate-model": ["--env=local", "--target={tmp}/p"],
    "models.lock": ["--env=local"], "models.pull": ["--env=local"], "models.verify": ["--env=local"],
    "plan-memory": ["--env=local"], "preload": ["--env=local"], "providers.check": ["--env=local"],
    "route": ["--env=local"], "server-settings": ["--env=local", "--dry-run"],
    # setup on local's own 351 MB of models stops at doctor's disk check on these small file systems: the tiny
    # model rdic-ops writes itself gets setup to the writes a read-only or full state dir must refuse
    "setup": ["--env=local", "--set", "workload=offline_tiny"],
    "smoke": ["--env=local"], "version": [], "wsl.tune": ["--env=local", "--path={tmp}/.wslconfig"],
}


FLEET = sorted(n for n in BAD_VALUE if n.startswith("fleet.") and n != "fleet.inventory")


def walked() -> list[str]:
    return [n for n in cli.task_names() if n not in NOT_WALKED and n != "bench"]  # bench: bench.run's alias


def check(out: cli.Ran, json_: bool, code: int | None = None, says: str | tuple[str, ...] = "") -> None:
    """The contract, whatever the outcome; ``says``: what the one line must contain (any case)."""
    assert out.returncode in (0, 1, 2), (out.returncode, out.stderr)
    if code is not None:
        assert out.returncode == code, (out.returncode, out.stderr, out.stdout[-1500:])
    assert "Traceback" not in out.stderr + out.stdout, out.stderr[-3000:]
    if out.returncode:
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rdic-ops: "), out.stderr
        assert "internal error" not in lines[0], lines[0]
        for part in (says,) if isinstance(says, str) else says:
            assert part.lower() in lines[0].lower(), (part, lines[0])
    if json_:
        data = json.loads(out.stdout)  # one object, nothing else on stdout
        assert isinstance(data, dict)  # (embeddings.bench printed a bare array)
        if out.returncode:
            assert isinstance(data, dict) and data["exit_code"] == out.returncode and data["error"] and data["step"]
