"""The migrate-model engine's by-value matching (migration/values.py) and line-exact edits of non-Python files
(migration/textedit.py), in process: exact texts and exact lists, every expected value written by hand."""

from pathlib import Path

import pytest
from support.migration_specs import spec, table

from rdic_ops.migration.scan import BOM, SourceFile, kind_of, read
from rdic_ops.migration.textedit import edit_text, is_markdown
from rdic_ops.migration.values import compile_table

UNDECIDED = "cannot tell which model this context belongs to"


def edit(rel: str, text: str, t=None):
    return edit_text(SourceFile(rel, Path(rel), kind_of(rel), text.encode(), False, text), t or table())


def test_record_lines_and_markdown_record_sections():
    tb = table()
    lines = ["intro\n", "# Results\n", "row\n", "## Sub\n", "sub row\n", "# Usage\n", "use\n", "### Past runs\n",
             "r\n", "#### deeper\n", "d\n", "### next\n", "n\n", "x rdic: keep\n", "#Results\n", "after\n",
             "####### History\n", "seven\n", "  # History\n", "indented\n", "## Changelog\n", "# Other\n", "o\n"]
    assert tb.records(lines, markdown=True) == {2, 3, 4, 8, 9, 10, 13}
    assert tb.records(lines, markdown=False) == {13}
    assert tb.records(["# Intro\n", "## Results\n", "a\n", "# Next\n", "b\n"], markdown=True) == {2}
    assert tb.records(["## Results\n", "a\n", "# Results v2\n", "b\n", "## x\n", "c\n"], markdown=True) == {1, 3, 4, 5}
    t = compile_table(spec(keep_lines=["rdic: keep", ""], record_sections=["", "(?i)results?"]))
    assert not t.kept("plain") and t.kept("rdic: keep it")
    assert t.records(["# Setup\n", "a\n", "# Result\n", "b\n"], markdown=True) == {3}


def test_markdown_kinds():
    assert [is_markdown(p) for p in ("a.md", "README.MD", "a.markdown", "A.MARKDOWN", "d.rst", "D.RST", "n.txt",
                                     "N.TXT", "a.md.bak", "a.yaml", "md")] == [True] * 8 + [False] * 3


def test_yaml_crlf_comments_quotes_and_the_router_beside_it():
    text = ('llm:\r\n  model_path: "models/old-8b.gguf"  # the 8B\r\n  n_ctx: 4096\r\n  batch: 4096\r\n'
            "router:\r\n  model_path: 'models/router-1b.gguf'\r\n  n_ctx: 4096\r\n")
    want = ('llm:\r\n  model_path: "models/new-12b.gguf"  # the 8B\r\n  n_ctx: 32768\r\n  batch: 4096\r\n'
            "router:\r\n  model_path: 'models/router-1b.gguf'\r\n  n_ctx: 4096\r\n")
    assert edit("conf/app.prod.yml", text) == (want, 2, [])  # the last suffix counts


def test_env_file_keeps_quotes_and_numbers_that_only_start_alike():
    text = 'MODEL=models/old-8b.gguf\nN_CTX=4096\nMAX_TOKENS=4096\nexport CTX_SIZE="4096"\nOTHER_CTX=40960'
    want = 'MODEL=models/new-12b.gguf\nN_CTX=32768\nMAX_TOKENS=4096\nexport CTX_SIZE="32768"\nOTHER_CTX=40960'
    assert edit(".env", text) == (want, 3, [])  # no trailing newline added


def test_env_pairs_context_keys_with_model_keys_by_prefix():
    text = "ROUTER_MODEL=router.gguf\nROUTER_N_CTX=4096\nMODEL_PATH=old-8b.gguf\nN_CTX=4096\n"
    want = "ROUTER_MODEL=router.gguf\nROUTER_N_CTX=4096\nMODEL_PATH=new-12b.gguf\nN_CTX=32768\n"
    assert edit("deploy/.env", text) == (want, 2, [])


