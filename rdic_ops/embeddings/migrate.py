"""`invoke migrate-embeddings`: move an embedding backend (e.g. Ollama bge-m3 on the GPU -> sentence-transformers
on the CPU) with numbers, not hope.

1. parity: the same sample (the store's own texts, or a bundled German/English sample) through both backends:
   dimension match (else fail), cosine mean / min / 1st percentile;
2. decision: keep the index when the 1st percentile reaches embedding.parity_threshold, else re-embed;
3. re-embed each store in batches with a progress bar, resumable after a kill (vectors and progress are
   written and fsynced per batch in <store>.rdic-work/), into a new copy swapped in atomically; the old file
   is kept as <store>.<time>.bak for rollback;
4. switch the app's own embedding setting (.env, YAML or JSON) with a diff and a backup;
5. measure what the move bought: CPU throughput (texts/s) here, VRAM freed where NVML sees a GPU.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdic_ops.config.schema import EmbeddingBackend, RootConfig
from rdic_ops.embeddings import backends
from rdic_ops.embeddings import store as stores
from rdic_ops.embeddings.sample import SAMPLE
from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.fsutil import atomic_write, backup
from rdic_ops.plan import Change, Check, Plan, Status, StepResult, converge

SAMPLE_SIZE = 64


@dataclass
class Parity:
    n: int
    dim_from: int
    dim_to: int
    mean: float
    min: float
    p1: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = backends.normalize(np.asarray(a, dtype=np.float64))
    b = backends.normalize(np.asarray(b, dtype=np.float64))
    return (a * b).sum(axis=1)


def parity(src, dst, texts: list[str]) -> Parity:
    a, b = src.embed(texts), dst.embed(texts)
    if a.shape[1] != b.shape[1]:
        raise StepFailed(f"dimension mismatch: {a.shape[1]} (from) vs {b.shape[1]} (to): the index cannot be "
                         "kept or mixed", remedy="pick a target model with the same dimension, or rebuild the index")
    cos = cosine_rows(a, b)
    return Parity(len(texts), int(a.shape[1]), int(b.shape[1]), float(cos.mean()), float(cos.min()),
                  float(np.percentile(cos, 1)))


def sample_texts(paths: list[Path], text_field: str) -> list[str]:
    texts: list[str] = []
    for p in paths:
        texts += stores.fmt_for(p).load(p, text_field).texts
    if not texts:
        return list(SAMPLE)
    step = max(len(texts) // SAMPLE_SIZE, 1)
    return texts[::step][:SAMPLE_SIZE]


def reembed(path: Path, embedder, info: dict, batch_size: int, text_field: str,
            show_progress: bool | None = None) -> float:
    """Re-embed one store, resumable; returns texts/s of the embedding work done in this call."""
    fmt = stores.fmt_for(path)
    st = fmt.load(path, text_field)
    work = path.with_name(path.name + ".rdic-work")
    work.mkdir(exist_ok=True)
    prog_path, vec_path = work / "progress.json", work / "vectors.f32"
    key = {"source_sha256": stores.sha256(path), "backend": info["backend"], "model": info["model"],
           "batch_size": batch_size, "n": len(st.texts), "order": "length-desc"}
    # Longest first over the whole corpus, as encode() orders one call: batches pad less. The order is
    # deterministic, so a resumed run continues the same sequence; rows are put back in store order at the end.
    order = sorted(range(len(st.texts)), key=lambda i: -len(st.texts[i]))
    texts = [st.texts[i] for i in order]
    step = batch_size * 8  # one checkpoint (write + fsync + progress) every 8 batches
    state = {}
    if prog_path.exists():
        try:
            state = json.loads(prog_path.read_text())
        except ValueError:
            state = {}
    if state.get("key") != key:
        state = {"key": key, "done": 0, "dim": 0}
        vec_path.write_bytes(b"")
    done, dim = state["done"], state["dim"]
    with open(vec_path, "r+b") as fh:  # drop any half-written batch past the last recorded one
        fh.truncate(done * dim * 4)
    bar = None
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if show_progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn(f"re-embed {path.name}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task("", total=len(st.texts), completed=done)
    t0, n0 = time.perf_counter(), done
    try:
        with open(vec_path, "ab") as fh:
            for i in range(done, len(texts), step):
                v = np.ascontiguousarray(embedder.embed(texts[i:i + step]), dtype=np.float32)
                fh.write(v.tobytes())
                fh.flush()
                os.fsync(fh.fileno())
                state["done"], state["dim"] = i + len(v), int(v.shape[1])
                atomic_write(prog_path, json.dumps(state))
                if bar:
                    bar.update(task, completed=state["done"])
    finally:
        if bar:
            bar.stop()
    rate = (state["done"] - n0) / max(time.perf_counter() - t0, 1e-9) if state["done"] > n0 else 0.0
    vectors = np.empty((len(texts), state["dim"]), dtype=np.float32)
    vectors[order] = np.fromfile(vec_path, dtype=np.float32).reshape(len(texts), state["dim"])
    tmp = path.with_name(f".{path.name}.new")
    fmt.write(st, vectors, tmp)
    kept = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
    shutil.copy2(path, kept)  # the old store, for rollback
    tmp.replace(path)  # the swap: readers see the old file or the new one
    stores.write_sidecar(path, {**info, "dim": state["dim"], "vectors": len(st.texts),
                                "sha256": stores.sha256(path), "previous": str(kept)})
    shutil.rmtree(work)
    return rate


def _set_app_setting(text: str, fmt: str, key: str, value: str) -> str:
    if fmt == "json":
        data = json.loads(text or "{}")
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
        return json.dumps(data, indent=2) + "\n"
    sep = "=" if fmt == "env" else ": "
    pattern = re.compile(rf"^(\s*(?:export\s+)?{re.escape(key)}\s*{'=' if fmt == 'env' else ':'}\s*)(.*?)(\s*)$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: m[1] + value + m[3], text, count=1)
    nl = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{nl}{key}{sep}{value}\n"


def app_setting_change(path: Path, key: str, value: str) -> Change:
    fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix, "env")
    if fmt == "yaml" and "." in key:
        raise UsageError("embedding.app_setting_key: only top-level keys are edited in YAML files")
    have = path.read_text() if path.exists() else None
    try:
        want = _set_app_setting(have or "", fmt, key, value)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if have == want:
        return Change(str(path), "none", have, want, reason=f"{key} is {value}")

    def write():
        backup(path)
        atomic_write(path, want)
    return Change(str(path), "update" if have is not None else "create", have, want,
                  reason=f"the app embeds with {value}", apply=write)


def _embedder(cfg: RootConfig, name: str, batch_size: int | None):
    kwargs = {"batch_size": batch_size} if name == "sentence_transformers" and batch_size else {}
    return backends.make(cfg, name, **kwargs)


def migrate(cfg: RootConfig, *, src: str, dst: str, store: str | None = None, text_field: str = "content",
            dry_run: bool = False, batch_size: int | None = None, force: bool = False) -> StepResult:
    for name in (src, dst):
        if name not in [b.value for b in EmbeddingBackend]:
            raise UsageError(f"unknown backend {name!r} (choices: {', '.join(b.value for b in EmbeddingBackend)})")
    if src == dst:
        raise UsageError("--from and --to are the same backend")
    t0 = time.perf_counter()
    paths = stores.stores_in(store) if store else []
    for p in paths:  # refuse to mix: the store must have been made by --from (or already by --to)
        side = stores.read_sidecar(p)
        if side and side.get("backend") not in (src, dst):
            raise UsageError(f"{p.name}: its vectors were made by {side.get('backend')} ({side.get('model')}), "
                             f"not by --from {src}: refusing to mix backends")
    a, b = _embedder(cfg, src, batch_size), _embedder(cfg, dst, batch_size)
    info_to = b.info().to_dict()
    texts = sample_texts(paths, text_field)
    par = parity(a, b, texts)
    keep = par.p1 >= cfg.embedding.parity_threshold and not force
    checks = [Check("parity", Status.ok if keep else Status.warn, f"p1 >= {cfg.embedding.parity_threshold}",
                    f"cosine mean {par.mean:.6f}, min {par.min:.6f}, p1 {par.p1:.6f} over {par.n} texts, "
                    f"dim {par.dim_from}", "" if keep else "vectors differ: the index is re-embedded")]
    rates: list[float] = []

    def make_plan() -> Plan:
        plan = Plan("migrate-embeddings")
        for p in paths:
            side = stores.read_sidecar(p) or {}
            if side.get("backend") == dst and side.get("sha256") == stores.sha256(p):
                plan.add(Change(str(p), "none", f"made by {dst}", f"made by {dst}", reason="already re-embedded"))
            elif keep and dst in side.get("compatible", []) and side.get("sha256") == stores.sha256(p):
                plan.add(Change(str(p), "none", "kept", "kept", reason=f"parity with {dst} recorded"))
            elif keep:
                record = {**({"backend": src, "model": cfg.embedding.model.name} | side),
                          "compatible": sorted(set(side.get("compatible", [])) | {dst}),
                          "parity": par.to_dict(), "sha256": stores.sha256(p)}
                plan.add(Change(str(p), "record", side.get("backend", "unlabelled"), f"kept; parity with {dst}",
                                reason=f"p1 cosine {par.p1:.6f} >= {cfg.embedding.parity_threshold}",
                                apply=lambda p=p, r=record: stores.write_sidecar(p, r)))
            else:
                n = len(stores.fmt_for(p).load(p, text_field).ids)
                info = {**info_to, "parity_before": par.to_dict()}
                plan.add(Change(str(p), "re-embed", f"{n} vectors by {src}", f"{n} vectors by {dst}",
                                reason=f"p1 cosine {par.p1:.6f} < {cfg.embedding.parity_threshold}",
                                apply=lambda p=p, info=info: rates.append(
                                    reembed(p, b, info, batch_size or cfg.embedding.batch_size, text_field))))
        if cfg.embedding.app_setting_file:
            plan.add(app_setting_change(Path(cfg.embedding.app_setting_file).expanduser(),
                                        cfg.embedding.app_setting_key, dst))
        return plan

    result = converge(make_plan, dry_run=dry_run)
    throughput = rates[0] if rates else _throughput(b, texts)
    checks.append(Check("throughput", Status.ok, f"{dst} on {info_to['device']}", f"{throughput:.1f} texts/s"))
    checks.append(_vram_check(cfg, src))
    result.checks = checks + result.checks
    result.duration_s = time.perf_counter() - t0
    result.message = ("kept the index; " if keep else "re-embedded; " if paths else "") + result.message
    return result


def _throughput(embedder, texts: list[str]) -> float:
    t0 = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / max(time.perf_counter() - t0, 1e-9)


def _vram_check(cfg: RootConfig, src: str) -> Check:
    from rdic_ops.facts import hardware

    nv = hardware.nvidia()
    if not nv.available or not nv.gpus:
        return Check("VRAM freed", Status.skipped, "measured with NVML", f"not measured: {nv.reason or 'no GPU'}")
    if src != "ollama":
        return Check("VRAM freed", Status.skipped, "measured with NVML", "the old backend did not hold VRAM here")
    from rdic_ops.runtime import for_env

    before = sum(g.vram_total - g.vram_free for g in nv.gpus)
    tag = cfg.embedding.model.ollama_tag or cfg.embedding.model.name
    for_env(cfg).unload(tag)
    time.sleep(1.0)
    after = sum(g.vram_total - g.vram_free for g in hardware.nvidia().gpus)
    return Check("VRAM freed", Status.ok, f"{tag} unloaded from Ollama", f"{(before - after) / 2**20:,.0f} MiB")
