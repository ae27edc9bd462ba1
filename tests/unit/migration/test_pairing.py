"""Which model a context setting belongs to when it sits beside model settings (rdic_ops/migration/pairing.py):
one model -> that one; several -> the one whose key shares the context key's prefix; otherwise undecided."""

import pytest

from rdic_ops.migration.pairing import CTX_NAME, MODEL_NAME, pair, prefix


@pytest.mark.parametrize("key, own", [
    ("ROUTER_MODEL_PATH", "router"), ("ROUTER_N_CTX", "router"), ("router.model.path", "router"),
    ("chat-ctx", "chat"), ("chat_ctx_size", "chat"), ("MODEL", ""), ("N_CTX", ""), ("embedder_repo_id", "embedder"),
    ("llm_gguf_file", "llm"), ("Reranker", "reranker"),
])
def test_prefix_strips_every_setting_suffix(key, own):
    assert prefix(key) == own


@pytest.mark.parametrize("key", ["n_ctx", "NUM_CTX", "ctx", "ctx_size", "context", "context_length", "LLM_N_CTX",
                                 "router.context_window", "max_context", "n-ctx", "ctx-size", "num-ctx"])
def test_context_names(key):
    assert CTX_NAME.match(key)


@pytest.mark.parametrize("key", ["context_file", "ctxs", "n_ctx_factor", "contexts", "model"])
def test_not_context_names(key):
    assert not CTX_NAME.match(key)


def test_model_names():
    assert all(MODEL_NAME.search(k) for k in ["MODEL_PATH", "gguf", "weights_dir", "Checkpoint", "repo_id"])
    assert not MODEL_NAME.search("n_ctx")


def test_one_model_beside_it_is_the_one():
    assert pair("N_CTX", [("MODEL_PATH", "old")]) == "old"
    assert pair("n_ctx", [("model", "other")]) == "other"
    assert pair("N_CTX", []) is None


def test_several_models_the_shared_prefix_decides():
    models = [("ROUTER_MODEL_PATH", "other"), ("CHAT_MODEL_PATH", "old")]
    assert pair("ROUTER_N_CTX", models) == "other"
    assert pair("CHAT_N_CTX", models) == "old"


def test_several_models_of_one_kind_need_no_prefix():
    assert pair("N_CTX", [("A_MODEL", "old"), ("B_MODEL", "old")]) == "old"


def test_several_kinds_and_no_shared_prefix_is_undecided():
    assert pair("N_CTX", [("A_MODEL", "old"), ("B_MODEL", "new")]) is None
    assert pair("N_CTX", [("MODEL", "old"), ("MODEL_PATH", "new")]) is None  # both share the empty prefix


def test_a_context_of_another_component_is_not_guessed():
    assert pair("RERANKER_N_CTX", [("MODEL", "old")]) is None
    assert pair("RERANKER_N_CTX", [("RERANKER_MODEL", "old")]) == "old"
    assert pair("RERANKER_N_CTX", [("MODEL", "other")]) == "other"  # no old or new model beside it: nothing to move
