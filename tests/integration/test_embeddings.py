"""Embedding migration on real vectors: MiniLM through sentence-transformers, through llama.cpp from a GGUF
converted from the same weights, and through the loopback Ollama server."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from nano_vectordb import NanoVectorDB
from nano_vectordb.dbs import load_storage
from support.ollama_server import ollama_env, publish
from support.paths import ROOT
from support.threads import ONE_THREAD_ENV, one_compute_thread

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import backends, store
from rdic_ops.embeddings import parity as parity_mod
from rdic_ops.embeddings.parity import cosine_rows
from rdic_ops.embeddings.sample import SAMPLE
from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.ops import migrate_embeddings as migrate
from rdic_ops.plan import Status

# 40 texts: more than the two checkpoints the kill test waits for at --batch-size=2 (32 texts), the parity sample
# is the whole store. Each is a sample text numbered, so all 40 differ.
TEXTS = [f"{t} (Abschnitt {i})" for i, t in enumerate((SAMPLE * 2)[:40])]
ONE_THREAD = "env.runtime.n_threads=1"  # rdic-ops' llama.cpp embedder (support/threads.py says why)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with one_compute_thread():
        yield


@pytest.fixture
def cfg(minilm_gguf):
    return compose("local", [f"embedding.gguf={minilm_gguf}", ONE_THREAD])


def make_store(path, cfg, backend="sentence_transformers", n=None):
    n = len(TEXTS) if n is None else n
    v = backends.make(cfg, backend).embed(TEXTS[:n])
    db = NanoVectorDB(v.shape[1], storage_file=str(path))
    db.upsert([{"__id__": f"chunk-{i}", "content": t, "full_doc_id": "doc-1", "__vector__": v[i]}
               for i, t in enumerate(TEXTS[:n])])
    db.save()
    return path


def test_parity_sentence_transformers_vs_llamacpp_gguf(cfg):
    st, lc = backends.make(cfg, "sentence_transformers"), backends.make(cfg, "llamacpp")
    par = parity_mod.parity(st, lc, SAMPLE)
    assert par.dim_from == par.dim_to == 384
    assert par.min > 0.9999, par


def test_keep_when_parity_high_then_nothing_to_do(cfg, tmp_path):
    path = make_store(tmp_path / "vdb_chunks.json", cfg)
    before = path.read_bytes()
    result = migrate.migrate(cfg, src="sentence_transformers", dst="llamacpp", store=str(tmp_path))
    assert result.status is Status.changed and result.changes[0].action == "record"
    assert path.read_bytes() == before  # the index itself is kept
    side = store.read_sidecar(path)
    assert "llamacpp" in side["compatible"] and side["parity"]["p1"] > 0.9999
    assert migrate.migrate(cfg, src="sentence_transformers", dst="llamacpp", store=str(tmp_path)).change_count == 0


def test_reembed_swaps_atomically_keeps_old_and_records_backend(cfg, tmp_path):
    path = make_store(tmp_path / "vdb_chunks.json", cfg)
    old = path.read_bytes()
    result = migrate.migrate(cfg, src="sentence_transformers", dst="llamacpp", store=str(path), force=True)
    assert result.status is Status.changed
    new = load_storage(str(path))
    assert [d["content"] for d in new["data"]] == TEXTS and new["matrix"].shape == (len(TEXTS), 384)
    want = backends.make(cfg, "llamacpp").embed(TEXTS[:5])
    assert np.allclose(cosine_rows(new["matrix"][:5], want), 1.0, atol=1e-5)
    backups = list(tmp_path.glob("vdb_chunks.json.*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == old
    assert store.read_sidecar(path)["backend"] == "llamacpp"
    assert not (tmp_path / "vdb_chunks.json.rdic-work").exists()
    assert migrate.migrate(cfg, src="sentence_transformers", dst="llamacpp", store=str(path)).change_count == 0


def test_refuses_to_mix_backends(cfg, tmp_path):
    path = make_store(tmp_path / "vdb_chunks.json", cfg, n=4)
    store.write_sidecar(path, {"backend": "ollama", "model": "bge-m3"})
    with pytest.raises(UsageError, match="refusing to mix"):
        migrate.migrate(cfg, src="sentence_transformers", dst="llamacpp", store=str(path))


def test_dimension_mismatch_fails(ollama_server, tiny_gguf, cfg, tmp_path, monkeypatch):
    publish(ollama_server.registry, "tiny-embed", tiny_gguf)
    c = compose("local", ollama_env(ollama_server, "embedding.model.ollama_tag=tiny-embed"))
    import ollama

    list(ollama.Client(host=ollama_server.url).pull("tiny-embed", stream=True))
    with pytest.raises(StepFailed, match="dimension mismatch: 64"):
        migrate.migrate(c, src="ollama", dst="sentence_transformers")


def test_ollama_to_sentence_transformers_against_loopback(ollama_server, minilm_gguf, tmp_path):
    publish(ollama_server.registry, "minilm", minilm_gguf.read_bytes(), family="bert")
    import ollama

    list(ollama.Client(host=ollama_server.url).pull("minilm", stream=True))
    c = compose("local", ollama_env(ollama_server, "embedding.model.ollama_tag=minilm"))
    app = tmp_path / ".env"
    app.write_text("# app settings\nEMBEDDING_BACKEND=ollama\nOTHER=1\n")
    c.embedding.app_setting_file = str(app)
    path = tmp_path / "vdb_chunks.json"
    make_store(path, compose("local", [f"embedding.gguf={minilm_gguf}"]), backend="llamacpp", n=12)
    store.write_sidecar(path, {"backend": "ollama", "model": "minilm"})
    import httpx

    ps = lambda: [m["name"] for m in httpx.get(f"{ollama_server.url}/api/ps", timeout=10).json()["models"]]
    assert ps() == []
    dry = migrate.migrate(c, src="ollama", dst="sentence_transformers", store=str(path), dry_run=True)
    assert dry.status is Status.pending and ps() == []  # parity loaded the model; the dry run unloaded it again
    result = migrate.migrate(c, src="ollama", dst="sentence_transformers", store=str(path))
    parity = next(x for x in result.checks if x.name == "parity")
    assert parity.status is Status.ok and "p1 0.9999" in parity.found
    assert app.read_text() == "# app settings\nEMBEDDING_BACKEND=sentence_transformers\nOTHER=1\n"
    assert not list(tmp_path.glob(".env.*.bak"))  # the backup of a secrets file is not left beside it
    saved = list((tmp_path / "state" / "backups").glob(".env.*.bak"))
    assert len(saved) == 1 and saved[0].stat().st_mode & 0o777 == 0o600
    assert any(x.name == "VRAM freed" and x.status is Status.skipped for x in result.checks)


def _counting(monkeypatch, counter: list[int]):
    """Count the texts the re-embed itself embeds (not the parity or dimension probes around it)."""
    from rdic_ops.embeddings import reembed

    real = reembed._embed_rest

    def counted(texts, embedder, *args):
        class Counted:
            def embed(self, batch):
                counter.append(len(batch))
                return embedder.embed(batch)

        return real(texts, Counted(), *args)

    monkeypatch.setattr(reembed, "_embed_rest", counted)


def test_kill_9_mid_reembed_resumes_to_the_same_store(cfg, minilm_gguf, tmp_path, monkeypatch):
    """Killed right after its 2nd checkpoint, the re-embed resumes there: only the rest is embedded, and the
    store is byte for byte what an uninterrupted run writes."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    make_store(a / "vdb_chunks.json", cfg)
    (b / "vdb_chunks.json").write_bytes((a / "vdb_chunks.json").read_bytes())
    original = (a / "vdb_chunks.json").read_bytes()
    batch = 2
    args = ["migrate-embeddings", "--env=local", "--from=sentence_transformers", "--to=llamacpp", "--force",
            f"--batch-size={batch}", "--set", f"embedding.gguf={minilm_gguf}", "--set", ONE_THREAD, f"--store={a}"]
    crash = subprocess.run([sys.executable, str(ROOT / "tests/support/crash_after.py"), "2", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=600, env={**os.environ, **ONE_THREAD_ENV})
    assert crash.returncode == -signal.SIGKILL, crash.stderr[-2000:]
    progress = a / "vdb_chunks.json.rdic-work" / "progress.json"
    done = json.loads(progress.read_text())["done"]
    step = batch * 8  # one checkpoint every 8 batches (reembed.CHECKPOINT_BATCHES)
    assert done == 2 * step < len(TEXTS)
    assert (a / "vdb_chunks.json").read_bytes() == original  # old store intact until the swap
    embedded: list[int] = []
    _counting(monkeypatch, embedded)
    kw = dict(src="sentence_transformers", dst="llamacpp", force=True, batch_size=batch)
    migrate.migrate(cfg, store=str(a), **kw)
    assert sum(embedded) == len(TEXTS) - done
    embedded.clear()
    migrate.migrate(cfg, store=str(b), **kw)
    assert sum(embedded) == len(TEXTS)
    assert (a / "vdb_chunks.json").read_bytes() == (b / "vdb_chunks.json").read_bytes()
    assert not progress.parent.exists()


def test_bench_rows_have_rates_and_parity(cfg):
    from rdic_ops.embeddings import bench
    from rdic_ops.embeddings.sample import SAMPLE

    # texts within max_seq_length: the two backends agree to the sixth digit
    rows = bench.run(cfg, ["sentence_transformers", "llamacpp"], [8], [128], texts=SAMPLE[:16], rounds=1)
    assert [r.backend for r in rows] == ["sentence_transformers", "llamacpp"]
    assert all(r.texts_per_s > 0 for r in rows) and rows[1].parity_min > 0.9999


def test_bench_loads_each_model_once_and_max_seq_length_matters(cfg, monkeypatch):
    from rdic_ops.embeddings import bench

    texts = bench.corpus(12)
    st = backends.make(cfg, "sentence_transformers")
    lengths = [len(st.model.tokenizer(t)["input_ids"]) for t in texts]
    assert min(lengths) < 64 and sum(n > 256 for n in lengths) >= 2  # 128 and 256 truncate different texts
    made, order = [], []
    real_make, real_timed = backends.make, bench._timed
    monkeypatch.setattr(backends, "make", lambda c, name, **kw: made.append(name) or real_make(c, name, **kw))
    monkeypatch.setattr(bench, "_timed", lambda engines, row, t: order.append(row) or real_timed(engines, row, t))
    rows = bench.run(cfg, ["sentence_transformers", "llamacpp"], [8, 16], [128, 256], n_texts=12, rounds=2)
    assert made == ["sentence_transformers", "llamacpp", "llamacpp"]  # llama.cpp: one context per length
    assert [(r.backend, r.batch_size, r.max_seq_length) for r in rows] == [
        ("sentence_transformers", 8, 128), ("sentence_transformers", 8, 256), ("sentence_transformers", 16, 128),
        ("sentence_transformers", 16, 256), ("llamacpp", 8, 128), ("llamacpp", 8, 256)]
    assert order[:6] != order[6:] and sorted(order[:6]) == sorted(order[6:])  # every row each round, rotated
    assert all(r.rounds == 2 and r.texts_per_s > 0 for r in rows)
    # each against torch at its own max_seq_length; llama.cpp's truncation of texts past it drops the final
    # [SEP] that sentence-transformers keeps, so long texts agree less closely than short ones
    assert all(r.parity_min > 0.9999 for r in rows[:4]) and all(r.parity_min > 0.99 for r in rows[4:])
    st.model.max_seq_length = 128
    short = st.embed(texts)
    st.model.max_seq_length = 256
    assert float(np.min(np.sum(short * st.embed(texts), axis=1))) < 0.99  # truncation changes vectors


def test_loading_a_packaged_model_leaves_the_callers_environment_as_it_was(monkeypatch):
    """The Hub is off while MiniLM loads from its package, and only then: the process that loaded it (a test run,
    an app) keeps its own HF_HUB_OFFLINE; one set before is kept as it was."""
    import os

    cfg = compose("local")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    backends.make(cfg, "sentence_transformers")
    assert "HF_HUB_OFFLINE" not in os.environ
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    backends.make(cfg, "sentence_transformers")
    assert os.environ["HF_HUB_OFFLINE"] == "0"
