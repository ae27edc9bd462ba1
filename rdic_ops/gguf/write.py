"""Write GGUF files of real architectures with the `gguf` package.

Two uses, one code path:
- ``data="random"``: a small model with real weights that llama.cpp loads and generates with (the
  offline `local` env's chat model);
- ``data="sparse"``: a full-size model of real shape (e.g. gemma-3-12b Q4_K_M) whose tensor data is a
  hole in a sparse file, for memory planning against llama.cpp without downloading gigabytes.

Supported architectures: llama, gemma3, bert. The tokenizer is a SentencePiece-style byte vocabulary
(<unk>, <s>, </s>, the 256 byte tokens, then filler tokens up to the vocab size).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.config.schema import ModelShape
from rdic_ops.errors import UsageError
from rdic_ops.fsutil import fsync_dir, raise_if_full
from rdic_ops.gguf.qtypes import block_of

ARCHS = ("llama", "gemma3", "bert")


@dataclass
class TensorSpec:
    name: str
    shape: tuple[int, ...]  # ggml order: ne0 (contiguous) first
    qtype: str  # GGMLQuantizationType name: F32, F16, Q8_0, Q4_K, Q6_K, ...


def _weight_types(quantization: str) -> tuple[str, str, str]:
    """(2-D weight type, 'sensitive' weight type (attn_v, ffn_down, output), embedding type)."""
    q = quantization.upper()
    if q == "Q4_K_M":
        return "Q4_K", "Q6_K", "Q6_K"
    if q in ("Q8_0", "F16", "F32", "Q4_0", "Q4_K", "Q6_K", "Q5_K", "BF16"):
        return q, q, q
    raise UsageError(f"quantization {quantization!r} is not supported for building GGUF files")


def tensors(arch: str, s: ModelShape, quantization: str = "F32", tied_output: bool = True) -> list[TensorSpec]:
    """The tensor list llama.cpp expects for ``arch`` with shape ``s``."""
    if arch not in ARCHS:
        raise UsageError(f"architecture {arch!r} not supported (choices: {', '.join(ARCHS)})")
    w, w_hi, emb = _weight_types(quantization)
    head_dim = s.head_dim or s.n_embd // s.n_head
    q_dim, kv_dim = head_dim * s.n_head, head_dim * s.n_head_kv
    out = [TensorSpec("token_embd.weight", (s.n_embd, s.n_vocab), emb)]
    if arch == "bert":
        out += [
            TensorSpec("token_types.weight", (s.n_embd, 1), "F32"),
            TensorSpec("position_embd.weight", (s.n_embd, s.n_ctx_train), w),
            TensorSpec("token_embd_norm.weight", (s.n_embd,), "F32"),
            TensorSpec("token_embd_norm.bias", (s.n_embd,), "F32"),
        ]
    for i in range(s.n_layer):
        b = f"blk.{i}"
        if arch == "bert":
            for name, shape in (
                ("attn_q", (s.n_embd, q_dim)),
                ("attn_k", (s.n_embd, kv_dim)),
                ("attn_v", (s.n_embd, kv_dim)),
                ("attn_output", (q_dim, s.n_embd)),
                ("ffn_up", (s.n_embd, s.n_ff)),
                ("ffn_down", (s.n_ff, s.n_embd)),
            ):
                out.append(TensorSpec(f"{b}.{name}.weight", shape, w))
                out.append(TensorSpec(f"{b}.{name}.bias", (shape[1],), "F32"))
            for norm in ("attn_output_norm", "layer_output_norm"):
                out.append(TensorSpec(f"{b}.{norm}.weight", (s.n_embd,), "F32"))
                out.append(TensorSpec(f"{b}.{norm}.bias", (s.n_embd,), "F32"))
            continue
        w_more = w_hi if _more_bits(i, s.n_layer) else w
        out += [
            TensorSpec(f"{b}.attn_norm.weight", (s.n_embd,), "F32"),
            TensorSpec(f"{b}.attn_q.weight", (s.n_embd, q_dim), w),
            TensorSpec(f"{b}.attn_k.weight", (s.n_embd, kv_dim), w),
            TensorSpec(f"{b}.attn_v.weight", (s.n_embd, kv_dim), w_more),
            TensorSpec(f"{b}.attn_output.weight", (q_dim, s.n_embd), w),
            TensorSpec(f"{b}.ffn_norm.weight", (s.n_embd,), "F32"),
            TensorSpec(f"{b}.ffn_gate.weight", (s.n_embd, s.n_ff), w),
            TensorSpec(f"{b}.ffn_up.weight", (s.n_embd, s.n_ff), w),
            TensorSpec(f"{b}.ffn_down.weight", (s.n_ff, s.n_embd), w_more),
        ]
        if arch == "gemma3":
            out += [
                TensorSpec(f"{b}.attn_q_norm.weight", (head_dim,), "F32"),
                TensorSpec(f"{b}.attn_k_norm.weight", (head_dim,), "F32"),
                TensorSpec(f"{b}.post_attention_norm.weight", (s.n_embd,), "F32"),
                TensorSpec(f"{b}.post_ffw_norm.weight", (s.n_embd,), "F32"),
            ]
    if arch != "bert":
        out.append(TensorSpec("output_norm.weight", (s.n_embd,), "F32"))
        if not tied_output:
            out.append(TensorSpec("output.weight", (s.n_embd, s.n_vocab), w_hi))
    return [_fit_row(t) for t in out]


def _more_bits(i: int, n: int) -> bool:
    """llama-quantize's `use_more_bits`: the *_K_M mixes give attn_v and ffn_down of these layers more bits."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


