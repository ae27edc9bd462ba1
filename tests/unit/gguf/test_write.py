"""The GGUF writer's gemma3: the stand-in the Hub serves carries the real architecture's keys and Gemma's token
conventions, and the cpu env's Gemma 3 1B Q4_K_M written at full shape has the real file's size."""

import pytest
from support.shapes import SMALL_GEMMA3, build

from rdic_ops.config.compose import load_model_spec
from rdic_ops.gguf import write as gguf_build
from rdic_ops.gguf.read import inspect, mismatches


def test_stand_in_has_the_real_gemma3_keys(gemma3_gguf, tmp_path):
    from gguf import GGUFReader

    path = tmp_path / "g.gguf"
    path.write_bytes(gemma3_gguf)
    info = inspect(path)
    assert (info.arch, info.sliding_window, info.swa_pattern, info.n_head_kv) == ("gemma3", 64, 6, 1)
    fields = GGUFReader(path).fields

    def value(key):
        return fields[key].contents()

    assert value("gemma3.attention.sliding_window") == 64 and value("gemma3.rope.freq_base") == 1_000_000.0
    assert value("tokenizer.ggml.model") == "llama" and value("tokenizer.ggml.add_bos_token") is True
    tokens = value("tokenizer.ggml.tokens")
    assert [tokens[value(f"tokenizer.ggml.{k}_token_id")] for k in ("padding", "eos", "bos", "unknown")] == \
        ["<pad>", "<eos>", "<bos>", "<unk>"]
    assert "<start_of_turn>" in tokens and "<end_of_turn>" in tokens
    assert "<start_of_turn>model" in value("tokenizer.chat_template")


def test_gemma3_1b_q4_k_m_has_the_real_files_size(tmp_path):
    """806 MB on the Hub: rows of 1152 fall back from Q4_K/Q6_K to Q5_0/Q8_0 as llama-quantize does."""
    path = build(tmp_path, "gemma3-1b-it-q4_k_m")
    size = path.stat().st_size
    assert abs(size - 806_000_000) / 806_000_000 < 0.005, size
    types = {t.name: t.qtype for t in gguf_build.tensors("gemma3", load_model_spec("gemma3-1b-it-q4_k_m").shape,
                                                         "Q4_K_M")}
    assert types["token_embd.weight"] == "Q8_0" and types["blk.0.attn_q.weight"] == "Q5_0"
    assert types["blk.0.attn_output.weight"] == "Q4_K"  # 1024-wide rows keep the k-quant
    assert types["blk.0.ffn_down.weight"] == "Q6_K" and types["blk.4.ffn_down.weight"] == "Q4_K"  # use_more_bits
    assert mismatches(inspect(path), load_model_spec("gemma3-1b-it-q4_k_m").shape) == []


def test_stand_in_vocab_must_hold_gemmas_tokens(tmp_path):
    from dataclasses import replace

    with pytest.raises(gguf_build.UsageError, match="smaller than gemma's"):
        gguf_build.write(tmp_path / "x.gguf", "gemma3", replace(SMALL_GEMMA3, n_vocab=200))
