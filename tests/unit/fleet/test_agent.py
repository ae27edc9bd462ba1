"""The host side of a fleet run (rdic_ops/fleet/agent.py), in this process on tmp directories: the probe's
facts (the source text the controller sends to `python -c`), `finish` pointing `current` at the release,
writing installed.json whole and keeping only the newest releases, and the argument forms `main` accepts.
(Running a task on a host, a child process: tests/integration/test_fleet.py.)"""

import json
import os
import sys

import pytest

from rdic_ops.fleet import agent


def test_the_probe_reports_python_disk_and_what_is_installed(tmp_path, monkeypatch, capsys):
    root, venv = tmp_path / "r", tmp_path / "r" / "venv"
    monkeypatch.setattr(sys, "argv", ["-c", str(root), str(venv)])
    exec(agent.PROBE, {})
    facts = json.loads(capsys.readouterr().out)
    assert facts["python"] == list(sys.version_info[:3]) and facts["root"] == str(root)
    assert facts["installed"] is None and facts["venv_ok"] is False and facts["free"] > 0  # root not there yet
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    os.chmod(venv / "bin" / "python", 0o755)
    (root / "installed.json").write_text('{"build": "0.2.0+abc"}')
    exec(agent.PROBE, {})
    facts = json.loads(capsys.readouterr().out)
    assert facts["installed"] == {"build": "0.2.0+abc"} and facts["venv_ok"] is True


def test_finish_points_current_at_the_release_and_keeps_the_newest(tmp_path, capsys):
    root = tmp_path / "r"
    releases = [root / "releases" / f"0.2.0+{n:012d}" for n in range(4)]
    for n, rel in enumerate(releases):
        rel.mkdir(parents=True)
        os.utime(rel, (1000 + n, 1000 + n))
    assert agent.finish(str(root), str(releases[1]), "0.2.0+000000000001", 2) == 0
    assert os.readlink(root / "current") == str(releases[1])
    installed = json.loads((root / "installed.json").read_text())
    assert installed["build"] == "0.2.0+000000000001" and installed["release"] == str(releases[1])
    assert sorted(p.name for p in (root / "releases").iterdir()) == [releases[1].name, releases[3].name]
    assert json.loads(capsys.readouterr().out)["build"] == "0.2.0+000000000001"
    assert not list(root.glob(".*tmp"))


def test_an_incomplete_install_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(agent, "_package_conf", lambda: tmp_path / "pkg" / "conf")
    with pytest.raises(SystemExit, match="the install is incomplete"):
        agent.finish(str(tmp_path), str(tmp_path / "releases" / "x"), "b", 2)


def test_atomic_json_leaves_no_temp_file_when_the_write_fails(tmp_path):
    path = tmp_path / "installed.json"
    path.write_text('{"build": "old"}')
    with pytest.raises(TypeError):
        agent._atomic_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"build": "old"} and sorted(os.listdir(tmp_path)) == ["installed.json"]


def test_main_takes_only_its_two_forms(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(agent, "finish", lambda *a: seen.append(("finish", a)) or 0)
    monkeypatch.setattr(agent, "run", lambda root, args: seen.append(("run", root, args)) or 3)
    assert agent.main(["finish", "/r", "/r/releases/x", "b", "2"]) == 0
    assert agent.main(["run", "/r", "--", "doctor", "--json"]) == 3
    assert seen == [("finish", ("/r", "/r/releases/x", "b", 2)), ("run", "/r", ["doctor", "--json"])]
    for bad in (["finish", "/r"], ["run", "/r", "doctor"], ["rm", "-rf"]):
        assert agent.main(bad) == 2
    assert capsys.readouterr().err.startswith("usage: agent finish ROOT RELEASE BUILD KEEP")
    assert len(seen) == 2
