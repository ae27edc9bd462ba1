"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""

import struct

import pytest
from support.schemas import MARK, _no_secret

from rdic_ops.errors import UsageError


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _gguf(kvs: bytes, n_kv: int, tensors: bytes = b"", n_tensors: int = 0, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs + tensors + b"\0" * 64


ARCH = _s("general.architecture") + struct.pack("<I", 8) + _s(MARK)


HOSTILE = {
    "a private text file": (f"root:{MARK}\n".encode(), "not a GGUF file"),
    "an empty file": (b"", "not a GGUF file (empty)"),
    "a tensor named with the secret, 5 dimensions": (
        _gguf(ARCH, 1, _s(MARK) + struct.pack("<I", 5) + struct.pack("<5Q", 1, 1, 1, 1, 1) + struct.pack("<IQ", 0, 0),
              1), "tensor #0 has more than 4 dimensions"),
    "a tensor named with the secret, unknown type": (
        _gguf(ARCH, 1, _s(MARK) + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 999, 0), 1),
        "tensor #0 has unknown type 999"),
    "the secret as the alignment": (_gguf(ARCH + _s("general.alignment") + struct.pack("<I", 8) + _s(MARK), 2),
                                    "general.alignment is not a positive power of two"),
    "the secret as a count": (_gguf(ARCH + _s(f"{MARK}.block_count") + struct.pack("<I", 8) + _s(MARK), 2),
                              "the architecture's block_count is not a number"),
    "bytes of the file as a version": (b"GGUF" + MARK.encode()[:4] + b"\0" * 60, "unsupported GGUF version ("),
    "bytes of the file as a value type": (_gguf(_s("k") + MARK.encode()[:4], 1), "unknown GGUF value type"),
    "bytes of the file as a count": (b"GGUF" + struct.pack("<I", 3) + MARK.encode()[:8] + b"\0" * 8,
                                     "the tensors it declares cannot fit"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_gguf_errors_never_quote_the_file(tmp_path, case):
    from rdic_ops.gguf.read import inspect

    data, why = HOSTILE[case]
    private = tmp_path / "private"
    private.write_bytes(data)
    link = tmp_path / "model.gguf"
    link.symlink_to(private)
    with pytest.raises(UsageError) as err:
        inspect(link)
    assert why in str(err.value) and str(err.value).startswith(f"{link}: ")
    _no_secret(str(err.value).replace(str(tmp_path), ""))
