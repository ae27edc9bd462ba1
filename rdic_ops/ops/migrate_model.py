"""`invoke migrate-model`: a model migration across a project, declared in conf/migration/, previewed,
applied with a journal, verified, and undoable.

Preflight: the target is a git work tree, clean unless allowed; the migration config is valid (files exist,
renames are identifiers and do not collide); the new model fits the env (memory planner). Apply: originals
are copied into a journal under state_dir first, then each file is written atomically; a crash mid-apply is
rolled back on the next run before planning again. Verify: the new model pulled and verified, the target's
own tests run, leftovers of the old API searched across the whole target (file:line).
"""

from __future__ import annotations

import hashlib
import json
import keyword
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from rdic_ops.config.compose import CONF_DIR, choices, expand
from rdic_ops.config.schema import RootConfig
from rdic_ops.errors import UsageError
from rdic_ops.fsutil import atomic_write
from rdic_ops.plan import Change, Check, Plan, Status, StepResult, converge


@dataclass
class ValueSpec:
    name: str = "???"
    to: str = "???"
    # "from" is a Python keyword: the YAML key is mapped to this field when the file is loaded
    old: str = "???"


@dataclass
class TextSpec:
    files: list[str] = field(default_factory=list)
    to: str = "???"
    old: str = "???"


@dataclass
class FileReplaceSpec:
    path: str = "???"
    with_: str = "???"


@dataclass
class MigrationSpec:
    name: str = "???"
    description: str = ""
    source_model: str = "???"
    target_model: str = "???"
    target: Optional[str] = None
    python_files: list[str] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)
    values: list[ValueSpec] = field(default_factory=list)
    text: list[TextSpec] = field(default_factory=list)
    replace_files: list[FileReplaceSpec] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)


def load(name_or_path: str) -> tuple[MigrationSpec, Path]:
    """A migration by name (conf/migration/NAME.yaml) or by path, validated by its schema."""
    import yaml
    from omegaconf import OmegaConf

    p = Path(name_or_path).expanduser()
    if not p.suffix:
        p = CONF_DIR / "migration" / f"{name_or_path}.yaml"
    if not p.is_file():
        raise UsageError(f"unknown migration {name_or_path!r} (choices: {', '.join(choices('migration'))}, "
                         "or a path to a YAML file)")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
        for v in raw.get("values", []) + raw.get("text", []):
            if "from" in v:
                v["old"] = str(v.pop("from"))
            if "to" in v:
                v["to"] = str(v["to"])
        for r in raw.get("replace_files", []):
            if "with" in r:
                r["with_"] = r.pop("with")
        spec = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(MigrationSpec), raw))
    except Exception as exc:  # YAML and schema errors
        from rdic_ops.config.compose import _one_line

        raise UsageError(f"{p}: {_one_line(exc)}") from None
    return spec, p


def _patterns(spec: MigrationSpec) -> list[str]:
    """Every file pattern the migration edits (Python and text rules)."""
    return [*spec.python_files, *[f for t in spec.text for f in t.files]]


def _glob(root: Path, pattern: str) -> list[Path]:
    return sorted(q for q in root.glob(pattern) if q.is_file())


