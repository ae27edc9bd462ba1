"""What a GGUF file says about its model, read with the `gguf` package (memory-mapped, no tensor data read)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdic_ops.config.schema import ModelShape
from rdic_ops.errors import UsageError

# llama.cpp hard-codes the sliding-window pattern of these architectures when the file has no key for it.
SWA_PATTERN_DEFAULT = {"gemma3": 6, "gemma2": 2}
NO_KV_ARCHS = {"bert", "nomic-bert", "jina-bert-v2", "t5encoder"}


@dataclass
class GgufInfo:
    path: str
    arch: str
    name: str
    file_type: int | None
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    key_length: int
    value_length: int
    n_ff: int
    n_vocab: int
    n_ctx_train: int
    sliding_window: int
    swa_pattern: int
    tensor_bytes: int  # all tensor data
    token_embd_bytes: int
    output_bytes: int  # output.weight; 0 when tied to token_embd
    layer_bytes: list[int] = field(default_factory=list)  # per block
    n_params: int = 0

    @property
    def has_kv(self) -> bool:
        return self.arch not in NO_KV_ARCHS

    def shape(self) -> ModelShape:
        return ModelShape(
            n_layer=self.n_layer, n_embd=self.n_embd, n_head=self.n_head, n_head_kv=self.n_head_kv,
            head_dim=self.key_length, n_ff=self.n_ff, n_vocab=self.n_vocab, n_ctx_train=self.n_ctx_train,
            sliding_window=self.sliding_window, swa_pattern=self.swa_pattern,
        )

    def to_dict(self) -> dict:
        return asdict(self)


_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


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


class _Header:
    """A streaming scan of the GGUF header over mmap.

    gguf's GGUFReader builds a numpy view for every element of every array, which takes ~18 s for a
    262k-token vocabulary; this scan keeps scalars and strings, counts arrays, and skips their bodies.
    """

    def __init__(self, buf):
        import struct

        self.buf, self.pos, self.unpack = buf, 0, struct.unpack_from
        magic, version, n_tensors, n_kv = self._take("<4sIQQ")
        if magic != b"GGUF":
            raise ValueError(f"bad magic {magic!r}")
        if version not in (2, 3):
            raise ValueError(f"unsupported GGUF version {version}; versions 2 and 3 are read")
        self.fields: dict[str, object] = {}
        for _ in range(n_kv):
            key = self._string()
            (vtype,) = self._take("<I")
            self.fields[key] = self._value(vtype)
        self.tensors = []
        for _ in range(n_tensors):
            name = self._string()
            (n_dims,) = self._take("<I")
            ne = self._take(f"<{n_dims}Q")
            qtype, offset = self._take("<IQ")
            self.tensors.append(_Tensor(name, tuple(ne), qtype, offset))
        align = int(self.fields.get("general.alignment", 32))
        self.data_start = -(-self.pos // align) * align

    def _take(self, fmt):
        import struct

        vals = self.unpack(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _string(self) -> str:
        (n,) = self._take("<Q")
        raw = bytes(self.buf[self.pos:self.pos + n])
        if len(raw) != n:
            raise ValueError("string runs past the end of the file")
        self.pos += n
        return raw.decode("utf-8", "replace")

    def _value(self, vtype):
        if vtype in _SCALAR:
            return self._take(_SCALAR[vtype])[0]
        if vtype == _STRING:
            return self._string()
        if vtype == _ARRAY:
            import struct

            etype, count = self._take("<IQ")
            if etype == _STRING:
                for _ in range(count):  # skip the bodies: only the count matters here
                    (n,) = self.unpack("<Q", self.buf, self.pos)
                    self.pos += 8 + n
                return _Array(count, None)
            if etype in _SCALAR:
                width = struct.calcsize(_SCALAR[etype])
                values = None
                if count <= 4096:  # small numeric arrays (per-layer head counts) are kept
                    values = list(struct.unpack_from(f"<{count}{_SCALAR[etype][1]}", self.buf, self.pos))
                self.pos += width * count
                return _Array(count, values)
            return _Array(count, [self._value(etype) for _ in range(count)])
        raise ValueError(f"unknown GGUF value type {vtype}")


@dataclass
class _Array:
    count: int
    values: list | None


def _field(fields: dict, key: str, default=None):
    value = fields.get(key, default)
    if isinstance(value, _Array):  # per-layer arrays (e.g. head_count_kv): the max governs the cache size
        return max(value.values) if value.values else default
    return value


def _ollama_blob(path: Path) -> Path:
    """An Ollama manifest file -> the blob its model layer points to."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return path
    for layer in manifest.get("layers", []):
        if layer.get("mediaType") == "application/vnd.ollama.image.model":
            digest = layer["digest"].replace(":", "-")
            # manifests/<registry>/<namespace>/<name>/<tag> -> <models>/blobs/sha256-<hex>
            models = path.parents[4] if len(path.parents) > 4 else path.parent
            return models / "blobs" / digest
    raise UsageError(f"{path}: Ollama manifest has no model layer")


