"""Compose conf/ into a typed RootConfig, turning every failure into one ConfigError line."""

from __future__ import annotations

import os
import re
from pathlib import Path

from rdic_ops.config.auto import AUTO_SETTINGS
from rdic_ops.config.provider import check_providers
from rdic_ops.config.schema import ROLES, RootConfig
from rdic_ops.errors import ConfigError

# A checkout links rdic_ops/conf to the repo's conf/; a wheel carries the files themselves (pyproject package-data).
CONF_DIR = Path(os.environ.get("RDIC_CONF_DIR") or Path(__file__).resolve().parents[1] / "conf")


def conf_dir() -> Path:
    """Where the config lives: $RDIC_CONF_DIR, else the conf/ beside the package (a checkout or a wheel)."""
    return CONF_DIR

_KEY = re.compile(r"^[A-Za-z_][\w.\-@/]*$")


def choices(group: str) -> list[str]:
    """Options of a config group: the YAML files in conf/<group>/."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _translate(override: str) -> str:
    """Validate one ``--set KEY=VALUE`` and map it to a Hydra override.

    ``ROLE.model=NAME`` picks another model file for a role (Hydra: ``model@ROLE.model=NAME``).
    ``+key``, ``++key`` and ``~key`` would add or delete keys past the schema: refused.
    """
    if "=" not in override:
        raise ConfigError(f"--set {override!r}: expected KEY=VALUE")
    key, value = override.split("=", 1)
    key = key.strip()
    prefix = re.match(r"^[+~]*", key).group()
    if prefix:
        raise ConfigError(
            f"--set {override!r}: '{prefix}' would add or delete a key past the schema; "
            "only existing keys can be set"
        )
    if not _KEY.match(key):
        raise ConfigError(f"--set {override!r}: {key!r} is not a config key")
    role = key.removesuffix(".model")
    if key.endswith(".model") and role in ROLES:
        if value not in choices("model"):
            raise ConfigError(f"{key}: unknown model {value!r} (choices: {', '.join(choices('model'))})")
        return f"model@{role}.model={value}"
    if key == "env":
        raise ConfigError("choose the env with --env, not --set env=...")
    if value.strip().lower() == "auto" and key in AUTO_SETTINGS:  # chosen from this machine's facts (config/auto.py)
        return f"{key}='{AUTO_SETTINGS[key]}'"
    return f"{key}={value}"


def _one_line(exc: BaseException) -> str:
    """The most specific message in an exception chain, with the full key when OmegaConf knows it."""
    chain = []
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for err in chain:
        full_key = getattr(err, "full_key", None)
        if full_key:
            msg = str(err).splitlines()[0].strip()
            return f"{full_key}: {msg}"
    msg = str(chain[-1]).strip() or str(chain[0]).strip()
    # Hydra's messages for bad overrides read "Could not override 'x'. ... Key 'y' is not in struct".
    lines = [ln.strip() for ln in str(chain[0]).splitlines() if ln.strip()]
    keys = re.findall(r"override '([^']+)'", str(chain[0]))
    if keys:
        detail = next((ln for ln in lines[1:] if not ln.startswith("To append")), "")
        return f"{keys[0]}: {detail or lines[0]}"
    return lines[0] if lines else msg


def compose(env: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> RootConfig:
    """Compose ``conf/config.yaml`` for ``env`` with ``--set`` overrides into a validated RootConfig."""
    envs = choices("env")
    env = env or "local"
    if env not in envs:
        raise ConfigError(f"unknown env {env!r} (choices: {', '.join(envs)})")
    hydra_overrides = [f"env={env}"] + [_translate(o) for o in overrides]
    from rdic_ops.config import cache

    if not cache.enabled():
        return _compose(hydra_overrides, env, overrides)
    key = cache.key(CONF_DIR, hydra_overrides)
    hit = cache.get(key)
    if hit is not None:
        return hit
    cfg = _compose(hydra_overrides, env, overrides)
    if key is not None and cache.key(CONF_DIR, hydra_overrides) == key:  # no file changed while Hydra read
        cache.put(key, cfg)
    return cfg


def _compose(hydra_overrides: list[str], env: str, overrides) -> RootConfig:
    """Hydra's compose of conf/config.yaml, validated by the schema and check()."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    from rdic_ops.config import auto
    from rdic_ops.config.schema import register

    register()
    auto.register()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=hydra_overrides)
        obj = OmegaConf.to_object(cfg)
    except Exception as exc:  # Hydra and OmegaConf raise many types; all mean "config is wrong"
        raise ConfigError(f"config error: {_unset_parent(env, overrides) or _one_line(exc)}") from exc
    assert isinstance(obj, RootConfig)
    check(obj)
    return obj


