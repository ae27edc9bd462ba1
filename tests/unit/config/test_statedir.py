"""The state directory must be a directory, or creatable as one (rdic_ops/config/statedir.py)."""

import os
from types import SimpleNamespace

import pytest

from rdic_ops.config.statedir import require
from rdic_ops.errors import ConfigError


def cfg(path) -> SimpleNamespace:
    return SimpleNamespace(paths=SimpleNamespace(state_dir=str(path)))


def test_an_existing_directory_or_one_still_to_make_is_fine(tmp_path):
    assert require(cfg(tmp_path)) == tmp_path
    assert require(cfg(tmp_path / "a" / "b")) == tmp_path / "a" / "b"  # nothing is created here
    assert not (tmp_path / "a").exists()


def test_a_link_to_a_directory_is_a_directory(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert require(cfg(tmp_path / "link" / "state")) == tmp_path / "link" / "state"


def test_a_file_is_named_with_the_variable_that_set_it(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("RDIC_STATE_DIR", str(tmp_path / "f"))
    with pytest.raises(ConfigError) as err:
        require(cfg(tmp_path / "f"))
    assert str(err.value) == (f"RDIC_STATE_DIR: {tmp_path / 'f'} is not a directory "
                              "(point RDIC_STATE_DIR at a directory)")


def test_a_folder_under_a_file_names_the_file_and_the_key_without_the_variable(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.delenv("RDIC_STATE_DIR", raising=False)
    with pytest.raises(ConfigError) as err:
        require(cfg(tmp_path / "f" / "deeper" / "state"))
    assert str(err.value) == (f"paths.state_dir: {tmp_path / 'f' / 'deeper' / 'state'} lies under "
                              f"{tmp_path / 'f'}, which is not a directory (point paths.state_dir at a directory)")


def test_a_dangling_link_is_not_a_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("RDIC_STATE_DIR", raising=False)
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="is not a directory"):
        require(cfg(tmp_path / "gone"))


def test_the_home_shorthand_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert require(cfg("~/state")) == tmp_path / "state"
    assert os.path.isabs(require(cfg("~/state")))
