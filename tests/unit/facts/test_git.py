"""Facts about a git work tree (rdic_ops/facts/git.py), with git's answers scripted at the one subprocess
helper: porcelain output parsed path for path (renames, odd names), hidden edits found, a failed git an empty
answer, and git never asked to write its index."""

from types import SimpleNamespace

import pytest

from rdic_ops.facts import git
from rdic_ops.facts.run import Ran


@pytest.fixture
def answers(monkeypatch):
    """git subcommand (the words after -C ROOT) -> (returncode, stdout); every call recorded."""
    table: dict[tuple, tuple[int, str]] = {}
    calls, inputs = [], []

    def run(argv, timeout=10.0, input=None, **kw):
        calls.append(argv)
        inputs.append(input)
        args = argv[argv.index("-C") + 2 :]
        for key, (rc, out) in table.items():
            if tuple(args[: len(key)]) == key:
                return Ran(argv, rc, out, "")
        return Ran(argv, 128, "", "fatal: not a git repository")

    monkeypatch.setattr(git, "run", run)
    return SimpleNamespace(table=table, calls=calls, inputs=inputs)


def test_facts_never_take_git_s_index_lock(answers, tmp_path):
    answers.table[("rev-parse", "--is-inside-work-tree")] = (0, "true\n")
    assert git.is_work_tree(tmp_path)
    assert answers.calls[0][:4] == ["git", "--no-optional-locks", "-C", str(tmp_path)]


def test_a_failed_git_is_an_empty_answer(answers, tmp_path):
    assert not git.is_work_tree(tmp_path) and git.top_level(tmp_path) is None and git.head(tmp_path) == ""
    assert git.tracked_files(tmp_path) == [] and git.dirty(tmp_path) == [] and git.dirty_paths(tmp_path) == []
    assert git.hidden_changes(tmp_path) == []


def test_tracked_files_are_sorted_and_split_on_nul(answers, tmp_path):
    answers.table[("ls-files", "-z")] = (0, "b.py\0a dir/x y.py\0\0")
    answers.table[("rev-parse", "--show-toplevel")] = (0, f"{tmp_path}\n")
    assert git.tracked_files(tmp_path) == ["a dir/x y.py", "b.py"] and git.top_level(tmp_path) == tmp_path


def test_dirty_paths_are_exact_and_a_rename_gives_its_new_path(answers, tmp_path):
    answers.table[("status", "--porcelain", "-z")] = (
        0,
        " M src/a.py\0R  new name.py\0old name.py\0?? notes\n.txt\0AB\0",
    )
    assert git.dirty_paths(tmp_path) == [(" M", "src/a.py"), ("R ", "new name.py"), ("??", "notes\n.txt")]
    answers.table[("status", "--porcelain", "-uall")] = (0, " M a.py\n\n?? b\n")
    assert git.dirty(tmp_path) == [" M a.py", "?? b"]


def test_hidden_changes_are_flagged_files_whose_bytes_differ_from_head(answers, tmp_path):
    (tmp_path / "same.py").write_text("x")
    (tmp_path / "edited.py").write_text("y")
    answers.table[("ls-files", "-v")] = (0, "H plain.py\0h same.py\0S edited.py\0h gone.py\0")
    answers.table[("rev-parse", "--verify", "-q", "HEAD:./same.py")] = (0, "aaa\n")
    answers.table[("rev-parse", "--verify", "-q", "HEAD:./edited.py")] = (0, "bbb\n")
    answers.table[("hash-object", "--path=same.py")] = (0, "aaa\n")
    answers.table[("hash-object", "--path=edited.py")] = (0, "ccc\n")
    assert git.hidden_changes(tmp_path) == [("hM", "edited.py"), ("hD", "gone.py")]


def test_is_ignored_is_check_ignore_s_exit_code(answers, tmp_path):
    answers.table[("check-ignore", "-q", "--", "build/x")] = (0, "")
    assert git.is_ignored(tmp_path, "build/x") and not git.is_ignored(tmp_path, "src/x")


def test_tree_state_follows_content_and_untracked_names(answers, tmp_path):
    (tmp_path / "a.py").write_text("x")
    answers.table[("ls-files", "-z", "--")] = (0, "a.py\0gone.py\0")
    answers.table[("hash-object", "--stdin-paths")] = (0, "aaa\n")
    answers.table[("ls-files", "--others")] = (0, "")
    before = git.tree_state(tmp_path)
    assert answers.inputs[-2] == "a.py"  # only files on disk are hashed
    answers.table[("hash-object", "--stdin-paths")] = (0, "bbb\n")
    edited = git.tree_state(tmp_path)
    answers.table[("ls-files", "--others")] = (0, "new.txt\0")
    assert len({before, edited, git.tree_state(tmp_path)}) == 3 and len(before) == 16
