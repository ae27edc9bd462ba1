"""Ollama's store as a hostile place: manifests whose digests or names would lead outside the store are refused."""

import contextlib

import pytest
from support.manifests import HEX, write_manifest
from support.ollama_server import ollama_env, publish

from rdic_ops.config.compose import compose
from rdic_ops.errors import RdicError, UsageError
from rdic_ops.facts.ollama_store import manifest_for, read_manifest, read_store
from rdic_ops.gguf.read import inspect
from rdic_ops.models import audit
from rdic_ops.models.hashing import VerifyCache
from rdic_ops.ops import models
from rdic_ops.plan import Status


def test_size_mismatch_never_moves_a_file_outside_the_store(ollama_server, tmp_path, monkeypatch):
    """A manifest naming ../../victim with a wrong size: a repair would have moved the user's file into
    quarantine. The digest is refused before it becomes a path."""
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file\n")
    store = ollama_server.models
    write_manifest(store, "llama3.2:3b", [{"digest": "sha256:" + HEX, "size": 1},
                                          {"digest": str(victim), "size": 999}])  # blobs / "/abs" = "/abs"
    monkeypatch.chdir(tmp_path)
    cfg = compose("rtx3060", ollama_env(ollama_server))
    checks = audit.ollama_store(store, VerifyCache(None), full=True)
    assert [c.status for c in checks][:1] == [Status.failed]
    with contextlib.suppress(RdicError):  # the registry has no such model: the pull itself fails
        models.pull(cfg, ["llama3.2-3b-q4_k_m"])
    assert victim.read_text() == "the user's file\n"


@pytest.mark.parametrize("tag", ["a/..:latest", "../x", "a/b/c/d:1", "x:../../y", ".hidden", "a b"])
def test_bad_model_names_refused_everywhere(tmp_path, tag, ollama_server):
    with pytest.raises(UsageError, match="not a valid Ollama model name"):
        manifest_for(tmp_path, tag)
    with pytest.raises(UsageError, match="not a valid Ollama model name"):
        compose("rtx3060", ollama_env(ollama_server, f"chat.model.ollama_tag={tag}"))


def test_real_store_still_reads(ollama_server, tiny_gguf, monkeypatch, tmp_path):
    publish(ollama_server.registry, "llama3.2:3b", tiny_gguf)
    monkeypatch.chdir(tmp_path)
    cfg = compose("rtx3060", ollama_env(ollama_server))
    models.pull(cfg, ["llama3.2-3b-q4_k_m"])
    store = read_store(ollama_server.models)
    assert [m.tag for m in store.manifests] == ["llama3.2:3b"] and not store.manifests[0].error
    assert inspect(manifest_for(ollama_server.models, "llama3.2:3b")).arch == "llama"


def test_pinned_model_is_checked_against_the_registry_before_pulling(ollama_server, tiny_gguf, monkeypatch,
                                                                     tmp_path):
    publish(ollama_server.registry, "llama3.2:3b", tiny_gguf)
    monkeypatch.chdir(tmp_path)
    cfg = compose("rtx3060", ollama_env(ollama_server))
    only = ["llama3.2-3b-q4_k_m"]
    models.pull(cfg, only)
    models.write_lock(cfg, only)
    pinned = read_manifest(ollama_server.models, manifest_for(ollama_server.models, "llama3.2:3b"))
    publish(ollama_server.registry, "llama3.2:3b", tiny_gguf + b"a new release")
    blob = next(b for b in pinned.blobs if b.media_type.endswith("model"))
    blob.path.write_bytes(blob.path.read_bytes()[:-10])  # damaged: a repair pull is planned
    pulls_before = [r for r in ollama_server.requests if r[1] == "/api/pull"]
    refused = models.pull(cfg, only)  # a failed step that says what it did first: nothing
    assert refused.status is Status.failed and "not pulled" in refused.message and refused.applied == []
    assert [r for r in ollama_server.requests if r[1] == "/api/pull"] == pulls_before  # never asked to pull
    now = read_manifest(ollama_server.models, manifest_for(ollama_server.models, "llama3.2:3b"))
    assert now.digest == pinned.digest and blob.path.exists()  # the pinned model is left as it was
    publish(ollama_server.registry, "llama3.2:3b", tiny_gguf)  # the registry serves the pinned one again
    assert models.pull(cfg, only).status is Status.changed


def test_store_of_a_systemd_install_is_found(fake_system, monkeypatch, tmp_path):
    """The official Linux install runs as user `ollama` (home /usr/share/ollama): its store is found there, or
    where OLLAMA_MODELS in the service's environment says."""
    import subprocess

    from rdic_ops.models.store import store_dir

    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    home = tmp_path / "usr-share-ollama"
    (home / ".ollama" / "models").mkdir(parents=True)
    etc = fake_system.root / "etc"
    (etc / "systemd/system").mkdir(parents=True)
    (etc / "passwd").write_text(f"ollama:x:998:998::{home}:/bin/false\n")
    (etc / "systemd/system/ollama.service").write_text("[Service]\nUser=ollama\nExecStart=/usr/bin/ollama serve\n")
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    cfg = compose("rtx3060", ["env.runtime.ollama.service=systemd"])
    assert store_dir(cfg) == home / ".ollama" / "models"
    elsewhere = tmp_path / "big-disk" / "models"
    elsewhere.mkdir(parents=True)
    (etc / "systemd/system/ollama.service.d").mkdir()
    (etc / "systemd/system/ollama.service.d/override.conf").write_text(
        f'[Service]\nEnvironment="OLLAMA_MODELS={elsewhere}"\n')
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    assert store_dir(cfg) == elsewhere
