"""Provider checks: the hosted and local model APIs an env declares (conf/provider/), each asked once.

`invoke providers.check` runs ``run`` and prints ``report.lines``; other operations (setup, migrate-model)
call ``provider_checks(cfg)`` to get the same checks as one StepResult.
"""

from __future__ import annotations

from rdic_ops.providers.report import provider_checks
from rdic_ops.providers.runner import run

__all__ = ["provider_checks", "run"]
