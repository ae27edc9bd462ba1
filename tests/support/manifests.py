"""Ollama manifests written by hand into a store (tests/unit/models/test_audit.py and
tests/integration/test_trust_store.py)."""

import json

from rdic_ops.facts.ollama_store import manifest_for

HEX = "ab" * 32


def write_manifest(root, tag, layers):
    p = manifest_for(root, tag)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"schemaVersion": 2, "config": layers[0], "layers": layers[1:]}))
    return p
