"""The typed schemas (rdic_ops/config/schema.py) on their own: what Hydra's ConfigStore holds, the enums' words,
the defaults the comments promise, and a wrong type refused by the schema itself (no conf/ read here)."""

import dataclasses
from enum import Enum

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from rdic_ops.config import schema as S
from rdic_ops.gguf.qtypes import KV_CACHE_TYPES

ENUMS = [S.GpuVendor, S.RuntimeKind, S.EmbeddingBackend, S.Device, S.ServiceManager, S.KvCacheType]


def test_register_puts_the_three_schemas_where_the_defaults_lists_look(monkeypatch):
    """Into an empty store (the process's own already holds them): the root under the name conf/config.yaml's
    defaults list uses, a model file's and a provider file's schema in their groups, and nothing else."""
    from hydra.core.config_store import ConfigStore

    from rdic_ops.config.files import CONF_DIR

    cs = ConfigStore.instance()
    monkeypatch.setattr(cs, "repo", {})
    S.register()
    assert sorted(cs.repo) == ["model", "provider", "rdic_schema.yaml"]
    assert sorted(cs.repo["model"]) == ["model_schema.yaml"] and sorted(cs.repo["provider"]) == ["provider_schema.yaml"]
    fields = {f.name for f in dataclasses.fields(S.RootConfig)}
    assert set(cs.load("rdic_schema.yaml").node.keys()) == fields
    assert set(cs.load("model/model_schema.yaml").node.keys()) == {f.name for f in dataclasses.fields(S.ModelSpec)}
    provider = cs.load("provider/provider_schema.yaml").node
    assert set(provider.keys()) == {f.name for f in dataclasses.fields(S.ProviderSpec)}
    assert "  - rdic_schema " in (CONF_DIR / "config.yaml").read_text()


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_each_enum_member_is_written_in_conf_as_its_own_name(enum: type[Enum]):
    assert [m.value for m in enum] == [m.name for m in enum]


def test_the_enums_hold_exactly_these_words():
    words = {e.__name__: [m.value for m in e] for e in ENUMS}
    assert words == {
        "GpuVendor": ["none", "nvidia", "apple"],
        "RuntimeKind": ["ollama", "llamacpp"],
        "EmbeddingBackend": ["ollama", "sentence_transformers", "llamacpp"],
        "Device": ["gpu", "cpu", "cuda", "mps"],
        "ServiceManager": ["auto", "systemd", "launchd", "none"],
        "KvCacheType": ["f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"],
    }


def test_every_kv_cache_type_is_one_llamacpp_knows():
    assert {m.value for m in S.KvCacheType} <= set(KV_CACHE_TYPES)


def test_the_roles_in_the_order_they_are_planned():
    assert S.LLM_ROLES == ("extraction", "chat")
    assert S.ROLES == ("extraction", "chat", "embedding")
    assert set(S.ROLES) <= {f.name for f in dataclasses.fields(S.RootConfig)}


DEFAULTS = [  # the defaults the schema's comments promise, by the key's full name
    ("chat.num_ctx", 4096), ("chat.keep_alive", 300), ("chat.resident", True), ("chat.device", S.Device.gpu),
    ("chat.n_gpu_layers", -1), ("embedding.backend", S.EmbeddingBackend.sentence_transformers),
    ("embedding.batch_size", 32), ("embedding.max_seq_length", 0), ("embedding.normalize", True),
    ("embedding.parity_threshold", 0.99), ("embedding.gguf", None), ("embedding.app_setting_file", None),
    ("embedding.app_setting_key", "EMBEDDING_BACKEND"),
    ("env.description", ""), ("env.wsl", None), ("env.latency_budget_s", 60.0),
    ("env.known_answer", None),
    ("env.hardware.gpu_vendor", S.GpuVendor.none), ("env.hardware.gpu_name", None), ("env.hardware.vram_gb", 0.0),
    ("env.hardware.ram_gb", 1.0), ("env.hardware.cpu_cores", 1), ("env.hardware.os", "any"),
    ("env.hardware.wsl2", False), ("env.hardware.unified_memory", False), ("env.hardware.reserved_vram_gb", 0.0),
    ("env.hardware.disk_read_mb_s", 1500.0), ("env.hardware.pcie_gb_s", 0.0), ("env.hardware.from_facts", False),
    ("env.runtime.kind", S.RuntimeKind.llamacpp), ("env.runtime.n_threads", 0), ("env.runtime.n_gpu_layers", -1),
    ("env.runtime.flash_attention", False), ("env.runtime.kv_cache_type", S.KvCacheType.f16),
    ("env.runtime.backend_overhead_mb", 0), ("env.runtime.llamacpp_port", 8765),
    ("env.runtime.ready_timeout_s", 30.0), ("env.runtime.preload_at_startup", False),
    ("env.runtime.ollama.host", "http://127.0.0.1:11434"), ("env.runtime.ollama.registry", "https://registry.ollama.ai"),
    ("env.runtime.ollama.timeout_s", 30.0), ("env.runtime.ollama.keep_alive", 300),
    ("env.runtime.ollama.max_loaded_models", 0), ("env.runtime.ollama.num_parallel", 1),
    ("env.runtime.ollama.flash_attention", False), ("env.runtime.ollama.kv_cache_type", S.KvCacheType.f16),
    ("env.runtime.ollama.models_dir", None), ("env.runtime.ollama.service", S.ServiceManager.auto),
    ("env.runtime.ollama.unit", "ollama.service"),
    ("routing.enabled", True), ("routing.window_s", 300), ("secrets.hf_token_env", "HF_TOKEN"),
    ("paths.state_dir", "~/.local/share/rdic-ops"), ("paths.lockfile", "models.lock"), ("paths.system_root", "/"),
    ("paths.launch_agents_dir", "~/Library/LaunchAgents"), ("providers", {}),
]


@pytest.mark.parametrize("key, value", DEFAULTS, ids=[k for k, _ in DEFAULTS])
def test_a_bare_root_config_has_the_promised_defaults(key, value):
    node = OmegaConf.structured(S.RootConfig)
    assert OmegaConf.select(node, key, throw_on_missing=False) == value


def test_an_env_must_name_itself():
    node = OmegaConf.structured(S.RootConfig)
    assert OmegaConf.is_missing(node.env, "name")


def test_models_dir_follows_the_state_dir():
    node = OmegaConf.structured(S.RootConfig)
    node.paths.state_dir = "/srv/rdic"
    assert node.paths.models_dir == "/srv/rdic/models"


def test_wsl_and_known_answer_defaults_when_given():
    wsl, known = S.WslSpec(), S.KnownAnswerSpec()
    assert (wsl.memory, wsl.processors, wsl.swap, wsl.headroom_gb, wsl.extra, wsl.path) == (
        "auto", "auto", "auto", 4.0, {}, None)
    assert (known.question, known.answer, known.max_tokens) == ("???", "???", 24)


@pytest.mark.parametrize("key, bad", [("env.runtime.kind", "vllm"), ("chat.num_ctx", "many"),
                                      ("embedding.device", "tpu"), ("env.runtime.kv_cache_type", "q3_k")])
def test_a_wrong_type_or_word_is_refused_by_the_schema(key, bad):
    node = OmegaConf.structured(S.RootConfig)
    with pytest.raises(ValidationError):
        OmegaConf.update(node, key, bad)


def test_a_key_the_schema_does_not_have_is_refused():
    node = OmegaConf.structured(S.RootConfig)
    with pytest.raises(Exception, match="colour"):
        OmegaConf.update(node, "chat.colour", "red", force_add=False)
