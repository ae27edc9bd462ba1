"""What a migration looks for, compiled once: old -> new values (by fragment) and old -> new names (whole words).

Values are matched wherever they occur inside a string (a file name inside a path, a repo id inside a URL, a
label inside a sentence), bounded so that ``llama-3.1-8b`` does not match inside ``xllama-3.1-8bx``. Names are
matched as whole identifiers: ``get_llama`` never matches inside ``get_llama_index``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdic_ops.config.migration import KINDS, MigrationSpec

_ALNUM = "A-Za-z0-9"


@dataclass
class Table:
    values: dict[str, str]  # old fragment -> new fragment
    names: dict[str, str]  # old identifier -> new identifier
    value_re: re.Pattern | None
    name_re: re.Pattern | None
    keep_res: list[re.Pattern]
    section_res: list[re.Pattern]
    old_files: set[str]
    new_files: set[str]
    old_tags: set[str]
    new_tags: set[str]
    old_ctx: int | None
    new_ctx: int | None

    def sub_values(self, text: str) -> tuple[str, int]:
        if self.value_re is None:
            return text, 0
        return self.value_re.subn(lambda m: self.values[m.group(0)], text)

    def sub_names(self, text: str) -> tuple[str, int]:
        if self.name_re is None:
            return text, 0
        return self.name_re.subn(lambda m: self.names[m.group(0)], text)

    def sub_all(self, text: str) -> tuple[str, int]:
        text, a = self.sub_values(text)
        text, b = self.sub_names(text)
        return text, a + b

    def kept(self, line: str) -> bool:
        """A line marked as a record: never edited, never a leftover."""
        return any(rx.search(line) for rx in self.keep_res)

    def records(self, lines: list[str], markdown: bool) -> set[int]:
        """0-based indexes of record lines: marked lines, and Markdown sections under a record heading."""
        out = {i for i, line in enumerate(lines) if self.kept(line)}
        level = 0  # inside a record section opened by a heading of this level
        for i, line in enumerate(lines if markdown else []):
            m = re.match(r"^(#{1,6})\s+(.*)", line)
            if m and (not level or len(m.group(1)) <= level):
                level = len(m.group(1)) if any(rx.search(m.group(2)) for rx in self.section_res) else 0
            elif level:
                out.add(i)
        return out

    def mentions_old(self, text: str) -> bool:
        return bool(self.value_re and self.value_re.search(text))

    def mentions_new(self, text: str) -> bool:
        return any(v in text for v in self.values.values())

    def model_of(self, text: str) -> str | None:
        """'old' / 'new' when ``text`` names the migrated model (before or after), else None."""
        if self.mentions_old(text):
            return "old"
        if any(f in text for f in self.new_files | self.new_tags) or self.mentions_new(text):
            return "new"
        return None


def _alternation(words, left: str, right: str) -> re.Pattern | None:
    words = sorted(set(words), key=len, reverse=True)  # the longest first: a tag before its prefix
    if not words:
        return None
    return re.compile(f"(?<![{left}])(?:{'|'.join(re.escape(w) for w in words)})(?![{right}])")


def _values_re(values: dict[str, str], strict: set[str]) -> re.Pattern | None:
    """Files, repos and URLs end at any non-alphanumeric (``<repo>/resolve/main``); labels, tags and chat formats
    must stand alone (``llama3.1:8b`` is not replaced inside ``llama3.1:8b-text-q4_0``: that would name a model
    nobody has)."""
    if not values:
        return None
    parts = []
    for w in sorted(values, key=len, reverse=True):
        if w in strict:
            parts.append(rf"(?<![A-Za-z0-9_./:-]){re.escape(w)}(?![A-Za-z0-9_/:-])(?!\.[A-Za-z0-9])")
        else:  # an end that is itself no letter or digit (``https://host/old/``) is its own boundary
            left = rf"(?<![{_ALNUM}])" if re.match(f"[{_ALNUM}]", w[0]) else ""
            right = rf"(?![{_ALNUM}])" if re.match(f"[{_ALNUM}]", w[-1]) else ""
            parts.append(f"{left}{re.escape(w)}{right}")
    return re.compile("|".join(parts))


def compile_table(spec: MigrationSpec) -> Table:
    values: dict[str, str] = {}
    for kind in KINDS:
        for old, new in spec.pairs(kind):
            if old != new:
                values.setdefault(old, new)
    names = {str(k): str(v) for k, v in spec.renames.items() if k != v}
    keep = [k for k in spec.keep_lines if k]
    sections = [k for k in spec.record_sections if k]
    return Table(
        values=values,
        names=names,
        value_re=_values_re(values, {o for k in ("labels", "ollama_tags", "chat_formats") for o, _ in spec.pairs(k)}),
        name_re=_alternation(names, r"\w", r"\w"),
        keep_res=[re.compile(k) for k in keep],
        section_res=[re.compile(k) for k in sections],
        old_files=set(spec.source.files),
        new_files=set(spec.target.files),
        old_tags=set(spec.source.ollama_tags),
        new_tags=set(spec.target.ollama_tags),
        old_ctx=spec.source.n_ctx,
        new_ctx=spec.target.n_ctx,
    )
