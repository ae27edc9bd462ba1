"""Serving: Ollama server settings, preload (Ollama and llama.cpp), preload at startup, routing."""



from rdic_ops.config.compose import compose


def systemd_cfg(fake_system, *extra):
    return compose("rtx3060", [f"paths.system_root={fake_system.root}", "env.runtime.ollama.service=systemd",
                               *extra])
