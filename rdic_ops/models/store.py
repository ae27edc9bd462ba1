"""Where a model's file lives on this machine (existing or not)."""

from __future__ import annotations

from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import ModelSource, ModelSpec, RootConfig
from rdic_ops.facts.ollama_store import manifest_for
from rdic_ops.ops.doctor import model_store


def model_file(cfg: RootConfig, spec: ModelSpec) -> Path | None:
    """The GGUF (or, for Ollama, the manifest that points to it); None for package-shipped models."""
    if spec.source is ModelSource.package:
        return None
    if spec.source is ModelSource.ollama:
        return manifest_for(model_store(cfg), spec.ollama_tag or spec.name)
    name = spec.path or spec.hf.file or f"{spec.name}.gguf"
    p = expand(name)
    return p if p.is_absolute() else expand(cfg.paths.models_dir) / name
