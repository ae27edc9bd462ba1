"""The app's own embedding setting (.env, YAML or JSON): one key changed, a diff shown, a backup kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change


def set_setting(text: str, fmt: str, key: str, value: str) -> str:
    if fmt == "json":
        data = json.loads(text or "{}")
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
        return json.dumps(data, indent=2) + "\n"
    sep = "=" if fmt == "env" else ": "
    pattern = re.compile(rf"^(\s*(?:export\s+)?{re.escape(key)}\s*{'=' if fmt == 'env' else ':'}\s*)(.*?)(\s*)$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: m[1] + value + m[3], text, count=1)
    nl = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{nl}{key}{sep}{value}\n"


def app_setting_change(path: Path, key: str, value: str) -> Change:
    fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix, "env")
    if fmt == "yaml" and "." in key:
        raise UsageError("embedding.app_setting_key: only top-level keys are edited in YAML files")
    have = path.read_text() if path.exists() else None
    try:
        want = set_setting(have or "", fmt, key, value)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if have == want:
        return Change(str(path), "none", have, want, reason=f"{key} is {value}")

    def write():
        backup(path)
        atomic_write(path, want)
    return Change(str(path), "update" if have is not None else "create", have, want,
                  reason=f"the app embeds with {value}", apply=write)
