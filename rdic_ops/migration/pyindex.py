"""A project's Python modules, parsed once with libcst, and what they define and import.

Module names come from paths (``pkg/clients/local.py`` -> ``pkg.clients.local``; a ``src/`` layout is also
known without its prefix). An import is *internal* when its module resolves to a project module (relative
imports always do); names bound by other imports belong to libraries and are never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from rdic_ops.errors import UsageError
from rdic_ops.migration.scan import SourceFile


@dataclass
class PyModule:
    src: SourceFile
    names: tuple[str, ...]  # dotted names this file is importable as
    package: str  # the package relative imports start from
    tree: cst.Module
    positions: dict = field(default_factory=dict)
    defs: set[str] = field(default_factory=set)  # functions, classes, methods, assigned names
    external: set[str] = field(default_factory=set)  # local names bound by imports of libraries
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (module, name) internal
    module_aliases: dict[str, str] = field(default_factory=dict)  # local -> internal module

    def line(self, node: cst.CSTNode) -> int:
        if not self.positions:  # resolved on first use: positions cost more than the parse
            wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
            self.positions = dict(wrapper.resolve(PositionProvider))
        pos = self.positions.get(node)
        return pos.start.line if pos else 0


def module_names(rel: str) -> tuple[tuple[str, ...], str]:
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    names = [".".join(parts)] if parts else []
    if parts and parts[0] in ("src", "lib") and len(parts) > 1:
        names.append(".".join(parts[1:]))
    package = ".".join(parts if is_pkg else parts[:-1])
    return tuple(n for n in names if n), package


def resolve_relative(package: str, level: int, module: str | None) -> str:
    base = package.split(".") if package else []
    if level > 1:
        base = base[: max(0, len(base) - (level - 1))]
    return ".".join([*base, *([module] if module else [])])


class _Collect(cst.CSTVisitor):
    def __init__(self, mod: PyModule, known: set[str]):
        self.mod, self.known = mod, known

    def _internal(self, module: str) -> bool:
        return any(module == k or module.startswith(k + ".") or k.startswith(module + ".") for k in self.known)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.mod.defs.add(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.mod.defs.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name):
            self.mod.defs.add(node.target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.mod.defs.add(node.target.value)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = get_full_name_for_node(alias.name) or ""
            local = alias.asname.name.value if alias.asname else full.split(".")[0]
            if self._internal(full):
                self.mod.module_aliases[local] = full if alias.asname else local
            else:
                self.mod.external.add(local)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        name = get_full_name_for_node(node.module) if node.module else None
        module = resolve_relative(self.mod.package, level, name) if level else (name or "")
        internal = bool(level) or self._internal(module)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            orig = get_full_name_for_node(alias.name) or ""
            local = alias.asname.name.value if alias.asname else orig
            if internal:
                self.mod.imported[local] = (module, orig)
                sub = f"{module}.{orig}" if module else orig
                if sub in self.known:
                    self.mod.module_aliases[local] = sub
            else:
                self.mod.external.add(local)


def index(files: list[SourceFile], all_rels: list[str] = ()) -> dict[str, PyModule]:
    """rel -> PyModule for each given Python file (``all_rels``: every Python path of the project, so imports
    of modules not parsed still count as the project's). A file that does not parse stops it (exit 2)."""
    mods: dict[str, PyModule] = {}
    for f in files:
        names, package = module_names(f.rel)
        try:
            tree = cst.parse_module(f.text)
        except cst.ParserSyntaxError as exc:
            raise UsageError(
                f"{f.rel}:{exc.raw_line}: not valid Python ({exc.message}); fix it, or exclude the "
                "file in the migration"
            ) from None
        mods[f.rel] = PyModule(f, names, package, tree)
    known = {n for m in mods.values() for n in m.names} | {n for rel in all_rels for n in module_names(rel)[0]}
    known |= {n.rsplit(".", 1)[0] for n in known if "." in n}  # namespace packages
    for m in mods.values():
        m.tree.visit(_Collect(m, known))
    return mods


def by_module(mods: dict[str, PyModule]) -> dict[str, PyModule]:
    return {n: m for m in mods.values() for n in m.names}
