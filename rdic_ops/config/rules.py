"""Ranges and shapes a type cannot express, checked once on the composed config (every source: YAML,
``--set``, the environment), and where a bad value came from: ``file:line``, the ``--set``, or the variable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from rdic_ops.errors import ConfigError

ROLE_KEYS = ("extraction", "chat", "embedding")
FOREVER = "-1 keeps the model loaded forever, 0 unloads after each request, N > 0 is seconds"

# key -> (lowest, highest, what the value means); None = no bound on that side
RANGES: dict[str, tuple[float | None, float | None, str]] = {
    **{f"{r}.num_ctx": (1, None, "context length in tokens") for r in ROLE_KEYS},
    **{f"{r}.keep_alive": (-1, None, FOREVER) for r in ROLE_KEYS},
    "env.runtime.ollama.keep_alive": (-1, None, FOREVER),
    "embedding.batch_size": (1, None, "texts per batch"),
    "embedding.max_seq_length": (0, None, "tokens; 0 = the model's own limit"),
    "embedding.parity_threshold": (0, 1, "a cosine similarity"),
    "env.runtime.n_threads": (0, None, "threads; 0 = all cores"),
    "env.runtime.n_gpu_layers": (-1, None, "layers offloaded; -1 = all"),
    "env.runtime.llamacpp_port": (1, 65535, "a TCP port"),
    "env.runtime.backend_overhead_mb": (0, None, "MiB"),
    "env.runtime.ready_timeout_s": (0, None, "seconds"),
    "env.runtime.ollama.timeout_s": (0.001, None, "seconds"),
    "env.runtime.ollama.max_loaded_models": (0, None, "models; 0 = Ollama's default"),
    "env.runtime.ollama.num_parallel": (1, None, "parallel requests per model"),
    "env.hardware.vram_gb": (0, None, "GB"),
    "env.hardware.ram_gb": (0, None, "GB"),
    "env.hardware.reserved_vram_gb": (0, None, "GB"),
    "env.hardware.cpu_cores": (1, None, "cores"),
    "env.latency_budget_s": (0.001, None, "seconds"),
    "env.wsl.headroom_gb": (0, None, "GB"),
    "routing.window_s": (0, None, "seconds"),
}
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")  # upper case: a pasted token (hf_..., sk-...) is not


def _get(cfg, key: str):
    for part in key.split("."):
        cfg = getattr(cfg, part, None)
        if cfg is None:
            return None
    return cfg


def _bound(lo, hi) -> str:
    if hi is None:
        return f"at least {lo:g}"
    return f"between {lo:g} and {hi:g}"


def problems(cfg) -> list[tuple[str, str]]:
    """(key, what is wrong and the fix) for every value out of range or of the wrong shape."""
    out = []
    for key, (lo, hi, meaning) in RANGES.items():
        value = _get(cfg, key)
        if value is None or isinstance(value, bool):
            continue
        if not math.isfinite(value):  # nan passes every comparison, inf every lower bound
            out.append((key, f"{value!r} is out of range: must be a finite number {_bound(lo, hi)} ({meaning})"))
        elif (lo is not None and value < lo) or (hi is not None and value > hi):
            out.append((key, f"{value!r} is out of range: must be {_bound(lo, hi)} ({meaning})"))
    host = cfg.env.runtime.ollama.host
    try:
        parts = urlsplit(host)
        port_ok = parts.port is None or 1 <= parts.port <= 65535
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        out.append(("env.runtime.ollama.host", f"{host!r} is not an http(s)://HOST[:PORT] URL (port 1-65535)"))
    for key, value in (("paths.state_dir", cfg.paths.state_dir), ("paths.models_dir", cfg.paths.models_dir)):
        if not str(value).strip():
            out.append((key, "is empty: give a directory"))
    for key in ("hf_token_env",):
        name = getattr(cfg.secrets, key)
        if name and not ENV_NAME.match(name):
            out.append((f"secrets.{key}", "must name an environment variable in upper case (e.g. HF_TOKEN), "
                                          "never hold the secret itself: put the value in the environment"))
    return out


def check(cfg, origin: Callable[[str], str]) -> None:
    """The first problem as one ConfigError line, naming the key, where it was set and the fix."""
    found = problems(cfg)
    if found:
        key, why = found[0]
        where = origin(key)
        if key.startswith("secrets.") and "=" in where:  # a secret may have been pasted: never echo it
            where = where.split("=", 1)[0]
        raise ConfigError(f"config error: {key}: {why}" + (f" (set in {where})" if where else ""))


# ---- where a key was set --------------------------------------------------------------------------------

def _line_of(path: Path, key: str) -> int | None:
    """1-based line of a dotted key in a YAML file, or None when the file does not set it."""
    import yaml

    try:
        node = yaml.compose(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    for part in key.split(".") if key else []:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None else None


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when under it."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def locate(key: str, files: list[tuple[Path, str]]) -> str:
    """`file:line` of the last file (in Hydra's merge order) that sets ``key``; '' when none does."""
    found = ""
    for path, package in files:
        package = "" if package in ("", "_global_") else package
        if package and not (key == package or key.startswith(package + ".")):
            continue
        rel = key[len(package) + 1:] if package else key
        line = _line_of(path, rel)
        if line:
            found = f"{shown(path)}:{line}"
    return found
