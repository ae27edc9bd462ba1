"""The estimator's rules one at a time, on small shapes, against figures worked out by hand from the rules in
rdic_ops/memory/estimate.py's docstring and REFERENCE.md (llama.cpp's KV cache, compute and output buffers,
partial offload). Every expected value is written as the arithmetic that gives it."""

from types import SimpleNamespace

import pytest

from rdic_ops.config.schema import ModelShape
from rdic_ops.errors import UsageError
from rdic_ops.memory import estimate

# 4 layers, no head_dim given: 64 / 4 = 16 per head, 2 KV heads -> rows of 32 elements (f16: 64 bytes)
PLAIN = ModelShape(n_layer=4, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=1000)


# Sliding window 300, pattern 3: layers 2 and 5 global, 0 1 3 4 6 windowed; head_dim 32 given (not 64 / 4)
SWA = ModelShape(n_layer=7, n_embd=64, n_head=4, n_head_kv=1, head_dim=32, n_ff=128, n_vocab=1000,
                 sliding_window=300, swa_pattern=3)


BASE = 512 * 64 * 4 * 3  # n_ubatch x n_embd f32, three times, on top of the largest working set


def test_pad_and_row_bytes_of_every_type():
    assert [estimate.pad(n) for n in (1, 255, 256, 257, 512, 513)] == [256, 256, 256, 512, 512, 768]
    assert estimate.pad(0) == 0 and estimate.pad(33, 32) == 64
    rows = {t: estimate.row_bytes(t, 64) for t in estimate.KV_TYPES}
    # f32 4, f16/bf16 2 bytes an element; 32-element blocks of 34 (q8_0), 18 (q4_0, iq4_nl), 20, 22, 24 bytes
    assert rows == {"f32": 256, "f16": 128, "bf16": 128, "q8_0": 68, "q4_0": 36, "q4_1": 40, "q5_0": 44,
                    "q5_1": 48, "iq4_nl": 36}
    assert all(type(b) is int for b in rows.values())
    with pytest.raises(UsageError, match=r"unknown KV cache type 'q3' \(choices: f32, f16, bf16, q8_0, q4_0,"):
        estimate.row_bytes("q3", 64)
    with pytest.raises(UsageError, match="KV type q8_0 needs a row length divisible by 32, got 48"):
        estimate.row_bytes("q8_0", 48)


def test_context_and_sequences_must_be_positive():
    for n_ctx, n_seq in ((0, 1), (-1, 1), (256, 0), (256, -1)):
        with pytest.raises(UsageError, match=f"context {n_ctx} and sequences {n_seq} must be positive"):
            estimate.kv_cache(PLAIN, n_ctx, n_seq=n_seq)
    assert estimate.kv_cache(PLAIN, 1).global_cells == 256  # the smallest context pads to one block


def test_no_kv_cache_for_encoders():
    kv = estimate.kv_cache(PLAIN, 4096, has_kv=False)
    assert kv == estimate.KvCache(streams=0) and kv.per_layer == []


def test_streams_quantized_rows_and_bytes():
    # 1000 -> 1024 cells; 3 streams of pad(1024 // 3 = 341) = 512 cells; K q8_0 rows 34, V q4_0 rows 18 bytes
    kv = estimate.kv_cache(PLAIN, 1000, n_seq=3, type_k="q8_0", type_v="q4_0")
    k, v = 34 * 512 * 3, 18 * 512 * 3
    assert (kv.streams, kv.global_cells, kv.swa_cells) == (3, 512, 0)
    assert (kv.k_bytes, kv.v_bytes, kv.bytes) == (4 * k, 4 * v, 4 * (k + v))
    assert kv.per_layer == [k + v] * 4
    assert (kv.n_global_layers, kv.n_swa_layers, kv.global_bytes, kv.swa_bytes) == (4, 0, 4 * (k + v), 0)
    assert all(type(x) is int for x in (kv.bytes, kv.k_bytes, kv.v_bytes, kv.global_cells, *kv.per_layer))
    one = estimate.kv_cache(PLAIN, 1000, n_seq=3, unified=True)  # one stream of all 1024 cells
    assert (one.streams, one.global_cells, one.bytes) == (1, 1024, 4 * 2 * 64 * 1024)
    assert estimate.kv_cache(PLAIN, 1000, n_seq=3, swa_full=True).swa_cells == 0  # no window, nothing to fill


