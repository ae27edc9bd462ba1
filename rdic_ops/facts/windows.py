"""Facts about the Windows side of WSL, read through interop (cmd.exe, wslpath)."""

from __future__ import annotations

from pathlib import Path

from rdic_ops.facts.run import run as run_argv


def _interop(argv: list[str], timeout: float) -> str | None:
    """stdout of a Windows program through interop; cmd.exe runs from /mnt/c so it has a drive cwd."""
    cwd = "/mnt/c" if Path("/mnt/c").is_dir() else "/"
    r = run_argv(argv, timeout=timeout, cwd=cwd)
    return r.stdout if r.ok else None


def profile_wslconfig(run=_interop) -> Path | None:
    """%UserProfile%\\.wslconfig as a Linux path, through interop; None when interop cannot tell."""
    out = run(["cmd.exe", "/c", "echo %USERPROFILE%"], 10.0)
    profile = (out or "").replace("\r", "").strip()
    if not profile or "%" in profile:
        return None
    linux = (run(["wslpath", "-u", profile], 10.0) or "").replace("\r", "").strip()
    return Path(linux) / ".wslconfig" if linux else None
