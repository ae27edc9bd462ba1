"""Ollama's server settings where Ollama reads them, and a preload that runs after every server start.

Linux / WSL2 (systemd): a drop-in of our own, <unit>.d/rdic-ops.conf, with `Environment="KEY=VALUE"` lines
(a user's override.conf is left alone; systemd merges every *.conf), then `systemctl daemon-reload` and
`systemctl restart <unit>`; verified with `systemctl show -p Environment`. macOS: `launchctl setenv`, then
the Ollama app is restarted. Preload at startup: a oneshot unit ordered after ollama.service (or a launchd
agent) running `invoke preload --env=X`. Every file is diffed first, backed up, written atomically.
"""

from __future__ import annotations

import platform
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.schema import RootConfig, RuntimeKind
from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.facts.hardware import is_wsl
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change, Plan, Status, StepResult, converge

DROPIN_NAME = "rdic-ops.conf"
PRELOAD_UNIT = "rdic-ops-preload.service"
AGENT_LABEL = "com.rdic-ops.preload"
REPO = Path(__file__).resolve().parents[2]


def manager(cfg: RootConfig) -> str:
    """systemd | launchd | none: how this machine runs the Ollama server."""
    want = cfg.env.runtime.ollama.service
    if want in ("systemd", "launchd", "none"):
        return want
    if want != "auto":
        raise UsageError(f"env.runtime.ollama.service: {want!r} is not one of auto, systemd, launchd, none")
    if platform.system() == "Darwin":
        return "launchd"
    if shutil.which("systemctl") and Path("/run/systemd/system").exists():
        return "systemd"
    return "none"


def desired_env(cfg: RootConfig) -> dict[str, str]:
    o = cfg.env.runtime.ollama
    env = {
        "OLLAMA_KEEP_ALIVE": f"{o.keep_alive}s",  # a Go duration: negative keeps models loaded forever
        "OLLAMA_MAX_LOADED_MODELS": str(o.max_loaded_models),
        "OLLAMA_NUM_PARALLEL": str(o.num_parallel),
        "OLLAMA_FLASH_ATTENTION": "1" if o.flash_attention else "0",
        "OLLAMA_KV_CACHE_TYPE": o.kv_cache_type.value,
    }
    if o.models_dir:
        env["OLLAMA_MODELS"] = str(expand(o.models_dir))
    hostport = o.host.split("://", 1)[-1].rstrip("/")
    if hostport not in ("127.0.0.1:11434", "localhost:11434"):
        env["OLLAMA_HOST"] = hostport
    for k, v in env.items():
        if any(c in v for c in '"\n\\'):
            raise UsageError(f"{k}: value {v!r} cannot be written into a systemd Environment= line")
    return env


def warnings(cfg: RootConfig) -> list[str]:
    o = cfg.env.runtime.ollama
    out = []
    if o.models_dir and str(expand(o.models_dir)).startswith("/mnt/") and (cfg.env.hardware.wsl2 or is_wsl()):
        out.append(f"OLLAMA_MODELS={o.models_dir} lies on the Windows drive: loads through /mnt are slow under "
                   "WSL2 (ollama issues #6006, #8043); keep models on the Linux filesystem")
    if o.kv_cache_type.value != "f16" and not o.flash_attention:
        out.append("OLLAMA_KV_CACHE_TYPE has no effect without OLLAMA_FLASH_ATTENTION=1")
    return out


