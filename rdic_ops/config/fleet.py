"""The fleet inventory: typed schema and composition of ``conf/fleet/<name>.yaml`` (or a path to one).

An inventory lists a lab's workstations: for each host its env (a file of conf/env/), address, port, user,
key file and the host key it must present. The schema is registered in Hydra's ConfigStore as
``fleet_schema`` (every inventory names it in its defaults list), so wrong keys and types fail with the full
key name, and ``--set`` works on it (``--set parallel=8``, ``--set hosts.gpu1.port=2222``).
Rules a type cannot express (names, addresses, paths, envs) are checked in ``check`` - every remote command
is built from these validated values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from rdic_ops.errors import ConfigError


@dataclass
class FleetHost:
    address: str = "???"  # DNS name or IP address
    port: int = 22
    user: str = ""  # "" = the user running invoke
    env: str = "local"  # a file of conf/env/
    key_file: Optional[str] = None  # private key (on the controller); None = ssh-agent / ~/.ssh defaults
    # The key the host must present: "ssh-ed25519 AAAA..." (a .pub line) or "SHA256:..." (ssh-keygen -lf).
    host_key: Optional[str] = None
    known_hosts: Optional[str] = None  # or a known_hosts file (on the controller) that lists it
    python: Optional[str] = None  # default: bootstrap.python
    root: Optional[str] = None  # default: bootstrap.root
    venv: Optional[str] = None  # default: bootstrap.venv
    set: list[str] = field(default_factory=list)  # --set overrides for every task run on this host


@dataclass
class BootstrapSpec:
    python: str = "python3"  # the host's interpreter that creates the venv (>= 3.11)
    root: str = "~/.rdic-ops"  # releases (tasks.py + conf/ of each build), the installed marker, the cwd
    venv: str = "~/.rdic-ops/venv"
    extras: list[str] = field(default_factory=list)  # e.g. [llamacpp]
    install_deps: bool = True  # False: the wheel only (--no-deps), for hosts whose Python already has them
    system_site_packages: bool = False
    min_free_mb: int = 1024
    keep_releases: int = 2


@dataclass
class FleetSpec:
    name: str = "???"
    description: str = ""
    parallel: int = 4  # hosts worked on at the same time
    connect_timeout_s: int = 10
    command_timeout_s: int = 3600  # one remote task; a host that takes longer is reported as failed
    known_hosts: Optional[str] = None  # fleet-wide file; default: <state>/fleet/<name>/known_hosts
    bootstrap: BootstrapSpec = field(default_factory=BootstrapSpec)
    hosts: dict[str, FleetHost] = field(default_factory=dict)


# Every number of an inventory: (lowest, highest, what it means), as rules.RANGES for the main config.
RANGES: dict[str, tuple[float, float, str]] = {
    "parallel": (1, 256, "hosts worked on at the same time"),  # a lab, not a data centre: 256 SSH sessions
    "connect_timeout_s": (1, 600, "seconds"),
    "command_timeout_s": (1, 604_800, "seconds; at most a week (a setup that pulls big models takes hours)"),
    "bootstrap.min_free_mb": (0, 16_777_216, "MiB; at most 16 TiB"),
    "bootstrap.keep_releases": (1, 100, "releases kept on each host"),
    "hosts.*.port": (1, 65535, "a TCP port"),
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ADDRESS = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$")
USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
EXTRA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
HOST_KEY = re.compile(r"^(?:SHA256:[A-Za-z0-9+/]{43}=?|(?:ssh-|ecdsa-)[a-z0-9-]+ [A-Za-z0-9+/]+={0,2})$")


def register() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="fleet_schema", node=FleetSpec)


def inventory_path(name: str) -> Path:
    """``--fleet``: a name of conf/fleet/ or a path to a YAML file."""
    from rdic_ops.config.files import choices, conf_dir
    from rdic_ops.fsutil import MAX_CONF_BYTES, user_file_problem

    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = Path(name).expanduser()
    elif name not in choices("fleet"):
        raise ConfigError(
            f"unknown fleet {name!r} (choices: {', '.join(choices('fleet')) or 'none'}; "
            "or pass a path to an inventory YAML)"
        )
    else:
        path = conf_dir() / "fleet" / f"{name}.yaml"
    # Hydra opens what it is given: a regular file of bounded size, judged before it does (fsutil's rules)
    why = user_file_problem(path, MAX_CONF_BYTES)
    if why:
        raise ConfigError(f"--fleet {name}: {why}")
    return path.resolve()


def compose_fleet(name: str, overrides: list[str] | tuple[str, ...] = ()) -> FleetSpec:
    """Compose one inventory with ``--set`` overrides into a validated FleetSpec (ConfigError on any fault)."""
    from rdic_ops.config import from_env
    from rdic_ops.config.compose import _translate
    from rdic_ops.config.files import one_line, set_by

    path = inventory_path(name)
    # Keys are the inventory's own (parallel, hosts.NAME.port); the "fleet." that errors print is accepted too.
    hydra_overrides = [_translate(o.removeprefix("fleet.")) for o in overrides]
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    from rdic_ops.config import yamlguard

    register()
    yamlguard.install()  # aliases bounded in the inventory and every file its defaults list names
    try:
        with initialize_config_dir(config_dir=str(path.parent), version_base="1.3"):
            cfg = hydra_compose(config_name=path.stem, overrides=hydra_overrides)
        # Inventories without the schema in their defaults list are typed here all the same.
        cfg = OmegaConf.merge(OmegaConf.structured(FleetSpec), cfg)  # type: ignore[assignment]
        obj = from_env.to_object(cfg)  # the values it reads from the environment: masked from here on
    except Exception as exc:  # Hydra and OmegaConf raise many types; all mean "the inventory is wrong"
        line = one_line(exc, lambda key: set_by(key, overrides, "fleet."), RANGES, "fleet.")
        if re.match(r"^[a-z_][\w.\-]*: ", line) and not line.startswith("fleet."):
            line = f"fleet.{line}"  # the key's full name, as the user would --set it
        raise ConfigError(f"fleet {path.stem}: {line}") from exc
    assert isinstance(obj, FleetSpec)
    check(obj)
    return obj


def _path(key: str, value: str | None) -> None:
    if value is not None and (
        not value or "\x00" in value or "\n" in value or not (value.startswith(("/", "~/")) or value == "~")
    ):
        raise ConfigError(f"{key}: must be an absolute path or start with ~/")


def _program(key: str, value: str) -> None:
    """An interpreter: a program name found on the host's PATH, or an absolute path."""
    if "/" in value:
        _path(key, value)
    elif not NAME.match(value):
        raise ConfigError(f"{key}: not a program name")


