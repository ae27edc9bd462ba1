"""`invoke setup` as a whole: the local env end to end, dry runs, failures, and an Ollama env on loopback."""

import json


def steps(out):
    data = json.loads(out.stdout)
    return data, {s["step"]: s for s in data["steps"]}
