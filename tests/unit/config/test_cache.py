"""The composed-config cache's own parts (rdic_ops/config/cache.py): on or off, where, the key over every input,
an entry read back into the schema's types, a damaged entry a miss, the oldest entries dropped.
(That a cached config equals a fresh compose: test_compose_cache.py.)"""

import json
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

import pytest

from rdic_ops.config import cache


@pytest.fixture
def conf(tmp_path):
    d = tmp_path / "conf"
    (d / "env").mkdir(parents=True)
    (d / "env" / "a.yaml").write_text("name: a\n")
    return d


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("0", False), ("off", False), ("no", False)])
def test_enabled_unless_turned_off(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv("RDIC_CONFIG_CACHE", raising=False)
    else:
        monkeypatch.setenv("RDIC_CONFIG_CACHE", value)
    assert cache.enabled() is on


def test_cache_dir_is_under_the_state_dir_else_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "s"))
    assert cache.cache_dir() == tmp_path / "s" / "cache" / "config"
    monkeypatch.delenv("RDIC_STATE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x" / "rdic-ops" / "config"


def test_the_key_changes_with_a_file_s_bytes_a_new_file_and_the_overrides(conf):
    k = cache.key(conf, [])
    assert k == cache.key(conf, []) and len(k) == 64
    assert cache.key(conf, ["chat.keep_alive=1"]) != k
    (conf / "env" / "a.yaml").write_text("name: b\n")  # same size, other bytes
    k2 = cache.key(conf, [])
    assert k2 != k
    (conf / "env" / "b.yaml").write_text("")
    assert cache.key(conf, []) != k2


def test_the_key_follows_an_environment_variable_the_conf_reads(conf, monkeypatch):
    (conf / "env" / "a.yaml").write_text("dir: ${oc.env:RDIC_T_VAR,x}\n")
    monkeypatch.delenv("RDIC_T_VAR", raising=False)
    unset = cache.key(conf, [])
    monkeypatch.setenv("RDIC_T_VAR", "")
    empty = cache.key(conf, [])
    monkeypatch.setenv("RDIC_T_VAR", "1")
    assert len({unset, empty, cache.key(conf, [])}) == 3  # unset and empty differ too
    monkeypatch.setenv("RDIC_T_OTHER", "1")  # a variable no file names is not an input
    assert cache.key(conf, []) == cache.key(conf, [])


def test_a_resolver_other_than_env_and_auto_has_no_key(conf):
    (conf / "env" / "a.yaml").write_text("when: ${now:%H}\n")
    assert cache.key(conf, []) is None
    assert cache.get(None) is None


class Kind(str, Enum):
    a = "a"
    b = "b"


@dataclass
class Inner:
    kind: Kind = Kind.a
    ratio: float = 0.5


@dataclass
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)
    maybe: Optional[Inner] = None
    items: list[Inner] = field(default_factory=list)
    by_name: dict[str, Inner] = field(default_factory=dict)


def test_build_rebuilds_nested_dataclasses_enums_floats_lists_and_dicts():
    data = {
        "name": "y",
        "inner": {"kind": "b", "ratio": 2},
        "maybe": {"kind": "a", "ratio": 1},
        "items": [{"kind": "b", "ratio": 0}],
        "by_name": {"k": {"kind": "a", "ratio": 3}},
    }
    got = cache._build(Outer, data)
    assert got == Outer("y", Inner(Kind.b, 2.0), Inner(Kind.a, 1.0), [Inner(Kind.b, 0.0)], {"k": Inner(Kind.a, 3.0)})
    assert type(got.inner.ratio) is float and got.inner.kind is Kind.b
    assert cache._build(Outer, {**data, "maybe": None}).maybe is None
    with pytest.raises(KeyError):  # a field missing from the entry: a miss, not a default
        cache._build(Outer, {"name": "y"})


def test_put_then_get_round_trips_and_a_damaged_entry_is_a_miss(tmp_path):
    from rdic_ops.config.schema import RootConfig

    cfg = RootConfig()
    cache.put("k1", cfg)
    assert cache.get("k1") == cfg
    path = cache.cache_dir() / "k1.json"
    path.write_text("{not json")
    assert cache.get("k1") is None
    path.write_text(json.dumps({"key": "other", "config": {}}))
    assert cache.get("k1") is None  # an entry under the wrong name
    path.write_text(json.dumps({"key": "k1", "config": {"env": 1}}))
    assert cache.get("k1") is None
    assert cache.get("missing") is None


def test_put_keeps_only_the_newest_entries(monkeypatch):
    from rdic_ops.config.schema import RootConfig

    monkeypatch.setattr(cache, "KEEP", 2)
    for n in range(4):
        cache.put(f"k{n}", RootConfig())
        os.utime(cache.cache_dir() / f"k{n}.json", ns=(n * 10**9, n * 10**9))
    cache.put("k4", RootConfig())
    assert sorted(p.stem for p in cache.cache_dir().glob("*.json")) == ["k3", "k4"]


def test_put_into_a_directory_it_cannot_make_is_silent(tmp_path, monkeypatch):
    from rdic_ops.config.schema import RootConfig

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "file"))
    cache.put("k", RootConfig())  # only a slower next command
    assert cache.get("k") is None


def test_writable_refuses_a_dry_run_and_a_config_holding_a_secret(monkeypatch):
    from rdic_ops.config.schema import RootConfig

    cfg = RootConfig()
    assert cache.writable(cfg)
    monkeypatch.setenv("RDIC_CONFIG_CACHE_WRITE", "0")
    assert not cache.writable(cfg)
    monkeypatch.delenv("RDIC_CONFIG_CACHE_WRITE")
    cfg.env.runtime.ollama.host = "http://user:hunter2@host:11434"
    assert not cache.writable(cfg)
