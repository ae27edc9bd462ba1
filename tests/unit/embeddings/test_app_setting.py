"""The app's own embedding setting (rdic_ops/embeddings/app_setting.py): one key of a .env, YAML or JSON file
changed, the rest byte for byte; the plan shows only that key; the backup goes to the state dir, mode 0600."""

import json
import stat

import pytest

from rdic_ops.embeddings.app_setting import app_setting_change, current_value, set_setting
from rdic_ops.errors import UsageError

ENV = "OPENAI_API_KEY=sk-123\nexport EMBEDDING_BACKEND = ollama  \n# EMBEDDING_BACKEND=old\nOTHER=1"


def test_env_one_line_changes_spacing_and_export_kept():
    out = set_setting(ENV, "env", "EMBEDDING_BACKEND", "sentence_transformers")
    assert out == ENV.replace("= ollama  ", "= sentence_transformers  ")
    assert current_value(ENV, "env", "EMBEDDING_BACKEND") == "ollama"


def test_a_missing_key_is_added_at_the_end():
    assert set_setting("A=1", "env", "B", "x") == "A=1\nB=x\n"
    assert set_setting("", "env", "B", "x") == "B=x\n"
    assert set_setting("a: 1\n", "yaml", "b", "x") == "a: 1\nb: x\n"
    assert current_value("A=1", "env", "B") is None


def test_yaml_top_level_and_only_the_first():
    text = "backend: ollama\nnested:\n  backend: keep\nbackend: twice\n"
    assert set_setting(text, "yaml", "backend", "llamacpp") == text.replace("ollama", "llamacpp", 1)
    assert current_value(text, "yaml", "backend") == "ollama"


def test_json_dotted_keys():
    out = set_setting('{"embed": {"backend": "ollama"}, "x": 1}', "json", "embed.backend", "llamacpp")
    assert json.loads(out) == {"embed": {"backend": "llamacpp"}, "x": 1} and out.endswith("\n")
    assert json.loads(set_setting("", "json", "a.b", "v")) == {"a": {"b": "v"}}
    assert current_value('{"embed": {"backend": 3}}', "json", "embed.backend") == "3"
    assert current_value('{"embed": 1}', "json", "embed.backend") is None


def test_the_change_shows_only_the_key_and_backs_up_privately(tmp_path):
    app, backups = tmp_path / "app" / ".env", tmp_path / "state" / "backups"
    app.parent.mkdir()
    app.write_text(ENV)
    c = app_setting_change(app, "EMBEDDING_BACKEND", "sentence_transformers", backups)
    assert (c.action, c.before, c.after, c.secret) == ("update", "EMBEDDING_BACKEND=ollama",
                                                       "EMBEDDING_BACKEND=sentence_transformers", False)
    assert "sk-123" not in f"{c.before}{c.after}{c.reason}"
    c.apply()
    assert app.read_text() == set_setting(ENV, "env", "EMBEDDING_BACKEND", "sentence_transformers")
    [saved] = list(backups.iterdir())
    assert saved.read_text() == ENV and stat.S_IMODE(saved.stat().st_mode) == 0o600
    again = app_setting_change(app, "EMBEDDING_BACKEND", "sentence_transformers", backups)
    assert again.is_noop and again.reason == "EMBEDDING_BACKEND is sentence_transformers"


def test_a_new_file_is_created_and_a_secret_named_key_is_never_shown(tmp_path):
    c = app_setting_change(tmp_path / "settings.json", "api_token", "x", tmp_path / "b")
    assert (c.action, c.before, c.secret) == ("create", "(unset)", True)


def test_refusals(tmp_path):
    with pytest.raises(UsageError, match="only top-level keys are edited in YAML files"):
        app_setting_change(tmp_path / "a.yaml", "a.b", "x", tmp_path / "b")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(UsageError, match=r"bad\.json: not valid JSON"):
        app_setting_change(tmp_path / "bad.json", "k", "x", tmp_path / "b")
