"""`invoke models.pull | models.lock | models.verify`: model files present, pinned and verified.

Each model of an env comes from its declared source (conf/model/*.yaml):
- ollama: the official client pulls it; every blob the manifest names is then re-hashed here, because
  Ollama never re-hashes blobs already on disk;
- hf: huggingface_hub downloads the GGUF (resume within a call, revision pinning), then its sha256 is
  checked against the lock or the Hub's LFS sha256;
- generated: rdic-ops writes the small offline GGUF itself (deterministic: same bytes every time);
- local: a file already on disk, verified; package: a model shipped inside a Python package.
A bad file is moved aside (never deleted) before it is fetched again.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rdic_ops import gguf_build
from rdic_ops.config.compose import expand
from rdic_ops.config.schema import ROLES, ModelSource, ModelSpec, RootConfig
from rdic_ops.errors import StepFailed, UsageError
from rdic_ops.facts.ollama_store import BlobRef, manifest_for, read_manifest, read_store
from rdic_ops.models import lock as lockfile
from rdic_ops.models.hashing import VerifyCache, hash_files
from rdic_ops.models.store import model_file
from rdic_ops.ops.doctor import model_store
from rdic_ops.plan import Change, Check, Plan, Status, StepResult, converge

# Names that reach a command line or a path: letters, digits and . _ - / : only, no "..".
_SAFE_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*(:[A-Za-z0-9._\-]+)?$")
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


def validate_spec(spec: ModelSpec) -> None:
    checks = [(spec.ollama_tag, _SAFE_TAG, "ollama_tag"), (spec.hf.file or None, _SAFE_FILE, "hf.file"),
              (spec.hf.repo or None, _SAFE_FILE, "hf.repo"), (spec.path, _SAFE_FILE, "path")]
    for value, pattern, key in checks:
        if value is None:
            continue
        if not pattern.match(value) or ".." in value.split("/") or value.startswith("/"):
            raise UsageError(f"model {spec.name}: {key} {value!r} is not a safe name "
                             "(letters, digits, . _ - / : only; no '..', no absolute path)")


def env_models(cfg: RootConfig, only: list[str] | None = None) -> list[ModelSpec]:
    seen: dict[str, ModelSpec] = {}
    for role in ROLES:
        m = getattr(cfg, role).model
        seen.setdefault(m.name, m)
    if only:
        unknown = [n for n in only if n not in seen]
        if unknown:
            raise UsageError(f"--model {unknown[0]!r} is not a model of env {cfg.env.name} "
                             f"(its models: {', '.join(seen)})")
        return [seen[n] for n in only]
    return list(seen.values())


def cache_for(cfg: RootConfig) -> VerifyCache:
    return VerifyCache(expand(cfg.paths.state_dir) / "cache" / "verify.json")


def quarantine(cfg: RootConfig, path: Path, why: str) -> Path:
    """Move a bad file aside under state_dir/quarantine, never deleting it."""
    dest_dir = expand(cfg.paths.state_dir) / "quarantine"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{path.name}"
    n = 1
    while dest.exists():
        dest = dest_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{n}-{path.name}"
        n += 1
    shutil.move(str(path), dest)
    return dest


# -- checking files ------------------------------------------------------------------------------

@dataclass
class FileProblem:
    path: Path
    kind: str  # missing | truncated | oversize | corrupted
    detail: str


def check_blobs(blobs: list[BlobRef], cache: VerifyCache, full: bool) -> list[FileProblem]:
    """Every blob exists, has its size, and hashes to the digest that names it."""
    problems, to_hash = [], []
    for b in blobs:
        if not b.path.exists():
            problems.append(FileProblem(b.path, "missing", f"{b.digest[:19]} is not in the store"))
            continue
        size = b.path.stat().st_size
        if size < b.size:
            problems.append(FileProblem(b.path, "truncated", f"{size} of {b.size} bytes"))
        elif size > b.size:
            problems.append(FileProblem(b.path, "oversize", f"{size} bytes, manifest says {b.size}"))
        else:
            to_hash.append(b)
    digests = hash_files([b.path for b in to_hash], cache=cache, full=full)
    for b in to_hash:
        got = digests[str(b.path)]
        if f"sha256:{got}" != b.digest:
            cache.forget(b.path)
            problems.append(FileProblem(b.path, "corrupted", f"sha256 {got[:12]}..., expected {b.digest[7:19]}..."))
    return problems


def check_file(path: Path, sha256: str | None, size: int | None, cache: VerifyCache, full: bool) -> FileProblem | None:
    if not path.exists():
        return FileProblem(path, "missing", "not on disk")
    have = path.stat().st_size
    if size is not None and have != size:
        return FileProblem(path, "truncated" if have < size else "oversize", f"{have} bytes, expected {size}")
    if sha256:
        got = hash_files([path], cache=cache, full=full)[str(path)]
        if got != sha256:
            cache.forget(path)
            return FileProblem(path, "corrupted", f"sha256 {got[:12]}..., expected {sha256[:12]}...")
    return None


# -- fetching ------------------------------------------------------------------------------------

def ollama_pull(cfg: RootConfig, tag: str, show_progress: bool | None = None) -> str:
    """Pull through the official client; every streamed line is checked. Returns the last status."""
    import httpx
    import ollama

    o = cfg.env.runtime.ollama
    client = ollama.Client(host=o.host, timeout=o.timeout_s)
    from rdic_ops.render import byte_progress

    tasks: dict[str, object] = {}
    bar = byte_progress(show_progress)
    if bar:
        bar.start()
    status = ""
    try:
        for part in client.pull(tag, stream=True):
            error = getattr(part, "error", None) or (part.get("error") if hasattr(part, "get") else None)
            if error:  # the client raises on these too; never trust a stream without looking
                raise StepFailed(f"ollama pull {tag}: {error}")
            status = part.status or status
            if bar and part.digest and part.total:
                if part.digest not in tasks:
                    tasks[part.digest] = bar.add_task(f"{tag} {part.digest[7:19]}", total=part.total)
                bar.update(tasks[part.digest], completed=part.completed or 0)
    except ollama.ResponseError as exc:
        code = f" (HTTP {exc.status_code})" if exc.status_code and exc.status_code > 0 else ""
        raise StepFailed(f"ollama pull {tag}: {exc.error}{code}",
                         remedy="re-run to resume; Ollama keeps its partial downloads") from None
    except (ConnectionError, httpx.ConnectError):
        raise StepFailed(f"Ollama at {o.host} is not reachable",
                         remedy="start it (systemctl start ollama, or ollama serve)") from None
    except httpx.TimeoutException:
        raise StepFailed(f"ollama pull {tag}: no answer within {o.timeout_s:g} s",
                         remedy="raise env.runtime.ollama.timeout_s or check the server") from None
    finally:
        if bar:
            bar.stop()
    if status != "success":
        raise StepFailed(f"ollama pull {tag}: the stream ended without success (last status: {status!r})")
    return status


def hf_metadata(spec: ModelSpec, revision: str) -> tuple[str, str, int | None]:
    """(commit, sha256, size) of a Hub file, from one HEAD request."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    endpoint = os.environ.get("HF_ENDPOINT") or None
    url = hf_hub_url(spec.hf.repo, spec.hf.file, revision=revision, endpoint=endpoint)
    meta = get_hf_file_metadata(url)
    return meta.commit_hash or revision, (meta.etag or "").strip('"'), meta.size


