"""A migration's schema and loader (rdic_ops/config/migration.py): lists that pair by position, identifiers,
contexts and regular expressions checked, each problem at its file:line and key, never its value."""

import pytest
from support.migration_specs import spec

from rdic_ops.config.files import conf_dir
from rdic_ops.config.migration import MigrationSpec, ModelFacts, check, load_migration
from rdic_ops.errors import ConfigError, UsageError

GOOD = """name: m
from:
  files: [old-a.gguf, old-b.gguf]
  labels: Old 8B
  n_ctx: 4096
to:
  files: [new.gguf]
  labels: [New 12B]
  n_ctx: 8192
renames: {get_old: get_new}
"""


def test_pairs_go_by_position_and_one_target_takes_every_source():
    s = spec()
    assert s.pairs("repos") == [("org/Old-8B-GGUF", "org/New-12B-GGUF")]
    assert s.pairs("ollama_tags") == [("llama3.1:8b-q4", "gemma3:12b-q4"), ("llama3.1:8b", "gemma3:12b")]
    s.target.files = ["one.gguf"]
    s.source.files = ["a.gguf", "b.gguf"]
    assert s.pairs("files") == [("a.gguf", "one.gguf"), ("b.gguf", "one.gguf")]


def test_the_shared_spec_passes_and_its_defaults_keep_records():
    check(spec(), "m.yaml")
    s = MigrationSpec(source=ModelFacts(files=["a"]), target=ModelFacts(files=["b"]))
    check(s, "m.yaml")
    assert "rdic: keep" in s.keep_lines and any("results" in r for r in s.record_sections)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: setattr(s.target, "labels", ["a", "b"]), "to.labels: 2 entries for 3 in from.labels"),
        (lambda s: setattr(s.target, "urls", []), "to.urls: 0 entries for 1 in from.urls"),
        (lambda s: setattr(s.source, "files", [" "]), "from.files: empty value"),
        (lambda s: setattr(s, "renames", {"ok": "class"}), "renames: entry 1: the new name is not a Python identifier"),
        (lambda s: setattr(s, "renames", {"a-b": "ok"}), "renames: entry 1: the old name is not a Python identifier"),
        (lambda s: setattr(s.target, "n_ctx", 0), "to.n_ctx: "),
        (lambda s: setattr(s.source, "n_ctx", 2**21), "from.n_ctx: "),
        (lambda s: setattr(s.target, "n_ctx", None), "n_ctx: set it on both sides or on neither"),
        (lambda s: setattr(s, "keep_lines", ["ok", "(a+)+$"]), "keep_lines[1]: "),
        (lambda s: setattr(s, "record_sections", ["(x*)*y"]), "record_sections[0]: "),
    ],
)
def test_check_names_the_key_of_each_problem(edit, message):
    s = spec()
    edit(s)
    with pytest.raises(ConfigError) as err:
        check(s, "m.yaml")
    assert str(err.value).startswith("m.yaml") and message in str(err.value)


def test_a_source_with_nothing_to_look_for_is_refused():
    with pytest.raises(ConfigError, match="from: no file, repo, url, ollama tag or label to look for"):
        check(MigrationSpec(), "m.yaml")


def test_check_finds_the_line_in_the_yaml_text():
    s = spec()
    s.keep_lines = ["(a+)+"]
    text = "name: m\nkeep_lines:\n  - ok\n  - '(a+)+'\n"
    with pytest.raises(ConfigError, match=r"^m\.yaml:3: keep_lines\[0\]: "):
        check(s, "m.yaml", text.replace("  - ok\n", ""))
    s.keep_lines = ["ok", "(a+)+"]
    with pytest.raises(ConfigError, match=r"^m\.yaml:4: keep_lines\[1\]: "):
        check(s, "m.yaml", text)


def test_load_reads_from_and_to_one_value_or_a_list_numbers_as_text(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(GOOD.replace("labels: Old 8B", "labels: [Old 8B, 8]"))
    s, path = load_migration(str(p), conf_dir())
    assert path == p and s.source.files == ["old-a.gguf", "old-b.gguf"] and s.source.labels == ["Old 8B", "8"]
    assert s.target.n_ctx == 8192 and s.renames == {"get_old": "get_new"}
    assert s.pairs("files") == [("old-a.gguf", "new.gguf"), ("old-b.gguf", "new.gguf")]


def test_load_by_name_reads_the_shipped_migration():
    s, path = load_migration("smollm2_135m_to_gemma3_270m", conf_dir())
    assert path.name == "smollm2_135m_to_gemma3_270m.yaml" and s.source.n_ctx == 2048 and s.target.n_ctx == 8192
    assert s.pairs("chat_formats") == [("chatml", "gemma")]


def test_load_refuses_an_unknown_name_with_the_choices(tmp_path):
    with pytest.raises(UsageError, match=r"unknown migration 'nope' \(choices: llama31_8b_to_gemma3_12b, "):
        load_migration("nope", conf_dir())


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("- a\n- b\n", ": expected a mapping at the top"),
        ("name: m\nfrom: [a]\n", ": from: expected a mapping"),
        ("name: m\nfrom:\n  files: [a\n", ":4: "),
        ("name: m\nfrom:\n  files: [a]\n  n_ctx: lots\nto:\n  files: [b]\n", ":4: from.n_ctx: "),
        ("name: m\nfrom:\n  files: [a]\n  n_ctx: 0\nto:\n  files: [b]\n  n_ctx: 9\n", ":4: from.n_ctx: "),
        ("name: m\nfrom:\n  files: [a, b]\nto:\n  files: [c, d, e]\n", ":5: to.files: 3 entries for 2"),
        ("name: m\nsecret_key: hunter2\n", ":2: secret_key: "),
    ],
)
def test_load_names_the_file_line_and_key_never_the_value(tmp_path, text, where):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_migration(str(p), conf_dir())
    assert str(err.value).startswith(f"{p}{where}")
    assert "lots" not in str(err.value) and "hunter2" not in str(err.value)
