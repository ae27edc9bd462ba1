"""%UserProfile%\\.wslconfig as a Linux path (rdic_ops/facts/windows.py), from what interop answers."""

import pytest

from rdic_ops.facts import windows
from rdic_ops.facts.run import Ran


def interop(answers):
    asked = []

    def run(argv, timeout):
        asked.append(argv)
        return answers.get(argv[0])

    return run, asked


def test_the_profile_is_translated_by_wslpath():
    run, asked = interop({"cmd.exe": "C:\\Users\\ann\r\n", "wslpath": "/mnt/c/Users/ann\r\n"})
    assert str(windows.profile_wslconfig(run)) == "/mnt/c/Users/ann/.wslconfig"
    assert asked == [["cmd.exe", "/c", "echo %USERPROFILE%"], ["wslpath", "-u", "C:\\Users\\ann"]]


@pytest.mark.parametrize(
    "answers",
    [
        {},  # no interop
        {"cmd.exe": "%USERPROFILE%\r\n", "wslpath": "/mnt/c/%USERPROFILE%"},  # unset: cmd echoes it back
        {"cmd.exe": "  \r\n"},
        {"cmd.exe": "C:\\Users\\ann\r\n", "wslpath": ""},
        {"cmd.exe": "C:\\Users\\ann\r\n"},
    ],
)
def test_interop_that_cannot_tell_is_none(answers):
    assert windows.profile_wslconfig(interop(answers)[0]) is None


def test_interop_runs_from_a_drive_and_only_trusts_success(monkeypatch):
    seen = []
    monkeypatch.setattr(windows, "run_argv", lambda argv, timeout, cwd: seen.append(cwd) or Ran(argv, 1, "x", ""))
    assert windows._interop(["cmd.exe"], 1.0) is None
    monkeypatch.setattr(windows, "run_argv", lambda argv, timeout, cwd: Ran(argv, 0, "C:\\\r\n", ""))
    assert windows._interop(["cmd.exe"], 1.0) == "C:\\\r\n"
    assert seen[0] in ("/mnt/c", "/")
