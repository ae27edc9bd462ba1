"""llama.cpp's own figures (rdic_ops/memory/oracle.py): its log lines read into KV, SWA cells, compute and
output buffers, and the child's one JSON line turned into a report or one line of failure. The child process
itself is tests/integration/test_memory_oracle.py's; here subprocess.run is faked at the module's edge."""

import json
import subprocess

import pytest

from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.gguf.qtypes import KV_CACHE_TYPES
from rdic_ops.memory import oracle
from rdic_ops.units import MiB

LOG = """llama_context: n_ctx = 4096
llama_kv_cache_iswa: creating non-SWA KV cache, size = 4096 cells
llama_kv_cache: size =   52.00 MiB (  4096 cells,   4 layers,  1/1 seqs), K (f16):   26.00 MiB, V (f16):   26.00 MiB
llama_kv_cache_iswa: creating     SWA KV cache, size = 1024 cells
llama_kv_cache: size =   10.50 MiB (  1024 cells,  22 layers,  1/1 seqs), K (q8_0):    5.25 MiB, V (q8_0):    5.25 MiB
llama_context:        CPU  output buffer size =     1.00 MiB
llama_context:        CPU compute buffer size =   300.25 MiB
llama_context:      CUDA0 compute buffer size =    20.00 MiB
"""


def test_parse_reads_every_figure_llama_cpp_prints():
    got = oracle.parse(LOG)
    assert got["kv"][0] == {
        "mib": 52.0,
        "cells": 4096,
        "layers": 4,
        "seqs": "1/1",
        "type_k": "f16",
        "k_mib": 26.0,
        "type_v": "f16",
        "v_mib": 26.0,
    }
    assert got["kv"][1]["type_k"] == "q8_0" and got["kv"][1]["cells"] == 1024
    assert got["iswa_cells"] == {"non-SWA": 4096, "SWA": 1024}
    assert got["compute_mib"] == 320.25 and got["output_mib"] == 1.0  # summed over backends


def test_parse_of_nothing_is_zero():
    assert oracle.parse("") == {"kv": [], "iswa_cells": {}, "compute_mib": 0.0, "output_mib": 0.0}


def test_every_kv_type_has_its_ggml_id():
    assert set(oracle.KV_TYPE_IDS) == set(KV_CACHE_TYPES) and "iq4_nl" in oracle.KV_TYPE_IDS
    assert oracle.KV_TYPE_IDS["f16"] == 1 and oracle.KV_TYPE_IDS["q8_0"] == 8


def test_a_report_totals_weights_kv_compute_and_output():
    r = oracle.OracleResult(
        oracle.OracleSetting(4096), [oracle.KvLine(**oracle.parse(LOG)["kv"][0])], compute_mib=10.0, output_mib=2.0
    )
    assert r.kv_mib == 52.0
    assert oracle.OracleReport("m.gguf", 1000, [r]).total(r) == 1000 + 64 * MiB


@pytest.fixture
def child(monkeypatch):
    """subprocess.run as the child would answer: stdout, stderr and exit code set by the test."""
    said = {"stdout": "", "stderr": "", "rc": 0, "args": None}

    def run(args, **kw):
        said["args"], said["input"] = args, kw["input"]
        return subprocess.CompletedProcess(args, said["rc"], said["stdout"], said["stderr"])

    monkeypatch.setattr(oracle, "available", lambda: True)
    monkeypatch.setattr(oracle.subprocess, "run", run)
    return said


def test_run_sends_the_settings_and_reads_the_last_line(child, tmp_path):
    s = oracle.OracleSetting(2048, "q8_0", "q8_0", n_seq=2, unified=True, flash_attn=True)
    entry = {"setting": s.__dict__, **oracle.parse(LOG), "ok": True}
    child["stdout"] = "noise from llama.cpp\n" + json.dumps({"weights": 7, "results": [entry]}) + "\n"
    rep = oracle.run(str(tmp_path / "m.gguf"), [s])
    assert json.loads(child["input"]) == [s.__dict__]
    assert child["args"][1:4] == ["-P", "-m", "rdic_ops.memory.oracle"]
    assert rep.weights == 7 and rep.results[0].setting == s and rep.results[0].kv_mib == 62.5
    assert rep.results[0].ok and rep.results[0].error == ""


def test_a_refused_context_is_a_result_not_an_exception(child):
    s = oracle.OracleSetting(10**6)
    entry = {"setting": s.__dict__, **oracle.parse(""), "ok": False, "error": "failed to allocate"}
    child["stdout"] = json.dumps({"weights": 7, "results": [entry]})
    (res,) = oracle.run("m.gguf", [s]).results
    assert not res.ok and res.error == "failed to allocate"


def test_a_child_that_failed_is_one_line(child):
    child.update(stdout="", stderr="Traceback ...\nSegmentation fault", rc=-11)
    with pytest.raises(StepFailed, match=r"^llama.cpp dry run of m.gguf failed \(exit -11\): Segmentation fault$"):
        oracle.run("m.gguf", [oracle.OracleSetting(512)])
    child.update(stdout=json.dumps({"error": "unknown model architecture"}), rc=0)
    with pytest.raises(StepFailed, match=r"^llama.cpp dry run of m.gguf: unknown model architecture$"):
        oracle.run("m.gguf", [oracle.OracleSetting(512)])


def test_without_llama_cpp_python_it_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(oracle, "available", lambda: False)
    with pytest.raises(UsageError, match=r"--oracle needs llama-cpp-python: pip install 'rdic-ops\[llamacpp\]'"):
        oracle.run("m.gguf", [])
