"""Test-only launcher: `python tests/support/slow_apply.py migrate-model ...` runs the real invoke task with
every project file write followed by a pause, so a crash test can kill -9 it between two files.
The fault injection lives here, in tests/, wrapping rdic_ops.migration.journal.write_file from outside."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's rdic_ops, as invoke would load

from rdic_ops.migration import journal

_write = journal.write_file


def _slow_write(path, data, *args, **kwargs):
    _write(path, data, *args, **kwargs)
    time.sleep(float(os.environ.get("SLOW_WRITE_S", "3")))


journal.write_file = _slow_write

if __name__ == "__main__":
    from invoke.main import program

    program.run(["invoke", *sys.argv[1:]])
