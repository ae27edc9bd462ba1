"""Regular expressions from a user's files searched in text rdic-ops does not control: refused, before any text is
searched, when they can backtrack without end (Python's re has no time limit).

Found on migrations first: keep_lines and record_sections are searched in every line of a project, and then on a
provider's expect, searched in the reply a server sends (an answer of 40 'a's and a '!' against ^(a+)+$ ran at
100% CPU past its 5 s timeout).
"""

from __future__ import annotations

import re

# A line of a project (keep_lines, record_sections) or a reply (expect): a pattern that backtracks without end --
# (a+)+$ against "# aaaa...ab" (42 characters) never finished; .*.*.*x took 59 s and .*x.*y 16 s on one line of
# 1,000 and 4,000 -- is refused when the migration is loaded, before any file is read. Python's re has no time
# limit, so the shapes that blow up are refused: a repeat (count above 1) of anything that can match more than
# one way (a repeat of varying count, an alternation: nested quantifiers such as (a+)+, (a*)*, (?:a|ab)+,
# (a?){20}), and more than one long repeat in a pattern (each multiplies the work by a line's length). One long
# repeat stays: at worst quadratic in a line's length (.*x: 0.05 s on 10,000 characters). A search finds the
# same lines with one (\d+\.\d for \d+\.\d+); record markers ("rdic: keep", "was produced with") need none.
MAX_PATTERN = 1_000  # characters: a line marker, not a grammar
_LONG = 100  # a repeat of more than this many (*, +, {1,500}) is long


def _subs(op, av) -> list:
    from re import _constants as C  # type: ignore[attr-defined]  # Python's own regex parser: no public API

    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        return [av[2]]
    if op is C.SUBPATTERN:
        return [av[3]]
    if op is C.BRANCH:
        return list(av[1])
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    if op is C.ATOMIC_GROUP:
        return [av]
    if op is C.GROUPREF_EXISTS:
        return [x for x in av[1:] if x is not None]
    return []


def _ambiguous(items, state) -> bool:
    """Can these items match a text in more than one way: a width that varies, or an alternation?"""
    from re import _constants as C  # type: ignore[attr-defined]  # Python's own regex parser: no public API
    from re import _parser  # type: ignore[attr-defined]

    width = _parser.SubPattern(state, list(items)).getwidth()
    return width[0] != width[1] or any(
        op is C.BRANCH or any(_ambiguous(s, state) for s in _subs(op, av)) for op, av in items
    )


def _long_repeats(items, state) -> int:
    """Long repeats in the pattern, nested ones included; -1 for a repeat of an ambiguous group."""
    from re import _constants as C  # type: ignore[attr-defined]  # Python's own regex parser: no public API

    n = 0
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[1] > 1 and _ambiguous(av[2], state):
            return -1
        n += op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[1] > _LONG
        for sub in _subs(op, av):
            inner = _long_repeats(sub, state)
            if inner < 0:
                return -1
            n += inner
    return n


def regex_problem(rx: str) -> str | None:
    """Why ``rx`` may not be searched in a project's lines (not a regular expression, or one that can
    backtrack without end); None when it may. Never quotes the pattern: it is the file's text."""
    from re import _parser  # type: ignore[attr-defined]

    if len(rx) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters: a line marker is a few words"
    try:
        parsed = _parser.parse(rx)
    except re.error as exc:
        return f"not a regular expression (an error at character {(exc.pos or 0) + 1})"
    n = _long_repeats(list(parsed), parsed.state)
    if n < 0:
        return (
            "a repeated group that can match more than one way (nested quantifiers, like (a+)+ or (a|ab)*): "
            "it can backtrack without end; repeat a plain character or class instead"
        )
    if n > 1:
        return (
            f"{n} long repeats (like .*x.*y): the search time grows with a line's length to the power {n + 1}; keep one"
        )
    return None
