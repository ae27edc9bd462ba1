"""Serving: Ollama server settings, preload (Ollama and llama.cpp), preload at startup, routing."""

import datetime as dt

import pytest

from rdic_ops.config.compose import compose
from rdic_ops.ops import route
from rdic_ops.runtime.base import Resident

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("resident, since, expect", [
    ([Resident("gemma3:4b-it-q8_0", 4096, NOW + dt.timedelta(seconds=1800 - 60))], None, "gemma3-4b-it-q8_0"),
    ([Resident("gemma3:4b-it-q8_0", 4096, NOW + dt.timedelta(seconds=1800 - 600))], None, "llama3.2-3b-q4_k_m"),
    ([Resident("gemma3:4b-it-q8_0", 4096, NOW + dt.timedelta(seconds=1000))], 30, "gemma3-4b-it-q8_0"),
    ([], 30, "llama3.2-3b-q4_k_m"),
    ([Resident("gemma3:4b-it-q8_0", 4096, None)], None, "llama3.2-3b-q4_k_m"),
])
def test_route_option_c(resident, since, expect):
    r = route.choose(compose("rtx3060"), resident, since, now=NOW)
    assert r.model == expect, r.reason


def test_route_same_model_and_window_override():
    assert route.choose(compose("m_series_max"), []).reason == "one model serves both roles"
    cfg = compose("rtx3060", ["routing.window_s=30"])
    res = [Resident("gemma3:4b-it-q8_0", 4096, NOW + dt.timedelta(seconds=1800 - 60))]
    assert route.choose(cfg, res, now=NOW).model == "llama3.2-3b-q4_k_m"
