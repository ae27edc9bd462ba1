"""The fleet inventory's schema and rules (rdic_ops/config/fleet.py): every value that ends up in a remote
command is checked here, one line naming the key and never the value."""

import dataclasses

import pytest

from rdic_ops.config import fleet
from rdic_ops.config.fleet import BootstrapSpec, FleetHost, FleetSpec
from rdic_ops.errors import ConfigError

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29vZ29v"


def inventory(**host) -> FleetSpec:
    host = {"address": "gpu1.lab.example", "env": "local", **host}
    return FleetSpec(name="lab", hosts={"gpu1": FleetHost(**host)})


def test_a_good_inventory_passes():
    fleet.check(
        inventory(user="lab", host_key=KEY, root="~/r", venv="/opt/v", python="python3.12", set=["chat.keep_alive=10"])
    )
    fleet.check(inventory(host_key="SHA256:" + "A" * 43, python="/usr/bin/python3", address="10.0.0.2"))
    fleet.check(inventory(address="[fe80::1]"))


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ({"address": "-oProxyCommand=x"}, "fleet.hosts.gpu1.address: not a host name or IP address"),
        ({"address": "a b"}, "fleet.hosts.gpu1.address: not a host name or IP address"),
        ({"user": "root;id"}, "fleet.hosts.gpu1.user: not a user name"),
        ({"env": "nope"}, "fleet.hosts.gpu1.env: unknown env (choices: "),
        ({"host_key": "ssh-rsa"}, "fleet.hosts.gpu1.host_key: expected 'ssh-ed25519 AAAA...' or 'SHA256:...'"),
        ({"root": "relative/dir"}, "fleet.hosts.gpu1.root: must be an absolute path or start with ~/"),
        ({"venv": "~other/v"}, "fleet.hosts.gpu1.venv: must be an absolute path or start with ~/"),
        ({"venv": "/a\nb"}, "fleet.hosts.gpu1.venv: must be an absolute path"),
        ({"python": "py thon"}, "fleet.hosts.gpu1.python: not a program name"),
        ({"python": "bin/python"}, "fleet.hosts.gpu1.python: must be an absolute path"),
        ({"set": ["ok.key"]}, "fleet.hosts.gpu1.set: entry 1: not a --set KEY=VALUE of the config"),
    ],
)
def test_a_bad_host_value_names_its_key_never_the_value(host, message):
    with pytest.raises(ConfigError) as err:
        fleet.check(inventory(**host))
    assert str(err.value).startswith(message)
    for value in host.values():
        if isinstance(value, str) and value not in ("nope",):
            assert value not in str(err.value)


def test_a_bad_host_name_and_fleet_name():
    f = inventory()
    f.hosts = {"bad name": f.hosts["gpu1"]}
    with pytest.raises(ConfigError, match=r"^fleet\.hosts\.bad name: host names are letters"):
        fleet.check(f)
    with pytest.raises(ConfigError, match=r"^fleet\.name: "):
        fleet.check(dataclasses.replace(inventory(), name="../lab"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parallel": 0}, "fleet.parallel: "),
        ({"command_timeout_s": 10**9}, "fleet.command_timeout_s: "),
        ({"hosts": {}}, "fleet.hosts: the inventory lists no hosts"),
        ({"bootstrap": BootstrapSpec(root="rel")}, "fleet.bootstrap.root: must be an absolute path"),
        ({"bootstrap": BootstrapSpec(python="$(id)")}, "fleet.bootstrap.python: not a program name"),
        ({"bootstrap": BootstrapSpec(extras=["llamacpp", "x;y"])}, "fleet.bootstrap.extras: not an extra's name"),
        ({"bootstrap": BootstrapSpec(keep_releases=0)}, "fleet.bootstrap.keep_releases: "),
    ],
)
def test_a_bad_fleet_value_names_its_key(change, message):
    with pytest.raises(ConfigError) as err:
        fleet.check(dataclasses.replace(inventory(), **change))
    assert str(err.value).startswith(message)


def test_a_port_out_of_range_is_named_with_its_host():
    with pytest.raises(
        ConfigError, match=r"^fleet\.hosts\.gpu1\.port: 70000 is out of range: must be between 1 and 65535"
    ):
        fleet.check(inventory(port=70000))


def test_inventory_path_takes_a_name_or_a_path(tmp_path):
    from rdic_ops.config.files import conf_dir

    assert fleet.inventory_path("lab") == (conf_dir() / "fleet" / "lab.yaml").resolve()
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    assert fleet.inventory_path(str(mine)) == mine
    with pytest.raises(ConfigError, match=r"unknown fleet 'nope' \(choices: .*lab"):
        fleet.inventory_path("nope")
    with pytest.raises(ConfigError, match=r"^--fleet .*gone\.yaml: "):
        fleet.inventory_path(str(tmp_path / "gone.yaml"))
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        fleet.inventory_path(str(tmp_path / "dir.yaml"))


def test_compose_fleet_reads_the_shipped_lab_with_overrides():
    f = fleet.compose_fleet("lab", ["parallel=8", "fleet.hosts.cpu-box.port=2200"])
    assert f.parallel == 8 and f.hosts["cpu-box"].port == 2200 and f.hosts["mac-studio"].env == "m_series_max"
    assert f.bootstrap.extras == ["llamacpp"] and f.bootstrap.keep_releases == 2  # the schema's default


def test_compose_fleet_names_a_bad_override_with_its_full_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        fleet.compose_fleet("lab", ["hosts.rtx-a.port=lots"])
    assert str(err.value).startswith("fleet lab: fleet.hosts.rtx-a.port: ")
    assert "--set hosts.rtx-a.port=lots" in str(err.value)
