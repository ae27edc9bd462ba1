"""Ollama's store as a hostile place: manifests whose digests or names would lead outside the store are refused."""

import contextlib
import json
import struct

import pytest
from support.ollama_server import ollama_env, publish

from rdic_ops.config.compose import compose, expand
from rdic_ops.errors import RdicError, UsageError
from rdic_ops.facts.ollama_store import blob_path, manifest_for, read_manifest, read_store
from rdic_ops.gguf.read import inspect
from rdic_ops.models import audit
from rdic_ops.models.hashing import VerifyCache
from rdic_ops.ops import models
from rdic_ops.plan import Status

HEX = "ab" * 32


def write_manifest(root, tag, layers):
    p = manifest_for(root, tag)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"schemaVersion": 2, "config": layers[0], "layers": layers[1:]}))
    return p


@pytest.mark.parametrize("digest", ["sha256:../../../etc/passwd", "/etc/passwd", "sha256:" + "AB" * 32,
                                    "sha256:" + "ab" * 31, "md5:" + HEX, 7, None, "sha256:" + HEX + "/../x"])
def test_bad_digests_never_become_paths(tmp_path, digest):
    with pytest.raises(ValueError):
        blob_path(tmp_path, digest)
    m = read_manifest(tmp_path, write_manifest(tmp_path, "evil:latest", [
        {"digest": "sha256:" + HEX, "size": 1}, {"digest": digest, "size": 10, "mediaType": "x"}]))
    assert m.error and not m.blobs


def test_blob_link_outside_the_store_refused(tmp_path):
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / f"sha256-{HEX}").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="outside the store"):
        blob_path(tmp_path, "sha256:" + HEX)


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


def test_verify_all_goes_on_past_a_hostile_gguf(tmp_path, monkeypatch, tiny_gguf):
    monkeypatch.chdir(tmp_path)
    cfg = compose("local", ["embedding.model=minilm-l6-v2"])
    models.pull(cfg, ["tiny-llama-gguf"])
    root = expand(cfg.paths.models_dir)
    def kv(key, vtype, value):
        return struct.pack("<Q", len(key)) + key + struct.pack("<I", vtype) + value

    arch = kv(b"general.architecture", 8, struct.pack("<Q", 5) + b"llama")
    zero = kv(b"general.alignment", 4, struct.pack("<I", 0))  # a ZeroDivisionError for a scanner that obeys it
    (root / "a-hostile.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + arch + zero + b"\0" * 64)
    (root / "b-fine.gguf").write_bytes(tiny_gguf)
    r = models.verify(cfg, all_=True)
    by = {c.name: c for c in r.checks}
    assert by["gguf a-hostile.gguf"].status is Status.failed and by["gguf b-fine.gguf"].status is Status.ok


def test_gguf_inspect_of_a_hostile_manifest_is_a_usage_error(tmp_path):
    p = write_manifest(tmp_path, "evil:latest", [{"digest": "sha256:" + HEX, "size": 1},
                                                 {"mediaType": "application/vnd.ollama.image.model",
                                                  "digest": "sha256:../../../../etc/passwd", "size": 5}])
    with pytest.raises(UsageError, match="sha256:<64 hex"):
        inspect(p)
    p.write_text("[1, 2]")  # JSON, but not a manifest
    with pytest.raises(UsageError):
        inspect(p)


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
