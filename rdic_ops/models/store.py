"""Where a model's file lives on this machine (existing or not)."""

from __future__ import annotations

from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import ModelSource, ModelSpec, RootConfig
from rdic_ops.ops.doctor import model_store

OLLAMA_REGISTRY = "registry.ollama.ai"


def ollama_manifest(models_dir: Path, tag: str) -> Path:
    """`llama3.2:3b` -> <models>/manifests/registry.ollama.ai/library/llama3.2/3b."""
    name, _, version = tag.partition(":")
    namespace, _, repo = name.rpartition("/")
    return models_dir / "manifests" / OLLAMA_REGISTRY / (namespace or "library") / repo / (version or "latest")


def model_file(cfg: RootConfig, spec: ModelSpec) -> Path | None:
    """The GGUF (or, for Ollama, the manifest that points to it); None for package-shipped models."""
    if spec.source is ModelSource.package:
        return None
    if spec.source is ModelSource.ollama:
        return ollama_manifest(model_store(cfg), spec.ollama_tag or spec.name)
    name = spec.path or spec.hf.file or f"{spec.name}.gguf"
    p = expand(name)
    return p if p.is_absolute() else expand(cfg.paths.models_dir) / name
