"""Byte units and how rdic-ops prints them (one place, so every table says sizes the same way)."""

from __future__ import annotations

KiB = 1024
MiB = 1024 * 1024
GiB = 1024**3


def gib(n: float | int | None, digits: int = 1) -> str:
    """``n`` bytes as GiB ("?" when unknown)."""
    return "?" if n is None else f"{n / GiB:.{digits}f} GiB"


def mib(n: float | int | None) -> str:
    return "?" if n is None else f"{n / MiB:,.0f} MiB"
