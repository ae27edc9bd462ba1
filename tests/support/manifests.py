"""Ollama manifests and blobs written by hand into a store (tests/unit/models/,
tests/integration/test_trust_store.py)."""

import hashlib
import json

from rdic_ops.facts.ollama_store import manifest_for

HEX = "ab" * 32


def write_manifest(root, tag, layers):
    p = manifest_for(root, tag)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"schemaVersion": 2, "config": layers[0], "layers": layers[1:]}))
    return p


def write_blobs(root, *blobs: bytes) -> list[dict]:
    """Each of ``blobs`` as root/blobs/sha256-<hex>, as Ollama names them; their manifest layers, in order."""
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    layers = []
    for data in blobs:
        hexd = hashlib.sha256(data).hexdigest()
        (root / "blobs" / f"sha256-{hexd}").write_bytes(data)
        layers.append({"digest": f"sha256:{hexd}", "size": len(data), "mediaType": "x"})
    return layers
