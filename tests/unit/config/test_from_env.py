"""Which config values come from environment variables (rdic_ops/config/from_env.py): found in the unresolved
config directly or through other keys, carried by the composed object, and shown masked with their source."""

from dataclasses import dataclass, field

from omegaconf import OmegaConf

from rdic_ops import redact
from rdic_ops.config.from_env import UNKNOWN, mask, of, sources, to_object


def test_directly_quoted_or_not():
    raw = {"secrets": {"token": "${oc.env:HF_TOKEN}", "other": "${oc.env: 'API_KEY', none}"}, "plain": "x"}
    assert sources(raw) == {"secrets.token": ["HF_TOKEN"], "secrets.other": ["API_KEY"]}


def test_through_other_keys_and_chains():
    raw = {"paths": {"state_dir": "${oc.env:RDIC_STATE_DIR}", "models_dir": "${paths.state_dir}/models",
                     "cache": "${.models_dir}/cache", "select": "${oc.select:paths.state_dir,/tmp}"},
           "top": "${paths}", "far": {"x": {"y": "${..x}"}}, "nothing": "${far.z}"}
    found = sources(raw)
    assert found["paths.models_dir"] == found["paths.cache"] == found["paths.select"] == ["RDIC_STATE_DIR"]
    assert found["top"] == ["RDIC_STATE_DIR"]  # a reference to a section holding one
    assert "nothing" not in found and "far.x.y" not in found


def test_lists_and_an_interpolated_variable_name():
    raw = {"hosts": ["a", "${oc.env:HOST_B}"], "odd": "${oc.env:${which}}"}
    assert sources(raw) == {"hosts.1": ["HOST_B"], "odd": [UNKNOWN]}


def test_several_variables_in_one_value_sorted():
    assert sources({"url": "http://${oc.env:USER_B}:${oc.env:PASS_A}@h"}) == {"url": ["PASS_A", "USER_B"]}


def test_mask_shows_each_key_from_the_environment_as_its_source():
    data = {"a": {"b": "s3cret", "c": "keep"}, "l": ["x", "y"], "sec": {"deep": 1}}
    found = {"a.b": ["TOKEN"], "l.1": [UNKNOWN], "sec": ["A", "B"]}
    assert mask(data, found) == {"a": {"b": f"{redact.SECRET_MASK} (from $TOKEN)", "c": "keep"},
                                 "l": ["x", f"{redact.SECRET_MASK} (from {UNKNOWN})"],
                                 "sec": f"{redact.SECRET_MASK} (from $A, $B)"}


@dataclass
class Inner:
    token: str = "${oc.env:RDIC_TEST_FROM_ENV_TOKEN,none}"
    plain: str = "p"


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)


def test_to_object_carries_the_keys_and_masks_their_values_from_now_on(monkeypatch):
    monkeypatch.setenv("RDIC_TEST_FROM_ENV_TOKEN", "tok-0123456789")
    monkeypatch.setattr(redact, "_FROM_ENV", dict(redact._FROM_ENV))  # what this test teaches redact stays here
    obj = to_object(OmegaConf.structured(Outer))
    assert obj.inner.token == "tok-0123456789"
    assert of(obj) == {"inner.token": ["RDIC_TEST_FROM_ENV_TOKEN"]}
    assert "tok-0123456789" not in redact.mask_text("the token is tok-0123456789")
    assert of(object()) == {}
