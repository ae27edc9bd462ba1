"""The keys .wslconfig documents ([wsl2], [experimental]) and how WSL reads their values.

WSL's parser (microsoft/WSL src/shared/configfile, REFERENCE.md): keys are case-insensitive; sizes are an integer
plus B/K/KB/M/MB/G/GB/T/TB (case-sensitive, no space, no decimals); booleans true/false/1/0; integers accept hex
and octal (so `08` is invalid and `010` is 8); some keys take one of a few words. Both the config's rules (env.wsl,
checked when the config is composed) and the .wslconfig reader and editor (rdic_ops.wslconfig) read them here.
"""

from __future__ import annotations

import re

SIZE = re.compile(r"^\d+(B|K|KB|M|MB|G|GB|T|TB)?$")
_UNIT = {
    "": 1,
    "B": 1,
    "K": 1024,
    "KB": 1024,
    "M": 1024**2,
    "MB": 1024**2,
    "G": 1024**3,
    "GB": 1024**3,
    "T": 1024**4,
    "TB": 1024**4,
}

BOOL, SIZE_T, INT, PATH, STR = "bool", "size", "int", "path", "string"
SCHEMA: dict[str, dict[str, object]] = {
    "wsl2": {
        "memory": SIZE_T,
        "processors": INT,
        "swap": SIZE_T,
        "swapfile": PATH,
        "localhostforwarding": BOOL,
        "kernel": PATH,
        "kernelmodules": PATH,
        "kernelcommandline": STR,
        "safemode": BOOL,
        "guiapplications": BOOL,
        "debugconsole": BOOL,
        "maxcrashdumpcount": INT,
        "nestedvirtualization": BOOL,
        "vmidletimeout": INT,
        "dnsproxy": BOOL,
        "networkingmode": ("nat", "none", "bridged", "mirrored", "virtioproxy"),
        "firewall": BOOL,
        "dnstunneling": BOOL,
        "autoproxy": BOOL,
        "defaultvhdsize": SIZE_T,
    },
    "experimental": {
        "automemoryreclaim": ("disabled", "gradual", "dropCache"),
        "sparsevhd": BOOL,
        "besteffortdnsparsing": BOOL,
        "dnstunnelingipaddress": STR,
        "initialautoproxytimeout": INT,
        "ignoredports": STR,
        "hostaddressloopback": BOOL,
        # moved to [wsl2] in 2024; the old spelling still works, the first occurrence in the file wins
        "networkingmode": ("nat", "none", "bridged", "mirrored", "virtioproxy"),
        "dnstunneling": BOOL,
        "firewall": BOOL,
        "autoproxy": BOOL,
    },
}
CANONICAL = {
    "memory": "memory",
    "processors": "processors",
    "swap": "swap",
    "swapfile": "swapFile",
    "localhostforwarding": "localhostForwarding",
    "kernel": "kernel",
    "kernelmodules": "kernelModules",
    "kernelcommandline": "kernelCommandLine",
    "safemode": "safeMode",
    "guiapplications": "guiApplications",
    "debugconsole": "debugConsole",
    "maxcrashdumpcount": "maxCrashDumpCount",
    "nestedvirtualization": "nestedVirtualization",
    "vmidletimeout": "vmIdleTimeout",
    "dnsproxy": "dnsProxy",
    "networkingmode": "networkingMode",
    "firewall": "firewall",
    "dnstunneling": "dnsTunneling",
    "autoproxy": "autoProxy",
    "defaultvhdsize": "defaultVhdSize",
    "automemoryreclaim": "autoMemoryReclaim",
    "sparsevhd": "sparseVhd",
    "besteffortdnsparsing": "bestEffortDnsParsing",
    "dnstunnelingipaddress": "dnsTunnelingIpAddress",
    "initialautoproxytimeout": "initialAutoProxyTimeout",
    "ignoredports": "ignoredPorts",
    "hostaddressloopback": "hostAddressLoopback",
}


class WslValueError(ValueError):
    pass


def extra_key(dotted: str) -> tuple[str, str]:
    """(section, key), both lower-case, of a key as env.wsl.extra names it: ``key`` is [wsl2]'s,
    ``experimental.key`` is [experimental]'s."""
    section, _, key = dotted.rpartition(".")
    return (section or "wsl2").lower(), key.lower()


def size_bytes(text: str) -> int:
    if not SIZE.match(text):
        raise WslValueError(
            f"{text!r} is not a size WSL reads (an integer and B/K/KB/M/MB/G/GB/T/TB, "
            "case-sensitive, no space, no decimals: e.g. 12GB, 512MB)"
        )
    unit = text.lstrip("0123456789")
    return int(text[: len(text) - len(unit)]) * _UNIT[unit]


def parse_int(text: str) -> int:
    """C-style: 0x hex, leading 0 octal."""
    t = text.strip()
    try:
        if re.fullmatch(r"-?0[xX][0-9a-fA-F]+", t):
            return int(t, 16)
        if re.fullmatch(r"-?0[0-7]+", t):
            return int(t, 8)
        if re.fullmatch(r"-?(0|[1-9]\d*)", t):
            return int(t)
    except ValueError:
        pass
    raise WslValueError(
        f"{text!r} is not an integer WSL reads" + (" (a leading 0 means octal)" if re.fullmatch(r"0\d+", t) else "")
    )


def check_value(kind, value: str) -> str | None:
    """A note when WSL would reject the value or read it differently from how it looks; else None."""
    try:
        if kind == SIZE_T:
            size_bytes(value)
        elif kind == INT:
            n = parse_int(value)
            if re.fullmatch(r"0[0-7]+", value.strip()):
                return f"WSL reads {value} as octal {n}"
        elif kind == BOOL:
            if value not in ("true", "false", "1", "0"):
                return f"{value!r} is not a boolean WSL reads (true, false, 1, 0)"
        elif isinstance(kind, tuple):
            if value not in kind:
                return f"{value!r} is not one of {', '.join(kind)}"
    except WslValueError as exc:
        return str(exc)
    return None
