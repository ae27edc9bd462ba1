"""`invoke version`: rdic-ops and what it runs on, for bug reports: its own version and directories (the state
dir as the `local` env composes it), Python, the key libraries and the llama.cpp build (facts/versions.py)."""

from __future__ import annotations

from rdic_ops.config.files import conf_dir, expand
from rdic_ops.facts import versions


def collect() -> dict[str, str]:
    out = {"rdic-ops": versions.version_of("rdic-ops"), "config dir": str(conf_dir().resolve())}
    try:
        from rdic_ops.config.compose import compose

        out["state dir"] = str(expand(compose("local").paths.state_dir))
    except Exception as exc:  # a broken config is reported, not fatal, here
        out["state dir"] = f"unknown ({str(exc).splitlines()[0]})"
    out.update(versions.runtime())
    return out