def hf_download(cfg: RootConfig, spec: ModelSpec, revision: str, expected: str | None, dest: Path) -> None:
    from huggingface_hub import hf_hub_download

    endpoint = os.environ.get("HF_ENDPOINT") or None
    try:
        got = Path(hf_hub_download(spec.hf.repo, spec.hf.file, revision=revision, local_dir=dest.parent,
                                   endpoint=endpoint))
    except Exception as exc:  # network and Hub errors of every kind
        raise StepFailed(
            f"download of {spec.hf.repo}/{spec.hf.file}@{revision} failed: {type(exc).__name__}: {exc}",
            remedy="re-run; note huggingface_hub (>= 1.18) restarts a failed file from zero") from None
    if expected:
        digest = hash_files([got], full=True)[str(got)]
        if digest != expected:
            moved = quarantine(cfg, got, "sha256 mismatch")
            raise StepFailed(f"{spec.hf.file}: sha256 {digest[:12]}... is not the expected {expected[:12]}... "
                             f"(moved to {moved})")


# -- the plan ------------------------------------------------------------------------------------

def _describe(problems: list[FileProblem]) -> str:
    return "; ".join(f"{p.path.name}: {p.kind} ({p.detail})" for p in problems)


def _ollama_change(cfg, spec, pin, cache, full) -> Change:
    tag = spec.ollama_tag or spec.name
    root = model_store(cfg)
    target = f"ollama {tag}"
    mpath = manifest_for(root, tag)

    def pull(bad: list[Path] = ()):
        for p in bad:
            quarantine(cfg, p, "failed verification")
        ollama_pull(cfg, tag)
        m = read_manifest(root, mpath)
        if pin and pin.manifest_digest and m.digest != pin.manifest_digest:
            raise StepFailed(f"{tag}: models.lock pins manifest {pin.manifest_digest[:19]}..., the registry now "
                             f"serves {m.digest[:19]}...", remedy="run invoke models.lock to accept it")

    want = pin.manifest_digest if pin and pin.manifest_digest else "latest"
    if not mpath.exists():
        return Change(target, "pull", None, want, reason=f"not in {root}", apply=pull)
    m = read_manifest(root, mpath)
    if m.error:
        return Change(target, "pull", m.error, want, reason="manifest unreadable", apply=pull)
    problems = check_blobs(m.blobs, cache, full)
    if problems:
        bad = [p.path for p in problems if p.path.exists()]
        return Change(target, "repair", _describe(problems), want,
                      reason="bad blobs are moved aside, then pulled again", apply=lambda: pull(bad))
    if pin and pin.manifest_digest and m.digest != pin.manifest_digest:
        return Change(target, "pull", m.digest, pin.manifest_digest, reason="differs from models.lock", apply=pull)
    return Change(target, "none", m.digest, m.digest, reason=f"present, {len(m.blobs)} blobs verified")