def test_sliding_window_layers_and_cells():
    g, w = 2 * 64 * 4096, 2 * 64 * 1024  # f16 K + V rows of 32 elements: global 4096 cells, windowed 1024
    kv = estimate.kv_cache(SWA, 4096)  # windowed: pad(min(4096, 300 + 512)) = 1024
    assert (kv.global_cells, kv.swa_cells, kv.n_global_layers, kv.n_swa_layers) == (4096, 1024, 2, 5)
    assert kv.per_layer == [w, w, g, w, w, g, w]  # il % 3 == 2 is global
    assert (kv.global_bytes, kv.swa_bytes, kv.bytes) == (2 * g, 5 * w, 2 * g + 5 * w)
    assert type(kv.bytes) is int
    cells = {  # (global, windowed) cells per stream, streams
        "n_ubatch=100": ((4096, 512, 1), dict(n_ubatch=100)),  # pad(300 + 100)
        "short context": ((512, 512, 1), dict(n_ctx=512)),  # min(512, 812): the context is the bound
        "2 streams": ((2048, 1024, 2), dict(n_seq=2)),  # pad(min(2048, 812))
        "unified 2": ((4096, 1280, 1), dict(n_seq=2, unified=True)),  # pad(min(4096, 300 * 2 + 512 = 1112))
        "unified 2 short": ((1024, 1024, 1), dict(n_ctx=1024, n_seq=2, unified=True)),
        "swa_full": ((4096, 4096, 1), dict(swa_full=True)),
    }
    for name, (want, kwargs) in cells.items():
        n_ctx = kwargs.pop("n_ctx", 4096)
        got = estimate.kv_cache(SWA, n_ctx, **kwargs)
        assert (got.global_cells, got.swa_cells, got.streams) == want, name
        assert got.bytes == 2 * 64 * want[2] * (2 * want[0] + 5 * want[1]), name


def test_kv_to_dict_leaves_out_per_layer():
    kv = estimate.kv_cache(SWA, 4096)
    assert kv.to_dict() == {"bytes": kv.bytes, "k_bytes": kv.k_bytes, "v_bytes": kv.v_bytes, "global_cells": 4096,
                            "swa_cells": 1024, "n_global_layers": 2, "n_swa_layers": 5, "streams": 1,
                            "global_bytes": kv.global_bytes, "swa_bytes": kv.swa_bytes}


def test_compute_buffer_attention_scores_dominate():
    # n_kv x n_ubatch x (n_head + 1) f32 beats logits 1000 x 512 x 4 and the FFN 512 x (2 x 128 + 4 x 64) x 4
    assert estimate.compute_buffer(PLAIN, 1000) == 1024 * 512 * 5 * 4 + BASE
    assert estimate.compute_buffer(PLAIN, 1000, n_seq=3) == 512 * 512 * 5 * 4 + BASE  # pad(1024 // 3)
    assert estimate.compute_buffer(PLAIN, 1000, n_seq=3, unified=True) == 1024 * 512 * 5 * 4 + BASE
    assert estimate.compute_buffer(PLAIN, 1000, n_ubatch=256) == 1024 * 256 * 5 * 4 + 256 * 64 * 4 * 3
    assert type(estimate.compute_buffer(PLAIN, 1000, n_seq=3)) is int


def test_compute_buffer_flash_attention():
    # f16 mask n_kv x n_ubatch x 2 + output n_ubatch x n_head x head_dim x 4, head_dim as given (32)
    small_vocab = ModelShape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, head_dim=32, n_ff=64, n_vocab=100)
    assert estimate.compute_buffer(small_vocab, 4096, flash_attn=True) == 4096 * 512 * 2 + 512 * 4 * 32 * 4 + BASE
    one_head = ModelShape(n_layer=2, n_embd=64, n_head=1, n_head_kv=1, n_ff=64, n_vocab=100)  # head_dim 64
    got = estimate.compute_buffer(one_head, 4096, flash_attn=True)
    assert got == 4096 * 512 * 2 + 512 * 1 * 64 * 4 + BASE and type(got) is int
    # the logits (1000 x 512 x 4) outgrow a flash-attention working set of a short context
    assert estimate.compute_buffer(PLAIN, 256, flash_attn=True) == 1000 * 512 * 4 + BASE


