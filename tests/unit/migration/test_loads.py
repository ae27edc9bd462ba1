"""Load by load, which context literals change (rdic_ops/migration/loads.py's decide): the old or new model's
load changes its context, another model's keeps it, and what cannot be told is left undecided with its line.
Small sources in, the decided line numbers out. (The edits these decisions make: test_context.py.)"""

from pathlib import Path

from support.migration_specs import spec

from rdic_ops.migration.context import Flow
from rdic_ops.migration.loads import decide
from rdic_ops.migration.pyindex import index
from rdic_ops.migration.scan import PYTHON, SourceFile
from rdic_ops.migration.values import compile_table


def decided(src, **kw):
    """(lines whose context changes, lines kept, undecided (line, why)) of app.py."""
    mods = index([SourceFile("app.py", Path("app.py"), PYTHON, src.encode(), False, src)], ["app.py"])
    d = decide(Flow(mods, compile_table(spec(**kw))))
    line = mods["app.py"].line
    return (sorted(line(n) for _, n in d.change.values()), len(d.keep), sorted((n, why) for _, n, why in d.undecided))


def test_a_load_of_the_old_model_changes_and_another_model_s_keeps():
    src = (
        "from llama_cpp import Llama\n"
        'a = Llama("models/old-8b.gguf", n_ctx=4096)\n'
        'b = Llama("models/router.gguf", n_ctx=4096)\n'
        'c = Llama("models/old-8b.gguf", n_ctx=2048)\n'
    )
    assert decided(src) == ([2], 1, [])  # c: another context, not the migration's to change


def test_a_wrapper_that_passes_its_parameters_is_a_load_too():
    src = (
        "from llama_cpp import Llama\n"
        "def load(path, ctx=4096):\n"
        "    return Llama(path, n_ctx=ctx)\n"
        'm = load("old-8b.gguf", 4096)\n'
        'r = load("router.gguf")\n'
    )
    changed, kept, undecided = decided(src)
    assert 4 in changed and undecided == [] and kept >= 1


def test_ollama_options_and_keyword_settings():
    src = (
        "import ollama\n"
        'ollama.chat(model="llama3.1:8b", messages=[], options={"num_ctx": 4096})\n'
        "OPTS = dict(num_ctx=4096)\n"
        'ollama.generate(model="llama3.1:8b-q4", prompt="x", options=OPTS)\n'
        'llm = LlamaCpp(model_path="old-8b.gguf", n_ctx=4096)\n'
    )
    assert decided(src) == ([2, 3, 5], 0, [])


def test_a_command_line_as_a_list():
    src = (
        "import subprocess\n"
        'subprocess.run(["llama-server", "-m", "old-8b.gguf", "-c", "4096"])\n'
        'subprocess.run(["llama-server", "-m", "router.gguf", "--ctx-size", "4096"])\n'
    )
    assert decided(src) == ([2], 1, [])


def test_settings_beside_the_model_decide_a_context_no_load_uses():
    src = 'MODEL_PATH = "models/old-8b.gguf"\nMODEL_N_CTX = 4096\nOTHER_N_CTX = 4096\n'
    changed, _, undecided = decided(src)
    assert changed == [2] and 3 not in changed


def test_what_cannot_be_told_is_undecided_with_its_line():
    """(line 3 is a wrapper's own body: its callers are the loads, and it has none)"""
    src = (
        "from llama_cpp import Llama\n"
        "def go(p):\n"
        "    return Llama(p, n_ctx=4096)\n"
        "x = Llama(MODEL, n_ctx=4096)\n"
        'y = Llama("old-8b.gguf", n_ctx=pick())\n'
    )
    assert decided(src) == (
        [],
        0,
        [(4, "cannot tell which model this load uses"), (5, "context is not a literal this can follow")],
    )


def test_one_value_feeding_two_models_is_undecided():
    src = (
        "from llama_cpp import Llama\nCTX = 4096\n"
        'a = Llama("old-8b.gguf", n_ctx=CTX)\nb = Llama("router.gguf", n_ctx=CTX)\n'
    )
    assert decided(src) == ([], 1, [(2, "one context value feeds the migrated model and another")])


def test_a_migration_without_contexts_decides_nothing():
    src = 'from llama_cpp import Llama\na = Llama("old-8b.gguf", n_ctx=4096)\n'
    assert decided(src, n_ctx=False) == ([], 0, [])