def _hf_change(cfg, spec, pin, cache, full) -> Change:
    dest = expand(cfg.paths.models_dir) / spec.hf.file
    target = f"hf {spec.hf.repo}/{spec.hf.file}"
    revision = pin.revision if pin and pin.revision else spec.hf.revision
    expected = pin.file_sha(spec.hf.file) if pin else None
    note = "pinned by models.lock" if expected else ""
    if expected is None:
        try:
            _, expected, _ = hf_metadata(spec, revision)
            note = "the Hub's LFS sha256"
        except Exception as exc:  # offline: we can still say what is on disk
            if dest.exists():
                return Change(target, "none", "present", "present",
                              reason=f"not pinned and the Hub is unreachable ({type(exc).__name__}): "
                                     "sha256 unchecked; run models.lock while online")
            raise StepFailed(f"{target}: the Hub is unreachable ({type(exc).__name__}: {exc})") from None
    problem = check_file(dest, expected, None, cache, full)
    if problem is None:
        return Change(target, "none", expected[:12], expected[:12], reason=f"present, sha256 matches {note}")

    def fetch():
        if dest.exists():
            quarantine(cfg, dest, problem.kind)
        hf_download(cfg, spec, revision, expected, dest)

    return Change(target, "download", f"{problem.kind} ({problem.detail})", f"{revision} sha256 {expected[:12]}...",
                  reason=note, apply=fetch)


