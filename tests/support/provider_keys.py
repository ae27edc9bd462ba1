"""A provider API key made up for the tests (tests/unit/config/test_provider.py and
tests/integration/test_providers.py): a value no output may show."""

import secrets

KEY_A = "sk-ant-api03-" + secrets.token_urlsafe(32)
