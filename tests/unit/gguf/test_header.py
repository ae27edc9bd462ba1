"""The GGUF header scan itself (rdic_ops/gguf/header.py), on headers built byte by byte: scalars and strings
kept, arrays counted (small numeric ones kept), tensors sized, the data section aligned; every count bounded
by the bytes left, and no byte of the file quoted in an error. (The same headers through inspect(), with the
model's own rules on top: test_read.py.)"""

import struct

import pytest
from support.gguf_bytes import ARCH, HOSTILE, _s, gguf, kv_str, kv_u32, tensor

from rdic_ops.gguf.header import Malformed, _Header, small

# what only inspect() refuses (the model's keys), not the scan
SEMANTIC = {"block_count 2**40", "string as embedding_length", "blk.x tensor name"}


def arr(key, etype, values, fmt):
    return _s(key) + struct.pack("<IIQ", 9, etype, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def test_a_good_header_s_fields_tensors_and_data_start():
    strings = _s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3) + _s("a") + _s("bb") + _s("ccc")
    kvs = [
        ARCH,
        kv_u32("llama.block_count", 2),
        arr("llama.attention.head_count_kv", 4, [1, 2], "<I"),
        strings,
        kv_u32("general.alignment", 64),
    ]
    tensors = [tensor("token_embd.weight", [64, 259], qtype=0), tensor("blk.0.attn_q.weight", [64, 64], 1, 66304)]
    h = _Header(gguf(kvs, tensors))
    assert h.fields["general.architecture"] == "llama" and h.fields["llama.block_count"] == 2
    assert h.fields["llama.attention.head_count_kv"].values == [1, 2]
    assert (h.fields["tokenizer.ggml.tokens"].count, h.fields["tokenizer.ggml.tokens"].values) == (3, None)
    assert [(t.name, t.ne, t.n_elements, t.n_bytes) for t in h.tensors] == [
        ("token_embd.weight", (64, 259), 64 * 259, 64 * 259 * 4),
        ("blk.0.attn_q.weight", (64, 64), 4096, 4096 * 2),
    ]
    assert h.data_start % 64 == 0 and h.pos <= h.data_start < h.pos + 64


def test_a_large_numeric_array_is_counted_not_kept():
    h = _Header(gguf([ARCH, arr("scores", 6, [0.5] * 5000, "<f")]))
    assert (h.fields["scores"].count, h.fields["scores"].values) == (5000, None)


@pytest.mark.parametrize("name", sorted(set(HOSTILE) - SEMANTIC))
def test_a_hostile_header_is_malformed_not_obeyed(name):
    data, why = HOSTILE[name]
    with pytest.raises(Malformed) as err:
        _Header(data)
    assert why is None or any(w in str(err.value) for w in why.split("|"))


def test_errors_never_quote_the_file_s_bytes():
    secret = "ssh-rsa-AAAA-private"
    for data in (
        gguf([kv_str(secret, "x"), _s(secret) + struct.pack("<I", 77)]),
        gguf([ARCH], [tensor(secret, [32], qtype=999)]),
        b"NOPE" + secret.encode() + b"\0" * 32,
    ):
        with pytest.raises(Malformed) as err:
            _Header(data)
        assert secret not in str(err.value) and "NOPE" not in str(err.value)
    assert "tensor #0" in str(pytest.raises(Malformed, _Header, gguf([ARCH], [tensor(secret, [1] * 5)])).value)


def test_small_shows_only_small_enumerations():
    assert (small(3), small(0xFFFF), small(0x10000), small(-1)) == (" 3", " 65535", "", "")
    with pytest.raises(Malformed, match=r"^unsupported GGUF version \(rdic-ops reads versions 2 and 3\)$"):
        _Header(gguf([ARCH], version=0x47475546))
