"""Python edits with libcst (rdic_ops/migration/pyedit.py): a rename follows the project's own definitions
and never a library's name, values change inside strings, comments and f-strings, record lines are kept,
and a rename onto a name that exists is refused. (Contexts by data flow: test_context.py.)"""

from pathlib import Path

import pytest
from support.migration_specs import spec

from rdic_ops.errors import UsageError
from rdic_ops.migration.pyedit import check_renames, edit_python
from rdic_ops.migration.pyindex import index
from rdic_ops.migration.scan import PYTHON, SourceFile
from rdic_ops.migration.values import compile_table


def edit(files, **kw):
    mods = index([SourceFile(r, Path(r), PYTHON, t.encode(), False, t) for r, t in files.items()], list(files))
    out, undecided = edit_python(mods, compile_table(spec(**kw)))
    return {rel: text for rel, (text, _) in out.items()}, {rel: n for rel, (_, n) in out.items()}


def test_a_project_rename_follows_definitions_imports_and_aliases():
    files = {
        "pkg/__init__.py": "",
        "pkg/models.py": "def get_llama():\n    return 1\n",
        "pkg/app.py": "from .models import get_llama\nfrom .models import get_llama as g\nprint(get_llama(), g())\n",
    }
    out, counts = edit(files)
    assert out["pkg/models.py"] == "def get_gemma():\n    return 1\n"
    assert out["pkg/app.py"] == (
        "from .models import get_gemma\nfrom .models import get_gemma as g\nprint(get_gemma(), g())\n"
    )
    assert counts == {"pkg/models.py": 1, "pkg/app.py": 3}


def test_a_library_s_name_or_attribute_never_changes():
    files = {
        "models.py": "def get_llama():\n    return 1\n",
        "app.py": "import vendor\nfrom vendor import get_llama\nvendor.get_llama()\nget_llama()\n",
    }
    out, _ = edit(files)
    assert "app.py" not in out  # its get_llama is the library's
    assert out["models.py"].startswith("def get_gemma")


def test_values_change_in_strings_comments_and_f_strings_but_not_in_kept_lines():
    src = (
        '# uses old-8b.gguf\nPATH = "models/old-8b.gguf"\nURL = f"https://ex.com/old/{PATH}"\n'
        'NOTE = "old-8b.gguf was measured with the bench"  # old-8b.gguf\n'
    )
    out, counts = edit({"app.py": src})
    assert out["app.py"] == (
        '# uses new-12b.gguf\nPATH = "models/new-12b.gguf"\nURL = f"https://ex.com/new/{PATH}"\n'
        'NOTE = "old-8b.gguf was measured with the bench"  # old-8b.gguf\n'
    )
    assert counts["app.py"] == 3


def test_crlf_and_formatting_are_kept():
    src = 'X = ( "old-8b.gguf" ,\r\n  1)\r\n'
    out, _ = edit({"app.py": src})
    assert out["app.py"] == 'X = ( "new-12b.gguf" ,\r\n  1)\r\n'


def test_an_unchanged_project_has_no_edits():
    assert edit({"app.py": "x = 'nothing to see'\n"}) == ({}, {})


def test_a_rename_onto_an_existing_name_is_refused():
    files = {"m.py": "def get_llama(): ...\ndef get_gemma(): ...\n"}
    mods = index([SourceFile(r, Path(r), PYTHON, t.encode(), False, t) for r, t in files.items()], list(files))
    with pytest.raises(UsageError, match=r"renames: 'get_gemma' already exists in m\.py; renaming 'get_llama'"):
        check_renames(mods, compile_table(spec()))
