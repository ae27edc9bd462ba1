"""migrate-model keeps a user's work in the cases a second independent tester found (issue 26, round two).

- A line appended to a project file while the apply was writing other files was overwritten: the edits were
  planned from the bytes read at the start and written over whatever the file held by then (303 files, 9 s of
  apply: five lines lost, gone from the backups too).
- A file marked `git update-index --assume-unchanged` (or --skip-worktree) with uncommitted work in it looks
  clean to `git status`: the apply edited it.
- A run killed between writing a temp file and renaming it left `.NAME.XXXXXXXX.tmp` in the project; the
  rollback kept it and the next apply refused the project as uncommitted.
Each test here failed on the code before the fix.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from support.gitwork import git, snapshot

from rdic_ops.config.compose import compose
from rdic_ops.fsutil import ChangedMeanwhile, atomic_write
from rdic_ops.migration import journal as journal_mod
from rdic_ops.ops import migrate_model as mm
from rdic_ops.ops.migrate_rollback import rollback
from rdic_ops.plan import Status

WORK = "# my work, typed while the migration ran\n"


def _files_written(monkeypatch):
    """The project files the apply writes, in order; a hook runs before each one."""
    written, hooks = [], []
    real = journal_mod.write_file

    def spy(path, data, unchanged=None):
        for hook in hooks:
            hook(path)
        written.append(path.name)
        return real(path, data, unchanged)

    monkeypatch.setattr(journal_mod, "write_file", spy)
    return written, hooks


def test_a_file_edited_while_the_apply_runs_keeps_the_edit(project, migration, monkeypatch):
    """The user appends to the file the apply will edit last, while it writes the first: the apply stops there
    with that file as the user left it; the files edited so far roll back."""
    cfg = compose("local")
    spec, _ = mm.load(str(migration))
    planned = sorted(mm.make_plan(spec, project, mm.journal(cfg, spec, project)).changes, key=lambda c: c.target)
    last = project / planned[-1].target
    written, hooks = _files_written(monkeypatch)
    hooks.append(lambda path: written or last.write_text(last.read_text() + WORK))  # during the first write
    result = mm.migrate(cfg, spec, project, skip_verify=True)
    assert result.status is Status.failed
    assert "changed while the migration ran: left as it is" in result.message, result.message
    assert last.read_text().endswith(WORK) and last.name not in written
    j = mm.journal(cfg, spec, project)
    assert planned[-1].target not in j.files()  # never written: the journal does not claim it
    assert not j.backup_path(planned[-1].target).exists()
    monkeypatch.undo()
    back = rollback(j)
    assert back.status is not Status.failed, back.message
    assert last.read_text().endswith(WORK)  # the rollback never touched it
    assert git_status(project) == [f" M {planned[-1].target}"]


def test_an_edit_in_the_last_moment_before_the_rename_is_kept(project, migration, monkeypatch):
    """Between the journal's check and the rename (the window atomic_write closes last): still kept."""
    cfg = compose("local")
    spec, _ = mm.load(str(migration))
    written, hooks = _files_written(monkeypatch)
    mine = {}

    def edit_now(path):
        if not mine:
            path.write_text(path.read_text() + WORK)
            mine[path] = path.read_bytes()

    hooks.append(edit_now)
    result = mm.migrate(cfg, spec, project, skip_verify=True)
    assert result.status is Status.failed and "changed while" in result.message
    ((path, data),) = mine.items()
    assert path.read_bytes() == data
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # no temp file left behind


def test_atomic_write_refuses_bytes_it_was_not_given(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("read\n")
    atomic_write(f, "edited\n", unchanged=b"read\n")
    assert f.read_text() == "edited\n"
    with pytest.raises(ChangedMeanwhile):
        atomic_write(f, "again\n", unchanged=b"read\n")
    assert f.read_text() == "edited\n" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_work_hidden_from_git_status_is_refused(project, migration, flag):
    cfg = compose("local")
    spec, _ = mm.load(str(migration))
    utils = project / "src/utils.py"
    git(project, "update-index", flag, "src/utils.py")
    utils.write_text(utils.read_text() + WORK)
    assert git_status(project) == []  # git status says clean
    mine = snapshot(project)
    with pytest.raises(Exception) as raised:
        mm.migrate(cfg, spec, project, skip_verify=True)
    assert "uncommitted changes (M src/utils.py, hidden from git status by --assume-unchanged or " \
           "--skip-worktree)" in str(raised.value)
    assert snapshot(project) == mine


def test_a_flagged_file_that_still_matches_head_is_no_obstacle(project, migration):
    cfg = compose("local")
    spec, _ = mm.load(str(migration))
    git(project, "update-index", "--assume-unchanged", "README.md")
    assert mm.migrate(cfg, spec, project, skip_verify=True).status is not Status.failed


def test_a_killed_apply_leaves_no_temp_file_after_the_next_run(project, migration, tmp_path):
    """Killed while a file's temp copy is written (a real SIGKILL, in a child process): the rollback removes the
    temp file with the edits, and the project is HEAD's again; an apply after that is not refused."""
    state = tmp_path / "state-kill"
    code = (
        "import os, sys, time\n"
        "from rdic_ops.migration import journal\n"
        "from rdic_ops import fsutil\n"
        "real = os.replace\n"
        "def slow(src, dst):\n"
        "    if str(src).endswith('.tmp') and str(dst).startswith(sys.argv[2]):\n"
        "        print('temp written', flush=True); time.sleep(60)\n"
        "    return real(src, dst)\n"
        "fsutil.os.replace = slow\n"
        "from rdic_ops.config.compose import compose\n"
        "from rdic_ops.ops import migrate_model as mm\n"
        "spec, _ = mm.load(sys.argv[1])\n"
        "mm.migrate(compose('local'), spec, __import__('pathlib').Path(sys.argv[2]), skip_verify=True)\n"
    )
    env = {**os.environ, "RDIC_STATE_DIR": str(state)}
    child = subprocess.Popen([sys.executable, "-c", code, str(migration), str(project)], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "temp written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    temps = [p for p in project.rglob("*.tmp")]
    assert len(temps) == 1 and temps[0].name.startswith(".")
    os.environ["RDIC_STATE_DIR"], saved = str(state), os.environ.get("RDIC_STATE_DIR")
    try:
        cfg = compose("local")
        spec, _ = mm.load(str(migration))
        j = mm.journal(cfg, spec, project)
        dry = rollback(j, dry_run=True)
        assert any(c.action == "remove" and c.target.endswith(".tmp") for c in dry.changes)
        assert temps[0].exists()  # a dry run removes nothing
        assert rollback(j).status is not Status.failed
        assert not temps[0].exists() and git_status(project) == []
        time.sleep(0.01)
        assert mm.migrate(cfg, spec, project, skip_verify=True).status is not Status.failed
    finally:
        os.environ["RDIC_STATE_DIR"] = saved or ""


def test_a_file_of_that_shape_from_before_the_run_is_not_ours(project, migration):
    cfg = compose("local")
    spec, _ = mm.load(str(migration))
    old = project / "src" / ".utils.py.abcd1234.tmp"
    old.write_text("someone's\n")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    git(project, "add", "-f", str(old))
    git(project, "commit", "-qm", "a file that looks like a temp file")
    mm.migrate(cfg, spec, project, skip_verify=True)
    j = mm.journal(cfg, spec, project)
    assert j.temps() == [] and old.read_text() == "someone's\n"


def git_status(root):
    out = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True)
    return [ln for ln in out.stdout.splitlines() if ln.strip()]
