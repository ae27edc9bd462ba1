"""The GGUF header scan: a streaming walk over mmap that refuses hostile headers instead of obeying them.

Its errors name the problem, never the file's bytes: no magic, key, string or tensor name from the file is
quoted (a GGUF path may be a link to someone's private file), tensors are named by their index, and a
number read from the file is shown only when it is a small enumeration (a version, a type id).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_WIDTH = {k: struct.calcsize(v) for k, v in _SCALAR.items()}
_STRING, _ARRAY = 8, 9
VERSIONS = (2, 3)
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NESTING = 8  # arrays of arrays: llama.cpp writes none; a deeper header is hostile
MAX_LAYERS = 65536
SMALL = 0xFFFF  # numbers from the file up to this are shown in errors (version, type ids); larger are not


def small(n: int) -> str:
    """`` 99`` for a small enumeration read from the file, else nothing (never a blob of bytes as a number)."""
    return f" {n}" if 0 <= n <= SMALL else ""


class Malformed(ValueError):
    """A header that contradicts itself or the file's size (never read past: every count is bounded)."""


@dataclass
class _Tensor:
    name: str
    ne: tuple[int, ...]
    qtype: int
    offset: int  # relative to the data section

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.ne:
            n *= d
        return n

    @property
    def n_bytes(self) -> int:
        from rdic_ops.gguf.qtypes import block as qblock

        block, size = qblock(self.qtype)
        return self.n_elements // block * size


def _known_qtype(qtype: int) -> bool:
    """ggml's table, else the installed gguf package's (a newer ggml type)."""
    from rdic_ops.gguf.qtypes import QUANT_SIZES, block

    if qtype in QUANT_SIZES:
        return True
    try:
        block(qtype)
    except (ValueError, KeyError):
        return False
    return True


class _Header:
    """A streaming scan of the GGUF header over mmap.

    gguf's GGUFReader builds a numpy view for every element of every array, which takes ~18 s for a
    262k-token vocabulary; this scan keeps scalars and strings, counts arrays, and skips their bodies.
    Hostile headers are refused, not obeyed: every count is bounded by the bytes left in the file, nesting
    and n_dims are capped, the alignment must be a positive power of two, the tensor types known.
    """

    def __init__(self, buf):
        import struct

        self.buf, self.pos, self.unpack, self.size = buf, 0, struct.unpack_from, len(buf)
        magic, version = self._take("<4sI")
        if magic != b"GGUF":
            raise Malformed("it does not start with the GGUF magic")
        if version not in VERSIONS:
            raise Malformed(f"unsupported GGUF version{small(version)} (rdic-ops reads versions 2 and 3)")
        n_tensors, n_kv = self._take("<QQ")
        self._room(n_kv, 8 + 4 + 1, "key-value pairs")
        self._room(n_tensors, 8 + 4 + 8 + 4 + 8, "tensors")
        self.fields: dict[str, object] = {}
        for _ in range(n_kv):
            key = self._string()
            (vtype,) = self._take("<I")
            self.fields[key] = self._value(vtype, 0)
        self.tensors = [self._tensor(i) for i in range(n_tensors)]
        align = self.fields.get("general.alignment", 32)
        if not isinstance(align, int) or isinstance(align, bool) or align <= 0 or align & (align - 1):
            raise Malformed("general.alignment is not a positive power of two")
        self.data_start = -(-self.pos // align) * align

    def _room(self, count: int, width: int, what: str) -> None:
        if count * width > self.size - self.pos:
            raise Malformed(
                f"truncated or corrupt header: the {what} it declares cannot fit in the "
                f"{self.size - self.pos} bytes left"
            )

    def _take(self, fmt):
        import struct

        n = struct.calcsize(fmt)
        if self.pos + n > self.size:
            raise Malformed("truncated header: it runs past the end of the file")
        vals = self.unpack(fmt, self.buf, self.pos)
        self.pos += n
        return vals

    def _string(self) -> str:
        (n,) = self._take("<Q")
        self._room(n, 1, "string bytes")
        raw = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return raw.decode("utf-8", "replace")

    def _tensor(self, index: int) -> _Tensor:
        name = self._string()
        (n_dims,) = self._take("<I")
        if n_dims > MAX_DIMS:
            raise Malformed(f"tensor #{index} has more than {MAX_DIMS} dimensions")
        ne = self._take(f"<{n_dims}Q")
        qtype, offset = self._take("<IQ")
        if not _known_qtype(qtype):
            raise Malformed(f"tensor #{index} has unknown type{small(qtype)}")
        t = _Tensor(name, tuple(ne), qtype, offset)
        if t.n_elements >= 2**56 or offset >= 2**56:
            raise Malformed(f"tensor #{index} is larger than any file")
        return t

    def _value(self, vtype, depth: int):
        if vtype in _SCALAR:
            return self._take(_SCALAR[vtype])[0]
        if vtype == _STRING:
            return self._string()
        if vtype != _ARRAY:
            raise Malformed(f"unknown GGUF value type{small(vtype)}")
        if depth >= MAX_NESTING:
            raise Malformed(f"arrays nested deeper than {MAX_NESTING}")
        etype, count = self._take("<IQ")
        if etype == _STRING:
            self._room(count, 8, "array strings")
            for _ in range(count):  # skip the bodies: only the count matters here
                (n,) = self._take("<Q")
                self._room(n, 1, "string bytes")
                self.pos += n
            return _Array(count, None)
        if etype in _SCALAR:
            width = _WIDTH[etype]
            self._room(count, width, "array elements")
            values = None
            if count <= 4096:  # small numeric arrays (per-layer head counts) are kept
                values = list(self.unpack(f"<{count}{_SCALAR[etype][1]}", self.buf, self.pos))
            self.pos += width * count
            return _Array(count, values)
        if etype != _ARRAY:
            raise Malformed(f"unknown GGUF array element type{small(etype)}")
        self._room(count, 4 + 8, "nested arrays")
        for _ in range(count):
            self._value(_ARRAY, depth + 1)
        return _Array(count, None)


@dataclass
class _Array:
    count: int
    values: list | None