def validate(spec: MigrationSpec, root: Path) -> None:
    """Bad migration configs fail here, before any file is touched (exit 2)."""
    from rdic_ops.codemod import defined_names

    if not (root / ".git").exists() and _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        raise UsageError(f"--target {root} is not a git work tree: a migration needs history to be safe")
    for pattern in [*_patterns(spec), *[r.path for r in spec.replace_files]]:
        if not _glob(root, pattern):
            raise UsageError(f"migration {spec.name}: no file {pattern!r} in {root}")
    for r in spec.replace_files:
        if not (root / r.with_).is_file():
            raise UsageError(f"migration {spec.name}: replacement {r.with_!r} does not exist in {root}")
    names: set[str] = set()
    for pattern in spec.python_files:
        for f in _glob(root, pattern):
            names |= defined_names(f.read_text())
    for old, new in spec.renames.items():
        for ident in (old, new):
            if not ident.isidentifier() or keyword.iskeyword(ident):
                raise UsageError(f"migration {spec.name}: renames: {ident!r} is not a Python identifier")
        if new in names and old in names:
            raise UsageError(f"migration {spec.name}: renames: {new!r} already exists in the target; "
                             f"renaming {old!r} to it would collide")
    for m in (spec.source_model, spec.target_model):
        if m not in choices("model"):
            raise UsageError(f"migration {spec.name}: unknown model {m!r} (choices: {', '.join(choices('model'))})")


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def planned_files(spec: MigrationSpec, root: Path) -> dict[Path, tuple[str, str]]:
    """path -> (current text, text after the migration), for the files the migration changes."""
    from rdic_ops.codemod import ValueRule, transform

    rules = [ValueRule(v.name, v.old, v.to) for v in spec.values]
    out: dict[Path, tuple[str, str]] = {}

    def edit(path: Path, fn):
        have = out[path][1] if path in out else path.read_text()
        orig = out[path][0] if path in out else have
        out[path] = (orig, fn(have))

    for pattern in spec.python_files:
        for f in _glob(root, pattern):
            edit(f, lambda s: transform(s, spec.renames, rules))
    for t in spec.text:
        for pattern in t.files:
            for f in _glob(root, pattern):
                edit(f, lambda s, t=t: s.replace(t.old, t.to))
    for r in spec.replace_files:
        src = (root / r.with_).read_text()
        for f in _glob(root, r.path):
            edit(f, lambda s, src=src: src)
    return {p: (a, b) for p, (a, b) in out.items() if a != b}


# -- the journal ---------------------------------------------------------------------------------

