"""The redaction boundary: stdout and stderr, while a task runs, mask secrets line by line.

Whatever prints (rich, print, json.dump, a library's own lines), the text passes ``redact.mask_text`` (the one
rule: URL credentials, values read from the environment) before it reaches the terminal, a pipe or a CI log.
Lines are masked whole (a URL split across two writes is joined first); a partial line is written when the
stream is flushed (a prompt) or the task ends. Log records and warnings are masked at their source too
(``redact.mask_logging``).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rdic_ops.redact import mask_logging, mask_text


class MaskedStream:
    """A text stream that masks each complete line before passing it on; everything else is the stream's own."""

    def __init__(self, raw):
        self._raw, self._pending = raw, ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, self._pending = self._pending.rsplit("\n", 1)
            self._raw.write(mask_text(done + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._raw.write(mask_text(self._pending))
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
