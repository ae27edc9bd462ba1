"""models.lock: what `invoke models.pull` may install, pinned to the byte.

A YAML file users commit: per model its source, the Ollama manifest digest or the Hub revision, and
the sha256 and size of every file (Ollama: every blob the manifest names).

Its schema is checked on every read: a sha256 is a string of 64 hex digits (an all-digit one that YAML reads
as a number is refused, never taken for "not pinned"), a size an integer >= 0, a source one of
conf/model's, every other field a string. A lock that breaks it is a ConfigError (exit 2) naming the file and
the entry; `save` checks what it writes the same way.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from rdic_ops.config.schema import ModelSource
from rdic_ops.errors import ConfigError
from rdic_ops.fsutil import MAX_LOCK_BYTES, atomic_write, read_user_file

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


HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_STRINGS = ("ollama_tag", "manifest_digest", "repo", "file", "revision", "package", "version")


class _Bad(ValueError):
    """One schema violation: where (``entry gemma3...: file x``) is added by the caller."""


def _short(name: object) -> str:
    text = str(name)
    return text if len(text) <= 80 else text[:77] + "..."


def _sha256(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _Bad("sha256 must be 64 hex characters, quoted (YAML read this one as a number)")
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise _Bad("sha256 must be 64 hex characters")
    return value.lower()


def _file(raw: object) -> LockedFile:
    if not isinstance(raw, dict):
        raise _Bad("each of files must be a mapping of name, sha256 and size")
    unknown = sorted(map(str, set(raw) - {"name", "sha256", "size"}))
    if unknown:
        raise _Bad(f"unknown key {_short(unknown[0])!r} in files")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise _Bad("each of files needs a name (a string)")
    size = raw.get("size")
    try:
        sha = _sha256(raw.get("sha256"))
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise _Bad("size must be an integer >= 0")
    except _Bad as exc:
        raise _Bad(f"file {_short(name)}: {exc}") from None
    return LockedFile(name, sha, size)


def _entry(raw: object) -> LockEntry:
    if not isinstance(raw, dict):
        raise _Bad("must be a mapping (source, files, ...)")
    known = {f.name for f in fields(LockEntry)}
    unknown = sorted(map(str, set(raw) - known))
    if unknown:
        raise _Bad(f"unknown key {_short(unknown[0])!r} (known: {', '.join(sorted(known))})")
    sources = [s.value for s in ModelSource]
    if raw.get("source") not in sources:
        raise _Bad(f"source must be one of {', '.join(sources)}")
    for key in _STRINGS:
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise _Bad(
                f"{key} must be a non-empty string"
                + (" (quote it: YAML read a number)" if isinstance(value, int | float) else "")
            )
    digest = raw.get("manifest_digest")
    if digest is not None and not (digest.startswith("sha256:") and HEX64.fullmatch(digest[7:])):
        raise _Bad("manifest_digest must be sha256: and 64 hex characters")
    files = raw.get("files") or []
    if not isinstance(files, list):
        raise _Bad("files must be a list")
    return LockEntry(**{k: raw.get(k) for k in _STRINGS}, source=raw["source"], files=[_file(f) for f in files])


def parse(data: object, path: str | Path) -> Lock:
    """A lock from its YAML data, every entry checked; ConfigError naming the file and the entry otherwise."""
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("models"), dict):
        raise ConfigError(f"{path}: not a valid models.lock (expected version: 1 and a models: mapping)")
    extra = sorted(map(str, set(data) - {"version", "models"}))
    if extra:
        raise ConfigError(f"{path}: not a valid models.lock (unknown key {_short(extra[0])!r})")
    models = {}
    for name, raw in data["models"].items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: entry {_short(name)}: a model name must be a string")
        try:
            models[name] = _entry(raw)
        except _Bad as exc:
            raise ConfigError(
                f"{path}: entry {_short(name)}: {exc}",
                remedy="fix it by hand, or delete the entry and run invoke models.lock",
            ) from None
    return Lock(models)


def load(path: str | Path) -> Lock | None:
    """The lock at ``path``, None when there is none; a malformed lock is a ConfigError (exit 2)."""
    from rdic_ops.config import yamlguard
    from rdic_ops.config.rules import yaml_problem

    path = Path(path)
    raw = read_user_file(path, "", MAX_LOCK_BYTES, error=ConfigError, missing_ok=True)  # bounded, never blocking
    if raw is None:
        return None
    try:
        data = yamlguard.load(path, raw.decode("utf-8"))  # aliases bounded: a ConfigError naming the file and line
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a valid models.lock (not UTF-8 text)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not a valid models.lock (not YAML{where}: {yaml_problem(exc)})") from None
    return parse(data, path)


def save(path: str | Path, lock: Lock) -> None:
    """Write the lock whole (a full disk leaves the old one); what is written is checked as it will be read."""
    text = lock.to_yaml()
    parse(yaml.safe_load(text), path)
    atomic_write(path, text, shared=True)
