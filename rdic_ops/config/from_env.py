"""Which config values come from environment variables (``${oc.env:NAME}``, in a conf file, the site file or
a ``--set``), found while the composed config is still unresolved: directly, or through another key
(``models_dir: ${paths.state_dir}/models`` when state_dir reads the environment).

Such a value is a secret as far as rdic-ops can tell (HF_TOKEN, an API key, a URL with a password): its value
is handed to redact.py before OmegaConf resolves it (so even the error a bad value raises is masked), the
composed RootConfig carries the keys and the variables' names (``sources``), `invoke config` shows those keys as
``******** (from $NAME)`` (``shown``), and the config cache never writes such a config (config/cache.py).
"""

from __future__ import annotations

import re

from rdic_ops import redact

_ENV = re.compile(r"oc\.env\s*:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)")
_KEY = r"(\.*[\w\-]+(?:\.[\w\-]+)*)"
_REF = re.compile(r"\$\{\s*" + _KEY + r"\s*\}")  # ${a.b}, ${.sibling}, ${..x.y}: another key's value
_SELECT = re.compile(r"oc\.select\s*:\s*['\"]?" + _KEY)  # ${oc.select:a.b,default}
UNKNOWN = "an environment variable"  # ${oc.env:${...}}: a variable whose name is itself interpolated
_ATTR = "_rdic_from_env"


def _leaves(node, path: str = ""):
    """(dotted key, raw string) of every unresolved leaf that interpolates something."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{path}.{i}" if path else str(i))
    elif isinstance(node, str) and "${" in node:
        yield path, node


def _absolute(path: str, ref: str) -> str:
    """A reference as a dotted key from the root: ``.x`` is a sibling of ``path``, ``..x`` its parent's."""
    dots = len(ref) - len(ref.lstrip("."))
    if not dots:
        return ref
    parent = path.split(".")[:-dots]
    return ".".join([*parent, ref[dots:]])


def sources(raw: dict) -> dict[str, list[str]]:
    """{dotted key: the names of the variables its value comes from} of an unresolved config (plain data)."""
    leaves = dict(_leaves(raw))
    found: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    for path, text in leaves.items():
        found[path] = set(_ENV.findall(text)) or ({UNKNOWN} if "oc.env" in text else set())
        refs[path] = {_absolute(path, r) for r in _REF.findall(text) + _SELECT.findall(text)}
    changed = True
    while changed:  # through other keys, until nothing new is found (a chain of references)
        changed = False
        for path in leaves:
            for ref in refs[path]:
                for other, names in found.items():
                    if names and (other == ref or other.startswith(ref + ".")) and not names <= found[path]:
                        found[path] |= names
                        changed = True
    return {path: sorted(names) for path, names in found.items() if names}


def to_object(node):
    """``OmegaConf.to_object`` of a composed node; the values it reads from the environment are masked from
    now on (redact) and the result carries which keys they are (``of``)."""
    from omegaconf import OmegaConf

    found = sources(OmegaConf.to_container(node, resolve=False))
    for names in found.values():
        for name in names:
            if name != UNKNOWN:
                redact.remember_env(name)
    obj = OmegaConf.to_object(node)
    if found:
        setattr(obj, _ATTR, found)
    return obj


def of(cfg) -> dict[str, list[str]]:
    """{dotted key: variable names} of the values of ``cfg`` that came from the environment ({}: none)."""
    return getattr(cfg, _ATTR, None) or {}


def mask(data, found: dict[str, list[str]], path: str = ""):
    """Plain data with the value of every key in ``found`` (and what lies under it) shown as its source."""
    if path in found:
        return f"{redact.SECRET_MASK} (from {', '.join(n if n == UNKNOWN else '$' + n for n in found[path])})"
    if isinstance(data, dict):
        return {k: mask(v, found, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v, found, f"{path}.{i}" if path else str(i)) for i, v in enumerate(data)]
    return data


def shown(cfg) -> dict:
    """The config as `invoke config` prints it: values from the environment and every other secret masked."""
    from rdic_ops.config.files import to_container

    data = redact.mask_data(mask(to_container(cfg), of(cfg)))
    assert isinstance(data, dict)
    return data
