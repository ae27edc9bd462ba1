import pytest
import yaml

from rdic_ops.config.compose import choices, compose, to_container
from rdic_ops.config.files import CONF_DIR
from rdic_ops.config.schema import ModelKind, RootConfig, RuntimeKind
from rdic_ops.errors import ConfigError

ENVS = choices("env")


MODELS = choices("model")


def test_the_three_profiles_exist():
    assert {"local", "rtx3060", "m_series_max"} <= set(ENVS)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("model", MODELS)
def test_every_env_composes_with_every_model(env, model):
    kind = yaml.safe_load((CONF_DIR / "model" / f"{model}.yaml").read_text())["kind"]
    role = "embedding" if kind == "embedding" else "chat"
    try:
        cfg = compose(env, [f"{role}.model={model}"])
    except ConfigError as err:  # only a model whose trained context is below the env's num_ctx is refused
        assert "num_ctx" in str(err) and "trained context" in str(err), str(err)
        return
    assert isinstance(cfg, RootConfig)
    assert getattr(cfg, role).model.name == model


def test_seed_values():
    rtx = compose("rtx3060")
    assert rtx.env.hardware.vram_gb == 6 and rtx.env.hardware.wsl2 and rtx.env.hardware.cpu_cores == 8
    assert rtx.env.runtime.kind is RuntimeKind.ollama
    assert rtx.extraction.model.name == "gemma3-4b-it-q8_0" and rtx.extraction.model.quantization == "Q8_0"
    assert rtx.chat.model.ollama_tag == "llama3.2:3b"
    assert rtx.embedding.model.name == "bge-m3" and rtx.embedding.device.value == "cpu"
    assert rtx.chat.keep_alive == 1800
    mac = compose("m_series_max")
    assert mac.env.hardware.unified_memory and mac.env.runtime.kind is RuntimeKind.llamacpp
    assert mac.chat.model.name == "gemma3-12b-it-q4_k_m" and mac.chat.num_ctx == 32768
    local = compose("local")
    assert local.env.hardware.gpu_vendor.value == "none"
    assert local.embedding.model.kind is ModelKind.embedding and local.embedding.model.embedding_dim == 384


def test_override_applies_and_is_typed():
    cfg = compose("rtx3060", ["chat.keep_alive=60", "env.runtime.ollama.kv_cache_type=q8_0"])
    assert cfg.chat.keep_alive == 60 and cfg.env.runtime.ollama.kv_cache_type.value == "q8_0"
    assert compose("rtx3060", ["chat.model=gemma3-4b-it-q4_k_m"]).chat.model.quantization == "Q4_K_M"


@pytest.mark.parametrize("override, key", [
    ("chat.keep_alive=oops", "chat.keep_alive"),
    ("chat.nope=1", "chat.nope"),
    ("env.hardware.gpu_vendor=amd", "env.hardware.gpu_vendor"),
    ("chat.model=no-such-model", "chat.model"),
    ("embedding.model=gemma3-4b-it-q8_0", "embedding.model"),
    ("chat.num_ctx=999999", "chat.num_ctx"),
    ("+chat.extra=1", "+chat.extra"),
    ("++chat.extra=1", "++chat.extra"),
    ("~chat.keep_alive", "~chat.keep_alive"),
    ("chat.keep_alive", "chat.keep_alive"),
])
def test_bad_overrides_name_the_key(override, key):
    with pytest.raises(ConfigError) as err:
        compose("rtx3060", [override])
    assert key in str(err.value)
    assert err.value.exit_code == 2
    assert "\n" not in err.value.line()


def test_unknown_env_lists_choices():
    with pytest.raises(ConfigError, match="unknown env 'nope' .*local, m_series_max, rtx3060"):
        compose("nope")


def test_to_container_is_plain_data():
    data = to_container(compose("rtx3060"))
    assert data["env"]["runtime"]["kind"] == "ollama"
    assert data["chat"]["model"]["shape"]["n_layer"] == 28


def test_state_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path))
    cfg = compose("local")
    assert cfg.paths.state_dir == str(tmp_path) and cfg.paths.models_dir == f"{tmp_path}/models"
