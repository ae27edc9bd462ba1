"""The journal of a migration: originals backed up before any edit, each file written atomically, undoable.

``journal.json`` (under the state dir, one per migration and project) lists every edited file with the sha256
of its original and of what the migration wrote; ``backups/`` holds the originals (mode kept). Status:
``applying`` while files are being written (a crash leaves it so: the next run restores them before planning
again), ``applied``, ``rolled-back``, ``discarded`` (set aside: no file held what the migration wrote).

A file's bytes are compared with the journal before anything is written over them (``state``): ``ours`` (what
the migration wrote), ``original`` (what it backed up), ``changed`` (anything else: the user's work) or
``missing``. Only ``ours`` is ever overwritten by a restore or a recovery; a re-apply keeps a file's first backup
only while the file still holds what the migration wrote, otherwise that backup is stale and the file's bytes
of now are backed up instead. Backups set aside are moved under ``stale/``, never deleted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.errors import StepFailed
from rdic_ops.fsutil import ChangedMeanwhile, atomic_write, current_bytes, leftover_temps, stamp, unique_path
from rdic_ops.migration import project_lock
from rdic_ops.migration.journal_check import MAX_BYTES, checked, checked_error

OURS, ORIGINAL, CHANGED, MISSING = "ours", "original", "changed", "missing"


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

    @classmethod
    def of(cls, migrations_dir: Path, name: str, root: Path) -> Journal:
        """The journal of migration ``name`` on project ``root``: one directory per pair."""
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
        return cls(migrations_dir / f"{name}-{key}", root)

    def placed_here(self, rel: str) -> bool:
        """Is the model link at ``rel`` still the one the migration made (same file: device and inode)?"""
        ident = self.read().get("placed_ids", {}).get(rel)
        try:
            st = (self.root / rel).lstat()
        except OSError:
            return False
        return ident is not None and [st.st_dev, st.st_ino] == list(ident)

    def read(self) -> dict:
        """The journal's data ({} when there is none); a damaged one is an error naming it (journal_check)."""
        path = self.dir / "journal.json"
        if not path.exists():
            return {}
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise checked_error(path)
        return checked(path, path.read_text(errors="replace"))

    def write(self, data: dict) -> None:
        atomic_write(self.dir / "journal.json", json.dumps(data, indent=2))

    @property
    def status(self) -> str:
        return self.read().get("status", "never applied")

    def files(self) -> dict[str, dict]:
        return {f["path"]: f for f in self.read().get("files", [])}

    def backup_path(self, rel: str) -> Path:
        return self.dir / "backups" / rel

    def exclusive(self):
        """One apply or rollback at a time on a project, whatever the migration (migration/project_lock.py)."""
        return project_lock.exclusive(self.dir.parent, self.root)

    def inside(self, rel: str) -> Path:
        """The project file ``rel`` names, refused when a folder on its way is a link out of the project (a
        restore never writes outside the project it migrated)."""
        path = self.root / rel
        if not path.parent.resolve().is_relative_to(self.root.resolve()):
            raise StepFailed(
                f"{rel}: a folder on its way leads out of {self.root}: not restored",
                remedy="put the folder back as it was, then re-run",
            )
        return path

    def state(self, rel: str) -> str:
        """What ``rel`` holds now against the journal: ours, original, changed (someone's work) or missing."""
        f = self.files()[rel]
        path = self.root / rel
        if not path.is_file():
            return MISSING
        have = sha(path.read_bytes())
        if have == f.get("after_sha256"):
            return OURS
        return ORIGINAL if have == f["before_sha256"] else CHANGED

    def stale(self) -> bool:
        """An applied journal none of whose files holds what the migration wrote: the migration was discarded
        (``git checkout .``, a reset), so its backups no longer describe the tree."""
        if self.status != "applied" or not self.files():
            return False
        return all(self.state(rel) != OURS for rel in self.files())

    def set_aside(self) -> Path | None:
        """Move the backups and the journal of a stale migration under ``stale/<time>/`` (kept, never deleted);
        the next apply starts a journal of its own. Returns where they went."""
        if not self.dir.joinpath("journal.json").exists():
            return None
        dest = unique_path(self.dir / "stale")
        dest.mkdir(parents=True)
        if self.dir.joinpath("backups").exists():
            shutil.move(str(self.dir / "backups"), str(dest / "backups"))
        j = self.read()
        atomic_write(dest / "journal.json", json.dumps(j, indent=2))
        self.write(
            {
                "history": [
                    *j.get("history", []),
                    {
                        "status": j.get("status"),
                        "files": len(j.get("files", [])),
                        "at": time.time(),
                        "set_aside": str(dest),
                    },
                ],
                "status": "discarded",
            }
        )
        return dest

    def _set_aside_backup(self, rel: str) -> None:
        """One file's backup is stale (the file no longer holds what the migration wrote): keep it under stale/."""
        old = self.backup_path(rel)
        if old.exists():
            dest = self.dir / "stale" / stamp() / "backups" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old), str(dest))

    def edit(self, fe: FileEdit, migration: str) -> None:
        """Back up the original, record it, then write the file atomically. A re-apply keeps the first backup
        of a file that still holds what the migration wrote; any other bytes are backed up anew."""
        j = self.read()
        if j.get("status") not in ("applying", "applied"):
            if self.dir.joinpath("backups").exists():  # a rolled-back or discarded journal's backups: kept aside
                shutil.move(str(self.dir / "backups"), str(unique_path(self.dir / "stale", suffix="-before-apply")))
            j = {"migration": migration, "target": str(self.root), "files": [], "history": j.get("history", [])}
        path = self.root / fe.rel
        if current_bytes(path) != fe.before:  # edited since the plan read it: someone's work, never written over
            raise ChangedMeanwhile(f"{fe.rel}: changed while the migration ran: left as it is")
        entries = {f["path"]: f for f in j["files"]}
        if fe.rel in entries and entries[fe.rel].get("after_sha256") != sha(fe.before):
            self._set_aside_backup(fe.rel)  # not what we wrote (discarded, or edited since): a stale backup
            del entries[fe.rel]
        earlier = dict(entries[fe.rel]) if fe.rel in entries else None
        if fe.rel not in entries:
            mode = path.stat().st_mode & 0o7777
            atomic_write(self.backup_path(fe.rel), fe.before, mode=mode)
            entries[fe.rel] = {"path": fe.rel, "before_sha256": sha(fe.before), "mode": mode}
        entries[fe.rel]["after_sha256"] = sha(fe.after)
        j["files"] = list(entries.values())
        j["status"] = "applying"
        j.setdefault("started_at", time.time())
        self.write(j)
        try:
            write_file(path, fe.after, unchanged=fe.before)
        except ChangedMeanwhile:  # edited between the check above and the rename: the journal as it was for it
            if earlier is None:
                del entries[fe.rel]
                self.backup_path(fe.rel).unlink(missing_ok=True)
            else:
                entries[fe.rel] = earlier
            self.write({**j, "files": list(entries.values())})
            raise

    def finish(self, **extra) -> None:
        j = self.read()
        if j.get("status") == "applying":
            j["status"] = "applied"
            j["applied_at"] = time.time()
        j.update(extra)
        self.write(j)

    def interrupted(self) -> list[str]:
        """Files an interrupted apply left holding what it wrote (only those are restored: a file someone
        changed since is theirs, see ``conflicts``)."""
        if self.status != "applying":
            return []
        return [rel for rel in self.files() if self.state(rel) == OURS and self.backup_path(rel).exists()]

    def conflicts(self) -> list[str]:
        """Files of an applied (or interrupted) migration that hold neither what it wrote nor the original:
        someone's work, which no restore may overwrite unasked."""
        if self.status not in ("applying", "applied"):
            return []
        return [rel for rel in self.files() if self.state(rel) in (CHANGED, MISSING)]

    def recover(self) -> list[str]:
        """Restore the originals of an interrupted apply; the journal then says rolled-back. A file changed
        since the crash is left as it is (its backup stays in the journal)."""
        restored = self.interrupted()
        for rel in restored:
            atomic_write(self.inside(rel), self.backup_path(rel).read_bytes(), mode=self.files()[rel].get("mode"))
        if self.status == "applying":
            self._mark("rolled-back", recovered_at=time.time())
        return restored

    def temps(self) -> list[Path]:
        """Temp files a killed apply or rollback left beside the files it was writing (atomic_write's names,
        made since the journal started): the next apply would find them uncommitted. Removed by the next run."""
        if self.status not in ("applying", "applied"):
            return []
        since = self.read().get("started_at", 0) - 1
        return [tmp for rel in self.files() for tmp in leftover_temps(self.inside(rel), since)]

    def save_current(self, rel: str) -> Path | None:
        """Copy what ``rel`` holds now under ``after-rollback/`` (beside the backups); None when it is gone."""
        path = self.root / rel
        if not path.is_file():
            return None
        where = self.dir / "after-rollback" / rel
        saved = unique_path(where.parent, f"{where.name}.")
        atomic_write(saved, path.read_bytes(), mode=0o600)
        return saved

    def restore(self, rel: str, *, discard_later_edits: bool = False) -> str:
        """Put one original back when the file holds what the migration wrote. Any other bytes are someone's
        work: refused (StepFailed) unless ``discard_later_edits``, and even then saved first. Returns a note."""
        state = self.state(rel)
        if state == ORIGINAL:
            return "already the original"
        note = ""
        if state != OURS:
            if not discard_later_edits:
                raise StepFailed(
                    f"{rel} changed after the migration: not restored",
                    remedy="pass --discard-later-edits to restore it (your version is saved first)",
                )
            saved = self.save_current(rel)
            note = (
                f"changed after the migration: that version saved to {saved}"
                if saved
                else "deleted after the migration: restored"
            )
        atomic_write(self.inside(rel), self.backup_path(rel).read_bytes(), mode=self.files()[rel].get("mode"))
        return note

    def _mark(self, status: str, **extra) -> None:
        j = self.read()
        j["history"] = [
            *j.get("history", []),
            {"status": j.get("status"), "files": len(j.get("files", [])), "at": time.time()},
        ]
        j["status"] = status
        j.update(extra)
        self.write(j)

    def mark_rolled_back(self) -> None:
        self._mark("rolled-back", rolled_back_at=time.time())


def write_file(path: Path, data: bytes, unchanged: bytes | None = None) -> None:
    """One project file written (atomically, mode kept; refused when it no longer holds ``unchanged``): the seam a
    crash test slows down from outside."""
    atomic_write(path, data, unchanged=unchanged)
