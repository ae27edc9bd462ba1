"""A preload that runs after every start of the Ollama server: a oneshot systemd unit ordered after
ollama.service, or a launchd agent, running `python -m rdic_ops.cli preload --env=X`. Diffed, backed up, written
atomically.
"""

from __future__ import annotations

import plistlib
import sys
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import RootConfig, RuntimeKind, ServiceManager
from rdic_ops.errors import UsageError
from rdic_ops.facts import services
from rdic_ops.ops.server_settings import manager, read_file, sh, write_file
from rdic_ops.plan import Change, Plan, Status, StepResult, converge

PRELOAD_UNIT = "rdic-ops-preload.service"
AGENT_LABEL = "com.rdic-ops.preload"
REPO = Path(__file__).resolve().parents[2]


def quote(arg: str) -> str:
    """One ExecStart= argument as systemd reads it: '%' specifiers and '$' expansion escaped, quoted."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
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
    """`preload --env=X` through this Python's rdic_ops.cli: the same program from a checkout or an installed wheel
    (a wheel's user has no tasks.py for `invoke --search-root` to find: the unit failed at every boot)."""
    return [sys.executable, "-m", "rdic_ops.cli", "preload", f"--env={cfg.env.name}"]


def unit_path(cfg: RootConfig) -> Path:
    return Path(cfg.paths.system_root) / "etc/systemd/system" / PRELOAD_UNIT


def unit_text(cfg: RootConfig) -> str:
    unit = cfg.env.runtime.ollama.unit  # a service name: config/rules.py checked it
    state = str(expand(cfg.paths.state_dir))
    for value in (state, str(REPO)):
        if "\n" in value:
            raise UsageError(f"{value!r}: a path with a newline cannot go into a systemd unit")
    return "\n".join(
        [
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
        ]
    )


def agent_path(cfg: RootConfig) -> Path:
    return expand(cfg.paths.launch_agents_dir) / f"{AGENT_LABEL}.plist"


def agent_bytes(cfg: RootConfig) -> bytes:
    return plistlib.dumps(
        {
            "Label": AGENT_LABEL,
            "ProgramArguments": _invoke_argv(cfg),
            "RunAtLoad": True,
            "WorkingDirectory": str(REPO),
            "EnvironmentVariables": {"RDIC_STATE_DIR": str(expand(cfg.paths.state_dir))},
            "StandardOutPath": str(expand(cfg.paths.state_dir) / "preload-agent.log"),
            "StandardErrorPath": str(expand(cfg.paths.state_dir) / "preload-agent.log"),
        }
    )


@dataclass(frozen=True)
class UnitFacts:
    """The preload unit (systemd) or agent (launchd) as it is: its text (None: absent) and whether it is switched
    on (systemd: enabled, asked only when the file exists; launchd: loaded)."""

    text: str | None
    on: bool


def read_unit(cfg: RootConfig, how: ServiceManager) -> UnitFacts:
    if how is ServiceManager.systemd:
        have = read_file(unit_path(cfg))
        # is-enabled exits non-zero for a disabled unit: that is an answer, not a failure
        return UnitFacts(have, have is not None and services.systemd_enabled(PRELOAD_UNIT) == "enabled")
    return UnitFacts(read_file(agent_path(cfg)), services.launchd_loaded(AGENT_LABEL))


def plan_unit(how: ServiceManager, path: Path, want: str, facts: UnitFacts) -> Plan:
    """Facts in, changes out: the unit (or agent) ``want`` at ``path``, enabled (or loaded)."""
    plan = Plan("preload-at-startup")
    have = facts.text
    if have == want and facts.on:
        plan.add(
            Change.noop(
                str(path),
                have,
                reason="installed and enabled" if how is ServiceManager.systemd else "installed and loaded",
            )
        )
        return plan
    action = "create" if have is None else "update"
    if how is ServiceManager.systemd:

        def install():
            if have != want:
                write_file(path, want)
            sh(["systemctl", "daemon-reload"], path.parent)
            sh(["systemctl", "enable", PRELOAD_UNIT], path.parent)

        plan.add(
            Change(
                str(path),
                action,
                have,
                want,
                reason=f"then systemctl daemon-reload and enable {PRELOAD_UNIT}",
                apply=install,
            )
        )
        return plan

    def install_agent():
        if have != want:
            write_file(path, want)
        if facts.on:
            sh(["launchctl", "unload", str(path)])
        sh(["launchctl", "load", "-w", str(path)])

    plan.add(Change(str(path), action, have, want, reason="then launchctl load -w", apply=install_agent))
    return plan


def plan_startup(cfg: RootConfig, how: ServiceManager) -> Plan:
    """Read the facts, plan from them."""
    if how is ServiceManager.systemd:
        return plan_unit(how, unit_path(cfg), unit_text(cfg), read_unit(cfg, how))
    return plan_unit(how, agent_path(cfg), agent_bytes(cfg).decode(), read_unit(cfg, how))


def preload_at_startup(cfg: RootConfig, dry_run: bool = False) -> StepResult:
    if not cfg.env.runtime.preload_at_startup:
        return StepResult("preload-at-startup", Status.skipped, message="env.runtime.preload_at_startup is false")
    if cfg.env.runtime.kind is not RuntimeKind.ollama:
        return StepResult(
            "preload-at-startup", Status.skipped, message="the llama.cpp server is started by invoke preload itself"
        )
    how = manager(cfg)
    if how is ServiceManager.none:
        return StepResult("preload-at-startup", Status.skipped, message="no systemd or launchd on this machine")
    return converge(lambda: plan_startup(cfg, how), dry_run=dry_run)
