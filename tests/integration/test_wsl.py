"""wsl.tune over realistic .wslconfig files: only intended lines change, everything else byte-identical."""

import pytest
from support.cli import run_invoke
from support.wslconfig_samples import REALISTIC

from rdic_ops.config.compose import compose
from rdic_ops.errors import UsageError
from rdic_ops.facts import hardware
from rdic_ops.facts.hardware import GiB, WslFacts
from rdic_ops.ops import wsl

HOST = WslFacts("Ubuntu", True, 16 * GiB, 16)


@pytest.fixture(autouse=True)
def host(monkeypatch):
    monkeypatch.setattr(hardware, "wsl", lambda *a, **k: HOST)


def test_cli_outside_wsl_and_bad_value(tmp_path):
    out = run_invoke("wsl.tune", "--env=rtx3060")
    if not hardware.is_wsl():
        assert out.returncode == 0 and "not WSL" in out.stdout
    else:  # inside WSL the profile's file is found or the failure says how to point at it
        assert out.returncode in (0, 1) and "Traceback" not in out.stderr
        assert out.returncode == 0 or "--path" in out.stderr
    (tmp_path / "c").write_bytes(REALISTIC.encode())
    out = run_invoke("wsl.tune", "--path", str(tmp_path / "c"), "--set", "env.wsl.memory=lots")
    assert out.returncode == 2 and "env.wsl.memory" in out.stderr
    assert (tmp_path / "c").read_bytes() == REALISTIC.encode()


def test_path_into_a_missing_directory_is_refused(tmp_path):
    where = tmp_path / "no" / "such" / ".wslconfig"
    with pytest.raises(UsageError, match="does not exist"):
        wsl.tune(compose("rtx3060"), path=str(where))
    assert not (tmp_path / "no").exists()
    out = run_invoke("wsl.tune", "--env=rtx3060", "--path", str(where))
    assert out.returncode == 2 and not (tmp_path / "no").exists()
