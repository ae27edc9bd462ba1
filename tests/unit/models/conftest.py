"""A config built by hand for the models room's unit tests: its own models_dir and state under tmp_path, the
llama.cpp runtime, and a generated model small enough to build in milliseconds (no conf/ composed)."""

import pytest

from rdic_ops.config.model_spec import ModelShape, ModelSource, ModelSpec
from rdic_ops.config.schema import RootConfig


def tiny(name: str = "tiny", **kw) -> ModelSpec:
    """A generated one-layer llama GGUF of about 17 kB (the byte tokenizer's 259 tokens)."""
    shape = ModelShape(n_layer=1, n_embd=8, n_head=1, n_head_kv=1, head_dim=8, n_ff=8, n_vocab=259, n_ctx_train=64)
    kw.setdefault("source", ModelSource.generated)
    kw.setdefault("path", f"{name}.gguf")
    return ModelSpec(name=name, arch="llama", quantization="F32", shape=shape, **kw)


@pytest.fixture
def cfg(tmp_path) -> RootConfig:
    c = RootConfig()
    c.env.name = "unit"
    c.paths.state_dir = str(tmp_path / "state")
    c.paths.models_dir = str(tmp_path / "models")
    c.paths.lockfile = str(tmp_path / "models.lock")
    c.chat.model = c.extraction.model = tiny()
    c.embedding.model = tiny("emb", source=ModelSource.local, path="emb.gguf")
    return c
