"""The embedding dimension recorded by a full smoke check, read back by setup's re-run (no torch import)."""

import os

import pytest

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import dimension


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
