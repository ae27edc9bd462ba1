"""Where things are: the checkout, the `invoke` of this venv, and the stand-ins' files under tests/support/."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "rdic_ops"  # the package the tests are about
SUPPORT = ROOT / "tests" / "support"
FAKEBIN = SUPPORT / "fakebin"  # systemctl, launchctl, sudo, ... that log their calls (the fake_system fixture)
FAKEHW = SUPPORT / "fakehw"  # the stand-in NVML library's source, /proc trees of a WSL2 VM and a Mac
SEED_PROJECT = SUPPORT / "fixtures" / "seed_project"  # a sample project that tests copy and migrate
INVOKE = str(Path(sys.executable).with_name("invoke"))
# the version pyproject.toml declares: what an install of this checkout reports (importlib.metadata)
VERSION = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
