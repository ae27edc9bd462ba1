"""What rdic-ops runs on (rdic_ops/facts/versions.py): library versions from the installed packages and the
llama.cpp build as llama-cpp-python reports it (a stand-in module here: the unit room never loads llama.cpp)."""

import sys
from types import SimpleNamespace

import pytest

from rdic_ops.facts import versions


def test_a_library_s_version_or_not_installed():
    import pytest as pt

    assert versions.version_of("pytest") == pt.__version__
    assert versions.version_of("no-such-dist-rdic") == "not installed"


@pytest.fixture
def llama(monkeypatch):
    fake = SimpleNamespace(
        __version__="0.3.9",
        llama_print_system_info=lambda: b"CPU : SSE3 = 1 | AVX = 1 | AVX512 = 0 | NEON = 0 | OPENMP = 1 | ",
        llama_supports_gpu_offload=lambda: False,
    )
    monkeypatch.setitem(sys.modules, "llama_cpp", fake)
    return fake


def test_the_llama_cpp_build_lists_only_the_features_it_has(llama):
    assert versions.llamacpp_build() == "llama-cpp-python 0.3.9, CPU only, SSE3 AVX OPENMP"
    llama.llama_supports_gpu_offload = lambda: True
    assert "GPU offload" in versions.llamacpp_build()


def test_a_llama_cpp_that_does_not_load_is_said_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import raises ImportError
    assert versions.llamacpp_build() == "not available (ModuleNotFoundError)"


def test_runtime_names_python_every_library_and_the_build(llama):
    out = versions.runtime()
    assert list(out) == ["python", *versions.LIBRARIES, "llama.cpp build"]
    assert out["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert sys.executable in out["python"] and out["llama.cpp build"].startswith("llama-cpp-python 0.3.9")
