"""The estimator against llama.cpp itself: every KV figure equal, totals within the accuracy docs/BENCHMARKS.md
claims for each model, plus a 0.25-point margin (CPU backend).

llama.cpp's own log lines are the oracle (a no-alloc dry run through llama-cpp-python on sparse GGUF files
of the real shapes), across contexts 2048..131072, f16/q8_0/q4_0, 1 and 4 sequences, swa-full on/off.
"""

import itertools

import pytest
from support.shapes import REAL, build

from rdic_ops.gguf.read import inspect
from rdic_ops.memory import estimate, oracle

pytestmark = [
    pytest.mark.llamacpp,
    pytest.mark.skipif(not oracle.available(), reason="llama-cpp-python is not installed"),
]


MiB = 1024 * 1024


# Worst total error docs/BENCHMARKS.md claims per model (percent); a test run may exceed it by MARGIN at most.
# Measured over this grid (q4_0 and swa-full included); the worst are gemma3 at 131072 with swa-full.
CLAIMED = {"gemma3-1b-it-q4_k_m": 4.65, "gemma3-4b-it-q8_0": 1.14, "gemma3-12b-it-q4_k_m": 0.47,
           "llama3.2-3b-q4_k_m": 0.67,
           "llama3.1-8b-instruct-q4_k_m": 0.32, "bge-m3": 1.41}


MARGIN = 0.25


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("shapes")
    return {name: build(d, name) for name in REAL}


def grid(has_kv: bool, swa: bool):
    contexts = (2048, 8192, 32768, 131072) if has_kv else (512, 2048, 8192)
    for n_ctx, kv, n_seq, swa_full in itertools.product(contexts, ("f16", "q8_0", "q4_0"), (1, 4),
                                                        (False, True) if swa else (False,)):
        # a quantized V cache needs flash attention in llama.cpp
        yield oracle.OracleSetting(n_ctx, kv, kv, n_seq, False, swa_full, flash_attn=kv != "f16",
                                   embeddings=not has_kv)
    if has_kv:
        yield oracle.OracleSetting(8192, "f16", "f16", 4, True, False)  # one unified cache


@pytest.mark.parametrize("name", REAL)
def test_kv_equals_llamacpp_and_total_within_the_claimed_accuracy(models, name):
    info = inspect(models[name])
    settings = list(grid(info.has_kv, bool(info.sliding_window)))
    report = oracle.run(str(models[name]), settings)
    assert report.weights == info.tensor_bytes
    checked = 0
    for res in report.results:
        s = res.setting
        assert res.ok, (s, res.error)
        kv = estimate.kv_cache(info.shape(), s.n_ctx, type_k=s.type_k, type_v=s.type_v, n_seq=s.n_seq,
                               unified=s.unified, swa_full=s.swa_full, n_ubatch=s.n_ubatch, has_kv=info.has_kv)
        if not info.has_kv:
            assert res.kv == [] and kv.bytes == 0
        elif info.sliding_window:
            glob, swa = res.kv  # llama.cpp prints the non-SWA cache first, then the SWA cache
            assert (glob.cells, glob.layers) == (kv.global_cells, kv.n_global_layers), s
            assert (swa.cells, swa.layers) == (kv.swa_cells, kv.n_swa_layers), s
            assert glob.mib == round(kv.global_bytes / MiB, 2) and swa.mib == round(kv.swa_bytes / MiB, 2), s
        else:
            (line,) = res.kv
            assert (line.cells, line.layers) == (kv.global_cells, kv.n_global_layers), s
            assert line.seqs == f"{s.n_seq}/{kv.streams}", s
            assert line.k_mib == round(kv.k_bytes / MiB, 2) and line.v_mib == round(kv.v_bytes / MiB, 2), s
        # the sum of llama.cpp's printed figures, each rounded to 0.01 MiB
        assert abs(res.kv_mib - kv.bytes / MiB) <= 0.005 * len(res.kv) + 1e-9, s
        comp = estimate.compute_buffer(info.shape(), s.n_ctx, n_ubatch=s.n_ubatch, n_seq=s.n_seq,
                                       unified=s.unified, flash_attn=s.flash_attn, has_kv=info.has_kv)
        ours = info.tensor_bytes + kv.bytes + comp + estimate.output_buffer(info.shape(), s.n_seq, info.has_kv)
        theirs = report.total(res)
        err = 100 * abs(ours - theirs) / theirs
        assert err <= CLAIMED[name] + MARGIN, (s, f"{err:.2f}% > claimed {CLAIMED[name]}%", ours / MiB, theirs / MiB)
        checked += 1
    assert checked == len(settings) >= 18
