"""The smoke suite's known-answer check: real answers pass, noise and wrong or slow answers fail.

The live run against real llama.cpp with the random-weights gemma3 stand-in (where the check must fail) is in
test_cpu_env.py; here the runtime's HTTP answer is a loopback stub, so the passing side is tested too.
"""


import pytest

from rdic_ops.config.compose import compose
from rdic_ops.smoke.answer import judge


@pytest.mark.parametrize("reply", [
    "Paris", "Paris.", " paris\n", "The capital of France is Paris.", "PARIS!", "**Paris**", "Parìs",
    "Paris, of course.\n\nIt is also the largest city of France.",
])
def test_real_answers_pass(reply):
    assert judge(reply, "Paris").ok, judge(reply, "Paris").reason


@pytest.mark.parametrize("reply, why", [
    ("", "empty reply"),
    ("   \n\t", "empty reply"),
    ("tok45tok242tok2112tok46b", "does not contain the known answer"),  # what the random-weights model says
    ("\ufffd\ufffdP\ufffd", "undecodable"),
    ("Par\x00is", "control character"),
    ("Paris\x1b[31m", "control character"),
    ("1234 5678 90 !!", "letters"),
    ("Lyon", "does not contain the known answer"),
    ("Parisian cafés are nice", "does not contain the known answer"),
    ("Comparison", "does not contain the known answer"),
    ("<0x50><0x61>", "letters"),
])
def test_noise_and_wrong_answers_fail(reply, why):
    verdict = judge(reply, "Paris")
    assert not verdict.ok and why in verdict.reason, verdict.reason


def test_accents_and_scripts():
    assert judge("Die Hauptstadt ist München.", "Munchen").ok
    assert judge("Столица Франции — Париж.", "Париж").ok
    assert judge("東京です", "東京").ok
    with pytest.raises(ValueError):
        judge("anything", "  ")


def test_real_models_are_asked_and_random_weights_skip_it_with_the_reason():
    assert compose("local", ["workload=offline_tiny"]).env.known_answer is None  # a generated model answers noise
    assert compose("local").env.known_answer.answer == "Paris"  # SmolLM2-135M-Instruct knows it
    assert compose("cpu").env.known_answer.answer == "Paris"


@pytest.mark.parametrize("override, message", [
    ("env.known_answer.answer= ", "env.known_answer.answer: must not be empty"),
    ("env.known_answer.question=", "env.known_answer.question: must not be empty"),
    ("env.known_answer.max_tokens=0", "env.known_answer.max_tokens: 0 is out of range: must be between 1 and 32768"),
])
def test_a_broken_known_answer_is_a_config_error(override, message):
    from rdic_ops.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        compose("cpu", [override])
