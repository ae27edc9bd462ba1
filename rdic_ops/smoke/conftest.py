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
    def down(self) -> str | None:
        """Why the runtime's server does not answer, checked once within a few seconds; None when it does."""
        from rdic_ops.errors import RdicError

        try:
            self.runtime.wait_ready(3.0)
        except RdicError as err:
            return err.line()
        return None

    def need_runtime(self) -> None:
        """Skip a check that needs the server, with the reason, instead of waiting out its timeout."""
        if self.down:
            pytest.skip(f"needs the runtime: {self.down}")

    @cached_property
    def facts(self):
        from rdic_ops.facts import hardware

        return hardware.probe()


@pytest.fixture(scope="session")
def live() -> Live:
    return Live()
