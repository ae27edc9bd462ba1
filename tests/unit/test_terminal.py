"""The terminal (rdic_ops/terminal.py): whole width off a TTY, data escaped for rich with secrets masked, and no
spinner or progress bar where nobody watches (a pipe, a log, CI)."""

import io
import sys

import pytest

from rdic_ops import terminal


def test_off_a_terminal_nothing_is_cut(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    c = terminal.console()
    assert c.width == terminal.UNBOUNDED == 4096
    c.print("x" * 300)
    assert "x" * 300 in sys.stdout.getvalue()


def test_a_broken_pipe_goes_up_to_the_contract_quietly():
    c = terminal.console()
    with pytest.raises(BrokenPipeError):
        c.on_broken_pipe()
    assert c.quiet is True


def test_escape_keeps_brackets_as_text_and_masks_secrets(monkeypatch):
    assert terminal.escape("pip install rdic-ops[remote]") == r"pip install rdic-ops\[remote]"
    assert terminal.escape(None) == "" and terminal.escape(42) == "42"
    assert "hunter2" not in terminal.escape("http://me:hunter2@host:11434/")


def test_no_spinner_and_no_bar_off_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with terminal.waiting("loading the model"):
        pass
    assert sys.stderr.getvalue() == ""
    assert terminal.byte_progress() is None
    assert terminal.byte_progress(False) is None
    assert terminal.byte_progress(True) is not None
