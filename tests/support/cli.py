"""The command line in-process: the same Invoke Program and tasks as `invoke ...`, without a subprocess.

For tests of what the CLI prints and returns (exit code, stderr lines, --json objects) where starting a process
is not what is tested: about 1.2 s a run saved. The environment is restored after each run (a dry run sets
RDIC_CONFIG_CACHE_WRITE=0 for its children), and the tasks module's per-run notes are cleared.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_TASKS = None


def tasks_module():
    """tasks.py of this checkout, loaded once (as `invoke` loads it)."""
    global _TASKS
    if _TASKS is None:
        spec = importlib.util.spec_from_file_location("rdic_tasks_inprocess", ROOT / "tasks.py")
        _TASKS = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_TASKS)
    return _TASKS


def task_names() -> list[str]:
    """Every task `invoke --list` lists, by its dotted name (a collection's default task by its own name too)."""
    ns = tasks_module().ns
    return sorted(ns.task_names)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """`invoke ARGS` in this process: its exit code, stdout and stderr."""
    from invoke import Program

    mod = tasks_module()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.update(env or {})
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                Program(namespace=mod.ns, name="invoke", binary="invoke").run(["invoke", *args], exit=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        getattr(mod, "_NOTES", []).clear()
    return Ran(code, out.getvalue(), err.getvalue())
