"""Facts about Ollama's model store on disk: manifests, the blobs they name, orphans and partials."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "registry.ollama.ai"


@dataclass
class BlobRef:
    digest: str  # sha256:<hex>
    size: int
    media_type: str
    path: Path


@dataclass
class Manifest:
    tag: str  # name:tag as Ollama lists it
    path: Path
    digest: str  # sha256:<hex> of the manifest bytes (what /api/tags reports)
    blobs: list[BlobRef] = field(default_factory=list)
    error: str = ""  # unreadable manifest


@dataclass
class StoreFacts:
    root: Path
    manifests: list[Manifest]
    blobs: list[Path]  # every complete blob file
    partials: list[Path]  # sha256-<hex>-partial leftovers

    def referenced(self) -> set[Path]:
        return {b.path for m in self.manifests for b in m.blobs}

    def orphans(self) -> list[Path]:
        ref = self.referenced()
        return [b for b in self.blobs if b not in ref]


def blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / digest.replace(":", "-")


def tag_of(root: Path, manifest: Path) -> str:
    rel = manifest.relative_to(root / "manifests")
    parts = rel.parts
    host, version = parts[0], parts[-1]
    name = "/".join(parts[1:-1])
    if name.startswith("library/"):
        name = name[len("library/"):]
    if host != REGISTRY:
        name = f"{host}/{name}"
    return f"{name}:{version}"


def read_manifest(root: Path, path: Path) -> Manifest:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
        layers = [data["config"], *data["layers"]]
        blobs = [BlobRef(x["digest"], int(x["size"]), x.get("mediaType", ""), blob_path(root, x["digest"]))
                 for x in layers]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Manifest(tag_of(root, path), path, "", error=f"unreadable manifest ({exc})")
    return Manifest(tag_of(root, path), path, "sha256:" + hashlib.sha256(raw).hexdigest(), blobs)


def read_store(root: str | Path) -> StoreFacts:
    root = Path(root)
    manifests = [read_manifest(root, p) for p in sorted((root / "manifests").rglob("*")) if p.is_file()]
    files = sorted((root / "blobs").glob("sha256-*")) if (root / "blobs").is_dir() else []
    partials = [p for p in files if "-partial" in p.name]
    blobs = [p for p in files if p not in partials]
    return StoreFacts(root, manifests, blobs, partials)


def manifest_for(root: str | Path, tag: str) -> Path:
    name, _, version = tag.partition(":")
    ns, _, repo = name.rpartition("/")
    return Path(root) / "manifests" / REGISTRY / (ns or "library") / repo / (version or "latest")