def _generated_change(cfg, spec, pin, cache, full) -> Change:
    dest = model_file(cfg, spec)
    expected = pin.file_sha(dest.name) if pin else None
    target = f"generated {dest}"
    problem = check_file(dest, expected, None, cache, full)
    if problem is None:
        pinned = ", matches models.lock" if expected else ""
        return Change(target, "none", "present", "present", reason=f"built{pinned}")

    def build():
        if dest.exists():
            quarantine(cfg, dest, problem.kind)
        gguf_build.write(dest, spec.arch, spec.shape, quantization=spec.quantization, data="random",
                         name=spec.name, seed=0)
        if expected and hash_files([dest], full=True)[str(dest)] != expected:
            raise StepFailed(f"{dest.name}: the rebuilt file differs from models.lock (gguf package changed?)",
                             remedy="run invoke models.lock to pin the new build")

    return Change(target, "build", problem.kind, f"{spec.arch} {spec.shape.n_layer} layers x {spec.shape.n_embd}",
                  reason="the offline env's model is written by rdic-ops", apply=build)


def _local_change(cfg, spec, pin, cache, full) -> Change:
    dest = model_file(cfg, spec)
    expected = pin.file_sha(dest.name) if pin else None
    problem = check_file(dest, expected, None, cache, full)
    if problem:
        raise StepFailed(f"{spec.name}: {dest}: {problem.kind} ({problem.detail})",
                         remedy="put the model file there, or change the model's path in conf/model/")
    return Change(f"local {dest}", "none", "present", "present", reason="verified" if expected else "present")


def _package_change(cfg, spec, pin, cache, full) -> Change:
    pkg = spec.package or ""
    if importlib.util.find_spec(pkg) is None:
        raise StepFailed(f"{spec.name}: python package {pkg} is not installed",
                         remedy=f"pip install {pkg.replace('_', '-')}")
    dist = pkg.replace("_", "-")
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    if pin and pin.version and pin.version != version:
        raise StepFailed(f"{spec.name}: models.lock pins {dist}=={pin.version}, installed {version}",
                         remedy=f"pip install {dist}=={pin.version}")
    return Change(f"package {dist}", "none", version, version, reason="shipped inside the package")


