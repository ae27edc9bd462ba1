"""Syntax-aware Python edits with libcst: identifier renames and keyword/assignment values.

Renamed: function and class definitions, calls, attribute accesses, imports (and their aliases), test
names - any Name or Attribute.attr equal to an old name. Values: a keyword argument, a parameter default or
an assignment target named ``name`` whose literal equals ``from`` gets ``to`` (same quote style). Strings,
comments and everything else are left alone, formatting included.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass
class ValueRule:
    name: str
    old: str
    new: str


def _literal_matches(node: cst.BaseExpression, old: str) -> bool:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value == old
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.value == old
    return False


def _replace_literal(node: cst.BaseExpression, new: str) -> cst.BaseExpression:
    if isinstance(node, cst.SimpleString):
        quote = node.quote
        prefix = node.prefix
        return node.with_changes(value=f"{prefix}{quote}{new}{quote}")
    return node.with_changes(value=new)


class _Transformer(cst.CSTTransformer):
    def __init__(self, renames: dict[str, str], values: list[ValueRule]):
        self.renames, self.values = renames, values
        self.edits = 0

    def _value(self, name: str, node: cst.BaseExpression | None):
        if node is None:
            return node
        for rule in self.values:
            if rule.name == name and _literal_matches(node, rule.old):
                self.edits += 1
                return _replace_literal(node, rule.new)
        return node

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if updated.value in self.renames:
            self.edits += 1
            return updated.with_changes(value=self.renames[updated.value])
        return updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        if updated.keyword is not None:
            return updated.with_changes(value=self._value(updated.keyword.value, updated.value))
        return updated

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        return updated.with_changes(default=self._value(updated.name.value, updated.default))

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        for t in updated.targets:
            if isinstance(t.target, cst.Name):
                return updated.with_changes(value=self._value(t.target.value, updated.value))
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        if isinstance(updated.target, cst.Name):
            return updated.with_changes(value=self._value(updated.target.value, updated.value))
        return updated


def transform(source: str, renames: dict[str, str], values: list[ValueRule]) -> str:
    """The edited source; raises libcst.ParserSyntaxError for a file that is not Python."""
    module = cst.parse_module(source)
    return module.visit(_Transformer(renames, values)).code


def defined_names(source: str) -> set[str]:
    """Names a module defines (functions, classes, methods, module-level assignments)."""
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            out.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            out.add(node.name.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                out.add(node.target.value)

    cst.parse_module(source).visit(V())
    return out