def _read_header(path: Path) -> tuple[Path, _Header]:
    """The header of a GGUF file (an Ollama manifest is followed to its model blob); UsageError otherwise."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:1] == b"{":  # an Ollama manifest: follow it to the model blob
        path = _ollama_blob(path)
        with open(path, "rb") as fh:
            magic = fh.read(4)
    if magic != b"GGUF":
        raise UsageError(f"{path}: not a GGUF file (magic {magic!r})")
    import mmap

    size = path.stat().st_size
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            header = _Header(buf)
    except (ValueError, OSError, EOFError, KeyError, __import__("struct").error) as exc:
        raise UsageError(f"{path}: unreadable GGUF ({exc})") from exc
    try:
        end = max((header.data_start + t.offset + t.n_bytes for t in header.tensors), default=header.data_start)
    except (ValueError, KeyError) as exc:  # a tensor type this ggml does not know
        raise UsageError(f"{path}: unreadable GGUF (tensor type: {exc})") from None
    if end > size:
        raise UsageError(f"{path}: truncated GGUF: tensor data ends at byte {end}, file has {size}")
    return path, header


def _tensor_sums(tensors) -> tuple[dict[int, int], int, int, int, int]:
    """(bytes per layer, token_embd bytes, output bytes, total bytes, parameters)."""
    layer_bytes: dict[int, int] = {}
    token_embd = output = total = n_params = 0
    for t in tensors:
        nb = t.n_bytes
        total += nb
        n_params += t.n_elements
        if t.name.startswith("blk."):
            idx = int(t.name.split(".")[1])
            layer_bytes[idx] = layer_bytes.get(idx, 0) + nb
        elif t.name == "token_embd.weight":
            token_embd = nb
        elif t.name == "output.weight":
            output = nb
    return layer_bytes, token_embd, output, total, n_params


def inspect(path: str | os.PathLike) -> GgufInfo:
    """Read a GGUF file's metadata and tensor sizes; a truncated or non-GGUF file is a UsageError."""
    path, header = _read_header(Path(path))
    fields = header.fields
    arch = _field(fields, "general.architecture", "")
    if not arch:
        raise UsageError(f"{path}: GGUF without general.architecture")

    def a(key, default=0):
        return _field(fields, f"{arch}.{key}", default)

    n_embd, n_head = int(a("embedding_length")), int(a("attention.head_count", 1) or 1)
    tokens = fields.get("tokenizer.ggml.tokens")
    n_vocab = int(a("vocab_size", 0) or (tokens.count if isinstance(tokens, _Array) else 0))
    layer_bytes, token_embd, output, total, n_params = _tensor_sums(header.tensors)
    n_layer = int(a("block_count"))
    swa = int(a("attention.sliding_window", 0) or 0)
    pattern = int(a("attention.sliding_window_pattern", 0) or 0) or (SWA_PATTERN_DEFAULT.get(arch, 0) if swa else 0)
    key_length = int(a("attention.key_length", 0) or (n_embd // n_head))
    return GgufInfo(
        path=str(path), arch=arch, name=str(_field(fields, "general.name", path.stem)),
        file_type=_field(fields, "general.file_type"), n_layer=n_layer, n_embd=n_embd, n_head=n_head,
        n_head_kv=int(a("attention.head_count_kv", n_head) or n_head), key_length=key_length,
        value_length=int(a("attention.value_length", 0) or key_length), n_ff=int(a("feed_forward_length", 0)),
        n_vocab=n_vocab, n_ctx_train=int(a("context_length", 0)), sliding_window=swa, swa_pattern=pattern,
        tensor_bytes=total, token_embd_bytes=token_embd, output_bytes=output,
        layer_bytes=[layer_bytes.get(i, 0) for i in range(n_layer)], n_params=n_params,
    )


def mismatches(info: GgufInfo, declared: ModelShape) -> list[str]:
    """Where the config's declared shape disagrees with the file (the file wins)."""
    have = info.shape()
    out = []
    for key in ("n_layer", "n_embd", "n_head", "n_head_kv", "head_dim", "n_vocab", "n_ctx_train",
                "sliding_window", "swa_pattern"):
        want, got = getattr(declared, key), getattr(have, key)
        if want and want != got:
            out.append(f"{key}: config says {want}, GGUF has {got}")
    return out
