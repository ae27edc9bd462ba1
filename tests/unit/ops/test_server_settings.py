"""Serving: Ollama server settings, preload (Ollama and llama.cpp), preload at startup, routing."""



from support.systemd import systemd_cfg

from rdic_ops.ops import server_settings as service


def test_models_on_windows_drive_warned(fake_system):
    cfg = systemd_cfg(fake_system, "env.runtime.ollama.models_dir=/mnt/c/ollama")
    assert any("/mnt" in w and "slow" in w for w in service.warnings(cfg))
