"""invoke providers.check: the second seed's `python -m tests.test_apis` as a check of the env's model APIs.

The official SDKs (anthropic, openai) talk real HTTP to loopback stand-ins (tests/provider_servers.py); the
local model is the tiny GGUF served by the real llama.cpp runtime under m_series_max's chat model alias.
"""

import secrets

KEY_A = "sk-ant-api03-" + secrets.token_urlsafe(32)
