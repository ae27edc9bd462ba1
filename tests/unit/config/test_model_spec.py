"""A model file's schema (rdic_ops/config/model_spec.py): the sources and kinds a conf/model file may name, the
defaults a file may leave out, and every shipped model file read into it."""

import pytest
import yaml
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from rdic_ops.config.files import conf_dir
from rdic_ops.config.model_spec import HfSource, ModelKind, ModelShape, ModelSource, ModelSpec, PypiSource


def test_the_defaults_a_model_file_may_leave_out():
    spec = ModelSpec()
    assert (spec.kind, spec.source, spec.ollama_tag, spec.path) == (ModelKind.llm, ModelSource.ollama, None, None)
    assert spec.hf == HfSource(repo="", file="", revision="main", sha256=None)  # trust on first use, then the lock
    assert spec.pypi == PypiSource(parts=[], sha256=None)
    assert spec.shape == ModelShape() and spec.shape.sliding_window == 0  # no sliding window unless declared


def test_each_spec_gets_its_own_mutable_parts():
    a, b = ModelSpec(), ModelSpec()
    a.pypi.parts.append("x")
    a.shape.n_layer = 3
    assert b.pypi.parts == [] and b.shape.n_layer == 0


def test_the_enums_are_their_yaml_spellings():
    assert {s.value for s in ModelSource} == {"ollama", "hf", "local", "generated", "package", "pypi"}
    assert ModelSource("hf") is ModelSource.hf and ModelKind("embedding") == "embedding"


def test_an_unknown_source_or_key_is_refused_by_the_schema():
    base = OmegaConf.structured(ModelSpec)
    with pytest.raises(ValidationError):
        OmegaConf.merge(base, {"source": "ftp"})
    with pytest.raises(Exception, match="nope"):
        OmegaConf.merge(base, {"shape": {"nope": 1}})


@pytest.mark.parametrize("path", sorted((conf_dir() / "model").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_model_file_fits_the_schema_and_names_itself(path):
    spec = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ModelSpec), yaml.safe_load(path.read_text())))
    assert spec.name == path.stem
    if spec.source is ModelSource.hf:
        assert spec.hf.repo and spec.hf.file
    if spec.source is ModelSource.pypi:
        assert spec.pypi.parts and all(p.dist != "???" and p.version != "???" for p in spec.pypi.parts)
    if spec.source is ModelSource.ollama:
        assert spec.ollama_tag
