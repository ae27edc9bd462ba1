"""The preload-at-startup unit runs as the user (User=), quotes its paths, and only the drop-in write and the
systemctl calls are elevated (sudo), never the tool; unit names are checked; a non-loopback OLLAMA_HOST warned."""

import os

from support.systemd import cfg_for

from rdic_ops.ops import server_settings as service
from rdic_ops.ops import startup_unit
from rdic_ops.plan import Status


def test_unit_runs_as_the_user_with_quoted_paths(fake_system, tmp_path, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "nobody")
    state = tmp_path / "my state %h"
    cfg = cfg_for(fake_system, f"paths.state_dir='{state}'")
    assert startup_unit.preload_at_startup(cfg).status is Status.changed
    text = startup_unit.unit_path(cfg).read_text()
    lines = dict(ln.split("=", 1) for ln in text.splitlines() if "=" in ln and not ln.startswith("#"))
    assert lines["User"] == "nobody"
    assert lines["Environment"] == f'"RDIC_STATE_DIR={str(state).replace("%", "%%")}"'
    assert startup_unit.quote('a "b" $X %i \\') == '"a \\"b\\" $$X %%i \\\\"'
    assert lines["ExecStart"].startswith('"') and '"preload" "--env=rtx3060"' in lines["ExecStart"]


def test_only_the_privileged_calls_go_through_sudo(fake_system, monkeypatch):
    fake_system.root.chmod(0o755)  # root's /etc: this user cannot write there
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    cfg = cfg_for(fake_system)
    assert service.run_all(cfg).status is Status.changed
    calls = fake_system.calls()
    sudo = [c for c in calls if c.startswith("sudo ")]
    assert any("install -D -m 0644" in c for c in sudo) and "sudo -n systemctl daemon-reload" in calls
    assert "sudo -n systemctl restart ollama.service" in calls
    assert not [c for c in calls if c.startswith("systemctl daemon-reload") or c.startswith("systemctl restart")
                or c.startswith("systemctl enable")] or all(
        f"sudo -n {c}" in calls for c in calls if c.startswith("systemctl ") and " show " not in c
        and "is-enabled" not in c)
    assert not [c for c in sudo if "show" in c or "is-enabled" in c]  # reading facts needs no root
    assert service.dropin_path(cfg).exists() and startup_unit.unit_path(cfg).exists()
