"""invoke bench: artifacts on the llama.cpp runtime, counters checked against llama.cpp's own report, Ollama's
nanosecond fields, a failed run among good ones, and the decision rules (keep, one-model, hybrid)."""


import pytest

from rdic_ops.bench import runner


@pytest.mark.parametrize("g_tps, l_tps, quality, option", [
    (10, 30, {}, "keep"),
    (25, 30, {"g": 4.0, "l": 3.5}, "one-model"),
    (25, 30, {"g": 3.0, "l": 4.5}, "hybrid"),
    (25, 30, {}, "undecided"),
])
def test_decision_rules(g_tps, l_tps, quality, option):
    s = {"g": {"gen_tps": {"median": g_tps}}, "l": {"gen_tps": {"median": l_tps}}}
    assert runner.decide(s, quality, "g", "l")[0] == option
