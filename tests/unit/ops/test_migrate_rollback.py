"""`migrate-model --rollback` (rdic_ops/ops/migrate_rollback.py) on a journal of plain files: every file the
migration wrote restored, someone's later work stopping the whole rollback (its diff shown) unless
--discard-later-edits, the model links removed only while they are the very files it made."""

import os

import pytest

from rdic_ops.migration.journal import FileEdit, Journal
from rdic_ops.ops.migrate_rollback import rollback
from rdic_ops.plan import Status

OLD, NEW = b"m = 'old-8b.gguf'\n", b"m = 'new-12b.gguf'\n"


@pytest.fixture
def applied(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for rel in ("a.py", "b.py"):
        (root / rel).write_bytes(OLD)
    j = Journal.of(tmp_path / "migrations", "m", root)
    for rel in ("a.py", "b.py"):
        j.edit(FileEdit(rel, OLD, NEW, 1), "m")
    store = tmp_path / "store.gguf"
    store.write_bytes(b"GGUF")
    (root / "models").mkdir()
    os.link(store, root / "models" / "new.gguf")
    st = (root / "models" / "new.gguf").lstat()
    j.finish(placed=["models/new.gguf"], placed_ids={"models/new.gguf": [st.st_dev, st.st_ino]})
    return j


def test_a_rollback_restores_every_file_removes_its_link_and_says_rolled_back(applied):
    root = applied.root
    r = rollback(applied)
    assert r.status is Status.changed and (root / "a.py").read_bytes() == OLD and (root / "b.py").read_bytes() == OLD
    assert not (root / "models" / "new.gguf").exists() and applied.status == "rolled-back"
    assert [c.target for c in r.changes] == ["a.py", "b.py", "models/new.gguf", "journal"]
    again = rollback(applied)
    assert again.status is Status.ok and again.changes[0].reason == "nothing to roll back"


def test_a_dry_run_shows_the_restores_and_changes_nothing(applied):
    r = rollback(applied, dry_run=True)
    assert r.status is Status.pending and r.changes[0].action == "would restore"
    assert (r.changes[0].before, r.changes[0].after) == (NEW.decode(), OLD.decode())
    assert (applied.root / "a.py").read_bytes() == NEW and applied.status == "applied"


def test_someone_s_later_work_stops_the_whole_rollback(applied):
    root = applied.root
    (root / "b.py").write_bytes(b"my work\n")
    r = rollback(applied)
    assert r.status is Status.failed and r.message == "1 file(s) changed after the migration (b.py): nothing restored"
    assert r.changes[0].reason == "changed after the migration: kept" and r.changes[0].before == "my work\n"
    assert (root / "a.py").read_bytes() == NEW and "--discard-later-edits" in r.remedy  # nothing restored


def test_discard_later_edits_restores_after_saving_that_work(applied):
    root = applied.root
    (root / "b.py").write_bytes(b"my work\n")
    r = rollback(applied, discard_later_edits=True)
    assert r.status is Status.changed and (root / "b.py").read_bytes() == OLD
    saved = list((applied.dir / "after-rollback").iterdir())
    assert [p.read_bytes() for p in saved] == [b"my work\n"]


def test_a_link_replaced_since_is_not_the_migration_s_to_remove(applied):
    root = applied.root
    link = root / "models" / "new.gguf"
    link.unlink()
    link.write_bytes(b"the user's own model")
    r = rollback(applied)
    assert (
        r.status is Status.failed and r.changes[0].reason == "replaced after the migration (not the link it made): kept"
    )
    assert link.read_bytes() == b"the user's own model"


def test_a_deleted_file_is_named_so(applied):
    (applied.root / "a.py").unlink()
    r = rollback(applied)
    assert r.changes[0].reason == "deleted after the migration: kept" and r.changes[0].before is None


def test_discarding_later_edits_never_removes_a_model_file_that_is_not_the_link(applied):
    link = applied.root / "models" / "new.gguf"
    link.unlink()
    link.write_bytes(b"the user's own model")
    r = rollback(applied, discard_later_edits=True)
    assert r.status is Status.changed and link.read_bytes() == b"the user's own model"
    assert "models/new.gguf" not in [c.target for c in r.changes]