def test_toml_and_ini_tables_are_sections():
    text = ('[llm]\nmodel = "old-8b.gguf"\nn_ctx = 4096\n\n  [router]\nmodel = "router.gguf"\nn_ctx = 4096\n\n'
            "[other]\nn_ctx = 4096\n")
    want = ('[llm]\nmodel = "new-12b.gguf"\nn_ctx = 32768\n\n  [router]\nmodel = "router.gguf"\nn_ctx = 4096\n\n'
            "[other]\nn_ctx = 4096\n")
    for rel in ("settings.toml", "Settings.INI", "setup.cfg", "app.conf"):
        assert edit(rel, text) == (want, 2, [(10, UNDECIDED)]), rel
    # the table's first line, its last line, and nothing before its header
    assert edit("a.ini", "model = router.gguf\n[llm]\nn_ctx = 4096\nmodel = old-8b.gguf\n") == (
        "model = router.gguf\n[llm]\nn_ctx = 32768\nmodel = new-12b.gguf\n", 2, [])
    assert edit("b.ini", "[llm]\nmodel = old-8b.gguf\nn_ctx = 4096\n[r]\nmodel = r.gguf\n") == (
        "[llm]\nmodel = new-12b.gguf\nn_ctx = 32768\n[r]\nmodel = r.gguf\n", 2, [])
    assert edit("a.ini", "model = old-8b.gguf\nn_ctx = 4096\n[b]\nx = 1\n") == (
        "model = new-12b.gguf\nn_ctx = 32768\n[b]\nx = 1\n", 2, [])


def test_json_blocks_by_indentation_with_tabs_and_spaces():
    text = '{\n  "llm": {\n    "model": "old-8b.gguf",\n    "n_ctx": 4096\n  },\n  "r": {\n    "model": "r.gguf",\n' \
           '    "n_ctx": 4096\n  }\n}\n'
    want = text.replace("old-8b.gguf", "new-12b.gguf").replace('"n_ctx": 4096\n  },', '"n_ctx": 32768\n  },')
    assert edit("cfg.JSON", text) == (want, 2, [])
    tabs = '{\n\t"llm": {\n\t\t"model": "old-8b.gguf",\n\t\t"n_ctx": 4096\n\t}\n}\n'
    assert edit("cfg.json", tabs) == (tabs.replace("old-8b.gguf", "new-12b.gguf").replace("4096", "32768"), 2, [])


@pytest.mark.parametrize("close", ["}", "},", "]", "],"])
def test_a_closing_bracket_ends_a_json_block(close):
    before = f'"x": {{\n"model": "old-8b.gguf"\n{close}\n"n_ctx": 4096\n'
    after = f'"n_ctx": 4096\n{close}\n"model": "old-8b.gguf"\n'
    assert edit("c.json", before) == (before.replace("old-8b", "new-12b"), 1, [(4, UNDECIDED)])
    assert edit("c.json", after) == (after.replace("old-8b", "new-12b"), 1, [(1, UNDECIDED)])


def test_yaml_blank_and_comment_lines_do_not_end_a_block():
    text = "llm:\n  model: old-8b.gguf\n # note\n\n  n_ctx: 4096\n"
    assert edit("a.yml", text) == ("llm:\n  model: new-12b.gguf\n # note\n\n  n_ctx: 32768\n", 2, [])