def _host(name: str, h: FleetHost, envs: list[str]) -> None:
    from rdic_ops.config.compose import _translate

    key = f"fleet.hosts.{name}"
    if not NAME.match(name):
        raise ConfigError(f"{key}: host names are letters, digits, '.', '_', '-' (at most 63)")
    if not ADDRESS.match(h.address) or h.address.startswith("-"):
        raise ConfigError(f"{key}.address: not a host name or IP address")
    if h.user and not USER.match(h.user):
        raise ConfigError(f"{key}.user: not a user name")
    if h.env not in envs:
        raise ConfigError(f"{key}.env: unknown env (choices: {', '.join(envs)})")
    if h.host_key is not None and not HOST_KEY.match(h.host_key.strip()):
        raise ConfigError(f"{key}.host_key: expected 'ssh-ed25519 AAAA...' or 'SHA256:...'")
    for attr in ("root", "venv"):
        _path(f"{key}.{attr}", getattr(h, attr))
    if h.python is not None:
        _program(f"{key}.python", h.python)
    for n, item in enumerate(h.set, 1):
        try:
            _translate(item)
        except ConfigError:  # its message quotes the item: the inventory's text
            raise ConfigError(f"{key}.set: entry {n}: not a --set KEY=VALUE of the config") from None


def check(f: FleetSpec) -> None:
    """Rules a type cannot express; every value that ends up in a remote command passes through here."""
    from rdic_ops.config.files import choices
    from rdic_ops.config.rules import range_problems

    if not NAME.match(f.name):
        raise ConfigError("fleet.name: letters, digits, '.', '_', '-' (at most 63)")
    for key, why in range_problems(f, RANGES, "fleet.")[:1]:
        raise ConfigError(f"{key}: {why}")
    if not f.hosts:
        raise ConfigError("fleet.hosts: the inventory lists no hosts")
    b = f.bootstrap
    for attr in ("root", "venv"):
        _path(f"fleet.bootstrap.{attr}", getattr(b, attr))
    _program("fleet.bootstrap.python", b.python)
    for extra in b.extras:
        if not EXTRA.match(extra):
            raise ConfigError("fleet.bootstrap.extras: not an extra's name (letters, digits, '.', '_', '-')")
    envs = choices("env")
    for name, host in f.hosts.items():
        _host(name, host, envs)
