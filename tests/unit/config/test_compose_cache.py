"""The composed-config cache: the same answer as Hydra, and never a stale one."""

import json
import os
import shutil

import pytest

from rdic_ops.config import cache, files
from rdic_ops.config import compose as compose_mod
from rdic_ops.config.compose import choices, compose
from rdic_ops.config.files import CONF_DIR
from rdic_ops.errors import ConfigError


def fresh(env, overrides=()):
    os.environ["RDIC_CONFIG_CACHE"] = "0"
    try:
        return compose(env, list(overrides))
    finally:
        del os.environ["RDIC_CONFIG_CACHE"]


@pytest.fixture
def conf(tmp_path, monkeypatch):
    """A copy of conf/ that a test may edit."""
    d = tmp_path / "conf"
    shutil.copytree(CONF_DIR, d)
    monkeypatch.setattr(files, "CONF_DIR", d)
    return d


@pytest.fixture
def no_hydra(monkeypatch):
    """Fail if Hydra is asked to compose: the answer must come from the cache."""
    def boom(*_args):
        raise AssertionError("composed again instead of reading the cache")

    def arm():
        monkeypatch.setattr(compose_mod, "_compose", boom)
    return arm


@pytest.mark.parametrize("env", choices("env"))
@pytest.mark.parametrize("overrides", [[], ["chat.keep_alive=1800", "env.hardware.vram_gb=7",
                                            "chat.model=gemma3-4b-it-q4_k_m", "env.wsl=null"]])
def test_a_cached_config_equals_a_fresh_compose(env, overrides, no_hydra):
    try:
        want = fresh(env, overrides)
    except ConfigError:
        with pytest.raises(ConfigError):
            compose(env, overrides)
        return
    assert compose(env, overrides) == want  # composes and stores
    no_hydra()
    got = compose(env, overrides)  # read back from the cache
    assert got == want
    assert type(got.env.hardware.vram_gb) is float and got.env.runtime.kind is want.env.runtime.kind
    assert got is not compose(env, overrides)  # every caller gets its own object to mutate


def test_an_edited_conf_file_is_never_served_stale(conf):
    machine = conf / "machine" / "any_cpu.yaml"
    before = compose("local")
    text = machine.read_text()
    st = machine.stat()
    old = f"cpu_cores: {before.env.hardware.cpu_cores}"
    assert old in text
    new = f"cpu_cores: {before.env.hardware.cpu_cores % 9 + 1}"
    assert len(new) == len(old)
    machine.write_text(text.replace(old, new))
    os.utime(machine, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only the bytes differ
    assert compose("local").env.hardware.cpu_cores == before.env.hardware.cpu_cores % 9 + 1


def test_an_added_conf_file_is_seen(conf):
    assert compose("local").paths.lockfile == "models.lock"
    (conf / "site").mkdir(exist_ok=True)
    (conf / "site" / "default.yaml").write_text("# @package _global_\npaths:\n  lockfile: site.lock\n")
    assert compose("local").paths.lockfile == "site.lock"


def test_an_environment_variable_the_conf_reads_is_part_of_the_key(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "cache_dir", lambda: tmp_path / "one-cache")  # the cache does not move with it
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "a"))
    assert compose("local").paths.state_dir == str(tmp_path / "a")
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "b"))
    assert compose("local").paths.state_dir == str(tmp_path / "b")
    monkeypatch.delenv("RDIC_STATE_DIR")
    assert compose("local").paths.state_dir == "~/.local/share/rdic-ops"


def test_overrides_are_part_of_the_key():
    assert compose("local", ["chat.keep_alive=11"]).chat.keep_alive == 11
    assert compose("local", ["chat.keep_alive=12"]).chat.keep_alive == 12
    assert compose("local").chat.keep_alive == fresh("local").chat.keep_alive


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"key": "x", "config": {}}', "null", '{"config": 1}'])
def test_a_damaged_entry_is_a_miss(damage):
    want = compose("local")
    entries = list(cache.cache_dir().glob("*.json"))
    assert len(entries) == 1
    entries[0].write_text(damage)
    assert compose("local") == want
    entry = json.loads(entries[0].read_text())
    assert entry["config"]["env"]["name"] == "local"  # written again


def test_a_wrong_entry_under_another_key_is_not_served():
    a = compose("local")
    compose("rtx3060")
    files = {json.loads(p.read_text())["config"]["env"]["name"]: p for p in cache.cache_dir().glob("*.json")}
    files["local"].write_text(files["rtx3060"].read_text())  # the entry names another key
    assert compose("local") == a


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("RDIC_CONFIG_CACHE", "0")
    compose("local")
    assert not cache.cache_dir().exists()


def test_an_environment_variable_named_in_an_override_is_part_of_the_key(monkeypatch, tmp_path):
    monkeypatch.setenv("RDIC_TEST_LOCKDIR", "one")
    over = ["paths.lockfile=${oc.env:RDIC_TEST_LOCKDIR}/models.lock"]
    assert compose("local", over).paths.lockfile == "one/models.lock"
    monkeypatch.setenv("RDIC_TEST_LOCKDIR", "two")
    assert compose("local", over).paths.lockfile == "two/models.lock"


def test_a_resolver_that_is_not_oc_env_is_never_cached(conf):
    (conf / "site").mkdir(exist_ok=True)
    (conf / "site" / "default.yaml").write_text("# @package _global_\npaths:\n  lockfile: ${now:%H%M%S%f}.lock\n")
    a = compose("local").paths.lockfile
    assert a != compose("local").paths.lockfile  # composed again: the clock moved
    assert not list(cache.cache_dir().glob("*.json"))


def test_auto_values_follow_the_machine_facts(monkeypatch, no_hydra):
    from rdic_ops.config import auto
    from rdic_ops.units import GiB

    monkeypatch.setattr(auto, "machine", lambda: auto.MachineFacts(8, 16, 32 * GiB))
    assert compose("cpu").env.runtime.n_threads == 8
    monkeypatch.setattr(auto, "machine", lambda: auto.MachineFacts(2, 2, 4 * GiB))
    two = compose("cpu")  # another machine (or a taskset): composed again, not served from the cache
    assert two.env.runtime.n_threads == 2 and two.chat.num_ctx == 2048
    no_hydra()
    assert compose("cpu") == two  # the same facts: a hit


def test_the_checks_code_is_part_of_the_key():
    """A cached config passed the rules of its day: a change to rules.py (or provider.py) must miss."""
    from rdic_ops.config import cache

    assert {p.name for p in cache._CODE} >= {"schema.py", "compose.py", "auto.py", "rules.py", "provider.py"}