def test_yaml_parent_blocks_decide_but_never_the_whole_file():
    text = ("services:\n  llm:\n    model: old-8b.gguf\n\n    opts:\n      model_ctx: 2048\n      n_ctx: 4096\n"
            "  router:\n    model: router.gguf\n    params:\n      n_ctx: 4096\n"
            "  pair:\n    a: old-8b.gguf\n    b: other.gguf\n    params:\n      n_ctx: 4096\n")
    want = ("services:\n  llm:\n    model: new-12b.gguf\n\n    opts:\n      model_ctx: 2048\n      n_ctx: 32768\n"
            "  router:\n    model: router.gguf\n    params:\n      n_ctx: 4096\n"
            "  pair:\n    a: new-12b.gguf\n    b: other.gguf\n    params:\n      n_ctx: 4096\n")
    for rel in ("compose.yaml", "compose.YML"):
        assert edit(rel, text) == (want, 3, [(16, UNDECIDED)]), rel
    # a comment is no parent: the block above it holds two models
    mixed = "svc:\n  pair:\n    a: old-8b.gguf\n    b: other.gguf\n   # see router.gguf\n    params:\n" \
            "      n_ctx: 4096\n"
    assert edit("m.yaml", mixed) == (mixed.replace("old-8b", "new-12b"), 1, [(7, UNDECIDED)])
    # a comment (at column 0, or indented) ends no block: the model below it is the block's, and so is the other model
    below = "svc:\n  llm:\n# c\n    model: old-8b.gguf\n    params:\n      n_ctx: 4096\n"
    assert edit("c.yaml", below) == (below.replace("old-8b", "new-12b").replace("4096", "32768"), 2, [])
    two = "svc:\n  pair:\n    a: old-8b.gguf\n  # c\n    b: other.gguf\n    params:\n      n_ctx: 4096\n"
    assert edit("t.yaml", two) == (two.replace("old-8b", "new-12b"), 1, [(7, UNDECIDED)])
    top = "llm:\n  model: old-8b.gguf\n  params:\n    n_ctx: 4096\n"  # the only parent is the top level
    assert edit("top.yaml", top) == (top.replace("old-8b", "new-12b"), 1, [(4, UNDECIDED)])


def test_a_model_key_without_a_known_model_is_another_model():
    named = "a:\n  model_name: mistral\n  n_ctx: 4096\nb:\n  model: old-8b.gguf\n"
    assert edit("m.yaml", named) == (named.replace("old-8b", "new-12b"), 1, [])
    weights = "a:\n  weights: router.gguf\n  n_ctx: 4096\n"
    assert edit("w.yaml", weights) == (weights, 0, [])
    empty = "a:\n  model:\n  n_ctx: 4096\n"
    assert edit("e.yaml", empty) == (empty, 0, [(3, UNDECIDED)])


def test_shell_flags_and_modelfile_lines():
    sh = ("#!/bin/sh\nllama-server -m models/old-8b.gguf -c 4096 --port 4096\n"
          "llama-server -m models/router.gguf --ctx-size 4096\ntool --top-c 4096 -m models/old-8b.gguf\n")
    want = ("#!/bin/sh\nllama-server -m models/new-12b.gguf -c 32768 --port 4096\n"
            "llama-server -m models/router.gguf --ctx-size 4096\ntool --top-c 4096 -m models/new-12b.gguf\n")
    assert edit("run.sh", sh) == (want, 3, [])  # line 3 names its own (other) model: left, and not reported
    modelfile = "FROM llama3.1:8b\nPARAMETER num_ctx 4096\nPARAMETER temperature 0.7\n"
    assert edit("Modelfile", modelfile) == ("FROM gemma3:12b\nPARAMETER num_ctx 32768\nPARAMETER temperature 0.7\n",
                                            2, [])
    argv = '    command: ["llama-server", "-m", "/m/old-8b.gguf", "--ctx-size", "4096"]\n'
    assert edit("c.yaml", argv) == (argv.replace("old-8b", "new-12b").replace('"4096"', '"32768"'), 2, [])
    assert edit("d.yaml", "cmd: server --n-ctx=4096 -m old-8b.gguf\n") == (
        "cmd: server --n-ctx=32768 -m new-12b.gguf\n", 2, [])
    inline = "ctx: 2048  # llama-server -c 4096 old-8b.gguf\n"
    assert edit("i.yaml", inline) == ("ctx: 2048  # llama-server -c 32768 new-12b.gguf\n", 2, [])


def test_a_flag_pairs_with_the_unprefixed_model_and_a_half_migrated_file_follows_the_new_one():
    sh = "MODEL=old-8b.gguf\nROUTER_MODEL=router.gguf\nserver --ctx-size 4096\n"
    assert edit("run.sh", sh) == ("MODEL=new-12b.gguf\nROUTER_MODEL=router.gguf\nserver --ctx-size 32768\n", 2, [])
    assert edit("h.yaml", "model: new-12b.gguf\nn_ctx: 4096\n") == ("model: new-12b.gguf\nn_ctx: 32768\n", 1, [])
    assert edit("g.yaml", "tag: llama3.1:8bX\nllama3.1:8b\n") == ("tag: llama3.1:8bX\ngemma3:12b\n", 1, [])


