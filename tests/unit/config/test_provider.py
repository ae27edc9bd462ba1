"""invoke providers.check: the second seed's `python -m tests.test_apis` as a check of the env's model APIs.

The official SDKs (anthropic, openai) talk real HTTP to loopback stand-ins (tests/provider_servers.py); the
local model is the tiny GGUF served by the real llama.cpp runtime under m_series_max's chat model alias.
"""


import pytest
from support.provider_keys import KEY_A

from rdic_ops.config.compose import compose


@pytest.mark.parametrize("override, words", [
    # the key is random: an id naming it would differ between xdist's workers (and print the key)
    pytest.param(f"providers.haiku.api_key_env={KEY_A}",
                 "providers.haiku.api_key_env: must be the NAME of an environment", id="a-key-as-the-variable-name"),
    ("providers.haiku.api_key_env=anthropic key", "must be the NAME"),
    ("providers.haiku.timeout_s=0", "providers.haiku.timeout_s: 0.0 is out of range: must be between 0.001 and 3600"),
    ("providers.haiku.expect='po(ng'", "providers.haiku.expect: not a regular expression"),
    ("providers.haiku.endpoint=ftp://host", "providers.haiku.endpoint: expected an http(s):// URL"),
    ("providers.haiku.kind=grpc", "providers.haiku.kind"),
    ("providers.haiku.timeoutt=3", "providers.haiku.timeoutt"),
])
def test_provider_config_is_typed_and_never_echoes_a_key(override, words):
    from rdic_ops.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        compose("m_series_max", [override])
    assert words in str(err.value) and KEY_A not in str(err.value)
