"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""

import json

import pytest
from support.schemas import MARK, _no_secret

from rdic_ops.errors import UsageError


def test_ollama_manifest_with_a_bad_digest_is_not_quoted(tmp_path):
    from rdic_ops.gguf.read import inspect

    manifest = tmp_path / "manifests" / "registry.ollama.ai" / "library" / "m" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                "digest": f"sha256:{MARK}"}]}))
    with pytest.raises(UsageError, match="no valid sha256:<64 hex> digest") as err:
        inspect(manifest)
    _no_secret(str(err.value).replace(str(tmp_path), ""))
