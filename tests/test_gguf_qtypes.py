"""The ggml type table read.py uses instead of importing gguf: equal to the installed gguf's, and unknown
type ids are a one-line error, not a traceback."""

import struct
import subprocess
import sys

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.gguf.qtypes import QUANT_SIZES, block
from rdic_ops.gguf.read import inspect


def test_the_table_is_ggmls():
    from gguf import GGML_QUANT_SIZES

    assert QUANT_SIZES == {int(t): v for t, v in GGML_QUANT_SIZES.items()}
    assert block(8) == (32, 34)  # Q8_0


def test_inspect_imports_neither_gguf_nor_numpy(tmp_path, tiny_gguf):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf)
    code = (f"import sys; from rdic_ops.gguf.read import inspect; i = inspect({str(path)!r}); "
            "print(i.tensor_bytes > 0, 'gguf' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]


def test_an_unknown_tensor_type_is_a_usage_error(tmp_path, tiny_gguf):
    data = bytearray(tiny_gguf)
    name = b"token_embd.weight"
    at = data.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    n_dims = struct.unpack_from("<I", data, at)[0]
    struct.pack_into("<I", data, at + 4 + 8 * n_dims, 999)  # the tensor's ggml type
    path = tmp_path / "odd.gguf"
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="unreadable GGUF"):
        inspect(path)
