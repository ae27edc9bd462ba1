"""A preload that runs after every start of the Ollama server: a oneshot systemd unit ordered after
ollama.service, or a launchd agent, running `invoke preload --env=X`. Diffed, backed up, written atomically.
"""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import RootConfig, RuntimeKind
from rdic_ops.errors import UsageError
from rdic_ops.facts import services
from rdic_ops.ops.server_settings import manager, read_file, sh, write_file
from rdic_ops.plan import Change, Plan, Status, StepResult, converge

PRELOAD_UNIT = "rdic-ops-preload.service"
AGENT_LABEL = "com.rdic-ops.preload"
REPO = Path(__file__).resolve().parents[2]


def quote(arg: str) -> str:
    """One ExecStart= argument as systemd reads it: '%' specifiers and '$' expansion escaped, quoted."""
    escaped = (arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$"))
    return f'"{escaped}"'


def unit_user() -> str:
    """Who the preload runs as: the user behind sudo, else this user, else the checkout's owner (never a
    root the repo's writer could borrow: whoever can write the venv and the checkout is that user already)."""
    import os
    import pwd

    for name in (os.environ.get("SUDO_USER"),):
        if name and name != "root":
            try:
                return pwd.getpwnam(name).pw_name
            except KeyError:
                pass
    uid = os.geteuid() if os.geteuid() != 0 else REPO.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _invoke_argv(cfg: RootConfig) -> list[str]:
    invoke = Path(sys.executable).with_name("invoke")
    return [str(invoke), "--search-root", str(REPO), "preload", f"--env={cfg.env.name}"]


def unit_path(cfg: RootConfig) -> Path:
    return Path(cfg.paths.system_root) / "etc/systemd/system" / PRELOAD_UNIT


def unit_text(cfg: RootConfig) -> str:
    unit = cfg.env.runtime.ollama.unit  # a service name: config/rules.py checked it
    state = str(expand(cfg.paths.state_dir))
    for value in (state, str(REPO)):
        if "\n" in value:
            raise UsageError(f"{value!r}: a path with a newline cannot go into a systemd unit")
    return "\n".join([
        f"# Written by rdic-ops: preload env {cfg.env.name}'s models after every start of {unit}.",
        "[Unit]",
        f"Description=rdic-ops preload of env {cfg.env.name}",
        f"After={unit}",
        f"Requires={unit}",
        f"PartOf={unit}",
        "",
        "[Service]",
        "Type=oneshot",
        f"User={unit_user()}",  # the user's venv and checkout run as the user, never as root
        f"WorkingDirectory={str(REPO).replace('%', '%%')}",
        "Environment=" + quote(f"RDIC_STATE_DIR={state}"),
        "ExecStart=" + " ".join(quote(a) for a in _invoke_argv(cfg)),
        "",
        "[Install]",
        f"WantedBy={unit}",
        "",
    ])


def agent_path(cfg: RootConfig) -> Path:
    return expand(cfg.paths.launch_agents_dir) / f"{AGENT_LABEL}.plist"


def agent_bytes(cfg: RootConfig) -> bytes:
    return plistlib.dumps({
        "Label": AGENT_LABEL, "ProgramArguments": _invoke_argv(cfg), "RunAtLoad": True,
        "WorkingDirectory": str(REPO),
        "EnvironmentVariables": {"RDIC_STATE_DIR": str(expand(cfg.paths.state_dir))},
        "StandardOutPath": str(expand(cfg.paths.state_dir) / "preload-agent.log"),
        "StandardErrorPath": str(expand(cfg.paths.state_dir) / "preload-agent.log"),
    })


def plan_startup(cfg: RootConfig, how: str) -> Plan:
    plan = Plan("preload-at-startup")
    if how == "systemd":
        path, want = unit_path(cfg), unit_text(cfg)
        have = read_file(path)
        enabled = "absent"
        if have is not None:  # is-enabled exits non-zero for a disabled unit: that is an answer, not a failure
            enabled = services.systemd_enabled(PRELOAD_UNIT)
        if have == want and enabled == "enabled":
            plan.add(Change.noop(str(path), have, reason="installed and enabled"))
            return plan

        def install():
            if have != want:
                write_file(path, want)
            sh(["systemctl", "daemon-reload"], path.parent)
            sh(["systemctl", "enable", PRELOAD_UNIT], path.parent)
        plan.add(Change(str(path), "create" if have is None else "update", have, want,
                        reason=f"then systemctl daemon-reload and enable {PRELOAD_UNIT}", apply=install))
        return plan
    path, want = agent_path(cfg), agent_bytes(cfg).decode()
    have = read_file(path)
    loaded = services.launchd_loaded(AGENT_LABEL)
    if have == want and loaded:
        plan.add(Change.noop(str(path), have, reason="installed and loaded"))
        return plan

    def install_agent():
        if have != want:
            write_file(path, want)
        if loaded:
            sh(["launchctl", "unload", str(path)])
        sh(["launchctl", "load", "-w", str(path)])
    plan.add(Change(str(path), "create" if have is None else "update", have, want,
                    reason="then launchctl load -w", apply=install_agent))
    return plan


def preload_at_startup(cfg: RootConfig, dry_run: bool = False) -> StepResult:
    if not cfg.env.runtime.preload_at_startup:
        return StepResult("preload-at-startup", Status.skipped, message="env.runtime.preload_at_startup is false")
    if cfg.env.runtime.kind is not RuntimeKind.ollama:
        return StepResult("preload-at-startup", Status.skipped,
                          message="the llama.cpp server is started by invoke preload itself")
    how = manager(cfg)
    if how == "none":
        return StepResult("preload-at-startup", Status.skipped, message="no systemd or launchd on this machine")
    return converge(lambda: plan_startup(cfg, how), dry_run=dry_run)
