"""The embedding dimension a backend produced from a model's files, remembered so a re-run need not load torch.

`invoke smoke` embeds two texts and records the vectors' width under a key like the verify cache's: the
backend, the library's version, and (path, size, mtime_ns, inode) of every file of the model. While none
of that changes the width cannot change, so the smoke step of `invoke setup` reads it back instead of
importing sentence-transformers (about 6 s); a changed file, another version or another backend misses, and
the full check runs again. Ollama's backend is a server call and is never cached.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import EmbeddingBackend, RootConfig

_DIST = {EmbeddingBackend.sentence_transformers: "sentence-transformers", EmbeddingBackend.llamacpp: "llama-cpp-python"}


def _cache_path(cfg: RootConfig) -> Path:
    return expand(cfg.paths.state_dir) / "cache" / "embedding-dims.json"


def _model_files(cfg: RootConfig) -> list[Path] | None:
    """Every file the backend loads the model from; None when they cannot be found without loading it."""
    b = cfg.embedding.backend
    if b is EmbeddingBackend.llamacpp:
        from rdic_ops.models.store import model_file

        p = Path(cfg.embedding.gguf or model_file(cfg, cfg.embedding.model) or "")
        return [p] if p.is_file() else None
    if b is not EmbeddingBackend.sentence_transformers:
        return None
    from rdic_ops.embeddings.backends import st_model_path

    try:
        where = Path(st_model_path(cfg))
        if not where.is_dir():  # a Hub repo id: its snapshot in the local cache, if there is one
            from huggingface_hub import snapshot_download

            where = Path(
                snapshot_download(where.as_posix(), revision=cfg.embedding.model.hf.revision, local_files_only=True)
            )
    except Exception:  # not installed, not cached, offline: no shortcut, the full check runs
        return None
    return sorted(p for p in where.rglob("*") if p.is_file())


def key(cfg: RootConfig) -> str | None:
    files = _model_files(cfg)
    if not files:
        return None
    from rdic_ops.models.hashing import FileKey

    try:
        version = importlib.metadata.version(_DIST[cfg.embedding.backend])
        keys = [FileKey.of(p) for p in files]
    except (importlib.metadata.PackageNotFoundError, OSError):
        return None
    h = hashlib.sha256(json.dumps([cfg.embedding.backend.value, cfg.embedding.model.name, version]).encode())
    for k in keys:
        h.update(json.dumps([k.path, k.size, k.mtime_ns, k.inode]).encode())
    return h.hexdigest()


def _read(cfg: RootConfig) -> dict:
    try:
        data = json.loads(_cache_path(cfg).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def recorded(cfg: RootConfig) -> int | None:
    """The width recorded for exactly these files, backend and version; None when any of them changed."""
    k = key(cfg)
    dim = _read(cfg).get(k) if k else None
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


def record(cfg: RootConfig, dim: int) -> None:
    from rdic_ops.fsutil import atomic_write

    k = key(cfg)
    if not k:
        return
    data = _read(cfg)
    data[k] = int(dim)
    try:
        atomic_write(_cache_path(cfg), json.dumps(data, indent=1))
    except OSError:
        pass  # only a slower next setup
