"""`invoke preload`: every model the env keeps resident is loaded, with the options real traffic uses.

Ollama: wait until the server answers (bounded), then load each resident model with the env's num_ctx
and keep_alive as a number, and confirm through /api/ps. A model already loaded with that context is
left alone (a second run changes nothing). llama.cpp: the env's model resident in a llama_cpp.server
process (see rdic_ops.runtime.llamacpp); the same config -> nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdic_ops.config.schema import ROLES, EmbeddingBackend, RootConfig, RuntimeKind
from rdic_ops.errors import StepFailed
from rdic_ops.models.store import model_file
from rdic_ops.plan import Change, Plan, StepResult, converge
from rdic_ops.runtime import for_env
from rdic_ops.runtime.base import Resident


@dataclass
class Target:
    roles: list[str]
    name: str  # Ollama tag, or the model's name (llama.cpp alias)
    num_ctx: int
    keep_alive: int


def _tag(tag: str) -> str:
    return tag if ":" in tag else f"{tag}:latest"


def targets(cfg: RootConfig) -> list[Target]:
    """The models the env keeps loaded: resident LLM roles, and Ollama-served embeddings when resident."""
    out: dict[tuple, Target] = {}
    for role in ROLES:
        r = getattr(cfg, role)
        if not r.resident:
            continue
        if role == "embedding" and (cfg.env.runtime.kind is not RuntimeKind.ollama
                                    or r.backend is not EmbeddingBackend.ollama):
            continue  # sentence-transformers / in-app embeddings are not the server's to keep
        name = _tag(r.model.ollama_tag or r.model.name) if cfg.env.runtime.kind is RuntimeKind.ollama \
            else r.model.name
        key = (name, r.num_ctx)
        if key in out:
            out[key].roles.append(role)
            out[key].keep_alive = min(out[key].keep_alive, r.keep_alive) if r.keep_alive >= 0 and \
                out[key].keep_alive >= 0 else -1
        else:
            out[key] = Target([role], name, r.num_ctx, r.keep_alive)
    return list(out.values())


def _describe(r: Resident | None) -> str:
    if r is None:
        return "not loaded"
    until = "forever" if r.forever else (r.expires_at.isoformat(timespec="seconds") if r.expires_at else "?")
    vram = f", {r.size_vram / 2**20:,.0f} MiB in VRAM" if r.size_vram else ""
    return f"loaded, num_ctx {r.context_length}, until {until}{vram}"


def _plan_ollama(cfg: RootConfig, unload: bool, wait_s: float) -> Plan:
    rt = for_env(cfg)
    rt.wait_ready(wait_s)
    loaded = {_tag(r.model): r for r in rt.resident()}
    plan = Plan("preload")
    for t in targets(cfg):
        have = loaded.get(t.name)
        label = f"{t.name} ({','.join(t.roles)})"
        if unload:
            if have is None:
                plan.add(Change(label, "none", "not loaded", "not loaded", reason="already unloaded"))
            else:
                plan.add(Change(label, "unload", _describe(have), "not loaded", apply=lambda n=t.name: rt.unload(n)))
            continue
        want = f"loaded, num_ctx {t.num_ctx}, keep_alive {t.keep_alive} s"
        ok = have is not None and have.context_length in (None, t.num_ctx) and (t.keep_alive >= 0 or have.forever)
        if ok:
            plan.add(Change(label, "none", _describe(have), want, reason="resident with the options traffic uses"))
            continue
        why = "not loaded" if have is None else "loaded with other options: a real request would reload it"
        change = Change(label, "load", _describe(have), want, reason=why)

        def load(c=change, t=t):
            seconds = rt.load(t.name, t.num_ctx, t.keep_alive)
            c.after = f"{c.after}; loaded in {seconds:.2f} s"

        change.apply = load
        plan.add(change)
    return plan


def _plan_llamacpp(cfg: RootConfig, unload: bool, wait_s: float) -> Plan:
    from rdic_ops.runtime.llamacpp import ServedModel

    rt = for_env(cfg)
    st = rt.state()
    plan = Plan("preload")
    label = f"llama.cpp server :{rt.port}"
    if unload:
        if st.alive:
            plan.add(Change(label, "stop", f"pid {st.pid}", "stopped", apply=rt.stop))
        else:
            plan.add(Change(label, "none", "stopped", "stopped", reason="not running"))
        return plan
    models = []
    for t in targets(cfg):
        spec = getattr(cfg, t.roles[0]).model
        path = model_file(cfg, spec)
        if path is None or not path.exists():
            raise StepFailed(f"{spec.name}: no GGUF at {path}", remedy="run invoke models.pull first")
        models.append(ServedModel(t.name, str(path), t.num_ctx))
    if not models:
        plan.add(Change(label, "none", "", "", reason="the env keeps no model resident"))
        return plan
    want = rt.config_hash(rt.server_config(models))
    desc = ", ".join(f"{m.alias} (n_ctx {m.n_ctx})" for m in models)
    if st.answering and st.config_hash == want:
        plan.add(Change(label, "none", desc, desc, reason=f"running (pid {st.pid}) with this config"))
        return plan
    before = f"pid {st.pid}, other config" if st.alive else "not running"
    change = Change(label, "start" if not st.alive else "restart", before, desc,
                    reason="keeps the model loaded between requests")

    def start(c=change):
        seconds = rt.start(models)
        c.after = f"{c.after}; loaded in {seconds:.2f} s"

    change.apply = start
    plan.add(change)
    if len({m.path for m in models}) > 1:
        plan.notes.append("llama_cpp.server keeps one model loaded; the others load on demand")
    return plan


def preload(cfg: RootConfig, *, unload: bool = False, dry_run: bool = False) -> StepResult:
    make = _plan_ollama if cfg.env.runtime.kind is RuntimeKind.ollama else _plan_llamacpp
    wait_s = 0.0 if dry_run else cfg.env.runtime.ready_timeout_s  # a dry run only looks
    return converge(lambda: make(cfg, unload, wait_s), dry_run=dry_run)
