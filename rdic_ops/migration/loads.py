"""Decide, load by load, which context literals change (see rdic_ops.migration.context for the data flow)."""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from rdic_ops.migration.context import OTHER, Decisions, Flow, Loader, Scope, _arg


def _callee(call: cst.Call) -> str:
    return (get_full_name_for_node(call.func) or "").rsplit(".", 1)[-1]


def _params(fn: cst.FunctionDef, method: bool) -> list[str]:
    names = [p.name.value for p in fn.params.params]
    return names[1:] if method and names and names[0] in ("self", "cls") else names


def _find_wrappers(flow: Flow) -> None:
    """Project functions that hand their own parameters to a loader are loaders too (to a fixed point)."""
    for _ in range(6):
        grew = False
        for sc, call in flow.sites:
            loader = flow.loaders.get(_callee(call))
            if sc.func is None or loader is None or loader.ctx is None:
                continue
            params = _params(sc.func, sc.cls is not None)
            m = _arg(call, *loader.model)
            c = _arg(call, *loader.ctx)
            if not (isinstance(m, cst.Name) and isinstance(c, cst.Name) and m.value in params and c.value in params):
                continue
            name = sc.func.name.value
            if name not in flow.loaders:
                flow.loaders[name] = Loader((m.value, params.index(m.value)), (c.value, params.index(c.value)))
                flow.wrapper_defs[name] = (Scope(sc.mod, None, sc.cls), sc.func, (m.value, c.value))
                grew = True
        if not grew:
            return


def _ollama_ctx(flow: Flow, call: cst.Call, sc: Scope):
    opts = _arg(call, "options", 99)
    where = (opts, sc)
    if isinstance(opts, (cst.Name, cst.Attribute)):
        where = flow.follow(opts, sc) or (None, sc)
    if isinstance(where[0], cst.Dict):
        for el in where[0].elements:
            if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and \
                    el.key.evaluated_value == "num_ctx":
                return el.value, where[1]
    return None, sc


def _site(flow: Flow, sc: Scope, call: cst.Call):
    """(model expression, its scope, context expression, its scope) of one load, or None."""
    name = _callee(call)
    if name in ("chat", "generate") and _arg(call, "model", 99) is not None:
        ctx, csc = _ollama_ctx(flow, call, sc)
        return _arg(call, "model", 99), sc, ctx, csc
    loader = flow.loaders.get(name)
    if loader is None:
        return None
    model, msc = _arg(call, *loader.model), sc
    ctx = _arg(call, *loader.ctx) if loader.ctx else None
    if name in flow.wrapper_defs and (model is None or ctx is None):  # the wrapper's defaults
        wsc, fn, (mname, cname) = flow.wrapper_defs[name]
        defaults = {p.name.value: p.default for p in fn.params.params}
        if model is None and defaults.get(mname) is not None:
            model, msc = defaults[mname], wsc
        if ctx is None:
            return model, msc, defaults.get(cname), wsc
    return model, msc, ctx, sc


def decide(flow: Flow) -> Decisions:
    t = flow.table
    d = Decisions()
    pending: dict[int, tuple[str, int, str]] = {}
    if t.old_ctx is None:
        return d
    _find_wrappers(flow)
    for sc, call in flow.sites:
        site = _site(flow, sc, call)
        if site is None:
            continue
        m_expr, msc, c_expr, csc = site
        if isinstance(m_expr, cst.Name) and sc.func is not None and \
                any(p.name.value == m_expr.value and p.default is None for p in sc.func.params.params):
            continue  # a wrapper's own body: its callers are the loads
        kind = flow.model(m_expr, msc)
        lit = flow.ctx_literal(c_expr, csc)
        if lit is None:
            if kind in ("old", "new") and c_expr is not None:
                pending[id(call)] = (sc.mod.src.rel, sc.mod.line(call), "context is not a literal this can follow")
            continue
        mod, node = lit
        value = int(str(node.value if isinstance(node, cst.Integer) else node.evaluated_value).strip().replace("_", ""))
        if value != t.old_ctx:
            continue
        if kind in ("old", "new"):
            d.change[id(node)] = (mod, node)
        elif kind == OTHER:
            d.keep.add(id(node))
        else:
            pending[id(node)] = (mod.src.rel, mod.line(node), "cannot tell which model this load uses")
    for key in list(d.change):
        if key in d.keep:
            mod, node = d.change.pop(key)
            pending[key] = (mod.src.rel, mod.line(node), "one context value feeds the migrated model and another")
    d.undecided = [v for k, v in pending.items() if k not in d.change]
    return d

