"""The command line in-process: the same Program and tasks as `rdic-ops ...`, without a subprocess.

For tests of what the CLI prints and returns (exit code, stderr lines, --json objects) where starting a process
is not what is tested: about 1.2 s a run saved. The environment and the working directory are restored after
each run (a dry run sets RDIC_CONFIG_CACHE_WRITE=0 for its children).
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def task_names() -> list[str]:
    """Every task `invoke --list` lists, by its dotted name (a collection's default task by its own name too)."""
    from rdic_ops.cli import ns

    return sorted(ns.task_names)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """`rdic-ops ARGS` in this process: its exit code, stdout and stderr."""
    from rdic_ops.cli import ns
    from rdic_ops.cli.program import program

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.update(env or {})
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                program(ns).run(["rdic-ops", *args], exit=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Ran(code, out.getvalue(), err.getvalue())
