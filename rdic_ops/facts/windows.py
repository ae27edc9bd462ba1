"""Facts about the Windows side of WSL, read through interop (cmd.exe, wslpath)."""

from __future__ import annotations

from pathlib import Path

from rdic_ops.facts.run import output


def profile_wslconfig(run=output) -> Path | None:
    """%UserProfile%\\.wslconfig as a Linux path, through interop; None when interop cannot tell."""
    out = run(["cmd.exe", "/c", "echo %USERPROFILE%"], 10.0) if Path("/mnt/c").exists() else None
    profile = (out or "").replace("\r", "").strip()
    if not profile or "%" in profile:
        return None
    linux = (run(["wslpath", "-u", profile], 10.0) or "").strip()
    return Path(linux) / ".wslconfig" if linux else None