def test_compute_buffer_logits_and_ffn_dominate():
    big_vocab = ModelShape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=32000)
    assert estimate.compute_buffer(big_vocab, 256) == 32000 * 512 * 4 + BASE
    wide_ffn = ModelShape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=4096, n_vocab=100)
    assert estimate.compute_buffer(wide_ffn, 256) == 512 * (2 * 4096 + 4 * 64) * 4 + BASE


def test_compute_buffer_of_an_encoder():
    # no logits (32000 x 512 x 4 would dominate); attention over the batch: n_kv = min(n_ctx, n_ubatch)
    enc = ModelShape(n_layer=2, n_embd=64, n_head=4, n_head_kv=4, head_dim=16, n_ff=128, n_vocab=32000)
    assert estimate.compute_buffer(enc, 8192, has_kv=False) == 512 * 512 * 5 * 4 + BASE
    assert estimate.compute_buffer(enc, 100, has_kv=False) == 256 * 512 * 5 * 4 + BASE  # 100 pads to 256
    assert estimate.compute_buffer(enc, 8192, has_kv=False, n_seq=4) == 512 * 512 * 5 * 4 + BASE


def test_output_buffer():
    assert estimate.output_buffer(PLAIN) == 1000 * 4
    assert estimate.output_buffer(PLAIN, 3) == 1000 * 4 * 3
    assert estimate.output_buffer(PLAIN, has_kv=False) == (1000 + 64) * 4
    assert estimate.output_buffer(PLAIN, 3, has_kv=False) == (1000 + 64) * 4 * 3


