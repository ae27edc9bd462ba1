"""Ollama's store as a hostile place: manifests whose digests or names would lead outside the store are refused."""

import json

from rdic_ops.facts.ollama_store import manifest_for

HEX = "ab" * 32


def write_manifest(root, tag, layers):
    p = manifest_for(root, tag)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"schemaVersion": 2, "config": layers[0], "layers": layers[1:]}))
    return p
