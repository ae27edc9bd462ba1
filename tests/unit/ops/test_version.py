"""`invoke version` (rdic_ops/ops/version.py): rdic-ops' own version and directories, then what it runs on; a
config that does not compose is reported in the state dir's place, never fatal."""

from rdic_ops.config import compose as compose_mod
from rdic_ops.errors import ConfigError
from rdic_ops.facts import versions
from rdic_ops.ops import version


def test_collect_names_the_package_its_dirs_and_the_runtime(monkeypatch, tmp_path):
    monkeypatch.setattr(versions, "runtime", lambda: {"python": "3.11", "torch": "not installed"})
    out = version.collect()
    assert list(out)[:3] == ["rdic-ops", "config dir", "state dir"] and out["torch"] == "not installed"
    assert out["rdic-ops"] == versions.version_of("rdic-ops") and out["config dir"].endswith("conf")
    assert out["state dir"] == str(tmp_path / "state")  # the local env's state dir: RDIC_STATE_DIR here


def test_a_broken_config_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(versions, "runtime", lambda: {})

    def broken(env, *a, **kw):
        raise ConfigError("conf/env/local.yaml:3: bad\nmore")

    monkeypatch.setattr(compose_mod, "compose", broken)
    assert version.collect()["state dir"] == "unknown (conf/env/local.yaml:3: bad)"