def _unset_parent(env: str, overrides) -> str | None:
    """The --set KEY whose parent section the env leaves unset (e.g. env.wsl in an env without .wslconfig)."""
    if not overrides:
        return None
    try:
        base = to_container(compose(env))
    except ConfigError:
        return None
    for o in overrides:
        key = o.split("=", 1)[0].strip()
        node, parts = base, key.split(".")
        for i, part in enumerate(parts[:-1]):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                parent = ".".join(parts[:i + 1])
                return f"{key}: {parent} is not set in env {env}, so {key} cannot be set (choose an env that has it)"
    return None


def check(cfg: RootConfig) -> None:
    """Rules a type cannot express."""
    for role in ROLES:
        spec = getattr(cfg, role)
        want = "embedding" if role == "embedding" else "llm"
        if spec.model.kind.value != want:
            raise ConfigError(
                f"{role}.model: {spec.model.name} is an {spec.model.kind.value} model, the role needs {want}"
            )
        if spec.num_ctx <= 0:
            raise ConfigError(f"{role}.num_ctx: must be positive, got {spec.num_ctx}")
        train = spec.model.shape.n_ctx_train
        if role != "embedding" and train and spec.num_ctx > train:
            raise ConfigError(
                f"{role}.num_ctx: {spec.num_ctx} exceeds {spec.model.name}'s trained context {train}"
            )
        if spec.model.source.value == "ollama" and not spec.model.ollama_tag:
            raise ConfigError(f"{role}.model.ollama_tag: source is ollama but no tag is set")
        if spec.model.ollama_tag:
            from rdic_ops.facts.ollama_store import check_tag

            try:
                check_tag(spec.model.ollama_tag)
            except ValueError as exc:
                raise ConfigError(f"{role}.model.ollama_tag: {exc}") from None
    hw = cfg.env.hardware
    for key in ("vram_gb", "ram_gb"):
        if getattr(hw, key) < 0:
            raise ConfigError(f"env.hardware.{key}: must not be negative")
    if hw.cpu_cores < 1:
        raise ConfigError("env.hardware.cpu_cores: must be at least 1")
    if cfg.env.runtime.n_threads < 0:
        raise ConfigError(f"env.runtime.n_threads: must not be negative (0 = all cores), "
                          f"got {cfg.env.runtime.n_threads}")
    known = cfg.env.known_answer
    if known is not None:
        for key in ("question", "answer"):
            if not getattr(known, key).strip():
                raise ConfigError(f"env.known_answer.{key}: must not be empty")
        if known.max_tokens < 1:
            raise ConfigError(f"env.known_answer.max_tokens: must be at least 1, got {known.max_tokens}")
    check_providers(cfg.providers)


def to_container(cfg: RootConfig) -> dict:
    """Plain dict (enums as their values) for YAML/JSON output."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True, enum_to_str=True)


def expand(path: str | os.PathLike) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(str(path))))


def load_model_spec(name: str):
    """A model file of conf/model/, validated by its schema (for alternatives an env does not use)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from rdic_ops.config.schema import ModelSpec

    if name not in choices("model"):
        raise ConfigError(f"unknown model {name!r} (choices: {', '.join(choices('model'))})")
    path = conf_dir() / "model" / f"{name}.yaml"
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ModelSpec), OmegaConf.load(path))
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{path}: {_one_line(exc)}") from None
