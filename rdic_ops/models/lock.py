"""models.lock: what `invoke models.pull` may install, pinned to the byte.

A YAML file users commit: per model its source, the Ollama manifest digest or the Hub revision, and
the sha256 and size of every file (Ollama: every blob the manifest names).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write

HEADER = "# models.lock: written by `invoke models.lock`; `invoke models.pull` installs exactly this.\n"


@dataclass
class LockedFile:
    name: str  # blobs/sha256-<hex> (Ollama) or the file name
    sha256: str
    size: int


@dataclass
class LockEntry:
    source: str
    ollama_tag: str | None = None
    manifest_digest: str | None = None
    repo: str | None = None
    file: str | None = None
    revision: str | None = None
    package: str | None = None
    version: str | None = None
    files: list[LockedFile] = field(default_factory=list)

    def file_sha(self, name: str) -> str | None:
        return next((f.sha256 for f in self.files if f.name == name), None)


@dataclass
class Lock:
    models: dict[str, LockEntry] = field(default_factory=dict)

    def to_yaml(self) -> str:
        data = {"version": 1, "models": {}}
        for name in sorted(self.models):
            e = {k: v for k, v in asdict(self.models[name]).items() if v not in (None, [])}
            data["models"][name] = e
        return HEADER + yaml.safe_dump(data, sort_keys=False)


def load(path: str | Path) -> Lock | None:
    """The lock at ``path``, None when there is none; a malformed lock is a UsageError (exit 2)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text()) or {}
        if data.get("version") != 1 or not isinstance(data.get("models"), dict):
            raise ValueError("expected version: 1 and a models: mapping")
        models = {}
        for name, e in data["models"].items():
            files = [LockedFile(**f) for f in e.pop("files", [])]
            models[name] = LockEntry(**e, files=files)
        return Lock(models)
    except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: not a valid models.lock ({exc})") from exc


def save(path: str | Path, lock: Lock) -> None:
    atomic_write(path, lock.to_yaml())