def test_layout_from_config_and_gguf():
    shape = ModelShape(n_layer=3, n_embd=64, n_head=4, n_head_kv=2, n_vocab=1000)
    q8 = estimate.WeightsLayout.from_config(shape, 100_000, "q8_0")  # 1000 x 64 x 34 / 32 = 68000 bytes
    assert (q8.total, q8.token_embd, q8.output, q8.layers) == (100_000, 68_000, 0, [32_000 // 3] * 3)
    assert all(type(b) is int for b in q8.layers)
    unknown = estimate.WeightsLayout.from_config(shape, 100_000, "mystery")  # 1 byte a weight
    assert (unknown.token_embd, unknown.layers) == (64_000, [12_000] * 3)
    one = ModelShape(n_layer=1, n_embd=64, n_head=4, n_head_kv=2, n_vocab=1000)
    assert estimate.WeightsLayout.from_config(one, 50_000, "F16").layers == [0]  # embedding (128000) > file
    assert estimate.WeightsLayout.from_config(one, 300_000, "F32").layers == [300_000 - 1000 * 64 * 4]
    info = SimpleNamespace(tensor_bytes=5000, token_embd_bytes=1000, output_bytes=500, layer_bytes=(100, 200))
    assert estimate.WeightsLayout.from_gguf(info) == estimate.WeightsLayout(5000, 1000, 500, [100, 200])


LAYOUT = estimate.WeightsLayout(100_000, 1000, 500, [100, 200, 300, 400, 500, 600, 700])


G, W = 2 * 64 * 4096, 2 * 64 * 1024  # SWA's per-layer KV bytes at 4096 context: global, windowed


SWA_KV = 2 * G + 5 * W


SWA_COMPUTE = 4096 * 512 * 5 * 4 + BASE


def test_model_memory_defaults():
    mem = estimate.model_memory("m", SWA, LAYOUT, 4096)
    assert (mem.name, mem.n_ctx, mem.n_layer, mem.overhead) == ("m", 4096, 7, 0)
    assert (mem.weights, mem.kv.bytes, mem.compute, mem.output) == (100_000, SWA_KV, SWA_COMPUTE, 1000 * 4)
    assert mem.total == 100_000 + SWA_KV + SWA_COMPUTE + 4000
    assert (mem.gpu_layers, mem.gpu_weights, mem.gpu_kv, mem.gpu_compute) == (7, 2800 + 500, SWA_KV, SWA_COMPUTE)
    assert mem.to_dict() == {"name": "m", "n_ctx": 4096, "weights": 100_000, "kv": SWA_KV,
                             "kv_detail": mem.kv.to_dict(), "compute": SWA_COMPUTE, "output": 4000, "overhead": 0,
                             "total": mem.total, "gpu_layers": 7, "n_layer": 7,
                             "gpu_total": 3300 + SWA_KV + SWA_COMPUTE, "cpu_total": 100_000 - 3300 + 4000}


@pytest.mark.parametrize("kwargs", [dict(type_k="q8_0"), dict(type_v="q4_0"), dict(n_seq=2),
                                    dict(n_seq=2, unified=True), dict(swa_full=True), dict(n_ubatch=100),
                                    dict(has_kv=False), dict(flash_attn=True)])
def test_model_memory_passes_every_setting_on(kwargs):
    kv_kw = {k: v for k, v in kwargs.items() if k != "flash_attn"}
    cb_kw = {k: v for k, v in kwargs.items() if k not in ("type_k", "type_v")}
    mem = estimate.model_memory("m", SWA, LAYOUT, 4096, **kwargs)
    want = (estimate.kv_cache(SWA, 4096, **kv_kw), estimate.compute_buffer(SWA, 4096, **cb_kw),
            estimate.output_buffer(SWA, kwargs.get("n_seq", 1), kwargs.get("has_kv", True)))
    assert (mem.kv, mem.compute, mem.output) == want
    assert want != (estimate.kv_cache(SWA, 4096), SWA_COMPUTE, 4000)  # the setting does change something


@pytest.mark.parametrize("ngl, gpu_layers, gpu_weights, gpu_kv", [
    (-1, 7, 2800 + 500, SWA_KV),  # every layer and the output layer
    (8, 7, 2800 + 500, SWA_KV),  # more than there are: the same
    (7, 7, 2800, SWA_KV),  # llama.cpp counts the output layer as layer n_layer: 7 leaves it on the host
    (2, 2, 600 + 700, G + W),  # the last two layers (5 global, 6 windowed)
    (1, 1, 700, W),
    (0, 0, 0, 0),
])
def test_partial_offload(ngl, gpu_layers, gpu_weights, gpu_kv):
    mem = estimate.model_memory("m", SWA, LAYOUT, 4096, n_gpu_layers=ngl, overhead=7)
    assert (mem.gpu_layers, mem.gpu_weights, mem.gpu_kv) == (gpu_layers, gpu_weights, gpu_kv)
    compute, overhead = (SWA_COMPUTE, 7) if gpu_layers else (0, 0)
    assert mem.gpu_compute == compute
    assert mem.gpu_total == gpu_weights + gpu_kv + compute + overhead
    assert mem.total == 100_000 + SWA_KV + SWA_COMPUTE + 4000 + 7
    assert mem.cpu_total == mem.total - mem.gpu_total


def test_offload_of_tied_output_and_no_gpu():
    tied = estimate.WeightsLayout(100_000, 1000, 0, LAYOUT.layers)  # output is token_embd's copy
    assert estimate.model_memory("m", SWA, tied, 4096).gpu_weights == 2800 + 1000
    assert estimate.model_memory("m", SWA, tied, 4096, n_gpu_layers=7).gpu_weights == 2800
    host = estimate.model_memory("m", SWA, LAYOUT, 4096, gpu=False, overhead=7)
    assert (host.gpu_layers, host.gpu_weights, host.gpu_kv, host.gpu_compute, host.gpu_total) == (0, 0, 0, 0, 0)
    assert host.cpu_total == host.total == 100_000 + SWA_KV + SWA_COMPUTE + 4000 + 7
    enc = estimate.model_memory("e", SWA, LAYOUT, 4096, has_kv=False)
    assert (enc.kv.bytes, enc.gpu_kv, enc.gpu_weights) == (0, 0, 3300)
