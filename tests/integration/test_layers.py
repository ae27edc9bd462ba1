"""The layout's rules, checked from the source: layering, no import cycles, small modules and functions.

The layers are import-linter contracts in pyproject.toml ([tool.importlinter]): every import counts, the ones
inside functions too. `lint-imports` runs them; so does this file, so the suite fails on a violation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support.paths import PKG, ROOT


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
