"""Advice when an env does not fit (rdic_ops/memory/advice.py): each lever a change applied to a copy of the
config and planned again, offered only where it applies, cheapest first and what fits before what does not.
The planner's arithmetic is faked here (total_used, budget): its own tests are test_planner.py's."""

import copy
import functools

import pytest

from rdic_ops.config.schema import Device, GpuVendor, KvCacheType, RuntimeKind
from rdic_ops.memory import advice
from rdic_ops.units import GiB


@pytest.fixture
def cfg(rtx3060, tmp_path):
    cfg = copy.deepcopy(rtx3060)
    cfg.env.runtime.ollama.models_dir = str(tmp_path / "ollama")
    return cfg


@pytest.fixture
def plan(monkeypatch):
    """A budget of 6 GiB; a config's total is 8 GiB less 1 GiB per saving the test's rule finds in it."""
    rules = []
    monkeypatch.setattr(advice, "budget", lambda cfg: ("VRAM", 6 * GiB))
    monkeypatch.setattr(advice, "total_used", lambda c, info: (8 - sum(rule(c) for rule in rules)) * GiB)
    return rules


def advisor(cfg):
    return advice._Advisor(cfg, {})


def test_consider_plans_a_copy_and_leaves_the_config_alone(cfg, plan):
    plan.append(lambda c: 3 if c.chat.num_ctx == 1 else 0)
    a = advisor(cfg)
    rec = a.consider(2, "t", "d", ["chat.num_ctx=1"], lambda c: setattr(c.chat, "num_ctx", 1))
    assert (rec.total, rec.fits) == (5 * GiB, True) and cfg.chat.num_ctx == 4096 and a.out == [rec]


def test_ollama_kv_levers_only_where_they_change_something(cfg, plan):
    o = cfg.env.runtime.ollama
    o.num_parallel = 2
    a = advisor(cfg)
    advice._kv_levers(a)
    assert [r.title for r in a.out] == ["q8_0 KV cache", "one request at a time"]
    assert a.out[0].overrides == ["env.runtime.ollama.kv_cache_type=q8_0", "env.runtime.ollama.flash_attention=true"]
    o.num_parallel, o.kv_cache_type, o.flash_attention = 1, KvCacheType.q8_0, True
    a = advisor(cfg)
    advice._kv_levers(a)
    assert a.out == []


def test_llamacpp_kv_lever_names_the_runtime_s_keys(cfg, plan):
    plan.append(lambda c: 2 if c.env.runtime.kv_cache_type is KvCacheType.q8_0 and c.env.runtime.flash_attention else 0)
    cfg.env.runtime.kind = RuntimeKind.llamacpp
    a = advisor(cfg)
    advice._kv_levers(a)
    (rec,) = a.out
    assert rec.overrides == ["env.runtime.kv_cache_type=q8_0", "env.runtime.flash_attention=true"] and rec.fits


def test_context_levers_stop_at_the_first_context_that_fits(cfg, plan):
    for role in ("extraction", "chat"):
        getattr(cfg, role).num_ctx = 32768
    cfg.chat.device = Device.cpu  # a CPU role's context is not the accelerator's problem
    plan.append(lambda c: 2 if c.extraction.num_ctx <= 8192 else 0)
    a = advisor(cfg)
    advice._context_levers(a)
    assert [(r.title, r.overrides, r.fits) for r in a.out] == [
        ("context 16384", ["extraction.num_ctx=16384"], False),
        ("context 8192", ["extraction.num_ctx=8192"], True),
    ]


def test_one_model_for_both_roles_keeping_extraction_costs_less(cfg, plan):
    a = advisor(cfg)
    advice._one_model_levers(a)
    assert [(r.cost, r.title, r.overrides) for r in a.out] == [
        (2, "gemma3-4b-it-q8_0 for both roles", ["chat.model=gemma3-4b-it-q8_0"]),
        (3, "llama3.2-3b-q4_k_m for both roles", ["extraction.model=llama3.2-3b-q4_k_m"]),
    ]
    cfg.chat.model = cfg.extraction.model  # already one model: nothing to offer
    a = advisor(cfg)
    advice._one_model_levers(a)
    assert a.out == []


def test_residency_lever_needs_two_resident_models(cfg, plan):
    a = advisor(cfg)
    advice._residency_levers(a)
    assert a.out == []  # chat is on demand already
    cfg.chat.resident = True
    a = advisor(cfg)
    advice._residency_levers(a)
    assert [(r.cost, r.overrides) for r in a.out] == [(2, ["chat.resident=false"]), (3, ["extraction.resident=false"])]


def test_embedding_lever_only_for_a_resident_embedding_on_the_gpu(cfg, plan):
    a = advisor(cfg)
    advice._embedding_lever(a)
    assert a.out == []  # bge-m3 runs on the CPU in this env
    cfg.embedding.device, cfg.embedding.resident = Device.gpu, True
    a = advisor(cfg)
    advice._embedding_lever(a)
    assert a.out[0].overrides[0] == "embedding.device=cpu"
    cfg.env.hardware.gpu_vendor = GpuVendor.none
    a = advisor(cfg)
    advice._embedding_lever(a)
    assert a.out == []


def test_recommendations_put_what_fits_first_then_the_cheapest(cfg, plan, monkeypatch):
    models = ["gemma3-1b-it-q4_k_m", "gemma3-4b-it-q4_k_m", "llama3.2-3b-q4_k_m"]  # a quantization and a move each
    monkeypatch.setattr(advice, "choices", lambda group: models)
    monkeypatch.setattr(advice, "load_model_spec", functools.lru_cache(advice.load_model_spec))
    plan.append(lambda c: 1 if c.env.runtime.ollama.kv_cache_type is KvCacheType.q8_0 else 0)
    plan.append(lambda c: 2 if c.chat.model.name == c.extraction.model.name else 0)
    recs = advice.recommendations(cfg, {})
    assert [r.title for r in recs if r.fits] == [
        "gemma3-4b-it-q8_0 for both roles",
        "llama3.2-3b-q4_k_m for both roles",
    ]
    assert recs[2].title == "q8_0 KV cache" and not recs[2].fits  # the cheapest of the rest: 7 GiB of 6
    rest = [(r.cost, r.total) for r in recs[2:]]
    assert rest == sorted(rest)