# llama-quantize's fallback when a row is not a multiple of a k-quant's 256-wide block (Gemma 3 1B's 1152).
_FALLBACK = {"Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "Q2_K": "IQ4_NL", "Q3_K": "IQ4_NL"}


def _fit_row(t: TensorSpec) -> TensorSpec:
    """The type llama.cpp's quantizer really writes for this tensor: a fallback type, else F16."""

    def block(q: str) -> int:
        return block_of(q)[0]

    if t.shape[0] % block(t.qtype) == 0:
        return t
    q = _FALLBACK.get(t.qtype, "F16")
    if t.shape[0] % block(q):
        q = "F16"
    return TensorSpec(t.name, t.shape, q)


def nbytes(spec: TensorSpec) -> int:
    block, size = block_of(spec.qtype)
    n = 1
    for d in spec.shape:
        n *= d
    if spec.shape[0] % block:
        raise UsageError(f"{spec.name}: row of {spec.shape[0]} is not a multiple of {spec.qtype}'s block {block}")
    return n // block * size


def _metadata(writer, arch: str, s: ModelShape, name: str) -> None:
    head_dim = s.head_dim or s.n_embd // s.n_head
    writer.add_name(name)
    writer.add_context_length(s.n_ctx_train)
    writer.add_embedding_length(s.n_embd)
    writer.add_block_count(s.n_layer)
    writer.add_feed_forward_length(s.n_ff)
    writer.add_head_count(s.n_head)
    writer.add_head_count_kv(s.n_head_kv)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_vocab_size(s.n_vocab)
    if arch == "bert":
        writer.add_layer_norm_eps(1e-5)
        writer.add_causal_attention(False)
        writer.add_token_type_count(1)
        from gguf import PoolingType

        writer.add_pooling_type(PoolingType.CLS)
    else:
        writer.add_layer_norm_rms_eps(1e-6 if arch == "gemma3" else 1e-5)
        writer.add_rope_dimension_count(head_dim)
        writer.add_rope_freq_base(1_000_000.0 if arch == "gemma3" else 500_000.0)
    if arch == "gemma3" and s.sliding_window:
        writer.add_sliding_window(s.sliding_window)
    if arch == "gemma3":
        _gemma_vocab(writer, s.n_vocab)
    else:
        _byte_vocab(writer, s.n_vocab)


def _byte_vocab(writer, n_vocab: int) -> None:
    """SentencePiece-style bytes vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then fillers."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    if n_vocab < len(tokens):
        raise UsageError(f"vocab of {n_vocab} is smaller than the {len(tokens)} base tokens")
    tokens += [f"tok{i}" for i in range(n_vocab - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)


# Gemma's turn format (what google/gemma-3-*-it's template renders, without its image and tool branches);
# written into stand-in files so that llama_cpp.server's chat endpoint formats turns as it does for the real model.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
GEMMA_SPECIAL = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]


def _gemma_vocab(writer, n_vocab: int) -> None:
    """Gemma's token conventions (pad 0, eos 1, bos 2, unk 3, the turn markers, byte fallback) and chat template."""
    tokens = GEMMA_SPECIAL + [f"<0x{i:02X}>" for i in range(256)]
    if n_vocab < len(tokens):
        raise UsageError(f"vocab of {n_vocab} is smaller than gemma's {len(tokens)} base tokens")
    tokens += [f"tok{i}" for i in range(n_vocab - len(tokens))]
    types = [3, 3, 3, 2, 3, 3] + [6] * 256 + [1] * (n_vocab - len(GEMMA_SPECIAL) - 256)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types(types)
    writer.add_pad_token_id(0)
    writer.add_eos_token_id(1)
    writer.add_bos_token_id(2)
    writer.add_unk_token_id(3)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(GEMMA_CHAT_TEMPLATE)


def write(
    path: str | os.PathLike,
    arch: str,
    shape: ModelShape,
    *,
    quantization: str = "F32",
    data: str = "random",
    name: str = "rdic-ops model",
    seed: int = 0,
) -> Path:
    """Write a GGUF model to ``path`` atomically (temp file + rename). Returns the path."""
    import numpy as np
    from gguf import GGUFWriter

    if data not in ("random", "sparse"):
        raise UsageError(f"data must be 'random' or 'sparse', not {data!r}")
    path = Path(path)
    specs = tensors(arch, shape, quantization)
    tmp = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(tmp, arch)
    _metadata(writer, arch, shape, name)
    rng = np.random.default_rng(seed)
    try:
        if data == "random":
            _random_tensors(writer, specs, rng)
        else:
            _sparse_tensors(writer, specs, tmp)
        # GGUFWriter writes to a path of its own, so not through fsutil.atomic_write: the same temp + fsync +
        # rename by hand (a full disk or a crash leaves the old file, never half a model)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise_if_full(path, exc)
        raise
    fsync_dir(path.parent)
    return path


def _random_tensors(writer, specs: list[TensorSpec], rng) -> None:
    """Every tensor written with small random values (norms: ones), F32/F16 only."""
    import numpy as np

    for spec in specs:
        if spec.qtype not in ("F32", "F16"):
            raise UsageError("random weights are written as F32/F16 only")
        dtype = np.float32 if spec.qtype == "F32" else np.float16
        if spec.name.endswith("norm.weight"):
            arr = np.ones(spec.shape[::-1], dtype=dtype)
        else:
            arr = (rng.standard_normal(spec.shape[::-1]) * 0.02).astype(dtype)
        writer.add_tensor(spec.name, arr)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _sparse_tensors(writer, specs: list[TensorSpec], tmp: Path) -> None:
    """The header and tensor infos only; the data is a hole of the right size (any quantization)."""
    import numpy as np
    from gguf import GGMLQuantizationType

    total = 0
    align = writer.data_alignment
    for spec in specs:
        n = nbytes(spec)
        writer.add_tensor_info(
            spec.name, spec.shape[::-1], np.dtype(np.float32), n, raw_dtype=GGMLQuantizationType[spec.qtype]
        )
        total += -(-n // align) * align
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    header = tmp.stat().st_size
    data_start = -(-header // align) * align
    with open(tmp, "r+b") as fh:
        fh.truncate(data_start + total)  # a hole: no disk blocks, real size
