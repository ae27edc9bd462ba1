"""Ask llama.cpp itself what a model needs: a no-alloc dry run through llama-cpp-python.

The model is loaded with ``no_alloc`` (metadata only, buffers simulated), then a context is created for
each requested setting and llama.cpp's own log lines are read: ``llama_kv_cache: size = ...``, the SWA /
non-SWA cell counts, and the output and compute buffer sizes. Runs in a child process so that an abort
inside llama.cpp cannot take the caller down, and so that llama_cpp is never imported by the CLI itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.gguf.qtypes import KV_CACHE_TYPES, TYPE_IDS
from rdic_ops.units import MiB

# ggml type id of each KV cache type llama.cpp takes (iq4_nl was missing: a KeyError in the child)
KV_TYPE_IDS = {t: TYPE_IDS[t.upper()] for t in KV_CACHE_TYPES}

_KV = re.compile(
    r"llama_kv_cache(?:_unified)?: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +"
    r"(\d+)/(\d+) seqs\), K \((\w+)\): +([\d.]+) MiB, V \((\w+)\): +([\d.]+) MiB"
)
_ISWA = re.compile(r"creating +(non-SWA|SWA) KV cache, size = (\d+) cells")
_COMPUTE = re.compile(r"(\S+) compute buffer size = +([\d.]+) MiB")
_OUTPUT = re.compile(r"(\S+) +output buffer size = +([\d.]+) MiB")


@dataclass
class OracleSetting:
    n_ctx: int
    type_k: str = "f16"
    type_v: str = "f16"
    n_seq: int = 1
    unified: bool = False
    swa_full: bool = False
    flash_attn: bool = False
    n_ubatch: int = 512
    embeddings: bool = False


@dataclass
class KvLine:
    mib: float
    cells: int
    layers: int
    seqs: str
    type_k: str
    k_mib: float
    type_v: str
    v_mib: float


@dataclass
class OracleResult:
    setting: OracleSetting
    kv: list[KvLine] = field(default_factory=list)
    iswa_cells: dict[str, int] = field(default_factory=dict)
    compute_mib: float = 0.0
    output_mib: float = 0.0
    ok: bool = True
    error: str = ""

    @property
    def kv_mib(self) -> float:
        return sum(k.mib for k in self.kv)


@dataclass
class OracleReport:
    path: str
    weights: int  # llama_model_size: bytes of every tensor
    results: list[OracleResult]

    def total(self, r: OracleResult) -> int:
        return int(self.weights + (r.kv_mib + r.compute_mib + r.output_mib) * MiB)


def available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def parse(lines: str) -> dict:
    """The figures llama.cpp printed while creating one context."""
    out = {"kv": [], "iswa_cells": {}, "compute_mib": 0.0, "output_mib": 0.0}
    for m in _KV.finditer(lines):
        out["kv"].append(
            dict(
                mib=float(m[1]),
                cells=int(m[2]),
                layers=int(m[3]),
                seqs=f"{m[4]}/{m[5]}",
                type_k=m[6],
                k_mib=float(m[7]),
                type_v=m[8],
                v_mib=float(m[9]),
            )
        )
    for m in _ISWA.finditer(lines):
        out["iswa_cells"][m[1]] = int(m[2])
    out["compute_mib"] = sum(float(m[2]) for m in _COMPUTE.finditer(lines))
    out["output_mib"] = sum(float(m[2]) for m in _OUTPUT.finditer(lines))
    return out


def _child(path: str, settings: list[dict]) -> None:
    """Runs inside the child process: load once with no_alloc, create one context per setting."""
    import ctypes

    import llama_cpp

    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def collect(level, text, user_data):
        lines.append(text.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    llama_cpp.llama_backend_init()
    mp = llama_cpp.llama_model_default_params()
    mp.no_alloc = True  # simulate allocations: nothing is read or allocated
    mp.load_mode = llama_cpp.LLAMA_LOAD_MODE_NONE
    mp.lazy_mode = 0
    mp.n_gpu_layers = 0
    model = llama_cpp.llama_model_load_from_file(path.encode(), mp)
    if not model:
        err = [ln.strip() for ln in lines if "error" in ln or "fail" in ln]
        print(json.dumps({"error": err[0] if err else "llama.cpp could not load the model"}))
        return
    report = {"weights": int(llama_cpp.llama_model_size(model)), "results": []}
    for s in settings:
        lines.clear()
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx = s["n_ctx"]
        cp.n_batch = max(2048, s["n_ubatch"])
        cp.n_ubatch = s["n_ubatch"]
        cp.n_seq_max = s["n_seq"]
        cp.kv_unified = s["unified"]
        cp.swa_full = s["swa_full"]
        cp.type_k = KV_TYPE_IDS[s["type_k"]]
        cp.type_v = KV_TYPE_IDS[s["type_v"]]
        cp.embeddings = s["embeddings"]
        cp.flash_attn_type = (
            llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if s["flash_attn"] else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        ctx = llama_cpp.llama_init_from_model(model, cp)
        text = "".join(lines)
        entry = {"setting": s, **parse(text), "ok": bool(ctx)}
        if not ctx:
            err = [ln.strip() for ln in lines if "error" in ln.lower() or "fail" in ln.lower()]
            entry["error"] = err[0] if err else "llama.cpp could not create the context"
        else:
            llama_cpp.llama_free(ctx)
        report["results"].append(entry)
    llama_cpp.llama_model_free(model)
    print(json.dumps(report))


def run(path: str, settings: list[OracleSetting], timeout: float = 600) -> OracleReport:
    """Dry-run ``path`` under llama.cpp for each setting (one child process, one model load)."""
    if not available():
        raise UsageError("--oracle needs llama-cpp-python: pip install 'rdic-ops[llamacpp]'")
    payload = json.dumps([s.__dict__ for s in settings])
    # -P and a fixed cwd: a file in the user's directory (llama_cpp/, json.py) cannot shadow a module; the child
    # imports the very rdic_ops this process runs
    pkg_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [pkg_root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "rdic_ops.memory.oracle", str(Path(path).resolve())],
        input=payload,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=pkg_root,
        env=env,
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    try:
        data = json.loads(last)
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise StepFailed(f"llama.cpp dry run of {path} failed (exit {proc.returncode}): {tail}") from None
    if "error" in data:
        raise StepFailed(f"llama.cpp dry run of {path}: {data['error']}")
    results = []
    for r in data["results"]:
        results.append(
            OracleResult(
                OracleSetting(**r["setting"]),
                [KvLine(**k) for k in r["kv"]],
                r["iswa_cells"],
                r["compute_mib"],
                r["output_mib"],
                r["ok"],
                r.get("error", ""),
            )
        )
    return OracleReport(path, data["weights"], results)


if __name__ == "__main__":
    _child(sys.argv[1], json.loads(sys.stdin.read()))
