"""Remedies name the command the user ran (issue 27, a new user's round): the library writes `invoke TASK`; the
`rdic-ops` console script (a wheel, no tasks.py) shows `rdic-ops TASK` in error lines, JSON and tables alike,
from one boundary (cli/streams.as_ran); `invoke` from a checkout keeps `invoke TASK`."""

from __future__ import annotations

import json

import pytest
from support import cli

from rdic_ops.cli import ns, streams
from rdic_ops.terminal import escape

TASKS = ns.task_names  # each task's dotted name and its aliases (bench.run: bench)
UNKNOWN_KEY = ["config", "--env=local", "--set", "chat.nosuch.x=1"]  # the remedy: `invoke config --env=local`


@pytest.fixture
def restore_command():
    yield
    streams.use_command("invoke", TASKS)


@pytest.mark.parametrize("json_", [False, True], ids=["text", "json"])
def test_rdic_ops_errors_name_rdic_ops(json_, restore_command):
    out = cli.run(*UNKNOWN_KEY, *(["--json"] if json_ else []))
    assert out.returncode == 2, out.stderr
    assert "(`rdic-ops config --env=local` prints them)" in out.stderr and "invoke" not in out.stderr, out.stderr
    if json_:
        assert "`rdic-ops config --env=local`" in json.loads(out.stdout)["error"]


def test_only_a_task_the_program_has_is_renamed(restore_command):
    streams.use_command("rdic-ops", TASKS)
    assert streams.as_ran("run invoke models.pull first; invoke preload") == (
        "run rdic-ops models.pull first; rdic-ops preload"
    )
    assert streams.as_ran("-> invoke models.verify --repair") == "-> rdic-ops models.verify --repair"
    assert streams.as_ran("`invoke bench.rate --run=x` and `invoke bench`") == (
        "`rdic-ops bench.rate --run=x` and `rdic-ops bench`"
    )
    kept = [
        "ExecStart=/opt/venv/bin/invoke preload --env=rtx3060",  # a path: the file names the program it runs
        "invoke nosuchtask",
        "invoke preloads",
        "to invoke the server",
        "reinvoke setup",
    ]
    assert [streams.as_ran(t) for t in kept] == kept


def test_a_tables_cells_carry_the_name_before_rich_measures_them(restore_command):
    streams.use_command("rdic-ops", TASKS)
    assert escape("invoke models.verify --repair [x]") == "rdic-ops models.verify --repair \\[x]"


def test_invoke_from_a_checkout_keeps_invoke(restore_command):
    streams.use_command("invoke", TASKS)
    assert streams.as_ran("run invoke models.pull first") == "run invoke models.pull first"
    assert escape("invoke preload") == "invoke preload"
