"""Run the real `invoke` command, killed with SIGKILL right after its Nth re-embed checkpoint.

    python tests/support/crash_after.py N invoke-args...

Test-only fault injection: the product has no hook for it. The checkpoint is the progress write of
rdic_ops.embeddings.reembed (vectors fsynced, then progress.json); the process dies as kill -9 would leave it.
"""

import os
import signal
import sys

from rdic_ops.embeddings import reembed

n = int(sys.argv[1])
real = reembed.atomic_write
seen = []


def write_then_maybe_die(path, data):
    real(path, data)
    if path.name == "progress.json":
        seen.append(path)
        if len(seen) >= n:
            os.kill(os.getpid(), signal.SIGKILL)


reembed.atomic_write = write_then_maybe_die
from invoke.main import program  # noqa: E402

program.run(["invoke", *sys.argv[2:]])
