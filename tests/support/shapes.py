"""Sparse GGUF files of real shapes (zero disk blocks for the tensor data), built once per session."""

from pathlib import Path

from rdic_ops.config.compose import load_model_spec
from rdic_ops.gguf import write as gguf_build

# conf/model/ name -> the REFERENCE.md shape it carries
REAL = ["gemma3-4b-it-q8_0", "gemma3-12b-it-q4_k_m", "llama3.2-3b-q4_k_m", "llama3.1-8b-instruct-q4_k_m", "bge-m3"]


def build(directory: Path, name: str) -> Path:
    spec = load_model_spec(name)
    path = directory / f"{name}.gguf"
    if not path.exists():
        gguf_build.write(path, spec.arch, spec.shape, quantization=spec.quantization, data="sparse", name=name)
    return path
