"""The embedding dimension recorded by a full smoke check, read back by setup's re-run (no torch import)."""

import json
import os
import subprocess
import sys

import pytest
from support.threads import ONE_THREAD_ENV

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import dimension
from rdic_ops.ops import setup
from rdic_ops.ops import smoke as smoke_op
from rdic_ops.plan import Status, StepResult


def _embedding_check(quick: bool):
    env = {**os.environ, "RDIC_SMOKE_ENV": "local", "RDIC_SMOKE_SET": "[]", "RDIC_SMOKE_QUICK": "1" if quick else "0",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **ONE_THREAD_ENV}
    return subprocess.run([sys.executable, "-m", "pytest", str(smoke_op.SUITE), "-q", "-p", "no:cacheprovider",
                           "-k", "embeddings_have_the_expected_dimension"], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.slow
def test_quick_mode_reads_the_record_and_the_full_check_recomputes_it():
    cfg = compose("local")
    dimension.record(cfg, 7)  # a record that disagrees with the model: only reading it back can fail
    quick = _embedding_check(quick=True)
    assert quick.returncode == 1 and "gives 7-dimensional vectors, declared 384" in quick.stdout, quick.stdout
    full = _embedding_check(quick=False)  # invoke smoke: loads the model and embeds
    assert full.returncode == 0, full.stdout
    assert dimension.recorded(cfg) == 384
    assert json.loads(dimension._cache_path(cfg).read_text()) == {dimension.key(cfg): 384}
    again = _embedding_check(quick=True)
    assert again.returncode == 0, again.stdout


def test_setup_runs_the_suite_in_quick_mode(monkeypatch):
    seen = []
    monkeypatch.setattr(smoke_op, "run", lambda env, overrides, junit=None, quick=False:
                        seen.append(quick) or StepResult("smoke", Status.ok))
    setup.run(compose("local"), only=["smoke"])
    assert seen == [True]
