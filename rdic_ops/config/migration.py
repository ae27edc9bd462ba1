"""The schema of a model migration (conf/migration/*.yaml) and its loader.

A migration declares facts about the two models, not one project's variable names: the strings a project
uses to name the old model (GGUF file names, Hub repo ids, download URLs, Ollama tags, human labels) paired
with the new model's, the context length each is loaded with, the project's API renames, and what is never
edited (excluded paths, lines marked as records, accepted leftovers). ``from``/``to`` lists pair by position;
a ``to`` list of one entry takes every ``from`` entry.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from rdic_ops.config.schema import HfSource
from rdic_ops.errors import ConfigError, UsageError

KINDS = ("files", "repos", "urls", "ollama_tags", "labels")
RECORD_LINES = ("rdic: keep", r"(?i)\b(?:was|were) (?:produced|measured|generated|obtained|run|evaluated|scored) "
                              r"(?:with|by|on|using)\b")
RECORD_SECTIONS = ("(?i)results?", "(?i)benchmarks?", "(?i)history", "(?i)change ?log", "(?i)evaluations?",
                   "(?i)past runs?")


@dataclass
class ModelFacts:
    model: Optional[str] = None  # a conf/model name: where the model comes from and its shape (fit check)
    hub: HfSource = field(default_factory=HfSource)  # or the Hub file itself, when no conf/model entry exists
    files: list[str] = field(default_factory=list)  # GGUF file names as projects spell them
    repos: list[str] = field(default_factory=list)  # Hub repo ids (URLs that start with the repo follow them)
    urls: list[str] = field(default_factory=list)  # other download URLs or URL prefixes
    ollama_tags: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # "Llama 3.1 8B", "llama-3.1-8b"
    n_ctx: Optional[int] = None  # the context the model is loaded with (n_ctx / num_ctx)


# Its numbers: (lowest, highest, what it means), as rules.RANGES (YAML keys from/to are source/target here).
RANGES: dict[str, tuple[float, float, str]] = {
    f"{side}.n_ctx": (1, 1_048_576, "context length in tokens") for side in ("source", "target")}


@dataclass
class Allow:
    path: str = "*"  # glob of accepted leftovers
    text: str = ""  # ... on lines containing this text (empty: any line)


@dataclass
class MigrationSpec:
    name: str = "???"
    description: str = ""
    source: ModelFacts = field(default_factory=ModelFacts)  # YAML key: from
    target: ModelFacts = field(default_factory=ModelFacts)  # YAML key: to
    renames: dict[str, str] = field(default_factory=dict)  # the project's API: old identifier -> new
    exclude: list[str] = field(default_factory=list)  # globs of tracked files never edited (results/**)
    # records (never edited, never leftovers): lines matching one of these regular expressions, and Markdown
    # sections whose heading matches one of record_sections (past results keep the model that produced them)
    keep_lines: list[str] = field(default_factory=lambda: list(RECORD_LINES))
    record_sections: list[str] = field(default_factory=lambda: list(RECORD_SECTIONS))
    allow: list[Allow] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)  # the project's own verification commands
    project: Optional[str] = None  # default --target

    def pairs(self, kind: str) -> list[tuple[str, str]]:
        old, new = getattr(self.source, kind), getattr(self.target, kind)
        if len(new) == 1:
            return [(o, new[0]) for o in old]
        return list(zip(old, new, strict=True))  # lengths checked by check()


def check(spec: MigrationSpec, where: str) -> None:
    """Rules a type cannot express: paired lists, identifiers, contexts."""
    for kind in KINDS:
        old, new = getattr(spec.source, kind), getattr(spec.target, kind)
        if old and len(new) not in (1, len(old)):
            raise ConfigError(f"{where}: to.{kind}: {len(new)} entries for {len(old)} in from.{kind} "
                              "(pair them one to one, or give one)")
        if old and not new:
            raise ConfigError(f"{where}: to.{kind}: missing (from.{kind} has {len(old)})")
        for o in old:
            if not o.strip():
                raise ConfigError(f"{where}: from.{kind}: empty value")
    for old, new in spec.renames.items():
        for ident in (old, new):
            if not str(ident).isidentifier() or keyword.iskeyword(str(ident)):
                raise ConfigError(f"{where}: renames: {ident!r} is not a Python identifier")
    from rdic_ops.config.rules import out_of_range

    for side, attr in (("from", "source"), ("to", "target")):
        why = out_of_range(getattr(spec, attr).n_ctx, *RANGES[f"{attr}.n_ctx"])
        if why:
            raise ConfigError(f"{where}: {side}.n_ctx: {why}")
    for key in ("keep_lines", "record_sections"):
        for rx in getattr(spec, key):
            try:
                re.compile(rx)
            except re.error as exc:
                raise ConfigError(f"{where}: {key}: {rx!r} is not a regular expression ({exc})") from None
    if (spec.source.n_ctx is None) != (spec.target.n_ctx is None):
        raise ConfigError(f"{where}: n_ctx: set it on both sides or on neither")
    if not any(getattr(spec.source, k) for k in KINDS):
        raise ConfigError(f"{where}: from: no file, repo, url, ollama tag or label to look for")


def _error_line(exc: BaseException) -> str:
    mark = getattr(exc, "problem_mark", None)  # YAML: where and what
    if mark is not None:
        return f"line {mark.line + 1}: {getattr(exc, 'problem', None) or exc}"
    key = getattr(exc, "full_key", None)
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{key}: {msg}" if key else msg


def load_migration(name_or_path: str, conf: Path) -> tuple[MigrationSpec, Path]:
    """A migration by name (``conf/migration/NAME.yaml``) or by path, validated by its schema (exit 2)."""
    import yaml
    from omegaconf import OmegaConf

    p = Path(name_or_path).expanduser()
    if not p.suffix:
        p = conf / "migration" / f"{name_or_path}.yaml"
    if not p.is_file():
        names = ", ".join(sorted(q.stem for q in (conf / "migration").glob("*.yaml")))
        raise UsageError(f"unknown migration {name_or_path!r} (choices: {names}, or a path to a YAML file)")
    from rdic_ops.config import yamlguard

    try:
        raw = yamlguard.load(p) or {}  # aliases bounded: a ConfigError naming the file and line
        if not isinstance(raw, dict):
            raise ConfigError("expected a mapping at the top")
        for yaml_key, attr in (("from", "source"), ("to", "target")):
            if yaml_key in raw:
                raw[attr] = raw.pop(yaml_key)
            if not isinstance(raw.get(attr) or {}, dict):
                raise ConfigError(f"{yaml_key}: expected a mapping (model, files, repos, urls, ollama_tags, "
                                  "labels, n_ctx)")
            for kind in KINDS:  # one value or a list; numbers in labels stay text
                v = (raw.get(attr) or {}).get(kind)
                if v is not None:
                    raw[attr][kind] = [str(x) for x in (v if isinstance(v, list) else [v])]
        spec = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(MigrationSpec), raw))
    except yamlguard.AliasLimit:  # names the file already
        raise
    except (ConfigError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: {_error_line(exc)}") from None
    except Exception as exc:  # OmegaConf's validation errors carry the full key
        msg = _error_line(exc).replace("source.", "from.").replace("target.", "to.")
        raise ConfigError(f"{p}: {msg}") from None
    check(spec, str(p))
    return spec, p
