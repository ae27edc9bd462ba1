"""The preload-at-startup unit runs as the user (User=), quotes its paths, and only the drop-in write and the
systemctl calls are elevated (sudo), never the tool; unit names are checked; a non-loopback OLLAMA_HOST warned."""

import os
import pwd

import pytest
from support.paths import FAKEBIN
from support.systemd import cfg_for

from rdic_ops.errors import UsageError
from rdic_ops.ops import server_settings as service
from rdic_ops.ops import startup_unit
from rdic_ops.plan import Status


def test_unit_user_is_never_root_by_default(monkeypatch):
    monkeypatch.delenv("SUDO_USER", raising=False)
    owner = pwd.getpwuid(startup_unit.REPO.stat().st_uid).pw_name
    assert startup_unit.unit_user() in (owner, pwd.getpwuid(os.geteuid()).pw_name)


@pytest.mark.parametrize("unit", ["../../tmp/x.service", "ollama service", "ollama", "a/b.service", "x\n.service"])
def test_bad_unit_names_refused(fake_system, unit):
    with pytest.raises(UsageError, match="not a systemd service name") as e:  # when the config is composed
        service.run_all(cfg_for(fake_system, f"env.runtime.ollama.unit='{unit}'"), dry_run=True)
    assert "env.runtime.ollama.unit" in str(e.value) and "(set in --set env.runtime.ollama.unit=" in str(e.value)


def test_non_loopback_ollama_host_is_warned(fake_system):
    cfg = cfg_for(fake_system, "env.runtime.ollama.host=http://0.0.0.0:11434")
    result = service.run_all(cfg, dry_run=True)
    assert any(c.status is Status.warn and "beyond this machine" in c.found for c in result.checks)
    quiet = service.run_all(cfg_for(fake_system), dry_run=True)
    assert not any("beyond this machine" in c.found for c in quiet.checks)


def test_no_sudo_is_a_clear_error(fake_system, monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("systemctl",):
        (bare / tool).symlink_to(FAKEBIN / tool)
    monkeypatch.setenv("PATH", str(bare))  # systemctl, and no sudo anywhere
    result = service.run_all(cfg_for(fake_system))  # a failed step, not a raise: it says what was applied first
    assert result.status is Status.failed and "sudo is not installed" in result.message
    assert result.applied == [] and "nothing applied" in result.message
    assert not service.dropin_path(cfg_for(fake_system)).exists()


def test_the_unit_and_the_agent_run_this_pythons_rdic_ops_not_a_checkouts_tasks(fake_system):
    """A wheel's user has no tasks.py: `invoke --search-root <checkout> preload` failed at every boot. The unit and
    the launchd agent run `python -m rdic_ops.cli preload`, which a checkout and a wheel both have."""
    import plistlib
    import shlex
    import sys

    cfg = cfg_for(fake_system)
    line = next(ln for ln in startup_unit.unit_text(cfg).splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv == [sys.executable, "-m", "rdic_ops.cli", "preload", f"--env={cfg.env.name}"]
    agent = plistlib.loads(startup_unit.agent_bytes(cfg))
    assert agent["ProgramArguments"] == argv
