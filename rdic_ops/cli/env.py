"""From --env and --set to a checked config: the env chosen one way for every task, the state dir checked."""

from __future__ import annotations

from rdic_ops.cli.contract import note


def compose(env, set_):
    """The composed, validated config of ``env`` with the --set overrides; the state dir is checked as a fact
    every time (a file there is a config error, a dry run included)."""
    from rdic_ops.config import statedir
    from rdic_ops.config.compose import compose as compose_config

    cfg = compose_config(env, list(set_ or []))
    statedir.require(cfg)
    return cfg


def auto_env(env) -> str:
    """--env, or the env chosen from this machine's facts (said on stderr when the task ends well)."""
    if env:
        return env
    from rdic_ops.config.choose import choose_env
    from rdic_ops.facts import hardware

    name, why = choose_env(hardware.probe())
    # said every time: even `local` is a choice (the Hub unreachable, too little RAM, ...)
    note(f"rdic-ops: env {name} chosen from this machine's facts ({why}); pass --env to pick")
    return name


def compose_auto(env, set_):
    return compose(auto_env(env), set_)
