"""Configs of an Ollama env whose server settings go through the fake systemd (tests/unit/ops/test_server_settings.py,
test_startup_unit.py; tests/integration/test_serving.py, test_trust_privilege.py)."""

from rdic_ops.config.compose import compose


def systemd_cfg(fake_system, *extra):
    return compose("rtx3060", [f"paths.system_root={fake_system.root}", "env.runtime.ollama.service=systemd",
                               *extra])


def cfg_for(fake_system, *extra):
    """The same, with the preload-at-startup unit."""
    return systemd_cfg(fake_system, "env.runtime.preload_at_startup=true", *extra)
