"""A pypi model's spec from its parts and bytes (tests/unit/models/test_pypi.py and
tests/integration/test_models_pypi.py)."""

from __future__ import annotations

import hashlib

from rdic_ops.config.schema import ModelSource, ModelSpec, PypiPart, PypiSource


def spec_of(parts: list[tuple[str, str, str]], data: bytes, path: str = "m.gguf") -> ModelSpec:
    return ModelSpec(name="m", arch="llama", source=ModelSource.pypi, path=path,
                     pypi=PypiSource([PypiPart(d, v, m) for d, v, m in parts], hashlib.sha256(data).hexdigest()))
