"""A cache of composed configs: Hydra's compose costs about 0.3 s a command, and equal inputs compose equally.

The key is a sha256 over everything a composition reads: the conf directory's path and every file under it
(relative path and bytes, so an added, removed or edited file -- even one edited within the same mtime
tick -- is another key), the env and the Hydra overrides, the value of every environment variable the conf
files read (``oc.env:NAME``, e.g. RDIC_STATE_DIR), the machine facts ``${auto:...}`` values come from (cores,
RAM), the code that turns YAML into a checked RootConfig (schema, compose, auto, rules, provider, yamlguard) and where
Hydra and OmegaConf are installed. Any other resolver (``${now:...}``): composed every time. The value is
the RootConfig as JSON, rebuilt into the schema's dataclasses without importing Hydra or OmegaConf.

Never written: a config holding a secret, a value read from the environment (``${oc.env:NAME}``) above all
(``writable``); such a config is composed every time, and its values are masked wherever printed (redact.py).

Where: $RDIC_STATE_DIR/cache/config, else $XDG_CACHE_HOME/rdic-ops/config (~/.cache). RDIC_CONFIG_CACHE=0
turns it off. A damaged or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import typing
from enum import Enum
from pathlib import Path

from rdic_ops.config.schema import RootConfig

KEEP = 64  # entries kept; the oldest go first
_ENV_VAR = re.compile(rb"oc\.env:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)")
_RESOLVER = re.compile(rb"\$\{\s*([A-Za-z_][\w.]*)\s*:")  # ${name:...}: a resolver, e.g. oc.env, now, hydra
_CODE = [
    Path(__file__).with_name(n)
    for n in ("schema.py", "compose.py", "auto.py", "rules.py", "provider.py", "yamlguard.py")
]
_CODE.append(Path(__file__).parents[1] / "wslkeys.py")  # rules.py checks env.wsl with its sizes and keys


def enabled() -> bool:
    return os.environ.get("RDIC_CONFIG_CACHE", "1") not in ("0", "false", "no", "off")


def writable(cfg) -> bool:
    """Write this config to the cache? Not in a dry run (RDIC_CONFIG_CACHE_WRITE=0), and never a config that
    holds a secret (a value read from the environment through ${oc.env:NAME}, a password in a URL, a credential
    in a query, a secret-named value): the cache is a file on disk. A config that reads the environment is
    composed every time instead; the others keep the cache's speed."""
    if os.environ.get("RDIC_CONFIG_CACHE_WRITE", "1") in ("0", "false", "no", "off"):
        return False
    from rdic_ops.config import from_env
    from rdic_ops.config.files import to_container
    from rdic_ops.redact import mask_data

    if from_env.of(cfg):
        return False
    data = to_container(cfg)
    return mask_data(data) == data


def cache_dir() -> Path:
    state = os.environ.get("RDIC_STATE_DIR")
    if state:
        return Path(state).expanduser() / "cache" / "config"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rdic-ops" / "config"


def _files(root: Path) -> list[Path]:
    out = []
    for d, dirs, names in os.walk(root, followlinks=True):
        dirs.sort()
        out += [Path(d) / n for n in sorted(names)]
    return out


def key(conf: Path, overrides: list[str]) -> str | None:
    """The sha256 of every input of compose(conf, overrides); None when one cannot be known beforehand
    (a resolver other than oc.env and auto, e.g. ${now:...} or ${hydra:...}: composed every time)."""
    h = hashlib.sha256()
    args = json.dumps([str(conf.resolve()), overrides]).encode()
    h.update(args)
    names: set[bytes] = set()
    resolvers: set[bytes] = set()
    for p, data in [(None, args)] + [(p, p.read_bytes()) for p in _files(conf) + _CODE]:
        if p not in _CODE:
            resolvers.update(_RESOLVER.findall(data))
        names.update(_ENV_VAR.findall(data))
        if p is not None:
            h.update(b"\0file\0" + str(p).encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    if resolvers - {b"oc.env", b"auto"}:
        return None
    if b"auto" in resolvers:  # ${auto:...}: chosen from this machine's cores and RAM (config/auto.py)
        from rdic_ops.config import auto

        h.update(f"\0auto\0{auto.machine()}".encode())
    for name in sorted(names):
        value = os.environ.get(name.decode())
        h.update(b"\0env\0" + name + b"=" + (b"\1" + value.encode() if value is not None else b"\0"))
    for pkg in ("hydra", "omegaconf"):
        spec = importlib.util.find_spec(pkg)
        origin = spec.origin if spec and spec.origin else ""
        stamp = os.stat(origin).st_mtime_ns if origin else 0
        h.update(f"\0pkg\0{pkg}={origin}@{stamp}".encode())
    return h.hexdigest()


def get(k: str | None) -> RootConfig | None:
    if k is None:
        return None
    try:
        data = json.loads((cache_dir() / f"{k}.json").read_text())
        if data["key"] != k:
            return None
        return _build(RootConfig, data["config"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def put(k: str, cfg: RootConfig) -> None:
    from rdic_ops.fsutil import atomic_write

    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        atomic_write(d / f"{k}.json", json.dumps({"key": k, "config": dataclasses.asdict(cfg)}))
        entries = sorted(d.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written is only a slower next command


def _build(cls, data: dict):
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _value(hints[f.name], data[f.name]) for f in dataclasses.fields(cls)}  # all, or KeyError
    return cls(**kwargs)


def _value(tp, v):
    if v is None:
        return None
    if typing.get_origin(tp) is typing.Union:
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if dataclasses.is_dataclass(tp):
        return _build(tp, v)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(v)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is dict and len(args) == 2:  # e.g. providers: dict[str, ProviderSpec]
        return {k: _value(args[1], x) for k, x in v.items()}
    if origin is list and args:
        return [_value(args[0], x) for x in v]
    if tp is float:
        return float(v)
    return v
