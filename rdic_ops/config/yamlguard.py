"""Every YAML file rdic-ops reads from a user, with its aliases bounded: a billion-laughs file is refused in
milliseconds, naming the file and the line of the anchor.

PyYAML builds an alias as one more reference to its anchor's object, so loading stays linear; whatever walks
the data afterwards -- OmegaConf.create, Hydra's merge, a schema check -- copies every reference: nine anchors
of nine aliases each are 9^9 nodes (minutes and gigabytes before any error). So the document's node graph is
measured before anything is built from it: the nodes its aliases add when expanded may be at most
``MAX_ALIAS_NODES``, and an alias inside its own anchor (a cycle) is refused.

The two ways YAML is read, one check:
- Hydra and OmegaConf (conf/ through compose, conf/fleet/, conf/model/): ``install()`` makes OmegaConf's own
  YAML loader (the one ``OmegaConf.load`` and Hydra's file config source use) run the check, and raise a YAML
  error with the file and line, which the compose error messages already turn into ``file:line: ...``.
- PyYAML directly (conf/migration/, models.lock, --questions): ``load(path)`` (AliasLimit, a ConfigError
  naming the file).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from rdic_ops.errors import ConfigError

# Nodes that aliases may add to a document when expanded. A config that reuses a block with `<<: *base` or a
# few aliases adds tens; 1,000 leaves a wide margin and costs OmegaConf about 0.1 s to expand, as much as a
# file that writes 1,000 values out (measured on 2 cores: 10,000 took 0.9 s a load, and Hydra loads a file
# more than once).
MAX_ALIAS_NODES = 1_000


class AliasBomb(yaml.MarkedYAMLError):
    """Aliases that expand past the bound, or into themselves: a YAML error with its mark (file and line)."""


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _size(node: yaml.Node, sizes: dict) -> int:
    """Nodes of ``node`` with every alias expanded (memoized: linear in the graph, whatever it expands to)."""
    if id(node) not in sizes:
        sizes[id(node)] = 1 + sum(_size(c, sizes) for c in _children(node))
    return sizes[id(node)]


def check_node(root: yaml.Node | None) -> None:
    """Raise AliasBomb when the aliases of the document ``root`` add more than MAX_ALIAS_NODES nodes (or loop).

    Walks the graph once in document order: the first reference to a node is the node itself, every further
    one an alias, which adds the node's expanded size."""
    if root is None:
        return
    seen: set[int] = set()
    open_: set[int] = set()  # the nodes being walked: an alias to one of them is a cycle
    sizes: dict[int, int] = {}
    added = 0

    def walk(node: yaml.Node) -> None:
        nonlocal added
        if id(node) in seen:
            if id(node) in open_:
                raise AliasBomb(
                    None, None, "an alias refers to its own anchor (a cycle): YAML cannot expand it", node.start_mark
                )
            added += _size(node, sizes)
            if added > MAX_ALIAS_NODES:
                raise AliasBomb(
                    None,
                    None,
                    f"the aliases of the anchor here expand the document by more than "
                    f"{MAX_ALIAS_NODES} nodes (nested aliases, a 'billion laughs'): "
                    "write the values out, or use fewer aliases",
                    node.start_mark,
                )
            return
        seen.add(id(node))
        open_.add(id(node))
        for child in _children(node):
            walk(child)
        open_.discard(id(node))

    walk(root)


class AliasLimit(ConfigError):
    """AliasBomb met by ``load``: one line naming the file and the line of the anchor (exit 2)."""


class Bounded:
    """A mixin for a PyYAML Loader: the composed document is checked before anything is constructed from it."""

    def get_single_node(self):
        node = super().get_single_node()
        check_node(node)
        return node


class BoundedSafeLoader(Bounded, yaml.SafeLoader):
    """yaml.SafeLoader with aliases bounded."""


def install() -> None:
    """Bound aliases in OmegaConf's YAML loader (OmegaConf.load, OmegaConf.create of a YAML string, and so
    Hydra's config files); idempotent. OmegaConf looks its loader up on every load, so this reaches all."""
    from omegaconf import _utils

    original = _utils.get_yaml_loader
    if getattr(original, "rdic_ops", False):
        return

    def get_yaml_loader():
        return type("BoundedOmegaConfLoader", (Bounded, original()), {})

    setattr(get_yaml_loader, "rdic_ops", True)  # noqa: B010 (a mark on a function: installed once)
    _utils.get_yaml_loader = get_yaml_loader


def load(path: str | Path, text: str | None = None):
    """The YAML document at ``path`` (or ``text`` read from it), as yaml.safe_load builds it; aliases bounded
    (AliasLimit, a ConfigError naming the file and line). Other YAML errors, OSError and UnicodeDecodeError
    are raised as yaml.safe_load raises them, for the caller's own message."""
    from rdic_ops.config.rules import shown

    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=BoundedSafeLoader)  # a SafeLoader: builds plain data only
    except AliasBomb as exc:
        raise AliasLimit(f"{shown(Path(path))}:{exc.problem_mark.line + 1}: {exc.problem}") from None


def undecodable(root: Path) -> str:
    """The first config file under ``root`` that is not UTF-8 text (Hydra's decode error names none)."""
    from rdic_ops.config.rules import shown

    for path in sorted(root.rglob("*.yaml")):
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            return f"{shown(path)}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
    return ""
