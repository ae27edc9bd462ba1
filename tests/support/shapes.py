"""Sparse GGUF files of real shapes (zero disk blocks for the tensor data), built once per session."""

from pathlib import Path

from rdic_ops.config.compose import load_model_spec
from rdic_ops.config.schema import ModelShape
from rdic_ops.gguf import write as gguf_build

# conf/model/ name -> the REFERENCE.md shape it carries
REAL = ["gemma3-1b-it-q4_k_m", "gemma3-4b-it-q8_0", "gemma3-12b-it-q4_k_m", "llama3.2-3b-q4_k_m",
        "llama3.1-8b-instruct-q4_k_m", "bge-m3"]

# The Hub stand-in's Gemma 3: the real architecture and keys (sliding window, every 6th layer global, one KV
# head, Gemma's tokens and chat template) at a size that loads in milliseconds. Random weights: it talks noise.
SMALL_GEMMA3 = ModelShape(n_layer=6, n_embd=64, n_head=4, n_head_kv=1, head_dim=16, n_ff=128, n_vocab=512,
                          n_ctx_train=32768, sliding_window=64, swa_pattern=6)


def build(directory: Path, name: str) -> Path:
    spec = load_model_spec(name)
    path = directory / f"{name}.gguf"
    if not path.exists():
        gguf_build.write(path, spec.arch, spec.shape, quantization=spec.quantization, data="sparse", name=name)
    return path