def test_an_undecided_context_is_reported_only_where_it_could_matter():
    assert edit("notes.md", "n_ctx: 4096\nplain\n") == ("n_ctx: 4096\nplain\n", 0, [])
    assert edit("notes.yaml", "n_ctx: 4096\nplain\n") == ("n_ctx: 4096\nplain\n", 0, [(1, UNDECIDED)])
    mixed = "n_ctx: 4096\nuses old-8b.gguf\nand router.gguf\n"
    assert edit("notes.md", mixed) == (mixed.replace("old-8b", "new-12b"), 1, [(1, UNDECIDED)])
    assert edit("Makefile", "run:\n\tserver -c 4096\n") == ("run:\n\tserver -c 4096\n", 0, [(2, UNDECIDED)])


def test_without_contexts_in_the_spec_numbers_stay_and_nothing_is_undecided():
    t = compile_table(spec(n_ctx=False))
    assert edit("x.yaml", "model: old-8b.gguf\nn_ctx: 4096\nctx: 9\n", t) == (
        "model: new-12b.gguf\nn_ctx: 4096\nctx: 9\n", 1, [])


def test_records_stay_byte_for_byte():
    md = ("Use old-8b.gguf via get_llama.\n\n## Results\nold-8b.gguf scored 1.0 at n_ctx: 4096\n\n"
          "## Setup\npull llama3.1:8b\nold-8b.gguf was measured with care\n")
    want = ("Use new-12b.gguf via get_gemma.\n\n## Results\nold-8b.gguf scored 1.0 at n_ctx: 4096\n\n"
            "## Setup\npull gemma3:12b\nold-8b.gguf was measured with care\n")
    assert edit("README.md", md) == (want, 3, [])
    kept = "model: old-8b.gguf  # rdic: keep\nn_ctx: 4096  # rdic: keep\n"
    assert edit("k.yaml", kept) == (kept, 0, [])


def test_a_bom_survives_the_edit(tmp_path):
    tb = table()
    (tmp_path / "c.yaml").write_bytes(BOM + b"model: old-8b.gguf\r\nn_ctx: 4096\r\n")
    f = read(tmp_path, "c.yaml")
    new, n, undecided = edit_text(f, tb)
    assert f.encode(new) == BOM + b"model: new-12b.gguf\r\nn_ctx: 32768\r\n" and (n, undecided) == (2, [])


def test_every_context_flag_on_a_line_changes_and_others_stay():
    line = "server -m old-8b.gguf --n-ctx=4096 --ctx-size 4096 -c 2048 --top-k 4096\n"
    want = "server -m new-12b.gguf --n-ctx=32768 --ctx-size 32768 -c 2048 --top-k 4096\n"
    assert edit("run.sh", line) == (want, 3, [])


def test_what_a_new_user_found_in_flat_files():
    env = "MODEL=old-8b.gguf\nN_CTX=4096\nRERANKER_N_CTX=4096\nHTTP_MAX_CONTEXT=4096\n"  # prefixed: another part
    assert edit(".env", env) == ("MODEL=new-12b.gguf\nN_CTX=32768\nRERANKER_N_CTX=4096\nHTTP_MAX_CONTEXT=4096\n", 2,
                                 [(3, UNDECIDED), (4, UNDECIDED)])
    js = '{\n  "model": "old-8b.gguf",\n  "n_ctx": 4096,\n  "embedding": {"model": "bge.gguf", "n_ctx": 4096}\n}\n'
    assert edit("s.json", js) == (js.replace("old-8b", "new-12b").replace('"n_ctx": 4096,', '"n_ctx": 32768,'), 2, [])
    mk = "MODEL = models/old-8b.gguf\nCTX := 4096\nN_CTX ?= 4096\nserve:\n\tllama-server -m $(MODEL) -c $(CTX)\n"
    assert edit("Makefile", mk) == (mk.replace("old-8b", "new-12b").replace("4096", "32768"), 3, [])
