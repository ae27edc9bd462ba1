"""Facts about a git work tree, read through the one subprocess helper (rdic_ops.facts.run)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rdic_ops.facts.run import run


def _git(root: Path, *args: str, timeout: float = 60) -> tuple[bool, str]:
    out = run(["git", "--no-optional-locks", "-C", str(root), *args], timeout=timeout)  # a fact writes no index
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


def dirty_paths(root: Path) -> list[tuple[str, str]]:
    """(status, path) of every uncommitted change and untracked file, paths exactly as on disk (``-z``: no
    quoting of odd names; a rename gives its new path)."""
    ok, out = _git(root, "status", "--porcelain", "-z", "-uall")
    if not ok:
        return []
    items, parts = [], out.split("\0")
    i = 0
    while i < len(parts):
        entry = parts[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":  # a rename or copy: the source path follows as its own entry
            i += 1
        items.append((code, path))
    return items


def hidden_changes(root: Path) -> list[tuple[str, str]]:
    """(status, path) of tracked files whose bytes differ from HEAD while ``git status`` shows them clean: marked
    ``--assume-unchanged`` (a lowercase tag in ``ls-files -v``) or ``--skip-worktree`` (tag S). Status "hM" (or
    "hD" when gone); the bytes are compared as ``git add`` would see them (``hash-object --path``: the path's
    filters applied)."""
    ok, out = _git(root, "ls-files", "-v", "-z", "--", ".")
    flagged = [e[2:] for e in out.split("\0") if len(e) > 2 and (e[0].islower() or e[0] == "S")] if ok else []
    items = []
    for rel in flagged:
        if not (root / rel).is_file():
            items.append(("hD", rel))
            continue
        in_head, head_id = _git(root, "rev-parse", "--verify", "-q", f"HEAD:./{rel}")
        hashed, work_id = _git(root, "hash-object", f"--path={rel}", "--", rel)
        if not (in_head and hashed) or head_id.strip() != work_id.strip():
            items.append(("hM", rel))
    return items


def head(root: Path) -> str:
    ok, out = _git(root, "rev-parse", "HEAD")
    return out.strip() if ok else ""


def tree_state(root: Path) -> str:
    """A digest of the files as they are (tracked ones by content, untracked ones by name): committing or
    staging changes nothing, an edit anywhere does."""
    files = tracked_files(root)
    out = run(
        ["git", "-C", str(root), "hash-object", "--stdin-paths"],
        timeout=120,
        input="\n".join(f for f in files if (root / f).is_file()),
    )
    _, others = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    return hashlib.sha256("\0".join([*files, out.stdout, others]).encode()).hexdigest()[:16]


def is_ignored(root: Path, rel: str) -> bool:
    out = run(["git", "-C", str(root), "check-ignore", "-q", "--", rel], timeout=30)
    return out.returncode == 0
