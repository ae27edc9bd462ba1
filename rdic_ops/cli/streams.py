"""The redaction boundary: stdout and stderr, while a task runs, mask secrets line by line.

Whatever prints (rich, print, json.dump, a library's own lines), the text passes ``redact.mask_text`` (the one
rule: URL credentials, values read from the environment) before it reaches the terminal, a pipe or a CI log.
Lines are masked whole (a URL split across two writes is joined first); a partial line is written when the
stream is flushed (a prompt) or the task ends. Log records and warnings are masked at their source too
(``redact.mask_logging``).

The same boundary names the command the user ran: the library's remedies say ``invoke TASK`` (a checkout's
command, and the library knows no other); when the `rdic-ops` console script runs (a wheel, no tasks.py), each
``invoke TASK`` of a task this program has reads ``rdic-ops TASK`` (``use_command``, set by program.py).
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

from rdic_ops import terminal
from rdic_ops.redact import mask_logging, mask_text


class _Ran:
    """The command the user ran, as remedies name it: Invoke's `invoke` until a program says otherwise."""

    name = "invoke"
    pattern: re.Pattern[str] | None = None


def use_command(name: str, tasks: dict[str, list[str]]) -> None:
    """Remedies from now on name ``name`` for each task of ``tasks`` (Invoke's task_names: each dotted name and its
    aliases) that the library writes as ``invoke TASK``; "invoke" leaves them as written. Never a path
    (``.../bin/invoke preload`` in a unit file), nor a word that only starts like a task's name."""
    every = sorted({n for task, aliases in tasks.items() for n in (task, *aliases)}, key=len, reverse=True)
    names = "|".join(re.escape(n) for n in every)
    _Ran.name = name
    _Ran.pattern = re.compile(rf"(?<![\w./-])invoke (?=(?:{names})(?![\w.-]))") if names and name != "invoke" else None


def as_ran(text: str) -> str:
    """``text`` with the library's ``invoke TASK`` naming the command the user ran (use_command); a table's cells
    get it before rich measures them (terminal.escape)."""
    if _Ran.pattern is None or "invoke " not in text:
        return text
    return _Ran.pattern.sub(f"{_Ran.name} ", text)


terminal.NAMED[:] = [as_ran]


class MaskedStream:
    """A text stream that masks each complete line before passing it on; everything else is the stream's own."""

    def __init__(self, raw):
        self._raw, self._pending = raw, ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, self._pending = self._pending.rsplit("\n", 1)
            self._raw.write(as_ran(mask_text(done + "\n")))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._raw.write(as_ran(mask_text(self._pending)))
            self._pending = ""
        self._raw.flush()

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):  # isatty, fileno, encoding, buffer, ...: the real stream's
        return getattr(self._raw, name)


@contextmanager
def masked_streams():
    """sys.stdout and sys.stderr masked for the block (nested blocks reuse the outer ones)."""
    if isinstance(sys.stdout, MaskedStream):
        yield
        return
    mask_logging()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskedStream(out), MaskedStream(err)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can be said
                pass
        sys.stdout, sys.stderr = out, err
