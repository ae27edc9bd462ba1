"""Root for exactly the calls that need it (rdic_ops/ops/privileged.py): sudo -n only where the directory is
not ours, and every way it can fail one line naming what to run. The commands are answered at the one
subprocess helper; os.geteuid is faked where the test must not be root."""

import os
import stat

import pytest

from rdic_ops.errors import StepFailed
from rdic_ops.facts.run import Ran
from rdic_ops.ops import privileged


@pytest.fixture
def user(monkeypatch):
    """Not root: uid 1000, in no group of the files here."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getgroups", lambda: [])


@pytest.fixture
def ran(monkeypatch):
    calls, answers = [], {}

    def run(argv, timeout):
        calls.append(argv)
        return answers.get(argv[0], Ran(argv, 0, "ok\n", ""))

    monkeypatch.setattr(privileged, "run", run)
    return calls, answers


def test_writable_judges_the_nearest_existing_directory_by_owner_group_and_others(user, tmp_path, monkeypatch):
    d = tmp_path / "etc"
    d.mkdir()
    real_stat = os.stat

    def owned(uid, gid, mode):
        def fake(path, *a, **kw):
            st = real_stat(path, *a, **kw)
            if str(path) == str(d):
                return os.stat_result((stat.S_IFDIR | mode, st.st_ino, st.st_dev, 1, uid, gid, 0, 0, 0, 0))
            return st

        monkeypatch.setattr(os, "stat", fake)

    owned(0, 0, 0o755)
    assert not privileged.writable(d / "systemd" / "system")  # not there yet: its nearest ancestor decides
    owned(0, 0, 0o777)
    assert privileged.writable(d / "systemd")
    owned(1000, 0, 0o555)
    assert not privileged.writable(d)  # ours, but read-only
    owned(1000, 0, 0o755)
    assert privileged.writable(d)
    monkeypatch.setattr(os, "getgroups", lambda: [50])
    owned(0, 50, 0o775)
    assert privileged.writable(d)
    owned(0, 50, 0o757)
    assert not privileged.writable(d)  # the group's bits, not others', for a member


def test_root_and_the_owner_may_write(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert privileged.writable(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(tmp_path).st_uid)
    assert privileged.writable(tmp_path)


def test_elevate_goes_through_sudo_only_for_a_directory_not_ours(monkeypatch, tmp_path):
    monkeypatch.setattr(privileged, "writable", lambda p: p == tmp_path)
    monkeypatch.setattr(privileged.shutil, "which", lambda name: "/usr/bin/sudo")
    assert privileged.elevate(["systemctl", "daemon-reload"], None) == ["systemctl", "daemon-reload"]
    assert privileged.elevate(["mv", "a", "b"], tmp_path) == ["mv", "a", "b"]
    assert privileged.elevate(["mv", "a", "b"], tmp_path / "x") == ["sudo", "-n", "mv", "a", "b"]
    monkeypatch.setattr(privileged.shutil, "which", lambda name: None)
    with pytest.raises(StepFailed, match=r"^mv needs root for .* and sudo is not installed$") as err:
        privileged.elevate(["mv", "a", "b"], tmp_path / "x")
    assert err.value.remedy == "run as root: mv a b"


def test_sh_returns_stdout_or_one_line_with_a_remedy(ran, monkeypatch):
    calls, answers = ran
    monkeypatch.setattr(privileged, "elevate", lambda cmd, target: ["sudo", "-n", *cmd] if target else cmd)
    assert privileged.sh(["systemctl", "daemon-reload"]) == "ok\n"
    answers["systemctl"] = Ran([], 1, "", "Failed to connect to bus\nPermission denied\n")
    with pytest.raises(StepFailed, match=r"^systemctl restart ollama failed \(1\): Permission denied$") as err:
        privileged.sh(["systemctl", "restart", "ollama"])
    assert err.value.remedy == "run with sudo"
    answers["sudo"] = Ran([], 1, "", "sudo: a password is required\n")
    with pytest.raises(StepFailed, match=r"^mv a b needs root and sudo asks for a password$") as err:
        privileged.sh(["mv", "a", "b"], target=privileged.Path("/etc"))
    assert "sudo -v" in err.value.remedy
    answers["launchctl"] = Ran([], 127, "", "launchctl: not found")
    with pytest.raises(StepFailed, match=r"^launchctl setenv X 1: launchctl: not found$"):
        privileged.sh(["launchctl", "setenv", "X", "1"])


def test_write_file_backs_up_and_replaces_a_file_we_may_write(tmp_path):
    unit = tmp_path / "ollama.service.d" / "rdic.conf"
    unit.parent.mkdir()
    unit.write_text("old\n")
    privileged.write_file(unit, "[Service]\nEnvironment=OLLAMA_KEEP_ALIVE=-1\n")
    assert unit.read_text() == "[Service]\nEnvironment=OLLAMA_KEEP_ALIVE=-1\n"
    assert [p.read_text() for p in unit.parent.iterdir() if p != unit] == ["old\n"]  # the backup


def test_write_file_into_root_s_directory_installs_then_moves(ran, monkeypatch, tmp_path):
    calls, _ = ran
    monkeypatch.setattr(privileged, "writable", lambda p: False)
    monkeypatch.setattr(privileged.shutil, "which", lambda name: "/usr/bin/sudo")
    unit = tmp_path / "rdic.conf"
    unit.write_text("old\n")
    privileged.write_file(unit, "new\n")
    assert [c[:3] for c in calls] == [["sudo", "-n", "cp"], ["sudo", "-n", "install"], ["sudo", "-n", "mv"]]
    assert calls[1][-1] == f"{unit}.rdic-new" and calls[2][-2:] == [f"{unit}.rdic-new", str(unit)]
    assert not os.path.exists(calls[1][-2])  # the private temp file is gone
