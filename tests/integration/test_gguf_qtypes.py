"""The ggml type table read.py uses instead of importing gguf: equal to the installed gguf's, and unknown
type ids are a one-line error, not a traceback."""

import subprocess
import sys


def test_inspect_imports_neither_gguf_nor_numpy(tmp_path, tiny_gguf):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf)
    code = (f"import sys; from rdic_ops.gguf.read import inspect; i = inspect({str(path)!r}); "
            "print(i.tensor_bytes > 0, 'gguf' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]
