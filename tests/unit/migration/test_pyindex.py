"""A project's Python modules indexed once (rdic_ops/migration/pyindex.py): names from paths (src/ layout too),
relative imports resolved, and every imported name sorted into the project's own or a library's."""

from pathlib import Path

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.migration.pyindex import by_module, index, module_names, resolve_relative
from rdic_ops.migration.scan import PYTHON, SourceFile


def mods(files, all_rels=()):
    return index(
        [SourceFile(rel, Path(rel), PYTHON, t.encode(), False, t) for rel, t in files.items()],
        list(all_rels) or list(files),
    )


@pytest.mark.parametrize(
    ("rel", "names", "package"),
    [
        ("pkg/clients/local.py", ("pkg.clients.local",), "pkg.clients"),
        ("pkg/__init__.py", ("pkg",), "pkg"),
        ("src/engine/core.py", ("src.engine.core", "engine.core"), "src.engine"),
        ("lib/x.py", ("lib.x", "x"), "lib"),
        ("app.py", ("app",), ""),
        ("__init__.py", (), ""),
    ],
)
def test_module_names_come_from_the_path(rel, names, package):
    assert module_names(rel) == (names, package)


@pytest.mark.parametrize(
    ("package", "level", "module", "want"),
    [
        ("pkg.sub", 1, "x", "pkg.sub.x"),
        ("pkg.sub", 2, "x", "pkg.x"),
        ("pkg.sub", 2, None, "pkg"),
        ("pkg", 3, "x", "x"),
        ("", 1, "x", "x"),
    ],
)
def test_relative_imports_resolve_against_the_package(package, level, module, want):
    assert resolve_relative(package, level, module) == want


def test_definitions_and_imports_are_sorted_into_ours_and_libraries():
    m = mods(
        {
            "pkg/__init__.py": "",
            "pkg/models.py": "WEIGHTS: str = 'a'\nclass Loader:\n    def load(self): ...\ndef get_llama(): ...\n",
            "pkg/app.py": (
                "import os\nimport numpy as np\nimport pkg.models as pm\nfrom llama_cpp import Llama\n"
                "from .models import get_llama as fetch\nfrom . import models\nfrom pkg.models import *\nx = 1\n"
            ),
        }
    )
    app, models = m["pkg/app.py"], m["pkg/models.py"]
    assert models.defs == {"WEIGHTS", "Loader", "load", "get_llama"}
    assert app.external == {"os", "np", "Llama"} and app.defs == {"x"}
    assert app.imported == {"fetch": ("pkg.models", "get_llama"), "models": ("pkg", "models")}
    assert app.module_aliases == {"pm": "pkg.models", "models": "pkg.models"}
    assert set(by_module(m)) == {"pkg", "pkg.models", "pkg.app"}


def test_a_module_not_parsed_still_counts_as_the_project_s():
    m = mods({"app.py": "from helpers.io import read\n"}, all_rels=["app.py", "helpers/io.py"])
    assert m["app.py"].imported == {"read": ("helpers.io", "read")} and m["app.py"].external == set()


def test_a_file_that_does_not_parse_stops_with_its_line():
    with pytest.raises(UsageError, match=r"^bad\.py:2: not valid Python .*exclude the file in the migration"):
        mods({"bad.py": "x = 1\ndef (:\n"})


def test_line_numbers_of_nodes():
    m = mods({"a.py": "x = 1\n\ndef f():\n    return 2\n"})["a.py"]
    f = m.tree.body[1]
    assert m.line(f) == 3 and m.line(m.tree.body[0]) == 1
