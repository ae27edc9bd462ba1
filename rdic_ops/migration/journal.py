"""The journal of a migration: originals backed up before any edit, each file written atomically, undoable.

``journal.json`` (under the state dir, one per migration and project) lists every edited file with the sha256
of its original and of what the migration wrote; ``backups/`` holds the originals (mode kept). Status:
``applying`` while files are being written (a crash leaves it so: the next run restores them before planning
again), ``applied``, ``rolled-back``. A re-apply keeps the first backups. A rollback never overwrites a file
changed after the migration without first saving that version under ``after-rollback/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.fsutil import atomic_write


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileEdit:
    rel: str
    before: bytes
    after: bytes
    count: int  # edits inside the file


class Journal:
    def __init__(self, jdir: Path, root: Path):
        self.dir, self.root = jdir, root

    def read(self) -> dict:
        try:
            return json.loads((self.dir / "journal.json").read_text())
        except (OSError, ValueError):
            return {}

    def write(self, data: dict) -> None:
        atomic_write(self.dir / "journal.json", json.dumps(data, indent=2))

    @property
    def status(self) -> str:
        return self.read().get("status", "never applied")

    def files(self) -> dict[str, dict]:
        return {f["path"]: f for f in self.read().get("files", [])}

    def backup_path(self, rel: str) -> Path:
        return self.dir / "backups" / rel

    def edit(self, fe: FileEdit, migration: str) -> None:
        """Back up the original (once per apply run), record it, then write the file atomically."""
        j = self.read()
        if j.get("status") not in ("applying", "applied"):
            if self.dir.joinpath("backups").exists():
                shutil.rmtree(self.dir / "backups")
            j = {"migration": migration, "target": str(self.root), "files": [], "history": j.get("history", [])}
        path = self.root / fe.rel
        entries = {f["path"]: f for f in j["files"]}
        if fe.rel not in entries:  # the first backup is the one kept
            mode = path.stat().st_mode & 0o7777
            atomic_write(self.backup_path(fe.rel), fe.before, mode=mode)
            entries[fe.rel] = {"path": fe.rel, "before_sha256": sha(fe.before), "mode": mode}
        entries[fe.rel]["after_sha256"] = sha(fe.after)
        j["files"] = list(entries.values())
        j["status"] = "applying"
        j.setdefault("started_at", time.time())
        self.write(j)
        write_file(path, fe.after)

    def finish(self, **extra) -> None:
        j = self.read()
        if j.get("status") == "applying":
            j["status"] = "applied"
            j["applied_at"] = time.time()
        j.update(extra)
        self.write(j)

    def interrupted(self) -> list[str]:
        """Files an interrupted apply left differing from their originals."""
        if self.status != "applying":
            return []
        out = []
        for rel, f in self.files().items():
            path = self.root / rel
            have = path.read_bytes() if path.exists() else b""
            if sha(have) != f["before_sha256"] and self.backup_path(rel).exists():
                out.append(rel)
        return out

    def recover(self) -> list[str]:
        """Restore the originals of an interrupted apply; the journal then says rolled-back."""
        restored = self.interrupted()
        for rel in restored:
            atomic_write(self.root / rel, self.backup_path(rel).read_bytes(), mode=self.files()[rel].get("mode"))
        if self.status == "applying":
            self._mark("rolled-back", recovered_at=time.time())
        return restored

    def restore(self, rel: str) -> str:
        """Put one original back; a version edited after the migration is saved first. Returns a note."""
        f = self.files()[rel]
        path = self.root / rel
        have = path.read_bytes() if path.exists() else None
        note = ""
        if have is not None and sha(have) not in (f.get("after_sha256"), f["before_sha256"]):
            saved = self.dir / "after-rollback" / f"{rel}.{time.strftime('%Y%m%d-%H%M%S')}"
            atomic_write(saved, have)
            note = f"edited after the migration: that version saved to {saved}"
        atomic_write(path, self.backup_path(rel).read_bytes(), mode=f.get("mode"))
        return note

    def _mark(self, status: str, **extra) -> None:
        j = self.read()
        j["history"] = [*j.get("history", []), {"status": j.get("status"), "files": len(j.get("files", [])),
                                                 "at": time.time()}]
        j["status"] = status
        j.update(extra)
        self.write(j)

    def mark_rolled_back(self) -> None:
        self._mark("rolled-back", rolled_back_at=time.time())


def write_file(path: Path, data: bytes) -> None:
    """One project file written (atomically, mode kept): the seam a crash test slows down from outside."""
    atomic_write(path, data)


def same_inode(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
