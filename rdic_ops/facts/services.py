"""Facts about the service managers that run the Ollama server: systemd (Linux, WSL2) and launchd (macOS).

Each probe goes through facts.run (argument list, timeout); a manager that is missing is a fact, not an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rdic_ops.facts.hardware import system
from rdic_ops.facts.run import run


def detect_manager() -> str:
    """systemd | launchd | none: what runs services on this machine."""
    if system()[0] == "Darwin":
        return "launchd"
    if shutil.which("systemctl") and Path("/run/systemd/system").exists():
        return "systemd"
    return "none"


def systemd_environment(unit: str) -> dict[str, str] | None:
    """The environment systemd gives ``unit`` now (after the last daemon-reload); None when systemctl fails."""
    r = run(["systemctl", "show", "--property=Environment", unit], timeout=60)
    if not r.ok:
        return None
    env = {}
    for item in r.stdout.strip().partition("=")[2].split():
        k, _, v = item.partition("=")
        env[k] = v.strip('"')
    return env


def systemd_enabled(unit: str) -> str:
    """`systemctl is-enabled`: enabled, disabled, ... (it exits non-zero for a disabled unit: still an answer)."""
    return run(["systemctl", "is-enabled", unit], timeout=60).stdout.strip()


def launchd_getenv(key: str) -> str | None:
    r = run(["launchctl", "getenv", key], timeout=30)
    return (r.stdout.strip() or None) if r.ok else None


def launchd_loaded(label: str) -> bool:
    return run(["launchctl", "list", label], timeout=30).ok