def _st_snapshot_change(cfg, spec, pin, cache, full) -> Change:
    """A sentence-transformers model from the Hub (e.g. BAAI/bge-m3): present in the Hub cache, or downloaded."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo = spec.hf.repo
    revision = pin.revision if pin and pin.revision else spec.hf.revision
    target = f"hf snapshot {repo} (sentence-transformers)"
    try:
        path = snapshot_download(repo, revision=revision, local_files_only=True)
        return Change(target, "none", path, path, reason="in the Hugging Face cache")
    except LocalEntryNotFoundError:
        pass

    def fetch():
        try:
            snapshot_download(repo, revision=revision, endpoint=os.environ.get("HF_ENDPOINT") or None)
        except Exception as exc:
            raise StepFailed(f"download of {repo} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                             remedy="check the network (or HF_ENDPOINT) and re-run") from None

    return Change(target, "download", "not in the Hugging Face cache", f"{repo}@{revision}", apply=fetch)


_CHANGES = {ModelSource.ollama: _ollama_change, ModelSource.hf: _hf_change,
            ModelSource.generated: _generated_change, ModelSource.local: _local_change,
            ModelSource.package: _package_change}


def st_snapshot(cfg: RootConfig, spec: ModelSpec) -> bool:
    """The embedding model is used only through sentence-transformers: its Hub repo is what is needed."""
    from rdic_ops.config.schema import EmbeddingBackend

    used_by_llm = spec.name in (cfg.chat.model.name, cfg.extraction.model.name)
    return (cfg.embedding.backend is EmbeddingBackend.sentence_transformers and spec.name == cfg.embedding.model.name
            and spec.source is not ModelSource.package and not used_by_llm and bool(spec.hf.repo))


def change_for(cfg: RootConfig, spec: ModelSpec, pin, cache: VerifyCache, full: bool) -> Change:
    """Facts -> the one change (or no-op) that brings this model to its declared state."""
    if st_snapshot(cfg, spec):
        return _st_snapshot_change(cfg, spec, pin, cache, full)
    if pin and pin.source != spec.source.value:
        raise UsageError(f"{spec.name}: models.lock pins source {pin.source}, config says {spec.source.value}")
    return _CHANGES[spec.source](cfg, spec, pin, cache, full)


def plan_pull(cfg: RootConfig, only: list[str] | None = None, full: bool = False) -> Plan:
    lock = lockfile.load(cfg.paths.lockfile)
    cache = cache_for(cfg)
    plan = Plan("models")
    for spec in env_models(cfg, only):
        validate_spec(spec)
        pin = lock.models.get(spec.name) if lock else None
        change = change_for(cfg, spec, pin, cache, full)
        change.target = f"{spec.name}: {change.target}"
        plan.add(change)
    cache.save()
    return plan


def pull(cfg: RootConfig, only: list[str] | None = None, dry_run: bool = False, full: bool = False) -> StepResult:
    return converge(lambda: plan_pull(cfg, only, full), dry_run=dry_run)


# -- lock ----------------------------------------------------------------------------------------

def entry_for(cfg: RootConfig, spec: ModelSpec, cache: VerifyCache) -> lockfile.LockEntry:
    """The lock entry of a model from its verified state on disk."""
    src = spec.source
    e = lockfile.LockEntry(source=src.value)
    if src is ModelSource.ollama:
        root = model_store(cfg)
        m = read_manifest(root, manifest_for(root, spec.ollama_tag or spec.name))
        if m.error or not m.path.exists():
            raise StepFailed(f"{spec.name}: not in the Ollama store", remedy="run invoke models.pull first")
        problems = check_blobs(m.blobs, cache, False)
        if problems:
            raise StepFailed(f"{spec.name}: {_describe(problems)}", remedy="run invoke models.verify --repair")
        e.ollama_tag, e.manifest_digest = spec.ollama_tag, m.digest
        e.files = [lockfile.LockedFile(f"blobs/{b.path.name}", b.digest[7:], b.size) for b in m.blobs]
    elif src is ModelSource.package:
        e.package = spec.package
        e.version = importlib.metadata.version((spec.package or "").replace("_", "-"))
    else:
        path = expand(cfg.paths.models_dir) / spec.hf.file if src is ModelSource.hf else model_file(cfg, spec)
        if not path.exists():
            raise StepFailed(f"{spec.name}: {path} is missing", remedy="run invoke models.pull first")
        digest = hash_files([path], cache=cache)[str(path)]
        if src is ModelSource.hf:
            commit, sha, _ = hf_metadata(spec, spec.hf.revision)
            if sha and sha != digest:
                raise StepFailed(f"{spec.name}: {path.name} does not match the Hub's sha256",
                                 remedy="run invoke models.verify --repair")
            e.repo, e.file, e.revision = spec.hf.repo, spec.hf.file, commit
        e.files = [lockfile.LockedFile(path.name, digest, path.stat().st_size)]
    return e


def write_lock(cfg: RootConfig, only: list[str] | None = None, dry_run: bool = False) -> StepResult:
    path = Path(cfg.paths.lockfile)

    def make_plan() -> Plan:
        cache = cache_for(cfg)
        current = lockfile.load(path) or lockfile.Lock()
        wanted = lockfile.Lock(dict(current.models))
        for spec in env_models(cfg, only):
            wanted.models[spec.name] = entry_for(cfg, spec, cache)
        cache.save()
        before = current.to_yaml() if path.exists() else None
        after = wanted.to_yaml()
        plan = Plan("models.lock")
        if before == after:
            plan.add(Change(str(path), "none", before, after, reason="already pins the verified state"))
        else:
            plan.add(Change(str(path), "update" if before else "create", before, after,
                            reason="pin the verified state", apply=lambda: lockfile.save(path, wanted)))
        return plan

    return converge(make_plan, dry_run=dry_run)


# -- verify --------------------------------------------------------------------------------------

def verify(cfg: RootConfig, *, all_: bool = False, full: bool = False, repair: bool = False,
           only: list[str] | None = None) -> StepResult:
    """Re-hash the env's models (or, with all_, Ollama's whole store and every GGUF in models_dir)."""
    t0 = time.perf_counter()
    cache = cache_for(cfg)
    lock = lockfile.load(cfg.paths.lockfile)
    checks: list[Check] = []
    broken: list[str] = []
    specs = env_models(cfg, only)
    root = model_store(cfg)
    if all_ and root.exists():
        store = read_store(root)
        for m in store.manifests:
            if m.error:
                checks.append(Check(f"ollama {m.tag}", Status.failed, "manifest", m.error, "re-pull it"))
                continue
            problems = check_blobs(m.blobs, cache, full)
            checks.append(Check(f"ollama {m.tag}", Status.failed if problems else Status.ok,
                                f"{len(m.blobs)} blobs", _describe(problems) or "all verified",
                                "invoke models.verify --repair" if problems else ""))
        for p in store.orphans():
            checks.append(Check(f"blob {p.name[:19]}...", Status.warn, "named by a manifest", "orphaned",
                                "not used by any model; `ollama rm`/restart prunes it (left untouched)"))
        for p in store.partials:
            checks.append(Check(f"partial {p.name[:19]}...", Status.warn, "complete blob",
                                f"leftover partial download ({p.stat().st_size} bytes)",
                                "Ollama resumes it on the next pull (left untouched)"))
        models_dir = expand(cfg.paths.models_dir)
        known = {model_file(cfg, s) for s in specs}
        for g in sorted(models_dir.glob("*.gguf")) if models_dir.exists() else []:
            if g in known:
                continue
            from rdic_ops.memory.gguf_info import inspect

            try:
                inspect(g)
                pin = next((e.file_sha(g.name) for e in (lock.models.values() if lock else []) if e.file_sha(g.name)),
                           None)
                problem = check_file(g, pin, None, cache, full) if pin else None
                checks.append(Check(f"gguf {g.name}", Status.failed if problem else Status.ok,
                                    "pinned sha256" if pin else "well-formed GGUF",
                                    f"{problem.kind} ({problem.detail})" if problem else "ok"))
            except UsageError as exc:
                checks.append(Check(f"gguf {g.name}", Status.failed, "well-formed GGUF", exc.line()))
    for spec in specs:
        pin = lock.models.get(spec.name) if lock else None
        try:
            change = change_for(cfg, spec, pin, cache, full)
        except StepFailed as exc:
            checks.append(Check(spec.name, Status.failed, "present and verified", exc.line(), exc.remedy or ""))
            broken.append(spec.name)
            continue
        if change.changed:
            broken.append(spec.name)
            checks.append(Check(spec.name, Status.failed, "present and verified", change.before or "missing",
                                "invoke models.verify --repair"))
        else:
            checks.append(Check(spec.name, Status.ok, "present and verified", change.reason))
    cache.save()
    changes: list[Change] = []
    if repair and broken:
        result = pull(cfg, broken, full=True)
        changes = result.changes
        for c in checks:
            if c.name in broken:
                c.status, c.found = Status.changed, f"repaired: {c.found}"
    failed = [c for c in checks if c.status is Status.failed]
    status = Status.failed if failed else (Status.changed if changes else Status.ok)
    msg = (f"{len(failed)} problem(s): " + ", ".join(c.name for c in failed) if failed
           else f"{len(checks)} checked" + (f", {len(broken)} repaired" if changes else ""))
    return StepResult("models.verify", status, changes=changes, checks=checks, duration_s=time.perf_counter() - t0,
                      message=msg)