def journal_dir(cfg: RootConfig, spec: MigrationSpec, root: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return expand(cfg.paths.state_dir) / "migrations" / f"{spec.name}-{key}"


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def read_journal(jdir: Path) -> dict:
    try:
        return json.loads((jdir / "journal.json").read_text())
    except (OSError, ValueError):
        return {}


def _write_journal(jdir: Path, data: dict) -> None:
    atomic_write(jdir / "journal.json", json.dumps(data, indent=2))


def recover(jdir: Path, root: Path) -> list[str]:
    """A crash mid-apply (status 'applying'): restore every file from its backup. Returns what was restored."""
    j = read_journal(jdir)
    if j.get("status") != "applying":
        return []
    restored = []
    for f in j["files"]:
        path = root / f["path"]
        backup = jdir / "backups" / f["path"]
        if backup.exists() and (not path.exists() or _sha(path.read_bytes()) != f["before_sha256"]):
            atomic_write(path, backup.read_bytes())
            restored.append(f["path"])
    j["status"] = "rolled-back"
    j["recovered_at"] = time.time()
    _write_journal(jdir, j)
    return restored


def _apply(jdir: Path, root: Path, spec: MigrationSpec, files: dict[Path, tuple[str, str]]) -> None:
    backups = jdir / "backups"
    entries = []
    for path, (_, after) in files.items():  # originals first, all of them, before any edit
        rel = path.relative_to(root).as_posix()
        dest = backups / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(dest, path.read_bytes())
        entries.append({"path": rel, "before_sha256": _sha(path.read_bytes()), "after_sha256": _sha(after.encode())})
    prior = read_journal(jdir)
    _write_journal(jdir, {"migration": spec.name, "target": str(root), "status": "applying", "files": entries,
                          "started_at": time.time(), "history": prior.get("history", [])})
    for path, (_, after) in files.items():
        atomic_write(path, after)
        if os.environ.get("RDIC_MIGRATE_PAUSE"):  # a window for crash tests between two files
            time.sleep(float(os.environ["RDIC_MIGRATE_PAUSE"]))
    j = read_journal(jdir)
    j["status"] = "applied"
    j["applied_at"] = time.time()
    _write_journal(jdir, j)


def rollback(cfg: RootConfig, spec: MigrationSpec, root: Path, dry_run: bool = False) -> StepResult:
    jdir = journal_dir(cfg, spec, root)

    def make() -> Plan:
        j = read_journal(jdir)
        plan = Plan("migrate-model --rollback")
        if j.get("status") not in ("applied", "applying"):
            plan.add(Change(str(root), "none", j.get("status", "never applied"), "original",
                            reason="nothing to roll back"))
            return plan
        for f in j["files"]:
            path, backup = root / f["path"], jdir / "backups" / f["path"]
            have = path.read_bytes() if path.exists() else b""
            want = backup.read_bytes()
            if have == want:
                continue
            plan.add(Change(f["path"], "restore", have.decode("utf-8", "replace"), want.decode("utf-8", "replace"),
                            apply=lambda p=path, w=want: atomic_write(p, w)))
        def mark():  # after the files: the journal says rolled-back only once they are restored
            j["status"] = "rolled-back"
            _write_journal(jdir, j)
        plan.add(Change("journal", "mark rolled-back", j["status"], "rolled-back", apply=mark))
        return plan

    return converge(make, dry_run=dry_run)


# -- verification --------------------------------------------------------------------------------

def leftovers(spec: MigrationSpec, root: Path) -> list[str]:
    """file:line of every remaining use of the old API or values, across the whole target."""
    words = [re.escape(o) for o in spec.renames]
    lits = [re.escape(v.old) for v in spec.values if not v.old.isdigit()]
    pattern = re.compile("|".join([rf"\b(?:{'|'.join(words)})\b"] * bool(words) + lits))
    out = []
    if not pattern.pattern:
        return out
    tracked = _git(root, "ls-files").splitlines() or [
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    for rel in tracked:
        p = root / rel
        try:
            text = p.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            m = pattern.search(line)
            if m:
                out.append(f"{rel}:{n}: {m.group(0)}")
    return out


def run_verify(spec: MigrationSpec, root: Path, timeout: float = 600) -> list[Check]:
    checks = []
    for cmd in spec.verify:
        argv = shlex.split(cmd)
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        t0 = time.perf_counter()
        try:
            out = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=timeout, check=False)
            ok, tail = out.returncode == 0, (out.stdout + out.stderr).strip().splitlines()[-1:] or [""]
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, tail = False, [str(exc)]
        checks.append(Check(f"test: {cmd}", Status.ok if ok else Status.failed, "exit 0",
                            f"{'passed' if ok else 'failed'} in {time.perf_counter() - t0:.1f} s: {tail[0][:200]}",
                            "" if ok else "fix the target's tests, or roll back with --rollback"))
    return checks


def _target_cfg(cfg: RootConfig, spec: MigrationSpec) -> RootConfig:
    import copy

    from rdic_ops.config.compose import load_model_spec

    c = copy.deepcopy(cfg)
    target = load_model_spec(spec.target_model)
    c.chat.model = copy.deepcopy(target)
    c.extraction.model = copy.deepcopy(target)
    for role in (c.chat, c.extraction):
        train = target.shape.n_ctx_train
        if train and role.num_ctx > train:
            role.num_ctx = train
    return c


def status(cfg: RootConfig, spec: MigrationSpec, root: Path) -> StepResult:
    """The seed's checklist, from facts: files changed, model downloaded, tests passed, leftovers."""
    from rdic_ops.ops import models

    t0 = time.perf_counter()
    pending = planned_files(spec, root)
    checks = [Check(f"file {p.relative_to(root)}", Status.ok if p not in pending else Status.warn,
                    "migrated", "done" if p not in pending else "pending") for p in
              sorted({f for pat in _patterns(spec) for f in _glob(root, pat)})]
    tcfg = _target_cfg(cfg, spec)
    v = models.verify(tcfg, only=[spec.target_model])
    checks.append(Check(f"model {spec.target_model}", v.status if v.status is not Status.failed else Status.warn,
                        "downloaded and verified", v.checks[0].found if v.checks else v.message,
                        "" if v.status is Status.ok else "invoke models.pull"))
    j = read_journal(journal_dir(cfg, spec, root))
    last = j.get("verify")
    if last and last.get("head") == _git(root, "rev-parse", "HEAD") and last.get("tree") == _tree_state(root):
        checks.append(Check("tests", Status.ok if last["passed"] else Status.warn, "passed on this tree",
                            "passed" if last["passed"] else "failed"))
    else:
        checks.append(Check("tests", Status.warn, "passed on this tree", "not run on the current tree",
                            "invoke migrate-model (verification runs them)"))
    left = leftovers(spec, root)
    checks.append(Check("leftovers", Status.ok if not left else Status.warn, "no use of the old API",
                        "none" if not left else f"{len(left)}: " + "; ".join(left[:8])))
    done = all(c.status is Status.ok for c in checks)
    return StepResult("migrate-model --status", Status.ok if done else Status.warn, checks=checks,
                      duration_s=time.perf_counter() - t0,
                      message=f"{sum(c.status is Status.ok for c in checks)} of {len(checks)} done")


def _tree_state(root: Path) -> str:
    return hashlib.sha256(_git(root, "status", "--porcelain", "-uall").encode()
                          + _git(root, "diff").encode()).hexdigest()[:16]


def migrate(cfg: RootConfig, spec: MigrationSpec, root: Path, *, dry_run: bool = False, allow_dirty: bool = False,
            skip_fit: bool = False, skip_verify: bool = False) -> StepResult:
    from rdic_ops.memory import planner
    from rdic_ops.ops import models

    t0 = time.perf_counter()
    validate(spec, root)
    jdir = journal_dir(cfg, spec, root)
    restored = recover(jdir, root)
    if not allow_dirty and not restored:
        dirty = [ln for ln in _git(root, "status", "--porcelain").splitlines()]
        j = read_journal(jdir)
        migrated = {f["path"] for f in j.get("files", [])} if j.get("status") == "applied" else set()
        dirty = [d for d in dirty if d.split(maxsplit=1)[-1] not in migrated]
        if dirty:
            raise UsageError(f"--target {root} has uncommitted changes ({dirty[0].strip()} ...): commit them or "
                             "pass --allow-dirty")
    checks: list[Check] = []
    if restored:
        checks.append(Check("recovery", Status.warn, "no interrupted apply", f"rolled back {len(restored)} "
                            "file(s) of an interrupted apply", "applying again now"))
    tcfg = _target_cfg(cfg, spec)
    if not skip_fit:
        fit = planner.plan_env(tcfg)
        gib = 1024**3
        row = Check("fit", Status.ok if fit.fits else Status.failed, f"{spec.target_model} fits {cfg.env.name}",
                    f"{fit.used / gib:.2f} GiB of {fit.budget / gib:.2f} GiB {fit.budget_name}")
        checks.append(row)
        if not fit.fits:
            return StepResult("migrate-model", Status.failed, checks=checks, message="the new model does not fit",
                              remedy="invoke plan-memory with the target model")

    def make() -> Plan:
        files = planned_files(spec, root)
        plan = Plan("migrate-model")
        if not files:
            plan.add(Change(str(root), "none", "migrated", "migrated", reason="every edit is in place"))
            return plan
        first = True
        for path, (before, after) in files.items():
            c = Change(str(path.relative_to(root)), "edit", before, after)
            if first:  # one apply for all files: the journal covers them together
                c.apply = lambda files=files: _apply(jdir, root, spec, files)
                first = False
            else:
                c.apply = lambda: None
            plan.add(c)
        return plan

    result = converge(make, dry_run=dry_run)
    result.checks = checks + result.checks
    if dry_run or skip_verify:
        result.duration_s = time.perf_counter() - t0
        return result
    pulled = models.pull(tcfg, [spec.target_model])
    result.checks.append(Check(f"model {spec.target_model}", Status.ok, "pulled and verified", pulled.message))
    tests = run_verify(spec, root)
    result.checks += tests
    j = read_journal(jdir)
    j["verify"] = {"head": _git(root, "rev-parse", "HEAD"), "tree": _tree_state(root),
                   "passed": all(c.status is Status.ok for c in tests), "at": time.time()}
    jdir.mkdir(parents=True, exist_ok=True)
    _write_journal(jdir, j)
    left = leftovers(spec, root)
    result.checks.append(Check("leftovers", Status.ok if not left else Status.warn, "no use of the old API",
                               "none" if not left else f"{len(left)} found", "; ".join(left[:10])))
    if any(c.status is Status.failed for c in tests):
        result.status = Status.failed
        result.remedy = "the target's tests fail: fix them, or invoke migrate-model --rollback"
    result.duration_s = time.perf_counter() - t0
    return result
