"""A migration's journal (rdic_ops/migration/journal.py): originals backed up before an edit, each file's state
against what the migration wrote, and only the migration's own bytes ever written over, by a restore, a
recovery after a crash or a re-apply. Plain files under tmp_path."""

import json
import os

import pytest

from rdic_ops.errors import StepFailed
from rdic_ops.fsutil import ChangedMeanwhile
from rdic_ops.migration.journal import CHANGED, MISSING, ORIGINAL, OURS, FileEdit, Journal, sha

OLD, NEW = b"model = 'old-8b.gguf'\n", b"model = 'new-12b.gguf'\n"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_bytes(OLD)
    os.chmod(root / "app.py", 0o640)
    return root


@pytest.fixture
def journal(tmp_path, project):
    return Journal.of(tmp_path / "migrations", "m", project)


def apply(j, rel="app.py", before=OLD, after=NEW):
    j.edit(FileEdit(rel, before, after, 1), "m")


def test_one_journal_per_migration_and_project(tmp_path, project):
    a = Journal.of(tmp_path / "migrations", "m", project)
    assert a.dir == Journal.of(tmp_path / "migrations", "m", project / ".").dir
    assert a.dir != Journal.of(tmp_path / "migrations", "m", tmp_path).dir and a.dir.name.startswith("m-")
    assert a.status == "never applied" and a.read() == {} and a.files() == {}


def test_an_edit_backs_up_the_original_with_its_mode_then_writes(journal, project):
    apply(journal)
    assert (project / "app.py").read_bytes() == NEW
    assert journal.backup_path("app.py").read_bytes() == OLD
    f = journal.files()["app.py"]
    assert (f["before_sha256"], f["after_sha256"], f["mode"]) == (sha(OLD), sha(NEW), 0o640)
    assert journal.status == "applying"
    journal.finish(model="linked")
    assert journal.status == "applied" and journal.read()["model"] == "linked"


def test_state_tells_ours_original_changed_and_missing(journal, project):
    apply(journal)
    assert journal.state("app.py") == OURS
    (project / "app.py").write_bytes(OLD)
    assert journal.state("app.py") == ORIGINAL
    (project / "app.py").write_bytes(b"my own work\n")
    assert journal.state("app.py") == CHANGED
    (project / "app.py").unlink()
    assert journal.state("app.py") == MISSING


def test_a_file_edited_since_the_plan_is_never_written_over(journal, project):
    (project / "app.py").write_bytes(b"edited meanwhile\n")
    with pytest.raises(ChangedMeanwhile, match="app.py: changed while the migration ran"):
        apply(journal)
    assert (project / "app.py").read_bytes() == b"edited meanwhile\n" and "app.py" not in journal.files()


def test_restore_puts_back_only_what_the_migration_wrote(journal, project):
    apply(journal)
    journal.finish()
    assert journal.restore("app.py") == "" and (project / "app.py").read_bytes() == OLD
    assert oct((project / "app.py").stat().st_mode & 0o777) == oct(0o640)
    assert journal.restore("app.py") == "already the original"


def test_someone_s_later_work_is_refused_or_saved_first(journal, project):
    apply(journal)
    journal.finish()
    (project / "app.py").write_bytes(b"my work\n")
    with pytest.raises(StepFailed, match="app.py changed after the migration: not restored") as err:
        journal.restore("app.py")
    assert "--discard-later-edits" in err.value.remedy and (project / "app.py").read_bytes() == b"my work\n"
    note = journal.restore("app.py", discard_later_edits=True)
    assert note.startswith("changed after the migration: that version saved to ")
    saved = note.rsplit(" ", 1)[1]
    assert open(saved, "rb").read() == b"my work\n" and (project / "app.py").read_bytes() == OLD


def test_an_interrupted_apply_is_recovered_file_by_file(journal, project):
    (project / "b.py").write_bytes(OLD)
    apply(journal)
    apply(journal, "b.py")
    (project / "b.py").write_bytes(b"edited after the crash\n")
    assert journal.interrupted() == ["app.py"] and journal.conflicts() == ["b.py"]
    assert journal.recover() == ["app.py"]
    assert (project / "app.py").read_bytes() == OLD and (project / "b.py").read_bytes() == b"edited after the crash\n"
    assert journal.status == "rolled-back" and journal.read()["history"][-1]["status"] == "applying"


def test_a_re_apply_keeps_the_first_backup_only_while_the_file_is_ours(journal, project):
    apply(journal)
    journal.finish()
    newer = b"model = 'newer.gguf'\n"
    apply(journal, before=NEW, after=newer)  # the file still holds what we wrote: the original stays the backup
    assert journal.backup_path("app.py").read_bytes() == OLD
    journal.finish()
    (project / "app.py").write_bytes(b"user rewrote it\n")
    apply(journal, before=b"user rewrote it\n", after=NEW)  # not ours: that backup is stale, kept aside
    assert journal.backup_path("app.py").read_bytes() == b"user rewrote it\n"
    assert list((journal.dir / "stale").rglob("app.py"))[0].read_bytes() == OLD


def test_a_discarded_migration_is_stale_and_set_aside_whole(journal, project):
    apply(journal)
    journal.finish()
    assert not journal.stale()
    (project / "app.py").write_bytes(OLD)  # `git checkout .`
    assert journal.stale()
    dest = journal.set_aside()
    assert (dest / "backups" / "app.py").read_bytes() == OLD
    assert json.loads((dest / "journal.json").read_text())["status"] == "applied"
    assert journal.status == "discarded" and journal.read()["history"][-1]["set_aside"] == str(dest)


def test_a_restore_never_writes_through_a_link_out_of_the_project(journal, project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "sub").symlink_to(outside)
    with pytest.raises(StepFailed, match=r"sub/x\.py: a folder on its way leads out of .*: not restored"):
        journal.inside("sub/x.py")


def test_mark_rolled_back_keeps_history(journal):
    apply(journal)
    journal.finish()
    journal.mark_rolled_back()
    j = journal.read()
    assert j["status"] == "rolled-back" and [h["status"] for h in j["history"]] == ["applied"]
    assert journal.conflicts() == [] and journal.interrupted() == []
