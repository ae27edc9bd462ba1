"""The KV estimator against figures measured with llama.cpp (REFERENCE.md), and GGUF inspection."""

import pytest
from support.shapes import build

from rdic_ops.config.compose import load_model_spec
from rdic_ops.errors import UsageError
from rdic_ops.gguf import write as gguf_build
from rdic_ops.gguf.read import inspect, mismatches
from rdic_ops.memory import estimate

MiB = 1024 * 1024


@pytest.mark.parametrize("model, n_ctx, kv_type, mib", [
    ("llama3.2-3b-q4_k_m", 4096, "f16", 448),
    ("llama3.2-3b-q4_k_m", 8192, "f16", 896),
    ("llama3.2-3b-q4_k_m", 8192, "q8_0", 476),
    ("llama3.2-3b-q4_k_m", 8192, "q4_0", 252),
    ("llama3.1-8b-instruct-q4_k_m", 32768, "q8_0", 2176),
    ("gemma3-4b-it-q8_0", 8192, "f16", 334),
    ("gemma3-4b-it-q8_0", 131072, "f16", 2734),
    ("gemma3-12b-it-q4_k_m", 32768, "f16", 2528),
    ("gemma3-12b-it-q4_k_m", 2048, "f16", 608),
])
def test_kv_matches_llamacpp_measurements(model, n_ctx, kv_type, mib):
    kv = estimate.kv_cache(load_model_spec(model).shape, n_ctx, type_k=kv_type, type_v=kv_type)
    assert kv.bytes == mib * MiB


def test_gemma_sliding_window_split():
    kv = estimate.kv_cache(load_model_spec("gemma3-4b-it-q8_0").shape, 8192)
    assert (kv.n_global_layers, kv.n_swa_layers) == (5, 29)
    assert (kv.global_cells, kv.swa_cells) == (8192, 1536)
    assert (kv.global_bytes, kv.swa_bytes) == (160 * MiB, 174 * MiB)
    full = estimate.kv_cache(load_model_spec("gemma3-4b-it-q8_0").shape, 8192, swa_full=True)
    assert full.swa_cells == 8192 and full.bytes > kv.bytes


def test_parallel_streams_and_unified():
    shape = load_model_spec("gemma3-4b-it-q8_0").shape
    split = estimate.kv_cache(shape, 8192, n_seq=4)
    assert (split.streams, split.global_cells, split.swa_cells) == (4, 2048, 1536)
    unified = estimate.kv_cache(shape, 8192, n_seq=4, unified=True)
    assert (unified.streams, unified.global_cells, unified.swa_cells) == (1, 8192, 4608)


def test_padding_and_no_kv():
    shape = load_model_spec("llama3.2-3b-q4_k_m").shape
    assert estimate.kv_cache(shape, 4000).bytes == estimate.kv_cache(shape, 4096).bytes
    assert estimate.kv_cache(load_model_spec("bge-m3").shape, 8192, has_kv=False).bytes == 0
    with pytest.raises(UsageError, match="unknown KV cache type"):
        estimate.kv_cache(shape, 4096, type_k="q3")


def test_partial_offload_splits_layers():
    spec = load_model_spec("llama3.2-3b-q4_k_m")
    layout = estimate.WeightsLayout.from_config(spec.shape, spec.file_size, spec.quantization)
    full = estimate.model_memory("m", spec.shape, layout, 4096)
    half = estimate.model_memory("m", spec.shape, layout, 4096, n_gpu_layers=14)
    assert full.gpu_layers == 28 and half.gpu_layers == 14
    assert half.gpu_kv == full.gpu_kv // 2
    assert half.gpu_total < full.gpu_total and half.cpu_total > full.cpu_total
    assert half.total == full.total


def test_inspect_sparse_real_shape(tmp_path):
    path = build(tmp_path, "gemma3-4b-it-q8_0")
    assert path.stat().st_blocks * 512 < 64 * MiB < path.stat().st_size  # a hole, not gigabytes on disk
    info = inspect(path)
    assert (info.arch, info.n_layer, info.n_head_kv, info.key_length) == ("gemma3", 34, 4, 256)
    assert (info.sliding_window, info.swa_pattern, info.n_vocab) == (1024, 6, 262144)
    assert info.tensor_bytes == sum(info.layer_bytes) + info.token_embd_bytes + 2560 * 4
    assert mismatches(info, load_model_spec("gemma3-4b-it-q8_0").shape) == []
    assert mismatches(info, load_model_spec("gemma3-12b-it-q4_k_m").shape)


def test_bad_files_are_usage_errors(tmp_path):
    (tmp_path / "text.gguf").write_text("not a model at all\n")
    with pytest.raises(UsageError, match="not a GGUF"):
        inspect(tmp_path / "text.gguf")
    with pytest.raises(UsageError, match="no such file"):
        inspect(tmp_path / "missing.gguf")
    real = build(tmp_path, "llama3.2-3b-q4_k_m")
    cut = tmp_path / "cut.gguf"
    with open(real, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(8 * MiB))
    with pytest.raises(UsageError, match="truncated"):
        inspect(cut)
    header_only = tmp_path / "header.gguf"
    with open(real, "rb") as src, open(header_only, "wb") as dst:
        dst.write(src.read(1000))
    with pytest.raises(UsageError, match="unreadable|truncated"):
        inspect(header_only)


def test_unsupported_build_is_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not supported"):
        gguf_build.write(tmp_path / "x.gguf", "mamba", load_model_spec("bge-m3").shape)
