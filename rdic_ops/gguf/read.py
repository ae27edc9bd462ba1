"""What a GGUF file says about its model, read with the `gguf` package (memory-mapped, no tensor data read).

Errors name the file and the problem, never its bytes (header.py says why): no magic, key value or string
from the file is quoted.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdic_ops.config.schema import ModelShape
from rdic_ops.errors import UsageError
from rdic_ops.fsutil import user_file_problem
from rdic_ops.gguf.header import MAX_LAYERS, Malformed, _Array, _Header

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
            n_layer=self.n_layer,
            n_embd=self.n_embd,
            n_head=self.n_head,
            n_head_kv=self.n_head_kv,
            head_dim=self.key_length,
            n_ff=self.n_ff,
            n_vocab=self.n_vocab,
            n_ctx_train=self.n_ctx_train,
            sliding_window=self.sliding_window,
            swa_pattern=self.swa_pattern,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def _field(fields: dict, key: str, default=None):
    value = fields.get(key, default)
    if isinstance(value, _Array):  # per-layer arrays (e.g. head_count_kv): the max governs the cache size
        return max(value.values) if value.values else default
    return value


def _ollama_blob(path: Path) -> Path:
    """An Ollama manifest file -> the blob its model layer points to (checked digest, inside the store)."""
    from rdic_ops.facts.ollama_store import ManifestError, blob_path

    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return path
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == "application/vnd.ollama.image.model":
            # manifests/<registry>/<namespace>/<name>/<tag> -> <models>/blobs/sha256-<hex>
            models = path.parents[4] if len(path.parents) > 4 else path.parent
            try:
                return blob_path(models, layer.get("digest"))
            except ManifestError:  # its text quotes the digest: not repeated here
                raise UsageError(
                    f"{path}: unreadable GGUF: the Ollama manifest's model layer has no valid sha256:<64 hex> digest"
                ) from None
    raise UsageError(f"{path}: Ollama manifest has no model layer")


def _must_be_a_file(path: Path) -> None:
    """A regular file, or a UsageError in fsutil's words for what it is (no such file, a directory, a character
    device, a FIFO, a dangling link): opened otherwise, a FIFO would block and /dev/zero read as zeros."""
    why = user_file_problem(path, sys.maxsize)  # a model is as large as it is: only what it is matters here
    if why:
        raise UsageError(f"{path}: {why}")


def _read_header(path: Path) -> tuple[Path, _Header]:
    """The header of a GGUF file (an Ollama manifest is followed to its model blob); UsageError otherwise."""
    _must_be_a_file(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:1] == b"{":  # an Ollama manifest: follow it to the model blob
        path = _ollama_blob(path)
        _must_be_a_file(path)
        with open(path, "rb") as fh:
            magic = fh.read(4)
    if magic != b"GGUF":
        raise UsageError(f"{path}: not a GGUF file ({'empty' if not magic else 'it does not start with GGUF'})")
    import mmap

    size = path.stat().st_size
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            header = _Header(buf)
        end = max((header.data_start + t.offset + t.n_bytes for t in header.tensors), default=header.data_start)
    except Malformed as exc:
        raise UsageError(f"{path}: unreadable GGUF: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{path}: unreadable GGUF ({exc.strerror or type(exc).__name__})") from None
    except (ValueError, struct.error) as exc:  # their text may carry bytes of the file: only the kind is named
        raise UsageError(f"{path}: unreadable GGUF ({type(exc).__name__})") from None
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
        idx = t.name.split(".")[1] if t.name.startswith("blk.") and t.name.count(".") >= 2 else ""
        if idx.isdigit() and len(idx) < 7:
            layer_bytes[int(idx)] = layer_bytes.get(int(idx), 0) + nb
        elif t.name == "token_embd.weight":
            token_embd = nb
        elif t.name == "output.weight":
            output = nb
    return layer_bytes, token_embd, output, total, n_params


def _count(value, key: str, path: Path, limit: int = 2**40) -> int:
    """A count from the header as an int in [0, limit], else the file is refused (its value is not quoted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or not 0 <= value <= limit:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        raise UsageError(
            f"{path}: GGUF: the architecture's {key} is "
            + (f"not a count in [0, {limit}]" if number else "not a number")
        )
    return int(value)


def inspect(path: str | os.PathLike) -> GgufInfo:
    """Read a GGUF file's metadata and tensor sizes; a truncated, hostile or non-GGUF file is a UsageError."""
    path, header = _read_header(Path(path))
    fields = header.fields
    arch = _field(fields, "general.architecture", "")
    if not arch or not isinstance(arch, str):
        raise UsageError(f"{path}: GGUF without general.architecture")

    def a(key, default=0, limit=2**40):
        return _count(_field(fields, f"{arch}.{key}", default) or default, key, path, limit)

    n_embd, n_head = a("embedding_length"), a("attention.head_count", 1) or 1
    tokens = fields.get("tokenizer.ggml.tokens")
    n_vocab = a("vocab_size", tokens.count if isinstance(tokens, _Array) else 0)
    layer_bytes, token_embd, output, total, n_params = _tensor_sums(header.tensors)
    n_layer = a("block_count", 0, MAX_LAYERS)
    swa = a("attention.sliding_window")
    pattern = a("attention.sliding_window_pattern") or (SWA_PATTERN_DEFAULT.get(arch, 0) if swa else 0)
    key_length = a("attention.key_length", n_embd // n_head) or 1
    name = _field(fields, "general.name", path.stem)
    file_type = _field(fields, "general.file_type")
    return GgufInfo(
        path=str(path),
        arch=arch,
        name=str(name)[:200],
        file_type=file_type if isinstance(file_type, int) else None,
        n_layer=n_layer,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=a("attention.head_count_kv", n_head),
        key_length=key_length,
        value_length=a("attention.value_length", key_length),
        n_ff=a("feed_forward_length"),
        n_vocab=n_vocab,
        n_ctx_train=a("context_length"),
        sliding_window=swa,
        swa_pattern=pattern,
        tensor_bytes=total,
        token_embd_bytes=token_embd,
        output_bytes=output,
        layer_bytes=[layer_bytes.get(i, 0) for i in range(n_layer)],
        n_params=n_params,
    )


def mismatches(info: GgufInfo, declared: ModelShape) -> list[str]:
    """Where the config's declared shape disagrees with the file (the file wins)."""
    have = info.shape()
    out = []
    for key in (
        "n_layer",
        "n_embd",
        "n_head",
        "n_head_kv",
        "head_dim",
        "n_vocab",
        "n_ctx_train",
        "sliding_window",
        "swa_pattern",
    ):
        want, got = getattr(declared, key), getattr(have, key)
        if want and want != got:
            out.append(f"{key}: config says {want}, GGUF has {got}")
    return out
