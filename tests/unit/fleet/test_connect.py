"""Trust on the way to a host (rdic_ops/fleet/connect.py), with paramiko's keys made in this process and no
socket: a pinned fingerprint is the only key accepted, an unknown key refused unless --accept-new-host-keys
(then recorded), a pinned public key loaded as the only known one, and every failure one line with its cause.
(The connection itself, to a real sshd: tests/integration/test_fleet.py.)"""

import socket

import paramiko
import pytest

from rdic_ops.config.fleet import FleetHost, FleetSpec
from rdic_ops.fleet import connect as C


@pytest.fixture(scope="module")
def key():
    return paramiko.ECDSAKey.generate()


def fleet(tmp_path, **host):
    return FleetSpec(
        name="lab", known_hosts=str(tmp_path / "known_hosts"), hosts={"gpu1": FleetHost(address="gpu1.lab", **host)}
    )


def test_names_and_files():
    assert C.key_name(FleetHost(address="gpu1.lab")) == "gpu1.lab"
    assert C.key_name(FleetHost(address="10.0.0.2", port=2222)) == "[10.0.0.2]:2222"
    assert C.known_hosts_file(FleetSpec(name="lab")) == C.state_dir() / "fleet" / "lab" / "known_hosts"


def test_a_pinned_fingerprint_is_the_only_key_accepted(tmp_path, key):
    f = fleet(tmp_path, host_key=key.fingerprint)
    policy = C._policy(f, "gpu1", f.hosts["gpu1"], accept_new=True)
    policy.missing_host_key(None, "gpu1.lab", key)  # accepted: no raise
    other = paramiko.ECDSAKey.generate()
    with pytest.raises(C.HostKeyRefused, match=r"^host key changed: pinned SHA256:.*refusing to connect$") as err:
        policy.missing_host_key(None, "gpu1.lab", other)
    assert "update fleet.hosts.gpu1.host_key" in err.value.remedy
    assert not (tmp_path / "known_hosts").exists()  # a changed key is never recorded, accept_new or not


def test_an_unknown_key_is_refused_unless_new_keys_are_accepted_then_recorded(tmp_path, key):
    f = fleet(tmp_path)
    with pytest.raises(C.HostKeyRefused, match="unknown host key ecdsa-sha2-nistp256 SHA256:") as err:
        C._policy(f, "gpu1", f.hosts["gpu1"], accept_new=False).missing_host_key(None, "gpu1.lab", key)
    assert "--accept-new-host-keys" in err.value.remedy
    C._policy(f, "gpu1", f.hosts["gpu1"], accept_new=True).missing_host_key(None, "gpu1.lab", key)
    line = (tmp_path / "known_hosts").read_text()
    assert line == f"gpu1.lab {key.get_name()} {key.get_base64()}\n"
    assert oct((tmp_path / "known_hosts").stat().st_mode & 0o777) == "0o600"


def test_a_pinned_public_key_is_the_only_known_one(tmp_path, key):
    recorded = paramiko.ECDSAKey.generate(bits=384)  # another key type: both could sit side by side
    (tmp_path / "known_hosts").write_text(f"gpu1.lab {recorded.get_name()} {recorded.get_base64()}\n")
    f = fleet(tmp_path, host_key=f"{key.get_name()} {key.get_base64()}")
    client = paramiko.SSHClient()
    C._load_keys(client, f, f.hosts["gpu1"])
    assert dict(client.get_host_keys().lookup("gpu1.lab")) == {key.get_name(): key}  # the recorded one not loaded
    f = fleet(tmp_path)
    client = paramiko.SSHClient()
    C._load_keys(client, f, f.hosts["gpu1"])
    assert dict(client.get_host_keys().lookup("gpu1.lab")) == {recorded.get_name(): recorded}


@pytest.mark.parametrize(
    ("exc", "why"),
    [
        (paramiko.AuthenticationException("no"), "authentication failed at gpu1.lab:22 (AuthenticationException)"),
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve gpu1.lab"),
        (TimeoutError(), "no answer from gpu1.lab:22 within the connect timeout"),
        (ConnectionRefusedError(), "cannot connect to gpu1.lab:22: connection refused or reset"),
        (paramiko.SSHException("Error reading SSH protocol banner"), "gpu1.lab:22 does not speak SSH"),
        (ValueError("odd\nsecond"), "ssh to gpu1.lab:22 failed: ValueError: odd"),
    ],
)
def test_each_failure_is_one_line_with_its_cause(exc, why):
    assert C._why(exc, FleetHost(address="gpu1.lab")).startswith(why)


def test_a_changed_known_key_says_both_fingerprints(key):
    other = paramiko.ECDSAKey.generate()
    line = C._why(paramiko.BadHostKeyException("gpu1.lab", other, key), FleetHost(address="gpu1.lab"))
    assert line.startswith(f"host key CHANGED for gpu1.lab:22: expected {key.fingerprint}, got {other.fingerprint}")


def test_a_key_file_that_is_not_a_file_is_refused_before_connecting(tmp_path):
    f = fleet(tmp_path, key_file=str(tmp_path))
    with pytest.raises(C.StepFailed, match=r"key_file .*: a directory, not a regular file on this machine"):
        C.connect(f, "gpu1")
