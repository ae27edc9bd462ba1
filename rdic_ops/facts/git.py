"""Facts about a git work tree, read through the one subprocess helper (rdic_ops.facts.run)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rdic_ops.facts.run import run


def _git(root: Path, *args: str, timeout: float = 60) -> tuple[bool, str]:
    out = run(["git", "-C", str(root), *args], timeout=timeout)
    return out.ok, out.stdout


def is_work_tree(root: Path) -> bool:
    ok, out = _git(root, "rev-parse", "--is-inside-work-tree")
    return ok and out.strip() == "true"


def top_level(root: Path) -> Path | None:
    ok, out = _git(root, "rev-parse", "--show-toplevel")
    return Path(out.strip()) if ok and out.strip() else None


def tracked_files(root: Path) -> list[str]:
    """Paths git tracks under ``root`` (relative to it, '/'-separated), submodules excluded."""
    ok, out = _git(root, "ls-files", "-z", "--", ".")
    return sorted(p for p in out.split("\0") if p) if ok else []


def dirty(root: Path) -> list[str]:
    """``git status --porcelain`` lines: uncommitted changes and untracked files (ignored ones excluded)."""
    ok, out = _git(root, "status", "--porcelain", "-uall")  # untracked files one by one, not their folder
    return [ln for ln in out.splitlines() if ln.strip()] if ok else []


def head(root: Path) -> str:
    ok, out = _git(root, "rev-parse", "HEAD")
    return out.strip() if ok else ""


def tree_state(root: Path) -> str:
    """A digest of HEAD, the index and the work tree's changes: equal digests mean the same files."""
    _, status = _git(root, "status", "--porcelain", "-uall")
    _, diff = _git(root, "diff", "HEAD", "--binary")
    return hashlib.sha256((head(root) + status + diff).encode()).hexdigest()[:16]


def is_ignored(root: Path, rel: str) -> bool:
    out = run(["git", "-C", str(root), "check-ignore", "-q", "--", rel], timeout=30)
    return out.returncode == 0
