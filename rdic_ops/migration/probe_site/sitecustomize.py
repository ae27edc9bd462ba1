"""rdic-ops' runtime probe, loaded by Python at start-up when this folder is on PYTHONPATH.

Records every model the process loads, as one JSON line per load in $RDIC_PROBE_FILE:
``llama_cpp.Llama(...)`` (model path made absolute, n_ctx as llama.cpp will use it) and the Ollama client's
chat/generate/embed calls (model, num_ctx from options). Nothing else changes: the wrapped calls run as before.
Standard library only; the runtimes are wrapped when (and if) the program imports them.
"""

import importlib.abc
import importlib.util
import json
import os
import sys

_FILE = os.environ.get("RDIC_PROBE_FILE")


def _record(**row):
    try:  # an append-only log on purpose (every process of the run adds its lines): not fsutil.atomic_write
        with open(_FILE, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"pid": os.getpid(), **row}) + "\n")
    except (OSError, TypeError):
        pass


def _wrap_llama(module):
    cls = getattr(module, "Llama", None)
    if cls is None or getattr(cls.__init__, "_rdic_probe", False):
        return
    orig = cls.__init__

    def __init__(self, *args, **kwargs):
        path = kwargs.get("model_path", args[0] if args else None)
        n_ctx = kwargs.get("n_ctx", 512)
        _record(runtime="llama_cpp", model=os.path.abspath(str(path)) if path else None, n_ctx=n_ctx, cwd=os.getcwd())
        return orig(self, *args, **kwargs)

    __init__._rdic_probe = True
    cls.__init__ = __init__


def _wrap_ollama(module):
    def wrap(fn, name):
        if getattr(fn, "_rdic_probe", False):
            return fn

        def call(*args, **kwargs):
            opts = kwargs.get("options") or {}
            num_ctx = opts.get("num_ctx") if isinstance(opts, dict) else getattr(opts, "num_ctx", None)
            _record(runtime="ollama", call=name, model=kwargs.get("model", args[0] if args else None), n_ctx=num_ctx)
            return fn(*args, **kwargs)

        call._rdic_probe = True
        return call

    for cls_name in ("Client", "AsyncClient"):
        cls = getattr(module, cls_name, None)
        for name in ("chat", "generate", "embed", "embeddings"):
            if cls is not None and hasattr(cls, name):
                orig = getattr(cls, name)

                def method(self, *a, _orig=orig, _name=name, **k):
                    return wrap(lambda *a2, **k2: _orig(self, *a2, **k2), _name)(*a, **k)

                if not getattr(orig, "_rdic_probe", False):
                    method._rdic_probe = True
                    setattr(cls, name, method)
    for name in ("chat", "generate", "embed", "embeddings"):
        if callable(getattr(module, name, None)):
            setattr(module, name, wrap(getattr(module, name), name))


_WRAPPERS = {"llama_cpp": _wrap_llama, "ollama": _wrap_ollama}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _WRAPPERS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def patched(module, _exec=exec_module):
            _exec(module)
            try:
                _WRAPPERS[fullname](module)
            except Exception:  # never break the program under test
                pass

        loader.exec_module = patched
        return spec


if _FILE:
    sys.meta_path.insert(0, _Finder())
