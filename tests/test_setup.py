"""`invoke setup` as a whole: the local env end to end, dry runs, failures, and an Ollama env on loopback."""

import json
import xml.etree.ElementTree as ET

import pytest
import yaml
from conftest import ROOT, free_port, ollama_env, run_invoke
from ollama_server import publish

from rdic_ops.config.choose import choose_env
from rdic_ops.config.compose import compose
from rdic_ops.ops import preload, setup
from rdic_ops.plan import Status


def steps(out):
    data = json.loads(out.stdout)
    return data, {s["step"]: s for s in data["steps"]}


@pytest.fixture
def local_port():
    port = free_port()
    yield [f"--set=env.runtime.llamacpp_port={port}"]
    preload.preload(compose("local", [f"env.runtime.llamacpp_port={port}"]), unload=True)


def test_local_setup_green_then_zero_changes(local_port, tmp_path):
    out = run_invoke("setup", "--env=local", *local_port, "--json", timeout=600)
    assert out.returncode == 0, out.stderr
    data, by = steps(out)
    assert data["changed"] >= 2 and by["models"]["status"] == "changed" and by["preload"]["status"] == "changed"
    assert by["smoke"]["status"] == "ok"
    for check in by["smoke"]["checks"]:  # every check ran or was skipped with its reason
        assert check["status"] in ("ok", "skipped") and (check["status"] == "ok" or check["found"])
    assert by["wsl"]["status"] == "skipped" and by["wsl"]["message"]
    again = run_invoke("setup", "--env=local", *local_port, "--json", timeout=600)
    data, by = steps(again)
    assert again.returncode == 0 and data["changed"] == 0
    assert all(s["status"] in ("ok", "skipped") for s in data["steps"])
    junit = tmp_path / "smoke.xml"
    out = run_invoke("smoke", "--env=local", *local_port, "--junit", str(junit), timeout=600)
    assert out.returncode == 0, out.stderr
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert len(cases) >= 6 and any(c.find("skipped") is not None for c in cases)


def test_rtx3060_dry_run_without_gpu_or_ollama_prints_plan_exit_0():
    host = ["--set", "env.runtime.ollama.host=http://127.0.0.1:9"]
    out = run_invoke("setup", "--env=rtx3060", "--dry-run", "--json", *host)
    assert out.returncode == 0, out.stderr
    data, by = steps(out)
    assert list(by) == setup.step_names()
    assert by["doctor"]["status"] == "failed" and by["memory"]["status"] == "failed"
    assert by["models"]["status"] == "pending"
    assert "would fail" in out.stderr
    real = run_invoke("setup", "--env=rtx3060", *host)
    assert real.returncode == 1 and "doctor failed" in real.stderr and "Traceback" not in real.stderr


def test_only_and_skip():
    results = setup.run(compose("local"), only=["doctor", "memory"])
    assert [r.status for r in results if r.step not in ("doctor", "memory")] == [Status.skipped] * (len(setup.step_names()) - 2)
    with pytest.raises(Exception, match="unknown step"):
        setup.run(compose("local"), skip=["nope"])


def test_env_chosen_from_facts():
    from rdic_ops.facts.hardware import GiB, GpuFact, HardwareFacts, NvidiaFacts

    base = dict(system="Linux", machine="x86_64", cpu_cores=8, ram_total=16 * GiB, ram_available=8 * GiB)
    rtx = NvidiaFacts(True, "", "560", [GpuFact(0, "NVIDIA GeForce RTX 3060 Laptop GPU", 6 * GiB, 5 * GiB)])
    assert choose_env(HardwareFacts(nvidia=rtx, **base))[0] == "rtx3060"
    none = NvidiaFacts(False, "no driver")
    assert choose_env(HardwareFacts(nvidia=none, **base))[0] == "local"


def test_rtx3060_like_env_end_to_end_against_loopback_ollama(ollama_server, tiny_gguf, fake_system, tmp_path,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    for tag in ("gemma3:4b-it-q8_0", "llama3.2:3b", "bge-m3"):
        publish(ollama_server.registry, tag, tiny_gguf)
    sets = ollama_env(
        ollama_server,
        # this sandbox has no GPU and is not WSL: the budget and hardware are overridden to fit the test models
        "env.hardware.gpu_vendor=none", "env.hardware.wsl2=false", "env.hardware.os=any",
        "env.hardware.cpu_cores=1", "env.hardware.ram_gb=64",
        "env.runtime.ollama.service=systemd", f"paths.system_root={fake_system.root}",
        "extraction.num_ctx=1024", "chat.num_ctx=1024", "embedding.model.embedding_dim=64",
    )
    args = [a for s in sets for a in ("--set", s)]
    out = run_invoke("setup", "--env=rtx3060", *args, "--json", timeout=600)
    assert out.returncode == 0, out.stderr + out.stdout[-3000:]
    data, by = steps(out)
    assert by["server-settings"]["status"] == "changed" and by["models"]["changed"] == 3
    assert by["preload"]["changed"] == 2 and by["smoke"]["status"] == "ok", by["smoke"]
    assert (fake_system.root / "etc/systemd/system/ollama.service.d/rdic-ops.conf").exists()
    again = run_invoke("setup", "--env=rtx3060", *args, "--json", timeout=600)
    data, by = steps(again)
    assert again.returncode == 0 and data["changed"] == 0, [(s["step"], s["changed"]) for s in data["steps"]]


def test_github_workflow_runs_local_smoke():
    wf = yaml.safe_load((ROOT / ".github/workflows/smoke.yml").read_text())
    runs = " ".join(step.get("run", "") for step in wf["jobs"]["smoke"]["steps"])
    assert "invoke smoke --env=local" in runs and "scripts/install.sh" in runs
