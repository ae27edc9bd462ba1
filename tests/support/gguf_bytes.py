"""Hostile GGUF headers built byte by byte, for read.inspect's refusals (tests/unit/gguf/test_read.py) and the
same headers through the command line (tests/integration/test_gguf_hostile.py)."""

import struct


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def kv_str(key: str, value: str) -> bytes:
    return _s(key) + struct.pack("<I", 8) + _s(value)


def kv_u32(key: str, value: int) -> bytes:
    return _s(key) + struct.pack("<I", 4) + struct.pack("<I", value)


def kv_u64(key: str, value: int) -> bytes:
    return _s(key) + struct.pack("<I", 10) + struct.pack("<Q", value)


def gguf(kvs: list[bytes], tensors: list[bytes] = (), version: int = 3, n_kv: int | None = None,
         n_tensors: int | None = None, tail: bytes = b"\0" * 64) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                 len(kvs) if n_kv is None else n_kv)
    return head + b"".join(kvs) + b"".join(tensors) + tail


def tensor(name: str, dims: list[int], qtype: int = 0, offset: int = 0, n_dims: int | None = None) -> bytes:
    return _s(name) + struct.pack("<I", len(dims) if n_dims is None else n_dims) + \
        b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", qtype, offset)


ARCH = kv_str("general.architecture", "llama")


def nested_array(depth: int) -> bytes:
    body = struct.pack("<IQ", 4, 0)  # innermost: an empty u32 array
    for _ in range(depth):
        body = struct.pack("<IQ", 9, 1) + body
    return _s("deep") + struct.pack("<I", 9) + body


HOSTILE = {
    "block_count 2**40": (gguf([ARCH, kv_u64("llama.block_count", 2 ** 40)]), "block_count"),
    "huge string length": (gguf([_s("k") + struct.pack("<I", 8) + struct.pack("<Q", 2 ** 62)]), "cannot fit"),
    "huge key length": (gguf([struct.pack("<Q", 2 ** 64 - 1)]), "cannot fit"),
    "huge array length": (gguf([_s("a") + struct.pack("<IIQ", 9, 4, 2 ** 61)]), "cannot fit"),
    "alignment 0": (gguf([ARCH, kv_u32("general.alignment", 0)]), "alignment"),
    "alignment 3": (gguf([ARCH, kv_u32("general.alignment", 3)]), "alignment"),
    "alignment string": (gguf([ARCH, kv_str("general.alignment", "x")]), "alignment"),
    "deep nested arrays": (gguf([nested_array(5000)]), "nested"),
    "n_dims 2**31": (gguf([ARCH], [tensor("t", [1], n_dims=2 ** 31)]), "dimensions"),
    "n_dims 5": (gguf([ARCH], [tensor("t", [1, 1, 1, 1, 1])]), "dimensions"),
    "unknown tensor type": (gguf([ARCH], [tensor("t", [32], qtype=999)]), "unknown type 999"),
    "version 99": (gguf([ARCH], version=99), "unsupported GGUF version 99"),
    "2**60 key-values": (gguf([ARCH], n_kv=2 ** 60), "cannot fit"),
    "2**60 tensors": (gguf([ARCH], n_tensors=2 ** 60), "cannot fit"),
    "unknown value type": (gguf([_s("k") + struct.pack("<I", 77)]), "unknown GGUF value type"),
    "string as embedding_length": (gguf([ARCH, kv_str("llama.embedding_length", "big")]), "embedding_length"),
    "blk.x tensor name": (gguf([ARCH], [tensor("blk.x.attn", [32])], tail=b"\0" * 256), None),
    "header cut short": (gguf([ARCH])[:30], "cannot fit|end of the file"),
}
