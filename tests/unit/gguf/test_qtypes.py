"""The ggml type table read.py uses instead of importing gguf: equal to the installed gguf's, and unknown
type ids are a one-line error, not a traceback."""

import struct

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.gguf.qtypes import QUANT_SIZES, block
from rdic_ops.gguf.read import inspect


def test_the_table_is_ggmls():
    from gguf import GGML_QUANT_SIZES

    assert QUANT_SIZES == {int(t): v for t, v in GGML_QUANT_SIZES.items()}
    assert block(8) == (32, 34)  # Q8_0


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


def test_names_are_ggmls_and_every_user_reads_this_table():
    """One ggml table: the names are gguf's, and the KV cache types, the oracle's ids and the planner's bytes
    per weight are read from it (they were three hand-written tables; the oracle's lacked iq4_nl)."""
    from gguf import GGMLQuantizationType

    from rdic_ops.gguf.qtypes import KV_CACHE_TYPES, TYPE_IDS, block_of, bytes_per_weight
    from rdic_ops.memory import estimate, oracle

    assert TYPE_IDS == {t.name: int(t) for t in GGMLQuantizationType}
    assert block_of("q8_0") == block_of("Q8_0") == (32, 34) and bytes_per_weight("Q4_K") == 144 / 256
    with pytest.raises(KeyError):
        block_of("Q4_K_M")  # a llama.cpp file type (a mix), not a ggml type
    # llama.cpp's common/arg.cpp kv_cache_types, in its order
    assert KV_CACHE_TYPES == ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
    assert estimate.KV_TYPES == {t: QUANT_SIZES[TYPE_IDS[t.upper()]] for t in KV_CACHE_TYPES}
    assert oracle.KV_TYPE_IDS == {"f32": 0, "f16": 1, "bf16": 30, "q8_0": 8, "q4_0": 2, "q4_1": 3, "iq4_nl": 20,
                                  "q5_0": 6, "q5_1": 7}
    # the figures the planner used before the table was shared, unchanged; other ggml types now known too
    assert {k: estimate.BYTES_PER_WEIGHT[k] for k in ("F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M",
                                                      "Q4_K", "Q4_0")} == {
        "F32": 4.0, "F16": 2.0, "BF16": 2.0, "Q8_0": 34 / 32, "Q6_K": 210 / 256, "Q5_K_M": 176 / 256,
        "Q4_K_M": 0.6, "Q4_K": 144 / 256, "Q4_0": 18 / 32}
    assert estimate.BYTES_PER_WEIGHT["Q5_0"] == 22 / 32


def test_no_other_module_writes_a_ggml_size():
    """A guard: block sizes and type ids are written in gguf/qtypes.py only."""
    import re

    from support.paths import PKG as pkg

    sizes = re.compile(r"\((?:32|256), *(?:18|20|22|24|34|84|110|144|176|210)\)"
                       r"|\b(?:34|18|210|176|144) */ *(?:32|256)\b|[\"']q[458]_[01][\"']: *\d|GGML_QUANT_SIZES\[")
    bad = [f"{p.relative_to(pkg.parent)}:{n}" for p in sorted(pkg.rglob("*.py")) if p.name != "qtypes.py"
           for n, line in enumerate(p.read_text().splitlines(), 1) if sizes.search(line)]
    assert bad == []
