import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INVOKE = str(Path(sys.executable).with_name("invoke"))


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    """Every test writes its state (models, caches, journals) under its own temporary directory."""
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "state"))
    yield


def run_invoke(*args, env=None, timeout=300):
    """Run the real `invoke` command in the repo root, as a user would."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([INVOKE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=full_env)