def _run(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StepFailed(f"{' '.join(cmd)}: {exc}") from None
    if out.returncode != 0:
        msg = (out.stderr or out.stdout).strip().splitlines()
        raise StepFailed(f"{' '.join(cmd)} failed ({out.returncode}): {msg[-1] if msg else 'no output'}",
                         remedy="run with sudo" if "ermission" in (out.stderr or "") else None)
    return out.stdout


def _write(path: Path, text: str) -> None:
    try:
        backup(path)
        atomic_write(path, text)
    except PermissionError:
        raise StepFailed(f"cannot write {path}: permission denied",
                         remedy="run with sudo, or point paths.system_root elsewhere") from None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


# -- server settings -----------------------------------------------------------------------------

def dropin_path(cfg: RootConfig) -> Path:
    unit = cfg.env.runtime.ollama.unit
    return Path(cfg.paths.system_root) / "etc/systemd/system" / f"{unit}.d" / DROPIN_NAME


def dropin_text(cfg: RootConfig) -> str:
    lines = [f"# Written by rdic-ops for env {cfg.env.name}: the Ollama server's settings.",
             "# Change conf/env/*.yaml and run `invoke setup` (or `invoke server-settings`) instead of editing.",
             "[Service]"]
    lines += [f'Environment="{k}={v}"' for k, v in desired_env(cfg).items()]
    return "\n".join(lines) + "\n"


def _service_env(unit: str) -> dict[str, str]:
    """What systemd will give the service now (after the last daemon-reload)."""
    out = _run(["systemctl", "show", "--property=Environment", unit]).strip()
    env = {}
    for item in out.partition("=")[2].split():
        k, _, v = item.partition("=")
        env[k] = v.strip('"')
    return env


def _plan_systemd(cfg: RootConfig) -> Plan:
    unit = cfg.env.runtime.ollama.unit
    path = dropin_path(cfg)
    want = dropin_text(cfg)
    have = _read(path)
    plan = Plan("server-settings", notes=warnings(cfg))

    def apply():
        _write(path, want)
        _run(["systemctl", "daemon-reload"])
        _run(["systemctl", "restart", unit])

    if have != want:
        plan.add(Change(str(path), "create" if have is None else "update", have, want,
                        reason="then systemctl daemon-reload and restart " + unit, apply=apply))
        return plan
    live = _service_env(unit)
    stale = {k: v for k, v in desired_env(cfg).items() if live.get(k) != v}
    if stale:
        def reload():
            _run(["systemctl", "daemon-reload"])
            _run(["systemctl", "restart", unit])
        plan.add(Change(f"systemd {unit}", "restart", ", ".join(f"{k}={live.get(k)}" for k in stale),
                        ", ".join(f"{k}={v}" for k, v in stale.items()),
                        reason="the drop-in is written but the service does not see it yet", apply=reload))
    else:
        plan.add(Change(str(path), "none", have, want, reason=f"{unit} runs with these settings"))
    return plan


def _plan_launchd(cfg: RootConfig) -> Plan:
    plan = Plan("server-settings", notes=warnings(cfg))
    pending = False
    for k, v in desired_env(cfg).items():
        have = _run(["launchctl", "getenv", k]).strip() or None
        if have == v:
            plan.add(Change(f"launchctl {k}", "none", have, v, reason="set"))
        else:
            pending = True
            plan.add(Change(f"launchctl {k}", "setenv", have, v,
                            apply=lambda k=k, v=v: _run(["launchctl", "setenv", k, v])))
    if pending:
        def restart():
            subprocess.run(["osascript", "-e", 'tell application "Ollama" to quit'], capture_output=True,
                           timeout=60, check=False)
            _run(["open", "-a", "Ollama"])
        plan.add(Change("Ollama.app", "restart", "running with old settings", "restarted",
                        reason="the app reads its environment at start", apply=restart))
    return plan


def server_settings(cfg: RootConfig, dry_run: bool = False) -> StepResult:
    if cfg.env.runtime.kind is not RuntimeKind.ollama:
        return StepResult("server-settings", Status.skipped, message="the env's runtime is not Ollama")
    how = manager(cfg)
    if how == "none":
        return StepResult("server-settings", Status.skipped,
                          message="no systemd or launchd here: Ollama's environment cannot be set for it "
                                  "(set env.runtime.ollama.service to systemd or launchd)")
    result = converge(lambda: _plan_systemd(cfg) if how == "systemd" else _plan_launchd(cfg), dry_run=dry_run)
    return result


# -- preload at startup --------------------------------------------------------------------------

def _invoke_argv(cfg: RootConfig) -> list[str]:
    invoke = Path(sys.executable).with_name("invoke")
    return [str(invoke), "--search-root", str(REPO), "preload", f"--env={cfg.env.name}"]


def unit_path(cfg: RootConfig) -> Path:
    return Path(cfg.paths.system_root) / "etc/systemd/system" / PRELOAD_UNIT


def unit_text(cfg: RootConfig) -> str:
    unit = cfg.env.runtime.ollama.unit
    state = expand(cfg.paths.state_dir)
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
        f"WorkingDirectory={REPO}",
        f'Environment="RDIC_STATE_DIR={state}"',
        "ExecStart=" + " ".join(_invoke_argv(cfg)),
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


def _plan_startup(cfg: RootConfig, how: str) -> Plan:
    plan = Plan("preload-at-startup")
    if how == "systemd":
        path, want = unit_path(cfg), unit_text(cfg)
        have = _read(path)
        enabled = "absent"
        if have is not None:  # is-enabled exits non-zero for a disabled unit: that is an answer, not a failure
            enabled = subprocess.run(["systemctl", "is-enabled", PRELOAD_UNIT], capture_output=True, text=True,
                                     timeout=60, check=False).stdout.strip()
        if have == want and enabled == "enabled":
            plan.add(Change(str(path), "none", have, want, reason="installed and enabled"))
            return plan

        def install():
            if have != want:
                _write(path, want)
            _run(["systemctl", "daemon-reload"])
            _run(["systemctl", "enable", PRELOAD_UNIT])
        plan.add(Change(str(path), "create" if have is None else "update", have, want,
                        reason=f"then systemctl daemon-reload and enable {PRELOAD_UNIT}", apply=install))
        return plan
    path, want = agent_path(cfg), agent_bytes(cfg).decode()
    have = _read(path)
    loaded = _launchctl_loaded()
    if have == want and loaded:
        plan.add(Change(str(path), "none", have, want, reason="installed and loaded"))
        return plan

    def install_agent():
        if have != want:
            _write(path, want)
        if loaded:
            _run(["launchctl", "unload", str(path)])
        _run(["launchctl", "load", "-w", str(path)])
    plan.add(Change(str(path), "create" if have is None else "update", have, want,
                    reason="then launchctl load -w", apply=install_agent))
    return plan


def _launchctl_loaded() -> bool:
    out = subprocess.run(["launchctl", "list", AGENT_LABEL], capture_output=True, text=True, timeout=30, check=False)
    return out.returncode == 0


def preload_at_startup(cfg: RootConfig, dry_run: bool = False) -> StepResult:
    if not cfg.env.runtime.preload_at_startup:
        return StepResult("preload-at-startup", Status.skipped, message="env.runtime.preload_at_startup is false")
    if cfg.env.runtime.kind is not RuntimeKind.ollama:
        return StepResult("preload-at-startup", Status.skipped,
                          message="the llama.cpp server is started by invoke preload itself")
    how = manager(cfg)
    if how == "none":
        return StepResult("preload-at-startup", Status.skipped, message="no systemd or launchd on this machine")
    return converge(lambda: _plan_startup(cfg, how), dry_run=dry_run)
