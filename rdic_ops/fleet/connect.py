"""SSH to inventory hosts with Fabric, host keys checked like ``StrictHostKeyChecking=yes``.

A host's key must be pinned in the inventory (``host_key``: a public key line or its SHA256 fingerprint),
listed in a known_hosts file (the host's own, or the fleet's), or - only with ``--accept-new-host-keys`` -
unknown, in which case it is recorded in the fleet's known_hosts (trust on first use). A key that differs
from the one on record is always refused. ~/.ssh/config is not read: the inventory is the whole truth.
Passwords are never used; keys come from ``key_file`` or, without one, ssh-agent and ~/.ssh/id_*.
"""

from __future__ import annotations

import base64
import getpass
import os
import sys
import threading
from pathlib import Path

from rdic_ops.config.compose import expand
from rdic_ops.config.fleet import FleetHost, FleetSpec
from rdic_ops.errors import StepFailed
from rdic_ops.fsutil import user_file_problem

_record_lock = threading.Lock()


class HostKeyRefused(StepFailed):
    """The host presented a key that is unknown or different from the one on record."""


def state_dir() -> Path:
    return expand(os.environ.get("RDIC_STATE_DIR") or "~/.local/share/rdic-ops")


def known_hosts_file(fleet: FleetSpec) -> Path:
    return expand(fleet.known_hosts) if fleet.known_hosts else state_dir() / "fleet" / fleet.name / "known_hosts"


def key_name(host: FleetHost) -> str:
    """The name a known_hosts line uses: ``addr`` on port 22, else ``[addr]:port``."""
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


def _record(path: Path, name: str, key) -> None:
    from rdic_ops.fsutil import atomic_write

    with _record_lock:
        old = path.read_text() if path.exists() else ""
        atomic_write(path, old + f"{name} {key.get_name()} {key.get_base64()}\n", mode=0o600)


def _policy(fleet: FleetSpec, name: str, host: FleetHost, accept_new: bool):
    import paramiko

    pin = (host.host_key or "").strip()

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            offered = f"{key.get_name()} {key.fingerprint}"
            if pin.startswith("SHA256:"):
                if key.fingerprint.rstrip("=") == pin.rstrip("="):
                    return
                raise HostKeyRefused(
                    f"host key changed: pinned {pin}, offered {offered}; refusing to connect",
                    remedy=f"if {name} was reinstalled, update fleet.hosts.{name}.host_key",
                )
            if accept_new:
                _record(known_hosts_file(fleet), hostname, key)
                return
            raise HostKeyRefused(
                f"unknown host key {offered}",
                remedy=f"pin it in fleet.hosts.{name}.host_key, or pass --accept-new-host-keys",
            )

    return Policy()


def _load_keys(client, fleet: FleetSpec, host: FleetHost) -> None:
    import paramiko

    keys = client.get_host_keys()
    pin = (host.host_key or "").strip()
    if pin and not pin.startswith("SHA256:"):
        kind, data = pin.split()[:2]
        keys.add(key_name(host), kind, paramiko.PKey.from_type_string(kind, base64.b64decode(data)))
        return  # a pinned key is the only one accepted
    for path in (expand(host.known_hosts) if host.known_hosts else None, known_hosts_file(fleet)):
        if path and path.is_file():
            keys.load(str(path))


def _why(exc: BaseException, host: FleetHost) -> str:
    import socket

    import paramiko

    where = f"{host.address}:{host.port}"
    if isinstance(exc, paramiko.BadHostKeyException):
        return (
            f"host key CHANGED for {where}: expected {exc.expected_key.fingerprint}, got "
            f"{exc.key.fingerprint}; refusing to connect (update the pin or known_hosts if it was reinstalled)"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return f"authentication failed at {where} ({type(exc).__name__}); check user and key_file"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host.address}"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer from {where} within the connect timeout"
    if isinstance(exc, (ConnectionError, paramiko.ssh_exception.NoValidConnectionsError)):
        return f"cannot connect to {where}: connection refused or reset"
    if isinstance(exc, paramiko.SSHException) and "banner" in str(exc).lower():
        return f"{where} does not speak SSH (no SSH banner: another service on that port?)"
    return f"ssh to {where} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def connect(fleet: FleetSpec, name: str, *, accept_new: bool = False):
    """An open Fabric Connection to inventory host ``name`` (StepFailed with the reason otherwise)."""
    import logging

    import paramiko
    from fabric import Config, Connection

    # paramiko logs a failed handshake with its traceback; with no handler, Python's last resort prints it on
    # stderr (20 lines for a port that is not SSH). The reason reaches the user once, through _why.
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    host = fleet.hosts[name]
    auth = {"allow_agent": True, "look_for_keys": True}  # no gss_auth: paramiko 5 has no GSS-API (TypeError)
    why = host.key_file and user_file_problem(expand(host.key_file), sys.maxsize)  # what it is, if not a file
    if why:
        raise StepFailed(
            f"key_file {expand(host.key_file)}: {why} on this machine", remedy=f"fix fleet.hosts.{name}.key_file"
        )
    if host.key_file:
        auth = {"key_filename": [str(expand(host.key_file))], "allow_agent": False, "look_for_keys": False}
    conn = Connection(
        host.address,
        user=host.user or getpass.getuser(),
        port=host.port,
        config=Config(ssh_config=paramiko.SSHConfig()),
        connect_timeout=fleet.connect_timeout_s,
        connect_kwargs={**auth, "banner_timeout": fleet.connect_timeout_s, "auth_timeout": fleet.connect_timeout_s},
    )
    try:
        _load_keys(conn.client, fleet, host)
    except Exception as exc:  # a pin that is not a key, an unreadable known_hosts file
        raise StepFailed(
            f"host keys for {name}: {type(exc).__name__}: {exc}",
            remedy=f"check fleet.hosts.{name}.host_key / known_hosts",
        ) from None
    conn.client.set_missing_host_key_policy(_policy(fleet, name, host, accept_new))
    try:
        conn.open()
    except HostKeyRefused:
        conn.close()
        raise
    except Exception as exc:  # paramiko and socket errors of many kinds: one line with the reason
        conn.close()
        raise StepFailed(_why(exc, host)) from None
    return conn
