"""The preload-at-startup unit runs as the user (User=), quotes its paths, and only the drop-in write and the
systemctl calls are elevated (sudo), never the tool; unit names are checked; a non-loopback OLLAMA_HOST warned."""



from rdic_ops.config.compose import compose


def cfg_for(fake_system, *extra):
    return compose("rtx3060", [f"paths.system_root={fake_system.root}", "env.runtime.ollama.service=systemd",
                               "env.runtime.preload_at_startup=true", *extra])
