"""The command line in-process: the same Program and tasks as `rdic-ops ...`, without a subprocess.

For tests of what the CLI prints and returns (exit code, stderr lines, --json objects) where starting a process
is not what is tested: about 1.2 s a run saved. The environment and the working directory are restored after
each run (a dry run sets RDIC_CONFIG_CACHE_WRITE=0 for its children). `run_invoke` is the real command in a
child process, for the tests whose subject is the process itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.paths import INVOKE, ROOT


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
    from rdic_ops.config import files

    saved_env, saved_cwd, saved_conf = dict(os.environ), os.getcwd(), files.CONF_DIR
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.update(env or {})
        if os.environ.get("RDIC_CONF_DIR"):  # read once at import by config/files.py: a new process would read it
            files.CONF_DIR = Path(os.environ["RDIC_CONF_DIR"])
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                program(ns).run(["rdic-ops", *args], exit=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        files.CONF_DIR = saved_conf
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Ran(code, out.getvalue(), err.getvalue())


def run_invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `invoke` command in the repo root, as a user would."""
    return subprocess.run([INVOKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
