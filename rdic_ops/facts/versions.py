"""What this rdic-ops runs on, for bug reports and `invoke version`: its own version and directories,
Python, the key libraries and the llama.cpp build (read from the installed packages, nothing guessed)."""

from __future__ import annotations

import platform
import sys

LIBRARIES = ("invoke", "hydra-core", "omegaconf", "rich", "ollama", "huggingface-hub", "gguf",
             "sentence-transformers", "torch", "llama-cpp-python")


def _version(dist: str) -> str:
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


def collect() -> dict[str, str]:
    from rdic_ops.config.compose import conf_dir, expand

    out = {"rdic-ops": _version("rdic-ops"), "config dir": str(conf_dir().resolve())}
    try:
        from rdic_ops.config.compose import compose

        out["state dir"] = str(expand(compose("local").paths.state_dir))
    except Exception as exc:  # a broken config is reported, not fatal, here
        out["state dir"] = f"unknown ({str(exc).splitlines()[0]})"
    out["python"] = f"{platform.python_version()} ({sys.executable})"
    out.update({lib: _version(lib) for lib in LIBRARIES})
    out["llama.cpp build"] = llamacpp_build()
    return out
