"""The env under test comes from RDIC_SMOKE_ENV and RDIC_SMOKE_SET (a JSON list of --set overrides)."""

from __future__ import annotations

import json
import os
from functools import cached_property

import pytest

from rdic_ops.config.compose import compose

ENV = os.environ.get("RDIC_SMOKE_ENV", "local")
SETS = json.loads(os.environ.get("RDIC_SMOKE_SET", "[]"))
CFG = compose(ENV, SETS)


class Live:
    cfg = CFG

    @cached_property
    def runtime(self):
        from rdic_ops.runtime import for_env

        return for_env(self.cfg)

    @cached_property
    def facts(self):
        from rdic_ops.facts import hardware

        return hardware.probe()


@pytest.fixture(scope="session")
def live() -> Live:
    return Live()
