"""Files a flag names for output (issue 27, a new user's round): `smoke --junit=PATH` and `plan-memory --plot=PATH`
write into a directory that exists. A mistyped directory is an input error before any work: one line, exit 2, the
JSON error object with --json, and nothing created (--junit made every missing directory; --plot refused only
after the plan). `~` is the home directory, as the shell would have expanded it. In-process (support.cli)."""

from __future__ import annotations

import pytest
from support import cli
from support.contract_table import check

# (the task's arguments, the flag, the file's name): plan-memory's --gguf names no file, so a check made after
# the plan would report the GGUF instead
TASKS = [
    (["smoke", "--env=local"], "--junit", "smoke.xml"),
    (["plan-memory", "--gguf=no-such-model.gguf"], "--plot", "plan.png"),
]


@pytest.mark.parametrize("json_", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("args, flag, name", TASKS, ids=[t[1] for t in TASKS])
def test_a_mistyped_directory_is_an_input_error_and_nothing_is_made(tmp_path, args, flag, name, json_):
    target = tmp_path / "reprots" / "ci" / name
    out = cli.run(*args, f"{flag}={target}", *(["--json"] if json_ else []))
    check(out, json_, 2, f"{flag} {target}: no such directory {target.parent}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, flag, name", TASKS, ids=[t[1] for t in TASKS])
def test_a_home_relative_path_is_checked_where_it_will_be_written(tmp_path, args, flag, name):
    out = cli.run(*args, f"{flag}=~/reprots/{name}", env={"HOME": str(tmp_path)}, cwd=tmp_path)
    check(out, False, 2, f"no such directory {tmp_path / 'reprots'}")
    assert list(tmp_path.iterdir()) == []  # no directory named `~` in the working directory either
