"""A Hugging Face folder to GGUF with llama.cpp's own converter (rdic_ops/embeddings/convert.py), with pip
and the converter faked at subprocess.run: the converter taken once from the llama-cpp-python sdist (only
its script, conversion/ and gguf-py/), and the GGUF written under a temp name, renamed only when whole."""

import importlib.metadata
import io
import subprocess
import tarfile

import pytest

from rdic_ops.embeddings import convert
from rdic_ops.errors import StepFailed

VERSION = "0.3.9"


def sdist(path, prefix):
    with tarfile.open(path, "w:gz") as tar:
        for name in (
            "convert_hf_to_gguf.py",
            "conversion/llama.py",
            "gguf-py/gguf/__init__.py",
            "CMakeLists.txt",
            "src/llama.cpp",
        ):
            data = f"# {name}\n".encode()
            info = tarfile.TarInfo(f"{prefix}/vendor/llama.cpp/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def pip(monkeypatch):
    calls = []
    monkeypatch.setattr(importlib.metadata, "version", lambda dist: VERSION)

    def run(argv, **kw):
        calls.append(argv)
        if "download" in argv:
            d = convert.Path(argv[argv.index("-d") + 1])
            sdist(d / f"llama_cpp_python-{VERSION}.tar.gz", f"llama_cpp_python-{VERSION}")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(convert.subprocess, "run", run)
    return calls


def test_the_converter_is_taken_once_from_the_sdist(pip, tmp_path):
    got = convert.converter(tmp_path)
    root = tmp_path / f"llama-cpp-python-{VERSION}"
    assert got == root / "llama.cpp" and (got / "convert_hf_to_gguf.py").is_file()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "llama.cpp/conversion/llama.py",
        "llama.cpp/convert_hf_to_gguf.py",
        "llama.cpp/gguf-py/gguf/__init__.py",
    ]
    assert convert.converter(tmp_path) == got and len(pip) == 1  # the second time: no pip
    assert f"llama-cpp-python=={VERSION}" in pip[0] and "--no-binary" in pip[0]


def test_a_failed_download_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.metadata, "version", lambda dist: VERSION)
    monkeypatch.setattr(
        convert.subprocess,
        "run",
        lambda argv, **kw: subprocess.CompletedProcess(argv, 1, "", "ERROR: No matching distribution\n"),
    )
    with pytest.raises(StepFailed, match=f"pip download of the llama-cpp-python {VERSION} source failed"):
        convert.converter(tmp_path)


def test_hf_to_gguf_renames_only_a_whole_file(monkeypatch, tmp_path):
    monkeypatch.setattr(convert, "converter", lambda: tmp_path / "llama.cpp")
    seen = []

    def run(argv, env, **kw):
        seen.append((argv, env))
        out = convert.Path(argv[argv.index("--outfile") + 1])
        out.write_bytes(b"GGUF")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(convert.subprocess, "run", run)
    out = tmp_path / "out" / "minilm.gguf"
    assert convert.hf_to_gguf(tmp_path / "model", out, "f16") == out and out.read_bytes() == b"GGUF"
    argv, env = seen[0]
    assert argv[-2:] == ["--outtype", "f16"] and env["HF_HUB_OFFLINE"] == "1"
    assert env["PYTHONPATH"] == str(tmp_path / "llama.cpp" / "gguf-py") and argv[argv.index("--outfile") + 1] != str(
        out
    )
    convert.hf_to_gguf(tmp_path / "model", out)
    assert len(seen) == 1  # already there: not converted again


def test_a_failed_conversion_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(convert, "converter", lambda: tmp_path / "llama.cpp")

    def run(argv, env, **kw):
        convert.Path(argv[argv.index("--outfile") + 1]).write_bytes(b"GG")
        return subprocess.CompletedProcess(argv, 1, "", "Traceback\nNotImplementedError: BertModel\n")

    monkeypatch.setattr(convert.subprocess, "run", run)
    out = tmp_path / "minilm.gguf"
    with pytest.raises(StepFailed, match=r"convert_hf_to_gguf\.py failed on .*: NotImplementedError: BertModel$"):
        convert.hf_to_gguf(tmp_path / "model", out)
    assert list(tmp_path.glob("*minilm*")) == []
