"""YAML alias bombs (a billion laughs) and a copy of conf/ to plant them in, for tests/unit/config/test_yamlguard.py
and tests/integration/test_yaml_aliases.py."""

from __future__ import annotations

import shutil

from support.paths import ROOT

PROBLEM = ("the aliases of the anchor here expand the document by more than 1000 nodes (nested aliases, a "
           "'billion laughs'): write the values out, or use fewer aliases")


def laughs(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """a: &a [lol, ...]; b: &b [*a, ...]; ... -- width ** levels values once expanded. The aliases of c (line 3)
    cross 1,000 nodes at the fourth level."""
    names = "abcdefghijklmnop"
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ", ".join([f"*{names[i - 1]}"] * width) + "]")
    return "".join(indent + line + "\n" for line in lines)


def _conf(tmp_path) -> object:
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    return conf
