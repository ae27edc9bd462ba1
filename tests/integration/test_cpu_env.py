"""The `cpu` env end to end, offline: the Hub stand-in serves a small GGUF of the real gemma3 architecture under
the real repo and file name (HF_ENDPOINT points at it; no hardware value is overridden), and setup, models.lock,
models.verify, plan-memory, preload, smoke and bench run on it through the real llama.cpp.

The stand-in has random weights, so the smoke suite's known-answer check must FAIL on it - and does, naming the
answer it wanted; every other check passes.
"""

import json

import pytest
from support.cli import run_invoke
from support.loopback import free_port

from rdic_ops.config.compose import compose, expand
from rdic_ops.errors import UsageError
from rdic_ops.models import lock as lockfile
from rdic_ops.ops import models, preload
from rdic_ops.plan import Status

pytestmark = pytest.mark.slow


REPO, FILE = "unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf"


@pytest.fixture
def cpu_env(hub, gemma3_gguf, tmp_path):
    """The stand-in Hub serving the cpu env's model; --set values for a free port and a lockfile of this test."""
    sha = hub.add(REPO, FILE, gemma3_gguf)
    # The latency budget is a benchmark's business (benchmarks/cpu_latency.py), not this test's: a loaded CI
    # machine must not fail the flow on speed.
    sets = [f"env.runtime.llamacpp_port={free_port()}", f"paths.lockfile={tmp_path / 'models.lock'}",
            "env.latency_budget_s=600"]
    yield sha, sets
    preload.preload(compose("cpu", sets), unload=True)


def _args(sets):
    return [a for s in sets for a in ("--set", s)]


def _steps(out):
    data = json.loads(out.stdout)
    return data, {s["step"]: s for s in data["steps"]}


def test_cpu_env_end_to_end_on_the_hub_stand_in(cpu_env, hub, gemma3_gguf, tmp_path):
    sha, sets = cpu_env
    out = run_invoke("setup", "--env=cpu", *_args(sets), "--json", timeout=600)
    data, by = _steps(out)
    assert by["models"]["status"] == "changed" and by["preload"]["status"] == "changed", out.stderr
    assert by["memory"]["status"] == "ok" and by["embedding"]["status"] == "ok"
    path = expand(compose("cpu", sets).paths.models_dir) / FILE
    assert path.read_bytes() == gemma3_gguf and ("GET", f"/{REPO}/resolve/main/{FILE}") in hub.requests
    # smoke: every live check passes but the known answer, which random weights cannot give
    smoke = {c["name"]: c for c in by["smoke"]["checks"]}
    failed = [n for n, c in smoke.items() if c["status"] == "failed"]
    assert failed == ["test_chat_model_answers_known_question"], by["smoke"]
    assert "does not contain the known answer 'Paris'" in smoke[failed[0]]["found"]
    assert smoke["test_generation_within_latency_budget[gemma3-1b-it-q4_k_m]"]["status"] == "ok"
    assert smoke["test_keep_alive_in_effect[gemma3-1b-it-q4_k_m]"]["status"] == "ok"
    assert out.returncode == 1 and "smoke failed" in out.stderr and "Traceback" not in out.stderr

    # pin: models.lock records the Hub's commit and the file's sha256 (trust on first use)
    assert run_invoke("models.lock", "--env=cpu", *_args(sets)).returncode == 0
    entry = lockfile.load(tmp_path / "models.lock").models["gemma3-1b-it-q4_k_m"]
    assert (entry.repo, entry.file, entry.revision) == (REPO, FILE, hub.commit)
    assert entry.files[0].sha256 == sha and entry.files[0].size == len(gemma3_gguf)
    assert run_invoke("models.verify", "--env=cpu", *_args(sets)).returncode == 0

    # plan-memory reads the GGUF on disk: the stand-in's shape, and it says where the config disagrees
    out = run_invoke("plan-memory", "--env=cpu", *_args(sets), "--json")
    plan = json.loads(out.stdout)
    row = next(m for m in plan["models"] if m["model"] == "gemma3-1b-it-q4_k_m")
    assert out.returncode == 0 and plan["fits"] and row["source"].startswith("gguf ")
    assert any("n_layer: config says 26, GGUF has 6" in w for w in row["warnings"])

    # a second setup changes nothing (the smoke result aside)
    again = run_invoke("setup", "--env=cpu", *_args(sets), "--skip=smoke", "--json", timeout=600)
    data, by = _steps(again)
    assert again.returncode == 0 and data["changed"] == 0, [(s["step"], s["changed"]) for s in data["steps"]]

    # the pinned sha256 now guards the file: damage is caught, repair fetches it again
    path.write_bytes(gemma3_gguf[:-1] + b"\x01")
    bad = run_invoke("models.verify", "--env=cpu", *_args(sets))
    assert bad.returncode == 1 and "gemma3-1b-it-q4_k_m" in bad.stderr
    assert run_invoke("models.verify", "--env=cpu", *_args(sets), "--repair").returncode == 0
    assert path.read_bytes() == gemma3_gguf


def test_bench_runs_unchanged_on_the_cpu_env(cpu_env, tmp_path):
    _, sets = cpu_env
    models.pull(compose("cpu", sets))
    out = run_invoke("bench", "--env=cpu", *_args(sets), "--runs=1", "--max-tokens=8", f"--out={tmp_path / 'b'}",
                     "--json", timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in (tmp_path / "b" / "raw.jsonl").read_text().splitlines()]
    assert rows and all(r["ok"] and r["eval_tokens"] > 0 for r in rows)


def test_conf_model_sha256_pins_before_any_lock(hub, gemma3_gguf, tmp_path, monkeypatch):
    """A sha256 written into conf/model is enforced on the first download, before models.lock exists."""
    monkeypatch.chdir(tmp_path)
    hub.add(REPO, FILE, gemma3_gguf)
    cfg = compose("cpu", ["chat.model.hf.sha256=" + "ab" * 32, "extraction.model.hf.sha256=" + "ab" * 32])
    refused = models.pull(cfg, ["gemma3-1b-it-q4_k_m"])
    assert refused.status is Status.failed and "is not the expected abababababab" in refused.message
    assert not (expand(cfg.paths.models_dir) / FILE).exists()
    bad = compose("cpu", ["chat.model.hf.sha256=nothex", "extraction.model.hf.sha256=nothex"])
    with pytest.raises(UsageError, match="not 64 hex digits"):
        models.pull(bad)
