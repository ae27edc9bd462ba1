"""The app's own embedding setting (.env, YAML or JSON): one key changed, a diff shown, a backup kept."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change
from rdic_ops.redact import is_secret_name


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


def current_value(text: str, fmt: str, key: str) -> str | None:
    """The key's value in the file now (None when unset)."""
    if fmt == "json":
        node = json.loads(text or "{}")
        for p in key.split("."):
            node = node.get(p) if isinstance(node, dict) else None
        return None if node is None else str(node)
    m = re.search(rf"^\s*(?:export\s+)?{re.escape(key)}\s*{'=' if fmt == 'env' else ':'}\s*(.*?)\s*$", text, re.M)
    return m[1] if m else None


def app_setting_change(path: Path, key: str, value: str, backup_dir: Path) -> Change:
    """One key of the app's settings file. The plan shows only that key (the file may hold API keys); the
    backup goes to ``backup_dir`` (rdic-ops' state dir) with mode 0600, never beside the file."""
    fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix, "env")
    if fmt == "yaml" and "." in key:
        raise UsageError("embedding.app_setting_key: only top-level keys are edited in YAML files")
    have = path.read_text() if path.exists() else None
    try:
        want = set_setting(have or "", fmt, key, value)
        old = current_value(have or "", fmt, key)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    shown_old = "(unset)" if old is None else f"{key}={old}"
    if have == want:
        return Change.noop(
            str(path), shown_old, after=f"{key}={value}", reason=f"{key} is {value}", secret=is_secret_name(key)
        )

    def write():
        saved = backup(path, backup_dir)
        if saved:
            os.chmod(saved, 0o600)
        atomic_write(path, want)

    return Change(
        str(path),
        "update" if have is not None else "create",
        shown_old,
        f"{key}={value}",
        reason=f"the app embeds with {value}",
        secret=is_secret_name(key),
        apply=write,
    )
