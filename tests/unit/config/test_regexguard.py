"""regexguard: a user's pattern that can backtrack without end is refused before any text is searched."""

import time

import pytest

from rdic_ops.config.compose import compose
from rdic_ops.config.regexguard import regex_problem
from rdic_ops.errors import ConfigError


@pytest.mark.parametrize("rx", [r"^(a+)+$", r"(a|ab)*c", r"(.*)*x", r"(a?){20}"])
def test_nested_quantifiers_are_refused(rx):
    assert regex_problem(rx).startswith("a repeated group that can match more than one way")


def test_one_long_repeat_stays_and_a_bad_pattern_says_where():
    assert regex_problem(r"^pong\b.*$") is None and regex_problem(r"pong") is None
    assert regex_problem("po(ng") == "not a regular expression (an error at character 3)"
    assert regex_problem(".*x.*y").startswith("2 long repeats")


def test_a_providers_expect_that_backtracks_is_refused_at_compose():
    """The tester's case: a reply of 40 'a's and a '!' against ^(a+)+$ ran at 100% CPU past the check's 5 s
    timeout. Refused where the value enters, naming the key, quickly."""
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as raised:
        compose("m_series_max", ["providers.deepseek.expect='^(a+)+$'"])
    assert "providers.deepseek.expect: a repeated group that can match more than one way" in str(raised.value)
    assert time.monotonic() - t0 < 30
