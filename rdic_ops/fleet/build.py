"""What the controller ships to every host: a wheel of this checkout (conf/ and the command line inside it).

The build id is the package version plus a hash of every file that goes out (the package, pyproject,
conf/ without conf/site/, which holds per-machine paths and secrets): two checkouts with the same
id ship the same bytes, and a host is "on the controller's version" when its installed id matches. The
wheel is built once per id from a copy of exactly the hashed files (conf/ copied into rdic_ops/conf, where
pyproject's package-data takes it) and cached under the state dir.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.errors import StepFailed

REPO = Path(__file__).resolve().parents[2]
_SKIP_DIRS = {"__pycache__"}


def sources(root: Path) -> list[str]:
    """Relative paths of every file that goes to the hosts, sorted."""
    files = [name for name in ("pyproject.toml", "README.md") if (root / name).is_file()]
    for top in ("rdic_ops", "conf"):
        for p in (root / top).rglob("*"):
            rel = p.relative_to(root)
            if p.is_file() and not (set(rel.parts[:-1]) & _SKIP_DIRS) and p.suffix != ".pyc":
                if top == "conf" and rel.parts[1:2] == ("site",):  # per-machine settings, never shipped
                    continue
                files.append(rel.as_posix())
    return sorted(files)


def build_id(root: Path) -> tuple[str, str]:
    """(version, id): ``<version>+<12 hex of the shipped files sha256>``, e.g. ``0.2.0+5f1c0e9a2b7d``."""
    try:
        version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise StepFailed(f"{root}/pyproject.toml: cannot read the version ({exc})") from None
    h = hashlib.sha256()
    for rel in sources(root):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return version, f"{version}+{h.hexdigest()[:12]}"


@dataclass
class Build:
    id: str
    version: str
    wheel: Path  # the hosts run its own tasks (python -m rdic_ops.cli)


def _staged(rel: str) -> str | None:
    """Where a shipped file goes in the wheel's source tree (None: not in the wheel)."""
    if rel.startswith("rdic_ops/") or rel in ("pyproject.toml", "README.md"):
        return rel
    return f"rdic_ops/{rel}" if rel.startswith("conf/") else None


def _wheel(root: Path, files: list[str], out: Path) -> Path:
    from rdic_ops.facts.run import run

    with tempfile.TemporaryDirectory(prefix="rdic-wheel-") as tmp:
        src = Path(tmp) / "src"
        for rel in files:
            dest = _staged(rel)
            if dest:
                (src / dest).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / rel, src / dest)
        got = run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "--disable-pip-version-check",
                "-w",
                str(Path(tmp) / "dist"),
                str(src),
            ],
            timeout=600,
        )
        wheels = list((Path(tmp) / "dist").glob("*.whl"))
        if not got.ok or not wheels:
            line = (got.stderr.strip().splitlines() or ["no wheel produced"])[-1]
            raise StepFailed(f"building the rdic-ops wheel failed: {line}")
        dest = out / wheels[0].name
        shutil.copy2(wheels[0], dest.with_suffix(".tmp"))
        dest.with_suffix(".tmp").replace(dest)
        return dest


class Builder:
    """The controller's build: its id at once, the wheel on first need (once, thread-safe)."""

    def __init__(self, root: Path = REPO, cache: Path | None = None):
        from rdic_ops.fleet.connect import state_dir

        self.root = Path(root)
        self.version, self.id = build_id(self.root)
        self.dir = (cache or state_dir() / "fleet" / "builds") / self.id
        self._lock = threading.Lock()
        self._build: Build | None = None

    def get(self) -> Build:
        with self._lock:
            if self._build is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                files = sources(self.root)
                wheels = sorted(self.dir.glob("*.whl"))
                wheel = wheels[0] if wheels else _wheel(self.root, files, self.dir)
                self._build = Build(self.id, self.version, wheel)
            return self._build
