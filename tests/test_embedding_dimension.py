"""The embedding dimension recorded by a full smoke check, read back by setup's re-run (no torch import)."""

import json
import os
import subprocess
import sys

import pytest

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import dimension
from rdic_ops.ops import setup
from rdic_ops.ops import smoke as smoke_op
from rdic_ops.plan import Status, StepResult


@pytest.fixture
def gguf_cfg(tmp_path):
    path = tmp_path / "emb.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    return path, compose("local", ["embedding.backend=llamacpp", f"embedding.gguf={path}"])


def test_recorded_for_exactly_these_files(gguf_cfg):
    path, cfg = gguf_cfg
    assert dimension.recorded(cfg) is None
    dimension.record(cfg, 384)
    assert dimension.recorded(cfg) == 384
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # touched: the files may have changed
    assert dimension.recorded(cfg) is None
    dimension.record(cfg, 384)
    path.write_bytes(b"GGUF" + bytes(65))  # rewritten: another size
    assert dimension.recorded(cfg) is None


def test_another_backend_or_model_misses(gguf_cfg):
    _, cfg = gguf_cfg
    dimension.record(cfg, 384)
    st = compose("local")  # sentence-transformers, the packaged MiniLM
    assert dimension.key(st) not in (None, dimension.key(cfg))
    assert dimension.recorded(st) is None


@pytest.mark.parametrize("damage", ["", "[", "[]", "null", '{"%s": true}', '{"%s": -3}', '{"%s": "384"}'])
def test_a_damaged_record_is_a_miss(gguf_cfg, damage):
    _, cfg = gguf_cfg
    dimension.record(cfg, 384)
    where = dimension._cache_path(cfg)
    where.write_text(damage.replace("%s", dimension.key(cfg)))
    assert dimension.recorded(cfg) is None
    dimension.record(cfg, 384)
    assert dimension.recorded(cfg) == 384


def test_a_hub_model_not_in_the_local_cache_has_no_shortcut():
    cfg = compose("local", ["embedding.model=bge-m3", "embedding.backend=sentence_transformers"])
    assert dimension.key(cfg) is None and dimension.recorded(cfg) is None


def _embedding_check(quick: bool):
    env = {**os.environ, "RDIC_SMOKE_ENV": "local", "RDIC_SMOKE_SET": "[]", "RDIC_SMOKE_QUICK": "1" if quick else "0",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
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
