"""Doctor as a table: given these facts and this env, expect these check results."""

import pytest

from rdic_ops.config.compose import compose
from rdic_ops.facts.hardware import AppleFacts, GiB, GpuFact, HardwareFacts, NvidiaFacts, WslFacts
from rdic_ops.ops import doctor
from rdic_ops.plan import Status


def facts(**kw):
    base = dict(system="Linux", machine="x86_64", cpu_cores=16, ram_total=16 * GiB, ram_available=12 * GiB,
                nvidia=NvidiaFacts(False, "NVIDIA driver not visible (NVML Shared Library Not Found)"),
                disk_path="/", disk_free=500 * GiB)
    base.update(kw)
    return HardwareFacts(**base)


RTX = NvidiaFacts(True, "", "560.94", [GpuFact(0, "NVIDIA GeForce RTX 3060 Laptop GPU", 6 * GiB, 5 * GiB)])


SMALL = NvidiaFacts(True, "", "560.94", [GpuFact(0, "NVIDIA GeForce GTX 1650", 4 * GiB, 3 * GiB)])


WSL = WslFacts("Ubuntu", True, 16 * GiB, 16)


def by_name(rows):
    return {c.name: c for c in rows}


@pytest.mark.parametrize("env, f, name, status, needle", [
    ("rtx3060", facts(), "gpu", Status.failed, "none: NVIDIA driver not visible"),
    ("rtx3060", facts(nvidia=RTX, wsl=WSL), "gpu", Status.ok, "6.0 GiB total"),
    ("rtx3060", facts(nvidia=SMALL, wsl=WSL), "gpu", Status.failed, "4.0 GiB"),
    ("rtx3060", facts(nvidia=RTX), "wsl2", Status.failed, "not WSL"),
    ("rtx3060", facts(nvidia=RTX, wsl=WSL, cpu_cores=4), "cpu", Status.warn, "4 cores"),
    ("rtx3060", facts(nvidia=RTX, wsl=WSL, disk_free=1 * GiB), "disk", Status.failed, "1.0 GiB free"),
    ("m_series_max", facts(), "gpu", Status.failed, "not Apple Silicon"),
    ("m_series_max", facts(system="Darwin", machine="arm64",
                           apple=AppleFacts("Apple M2 Max", 32 * GiB, int(32 * GiB * 0.67))),
     "gpu", Status.ok, "Metal budget 21.4 GiB"),
    ("m_series_max", facts(), "os", Status.failed, "Linux"),
    ("local", facts(), "gpu", Status.ok, "no GPU"),
    ("local", facts(nvidia=RTX), "gpu", Status.ok, "unused by this profile"),
])
def test_checks_table(env, f, name, status, needle):
    row = by_name(doctor.checks(compose(env), f))[name]
    assert row.status is status, row
    assert needle in row.found
    if status is Status.failed:
        assert row.remedy


def test_ollama_runtime_unreachable_is_a_failed_check():
    cfg = compose("rtx3060", ["env.runtime.ollama.host=http://127.0.0.1:9"])
    row = by_name(doctor.checks(cfg, facts(nvidia=RTX, wsl=WSL)))["runtime"]
    assert row.status is Status.failed and "not reachable" in row.found


def test_run_summarises():
    result = doctor.run(compose("rtx3060", ["env.runtime.ollama.host=http://127.0.0.1:9"]), facts())
    assert result.status is Status.failed and "gpu" in result.message and result.remedy
