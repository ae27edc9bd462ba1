"""The layout's rules, checked from the source: layering, no import cycles, small modules and functions.

The layers are import-linter contracts in pyproject.toml ([tool.importlinter]): every import counts, the ones
inside functions too. `lint-imports` runs them; so does this file, so the suite fails on a violation.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "rdic_ops"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 60
PENDING: set[str] = set()  # rooms still being rebuilt under their own issue (none: migrate-model, #14, landed)


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        out[name] = p
    return out


def imports_of(path: Path) -> set[str]:
    """Every rdic_ops module (and invoke/tasks) a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.startswith(("rdic_ops", "invoke", "tasks"))}


def lint_imports(cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`lint-imports` on the package found in ``cwd``, with pyproject.toml's contracts, no cache written."""
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache", "--config", str(ROOT / "pyproject.toml")], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_every_room_imports_only_from_the_rooms_below_it():
    """pyproject.toml's import-linter contracts hold, counting imports at every depth."""
    out = lint_imports()
    assert out.returncode == 0, out.stdout[out.stdout.find("Contracts"):] + out.stderr


def test_an_upward_import_inside_a_function_breaks_the_layers(tmp_path):
    """The contract is not vacuous: a copy of the package with one function importing ops from facts fails."""
    shutil.copytree(PKG, tmp_path / "rdic_ops", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    run = tmp_path / "rdic_ops" / "facts" / "run.py"
    run.write_text(run.read_text() + "\n\ndef f():\n    from rdic_ops.ops import setup\n\n    return setup\n")
    out = lint_imports(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "rdic_ops.facts.run -> rdic_ops.ops.setup" in out.stdout


def _contract(contract_id: str) -> dict:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in settings["contracts"] if c["id"] == contract_id)


def test_the_layers_name_every_module_of_config():
    """config/ is split across the layers (exhaustive_ignores = ["config"]): each of its modules has a place."""
    layers = _contract("layers")["layers"]
    named = {tail.strip(" ()") for layer in layers for tail in layer.replace("|", ":").split(":")}
    config = {f"config.{p.stem}" for p in (PKG / "config").glob("*.py") if p.stem != "__init__"}
    assert sorted(config - named) == []


def test_the_library_never_imports_invoke():
    """Only the command line (rdic_ops.cli, the top room) knows Invoke."""
    bad = [f"{n} imports {i}" for n, p in modules().items() for i in imports_of(p)
           if i.startswith("invoke") and not n.startswith("rdic_ops.cli")]
    assert bad == []


def _top_level_graph() -> dict[str, set[str]]:
    """Imports made when a module is imported (module level only): the ones that can form a cycle at import.
    Between rooms the layers contract forbids a cycle at every depth; this also covers the modules of one room."""
    mods = modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            deps |= {n for n in names if n in mods and n != name}
        graph[name] = deps
    return graph


def test_no_import_cycles():
    graph = _top_level_graph()
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cycles.append(" -> ".join(stack[stack.index(n):] + [n]))
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for d in sorted(graph[n]):
            visit(d)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    assert cycles == []


def long_functions(src: str) -> list[str]:
    out = []
    for n in ast.walk(ast.parse(src)):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES:
            out.append(f"{n.name} ({n.end_lineno - n.lineno + 1} lines)")
    return out


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=_rel)
def test_module_and_function_size(path):
    if _rel(path) in PENDING:
        pytest.skip("rebuilt under its own issue")
    lines = path.read_text().count("\n")
    assert lines <= MAX_MODULE_LINES, f"{_rel(path)}: {lines} lines"
    assert long_functions(path.read_text()) == [], _rel(path)


def test_the_size_check_can_fail(tmp_path):
    """The rule above is not vacuous: a long function is found."""
    src = "def f():\n" + "    x = 1\n" * 70 + "def g():\n" + "    x = 1\n" * 59
    assert long_functions(src) == ["f (71 lines)"]


def test_readme_layout_names_every_room():
    """README's Layout section lists every package and top-level module of rdic_ops/, and nothing that is gone."""
    text = (ROOT / "README.md").read_text()
    layout = text[text.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 4)]
    rooms = {p.name + "/" for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    rooms |= {p.name for p in PKG.glob("*.py") if p.name != "__init__.py"}
    missing = [r for r in sorted(rooms) if f" {r}" not in layout]
    assert missing == []
