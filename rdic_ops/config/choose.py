"""Which env (conf/env/) describes this machine: chosen from hardware facts when no --env is given."""

from __future__ import annotations

from rdic_ops.config.compose import choices, compose
from rdic_ops.config.schema import GpuVendor


def choose_env(facts) -> tuple[str, str]:
    """(env, why) from the facts: an NVIDIA GPU matching a profile, Apple Silicon, else `local`."""
    gpus = facts.nvidia.gpus if facts.nvidia.available else []
    for name in choices("env"):
        hw = compose(name).env.hardware
        if hw.gpu_vendor is GpuVendor.nvidia and hw.gpu_name:
            for g in gpus:
                if hw.gpu_name.lower() in g.name.lower():
                    return name, f"found {g.name}"
        if hw.gpu_vendor is GpuVendor.apple and facts.apple is not None:
            return name, f"found {facts.apple.chip}"
    return "local", "no GPU matches a profile" if not gpus else f"{gpus[0].name} matches no profile"
