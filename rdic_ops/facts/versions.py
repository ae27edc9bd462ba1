"""What this rdic-ops runs on, for bug reports and `invoke version` (ops/version.py): Python, the key libraries
and the llama.cpp build (read from the installed packages, nothing guessed)."""

from __future__ import annotations

import platform
import sys

LIBRARIES = (
    "invoke",
    "hydra-core",
    "omegaconf",
    "rich",
    "ollama",
    "huggingface-hub",
    "gguf",
    "sentence-transformers",
    "torch",
    "llama-cpp-python",
)


def version_of(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def llamacpp_build() -> str:
    """llama-cpp-python's version, whether it can offload to a GPU, and the CPU features it was built with."""
    try:
        import llama_cpp
    except Exception as exc:  # not installed, or its shared library does not load
        return f"not available ({type(exc).__name__})"
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    features = [f.split("=")[0].strip() for f in info.replace("CPU :", "").split("|") if f.strip().endswith("1")]
    gpu = "GPU offload" if llama_cpp.llama_supports_gpu_offload() else "CPU only"
    return f"llama-cpp-python {llama_cpp.__version__}, {gpu}, {' '.join(features)}".strip()


def runtime() -> dict[str, str]:
    """Python, the key libraries and the llama.cpp build (ops/version.py adds rdic-ops's own directories)."""
    out = {"python": f"{platform.python_version()} ({sys.executable})"}
    out.update({lib: version_of(lib) for lib in LIBRARIES})
    out["llama.cpp build"] = llamacpp_build()
    return out
