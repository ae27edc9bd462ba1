"""The host side of a fleet run: ``python -m rdic_ops.fleet.agent probe|finish|run ...`` (stdlib only).

The controller never sends shell code: it runs this module with arguments built by ``shlex.join``.

- ``probe ROOT VENV``: JSON facts (Python version, free disk, what is installed) - runs on the host's own
  Python, before any venv exists, so it is also sent as source text (``PROBE``) to ``python -c``.
- ``finish ROOT RELEASE BUILD KEEP``: after the wheel is installed: check the package carries its conf/ and
  its command line (rdic_ops/cli), point ``current`` at the release, write ``installed.json`` atomically,
  prune old releases.
- ``run ROOT -- TASK ARGS...``: run ``rdic-ops TASK ARGS`` (``python -m rdic_ops.cli``, the wheel's own tasks) in
  ROOT with the installed package's conf/; when the SSH channel closes (stdin reaches EOF: the controller was
  interrupted or dropped) the task is stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

PROBE = r"""
import json, os, shutil, sys
root, venv = (os.path.expanduser(a) for a in sys.argv[1:3])
try:
    installed = json.load(open(os.path.join(root, "installed.json")))
except Exception:
    installed = None
p = root
while not os.path.exists(p) and p != os.path.dirname(p):
    p = os.path.dirname(p)
print(json.dumps({"python": list(sys.version_info[:3]), "root": root, "venv": venv,
                  "installed": installed, "free": shutil.disk_usage(p).free,
                  "venv_ok": os.access(os.path.join(venv, "bin", "python"), os.X_OK)}))
"""


def _atomic_json(path: Path, data: dict) -> None:
    """fsutil.atomic_write's temp + fsync + rename, in the stdlib only (this module runs on the host): a full
    disk leaves the old installed.json and no temp file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _package_conf() -> Path:
    """conf/ inside the installed rdic_ops (found without importing it)."""
    from importlib.util import find_spec

    spec = find_spec("rdic_ops")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("rdic_ops is not importable from this venv")
    return Path(list(spec.submodule_search_locations)[0]) / "conf"


def finish(root: str, release: str, build: str, keep: int) -> int:
    root_p, rel = Path(root), Path(release)
    from importlib.metadata import version

    conf = _package_conf()
    if not (conf / "config.yaml").is_file() or not (conf.parent / "cli" / "__main__.py").is_file():
        raise SystemExit("the install is incomplete: no conf/config.yaml or no cli/__main__.py in the package")
    link = root_p / "current"
    tmp = root_p / ".current.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(rel)
    os.replace(tmp, link)
    _atomic_json(
        root_p / "installed.json",
        {"build": build, "version": version("rdic-ops"), "release": str(rel), "python": sys.executable},
    )
    releases = sorted(
        (p for p in (root_p / "releases").iterdir() if p.is_dir() and p != rel),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    import shutil

    for old in releases[keep - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
    print(json.dumps({"build": build, "version": version("rdic-ops")}))
    return 0


def _stop_on_eof(child: subprocess.Popen) -> None:
    """Block on stdin; EOF means the controller is gone: stop the task (TERM, then KILL)."""
    try:  # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader aborts the interpreter's exit
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(root: str, args: list[str]) -> int:
    # The conf/ of the installed build, whatever the host's own environment says: the same state everywhere.
    env = {**os.environ, "RDIC_CONF_DIR": str(_package_conf())}
    child = subprocess.Popen(
        [sys.executable, "-P", "-m", "rdic_ops.cli", *args],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    threading.Thread(target=_stop_on_eof, args=(child,), daemon=True).start()
    return child.wait()


def main(argv: list[str]) -> int:
    if argv[:1] == ["finish"] and len(argv) == 5:
        return finish(argv[1], argv[2], argv[3], int(argv[4]))
    if argv[:1] == ["run"] and len(argv) >= 3 and argv[2] == "--":
        return run(argv[1], argv[3:])
    print("usage: agent finish ROOT RELEASE BUILD KEEP | run ROOT -- TASK [ARGS...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
