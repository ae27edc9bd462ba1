"""Bringing a host to the controller's build (rdic_ops/fleet/bootstrap.py), over a stand-in connection: the
host probed, Python and disk checked before anything is installed, the install's commands in order, a host on
the build left alone, and each failure one line."""

import json
from types import SimpleNamespace

import pytest

from rdic_ops.config.fleet import BootstrapSpec, FleetHost, FleetSpec
from rdic_ops.errors import StepFailed
from rdic_ops.fleet import bootstrap as B
from rdic_ops.plan import Status

BUILD = "0.2.0+abcdef123456"


def facts(**kw):
    base = {
        "python": [3, 11, 7],
        "root": "/home/lab/.rdic-ops",
        "venv": "/home/lab/.rdic-ops/venv",
        "installed": None,
        "free": 10 * 1024**3,
        "venv_ok": False,
    }
    return json.dumps({**base, **kw})


class Conn:
    """Answers the probe with ``probes`` (one per call, the last repeated) and every other command with 0."""

    def __init__(self, *probes, fail=None):
        self.probes, self.fail, self.commands, self.put_calls = list(probes), fail, [], []

    def run(self, command, **kw):
        self.commands.append(command)
        if " -c " in command:
            out = self.probes.pop(0) if len(self.probes) > 1 else self.probes[0]
            return SimpleNamespace(exited=0, stdout="noise\n" + out + "\n", stderr="")
        if self.fail and self.fail in command:
            return SimpleNamespace(exited=1, stdout="", stderr="ERROR: no space left\n")
        return SimpleNamespace(exited=0, stdout="", stderr="")

    def put(self, local, remote):
        self.put_calls.append(remote)


@pytest.fixture
def fleet():
    return FleetSpec(
        name="lab",
        bootstrap=BootstrapSpec(extras=["llamacpp"], min_free_mb=1024),
        hosts={"a": FleetHost(address="a.lab", python="/usr/bin/python3.12")},
    )


@pytest.fixture
def builder(tmp_path):
    wheel = tmp_path / "rdic_ops-0.2.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    return SimpleNamespace(id=BUILD, get=lambda: SimpleNamespace(id=BUILD, wheel=wheel))


def test_host_paths_are_the_host_s_else_the_fleet_s(fleet):
    assert B.host_paths(fleet, "a") == ("/usr/bin/python3.12", "~/.rdic-ops", "~/.rdic-ops/venv")


def test_preconditions_python_and_disk():
    f = B.HostFacts("python3", (3, 10, 2), "/r", "/r/v", None, 100 * 1024**2, False)
    py, disk = B.preconditions(f, 1024)
    assert (py.status, py.found, disk.status, disk.found) == (
        Status.failed,
        "python3: 3.10.2",
        Status.failed,
        "100 MiB free",
    )
    f.version, f.free = (3, 11), 2 * 1024**3
    assert [c.status for c in B.preconditions(f, 1024)] == [Status.ok, Status.ok]


def test_the_build_counts_only_in_a_working_venv():
    f = B.HostFacts("p", (3, 11), "/r", "/r/v", {"build": BUILD}, 1, True)
    assert f.build == BUILD
    f.venv_ok = False
    assert f.build is None


def test_a_fresh_host_is_installed_in_order(fleet, builder):
    conn = Conn(facts(), facts(installed={"build": BUILD}, venv_ok=True))
    r = B.bootstrap(conn, fleet, "a", builder)
    assert r.status is Status.changed and r.changes[0].action == "install"
    steps = [c.split()[0:4] for c in conn.commands if " -c " not in c]
    assert [s[0] for s in steps] == [
        "mkdir",
        "/usr/bin/python3.12",
        "/home/lab/.rdic-ops/venv/bin/python",
        "/home/lab/.rdic-ops/venv/bin/python",
        "/home/lab/.rdic-ops/venv/bin/python",
    ]
    assert "[llamacpp]" in conn.commands[3] and "--force-reinstall" in conn.commands[4]
    assert conn.commands[5].split()[-4:] == ["/home/lab/.rdic-ops", f"/home/lab/.rdic-ops/releases/{BUILD}", BUILD, "2"]
    assert conn.put_calls == [f"/home/lab/.rdic-ops/releases/{BUILD}/rdic_ops-0.2.0-py3-none-any.whl"]


def test_a_host_on_the_build_is_left_alone(fleet, builder):
    conn = Conn(facts(installed={"build": BUILD}, venv_ok=True))
    r = B.bootstrap(conn, fleet, "a", builder)
    assert r.status is Status.ok and r.changes[0].reason == "already on the controller's build"
    assert all(" -c " in c for c in conn.commands)


def test_a_host_that_fails_its_preconditions_gets_nothing_installed(fleet, builder):
    conn = Conn(facts(python=[3, 9, 1]))
    r = B.bootstrap(conn, fleet, "a", builder)
    assert r.status is Status.failed and len(conn.commands) == 1 and conn.put_calls == []


def test_failures_are_one_line(fleet, builder):
    conn = Conn(facts(), fail="[llamacpp]")
    r = B.bootstrap(conn, fleet, "a", builder)
    assert r.status is Status.failed and "pip install (dependencies): ERROR: no space left" in r.message
    missing = SimpleNamespace(run=lambda c, **kw: SimpleNamespace(exited=127, stdout="", stderr="not found"))
    with pytest.raises(StepFailed, match="no Python on the host: python3 not found"):
        B.probe(missing, "python3", "~", "~/v")
    garbled = SimpleNamespace(run=lambda c, **kw: SimpleNamespace(exited=1, stdout="", stderr="SyntaxError: x\n"))
    with pytest.raises(StepFailed, match="^probing the host with python3 failed: SyntaxError: x$"):
        B.probe(garbled, "python3", "~", "~/v")


def test_a_host_on_another_build_is_updated_in_its_venv(fleet, builder):
    conn = Conn(
        facts(installed={"build": "0.1.9+000000000000"}, venv_ok=True), facts(installed={"build": BUILD}, venv_ok=True)
    )
    r = B.bootstrap(conn, fleet, "a", builder)
    assert (r.status, r.changes[0].action, r.changes[0].before) == (Status.changed, "update", "0.1.9+000000000000")
    assert not any(" -m venv " in c for c in conn.commands)  # the venv works: not made again
