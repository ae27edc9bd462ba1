"""A task's --json report read back as {step: its result} (tests/unit/ops/test_setup.py and
tests/integration/test_setup.py)."""

import json


def steps(out):
    data = json.loads(out.stdout)
    return data, {s["step"]: s for s in data["steps"]}
