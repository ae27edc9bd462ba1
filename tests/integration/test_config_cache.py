"""The composed-config cache: the same answer as Hydra, and never a stale one."""

import os
import subprocess
import sys


def test_a_cached_command_imports_no_hydra(tmp_path):
    code = ("import sys; from rdic_ops.config.compose import compose; compose('local', ['chat.keep_alive=5']);"
            "print('hydra' in sys.modules, 'omegaconf' in sys.modules)")
    env = {**os.environ, "RDIC_STATE_DIR": str(tmp_path / "s")}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["True", "True"]
    assert second.stdout.split() == ["False", "False"]
