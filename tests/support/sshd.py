"""Real OpenSSH sshd "hosts" on loopback addresses (127.0.0.2, .3, ...) for the fleet tests.

Each host: its own sshd (started in the foreground as our child, stopped by its own pid), host key and
authorized_keys generated per run, its own HOME and RDIC_STATE_DIR (sshd's SetEnv), and its own PATH with
fake binaries where a test fakes a hardware fact. Logins are key-only as the current user. No traffic
leaves loopback.

The hosts' Python sees the controller venv's packages through PYTHONPATH (a directory of links to them,
rdic-ops itself left out), so bootstrap installs the wheel with --no-deps and nothing is downloaded.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def available() -> str:
    """Why the sshd hosts cannot run here, or '' when they can."""
    if not os.path.exists(SSHD):
        return "OpenSSH server not installed (apt-get install -y openssh-server)"
    if os.geteuid() != 0:
        return "sshd test hosts need root (privilege separation directory /run/sshd)"
    return ""


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return path


def site_packages_view(dest: Path) -> Path:
    """Links to every entry of this venv's site-packages except rdic-ops (the hosts get it from the wheel)."""
    dest.mkdir(parents=True, exist_ok=True)
    src = Path(sysconfig.get_paths()["purelib"])
    for entry in src.iterdir():
        if entry.name.startswith(("rdic_ops", "__editable__")) or entry.suffix == ".pth":
            continue
        link = dest / entry.name
        if not link.exists():
            link.symlink_to(entry)
    return dest


def base_python() -> str:
    """The interpreter this venv was made from (what a host's own python3 would be)."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class Host:
    def __init__(self, name: str, address: str, base: Path, client_pub: Path, pythonpath: Path,
                 environ: dict | None = None):
        self.name, self.address, self.base = name, address, base
        self.home = base / "home"
        self.fakebin = base / "bin"
        for d in (self.home, self.fakebin):
            d.mkdir(parents=True, exist_ok=True)
        self.port = _free_port(address)
        self.hostkey = keygen(base / "hostkey")
        shutil.copy(client_pub, base / "authorized_keys")
        self.environ = {"HOME": str(self.home), "RDIC_STATE_DIR": str(self.home / "state"),
                        "PATH": f"{self.fakebin}:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(pythonpath),
                        "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9", **(environ or {})}
        self.proc: subprocess.Popen | None = None

    def host_key_line(self) -> str:
        return " ".join((self.base / "hostkey.pub").read_text().split()[:2])

    def _config(self) -> Path:
        env = " ".join(f'"{k}={v}"' for k, v in self.environ.items())
        cfg = self.base / "sshd_config"
        cfg.write_text(f"""ListenAddress {self.address}:{self.port}
HostKey {self.hostkey}
AuthorizedKeysFile {self.base}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile {self.base}/sshd.pid
Subsystem sftp internal-sftp
MaxStartups 50
SetEnv {env}
""")
        return cfg

    def start(self) -> Host:
        Path("/run/sshd").mkdir(exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-f", str(self._config()), "-E", str(self.base / "sshd.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection((self.address, self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"sshd for {self.name} did not start: {(self.base / 'sshd.log').read_text()}")

    def stop(self) -> None:
        """Kill this host's sshd and every session under it (a host dropping off the network)."""
        if self.proc is None:
            return
        for pid in reversed(_descendants(self.proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def new_host_key(self) -> None:
        """The host is reinstalled: a new host key, same address."""
        self.stop()
        for suffix in ("", ".pub"):
            Path(f"{self.hostkey}{suffix}").unlink()
        keygen(self.hostkey)
        self.start()

    def inventory(self, key_file: Path, pin: bool = True, **extra) -> dict:
        row = {"address": self.address, "port": self.port, "user": getpass.getuser(), "env": "local",
               "key_file": str(key_file), "python": base_python(),
               # each host has a HOME of its own (no pip cache, no file cache): the model rdic-ops writes itself
               "set": [f"env.runtime.llamacpp_port={_free_port('127.0.0.1')}", "workload=offline_tiny"]}
        if pin:
            row["host_key"] = self.host_key_line()
        return {**row, **extra}
