"""Memory of one loaded model: weights + KV cache + compute buffer + output buffer, per device.

The KV cache follows llama.cpp (src/llama-kv-cache*.cpp, llama-context.cpp) to the byte:
- n_ctx is padded up to a multiple of 256;
- non-unified cache with n_seq sequences: n_seq streams of pad256(n_ctx / n_seq) cells; unified: 1 stream;
- sliding-window layers (Gemma 2/3) hold pad256(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch))
  cells per stream unless swa_full; layer il is global when il % pattern == pattern - 1;
- bytes per layer = (row(type_k, key_length * n_head_kv) + row(type_v, value_length * n_head_kv)) * cells.
Models without a KV cache (BERT-type embedding models) have none.

The compute buffer is the largest of the logits (n_vocab x n_ubatch f32), the attention scores and mask
without flash attention (n_kv x n_ubatch x (n_head + 1) f32), and an FFN working set; calibrated against
llama.cpp's CPU backend (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rdic_ops.config.schema import ModelShape
from rdic_ops.errors import UsageError
from rdic_ops.gguf.qtypes import KV_CACHE_TYPES, TYPE_IDS, block_of, bytes_per_weight

# (block size, bytes per block) of each KV cache type, from ggml's table
KV_TYPES = {t: block_of(t) for t in KV_CACHE_TYPES}
# Approximate bytes per weight of a quantization, for planning before the file exists: a ggml type's own, and
# llama.cpp's K-quant mixes (Q4_K_M keeps some tensors in Q6_K: about 0.6; Q5_K_M about Q5_K's).
BYTES_PER_WEIGHT = {name: bytes_per_weight(name) for name in TYPE_IDS} | {
    "Q5_K_M": bytes_per_weight("Q5_K"),
    "Q4_K_M": 0.6,
}


def pad(n: int, to: int = 256) -> int:
    return -(-n // to) * to


def row_bytes(kv_type: str, n: int) -> int:
    if kv_type not in KV_TYPES:
        raise UsageError(f"unknown KV cache type {kv_type!r} (choices: {', '.join(KV_TYPES)})")
    block, size = KV_TYPES[kv_type]
    if n % block:
        raise UsageError(f"KV type {kv_type} needs a row length divisible by {block}, got {n}")
    return n // block * size


@dataclass
class KvCache:
    bytes: int = 0
    k_bytes: int = 0
    v_bytes: int = 0
    global_cells: int = 0  # per stream
    swa_cells: int = 0
    n_global_layers: int = 0
    n_swa_layers: int = 0
    streams: int = 1
    global_bytes: int = 0
    swa_bytes: int = 0
    per_layer: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("per_layer")
        return d


def kv_cache(
    shape: ModelShape,
    n_ctx: int,
    *,
    type_k: str = "f16",
    type_v: str = "f16",
    n_seq: int = 1,
    unified: bool = False,
    swa_full: bool = False,
    n_ubatch: int = 512,
    has_kv: bool = True,
) -> KvCache:
    """The KV cache llama.cpp allocates for this shape and context."""
    if not has_kv:
        return KvCache(streams=0)
    if n_ctx <= 0 or n_seq <= 0:
        raise UsageError(f"context {n_ctx} and sequences {n_seq} must be positive")
    n_ctx = pad(n_ctx)
    streams = 1 if unified else n_seq
    n_ctx_seq = n_ctx if unified else n_ctx // n_seq
    global_cells = pad(n_ctx_seq)
    swa_cells = global_cells
    if shape.sliding_window and not swa_full:
        swa_cells = pad(min(n_ctx_seq, shape.sliding_window * (n_seq if unified else 1) + n_ubatch))
    head_dim = shape.head_dim or shape.n_embd // shape.n_head
    k_row = row_bytes(type_k, head_dim * shape.n_head_kv)
    v_row = row_bytes(type_v, head_dim * shape.n_head_kv)
    kv = KvCache(global_cells=global_cells, swa_cells=swa_cells if shape.sliding_window else 0, streams=streams)
    for il in range(shape.n_layer):
        is_swa = bool(shape.sliding_window) and (il % shape.swa_pattern != shape.swa_pattern - 1)
        cells = swa_cells if is_swa else global_cells
        k, v = k_row * cells * streams, v_row * cells * streams
        kv.k_bytes += k
        kv.v_bytes += v
        kv.per_layer.append(k + v)
        if is_swa:
            kv.n_swa_layers += 1
            kv.swa_bytes += k + v
        else:
            kv.n_global_layers += 1
            kv.global_bytes += k + v
    kv.bytes = kv.k_bytes + kv.v_bytes
    return kv


def compute_buffer(
    shape: ModelShape,
    n_ctx: int,
    *,
    n_ubatch: int = 512,
    n_seq: int = 1,
    unified: bool = False,
    flash_attn: bool = False,
    has_kv: bool = True,
    swa_full: bool = False,
) -> int:
    """Peak scratch memory of one forward pass of n_ubatch tokens (llama.cpp's compute buffer)."""
    n_ctx = pad(n_ctx)
    n_kv = n_ctx if (unified or not has_kv) else pad(n_ctx // n_seq)
    if not has_kv:  # encoder: attention over the batch itself, no logits
        n_kv = min(n_ctx, n_ubatch)
    head_dim = shape.head_dim or shape.n_embd // max(shape.n_head, 1)
    logits = 0 if not has_kv else shape.n_vocab * n_ubatch * 4
    if flash_attn:
        attention = n_kv * n_ubatch * 2 + n_ubatch * shape.n_head * head_dim * 4  # f16 mask + output
    else:
        attention = n_kv * n_ubatch * (shape.n_head + 1) * 4  # scores (f32) + mask
    ffn = n_ubatch * (2 * shape.n_ff + 4 * shape.n_embd) * 4
    return max(logits, attention, ffn) + n_ubatch * shape.n_embd * 4 * 3


def output_buffer(shape: ModelShape, n_seq: int = 1, has_kv: bool = True) -> int:
    """Logits of one token per sequence, f32 (embedding models keep the pooled embedding too)."""
    per_seq = shape.n_vocab if has_kv else shape.n_vocab + shape.n_embd
    return per_seq * 4 * n_seq


@dataclass
class ModelMemory:
    """One model's memory on the accelerator (gpu_*) and in host RAM (cpu_*)."""

    name: str
    n_ctx: int
    weights: int
    kv: KvCache
    compute: int
    output: int
    overhead: int = 0
    gpu_layers: int = 0
    n_layer: int = 0
    gpu_weights: int = 0
    gpu_kv: int = 0
    gpu_compute: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.kv.bytes + self.compute + self.output + self.overhead

    @property
    def gpu_total(self) -> int:
        return self.gpu_weights + self.gpu_kv + self.gpu_compute + (self.overhead if self.gpu_layers else 0)

    @property
    def cpu_total(self) -> int:
        return self.total - self.gpu_total

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "n_ctx": self.n_ctx,
            "weights": self.weights,
            "kv": self.kv.bytes,
            "kv_detail": self.kv.to_dict(),
            "compute": self.compute,
            "output": self.output,
            "overhead": self.overhead,
            "total": self.total,
            "gpu_layers": self.gpu_layers,
            "n_layer": self.n_layer,
            "gpu_total": self.gpu_total,
            "cpu_total": self.cpu_total,
        }


@dataclass
class WeightsLayout:
    """Bytes of the weights by where llama.cpp places them."""

    total: int
    token_embd: int  # always in host memory
    output: int  # output.weight (0 when tied): offloaded only when every layer is
    layers: list[int]

    @property
    def output_on_gpu(self) -> int:
        """A tied output layer is a copy of token_embd in the accelerator's buffer."""
        return self.output or self.token_embd

    @classmethod
    def from_gguf(cls, info) -> WeightsLayout:
        return cls(info.tensor_bytes, info.token_embd_bytes, info.output_bytes, list(info.layer_bytes))

    @classmethod
    def from_config(cls, shape: ModelShape, file_size: int, quantization: str) -> WeightsLayout:
        """Before the file exists: split the declared file size over embedding, output and layers."""
        bpw = BYTES_PER_WEIGHT.get(quantization.upper(), 1.0)
        embd = int(shape.n_vocab * shape.n_embd * bpw)
        body = max(file_size - embd, 0)
        n = max(shape.n_layer, 1)
        return cls(file_size, embd, 0, [body // n] * shape.n_layer)


def model_memory(
    name: str,
    shape: ModelShape,
    weights: WeightsLayout,
    n_ctx: int,
    *,
    type_k: str = "f16",
    type_v: str = "f16",
    n_seq: int = 1,
    unified: bool = False,
    swa_full: bool = False,
    flash_attn: bool = False,
    n_ubatch: int = 512,
    n_gpu_layers: int = -1,
    has_kv: bool = True,
    gpu: bool = True,
    overhead: int = 0,
) -> ModelMemory:
    """Everything one loaded model needs, split between the accelerator and the host."""
    kv = kv_cache(
        shape,
        n_ctx,
        type_k=type_k,
        type_v=type_v,
        n_seq=n_seq,
        unified=unified,
        swa_full=swa_full,
        n_ubatch=n_ubatch,
        has_kv=has_kv,
    )
    compute = compute_buffer(
        shape,
        n_ctx,
        n_ubatch=n_ubatch,
        n_seq=n_seq,
        unified=unified,
        flash_attn=flash_attn,
        has_kv=has_kv,
        swa_full=swa_full,
    )
    mem = ModelMemory(
        name,
        n_ctx,
        weights.total,
        kv,
        compute,
        output_buffer(shape, n_seq, has_kv),
        overhead=overhead,
        n_layer=shape.n_layer,
    )
    return _offload(mem, weights, n_gpu_layers) if gpu else mem


def _offload(mem: ModelMemory, weights: WeightsLayout, n_gpu_layers: int) -> ModelMemory:
    """The accelerator's share of ``mem``: the offloaded layers' weights and KV cache, the compute buffer."""
    n_layer = mem.n_layer
    gpu_layers = n_layer if n_gpu_layers < 0 or n_gpu_layers > n_layer else n_gpu_layers
    first = n_layer - gpu_layers  # llama.cpp offloads the last layers first
    mem.gpu_layers = gpu_layers
    mem.gpu_weights = sum(weights.layers[first:])
    if n_gpu_layers < 0 or n_gpu_layers > n_layer:
        mem.gpu_weights += weights.output_on_gpu
    mem.gpu_kv = sum(mem.kv.per_layer[first:]) if mem.kv.per_layer else 0
    mem.gpu_compute = mem.compute if gpu_layers else 0
    return mem
