"""The unit room: every test here runs in this process, on files and plain data only.

An autouse guard refuses, for the test and its function-scoped fixtures, what belongs to tests/integration/:
starting a process (subprocess.Popen, os.fork, os.posix_spawn, os.system, the fork_exec below them), opening a
socket to a server or as one (connect, bind), and importing llama_cpp (loading llama.cpp). A refusal raises
UnitRoomViolation, a BaseException, so code under test that catches OSError or Exception cannot swallow it; and
the test fails at teardown too if anything was refused, in case the refusal was caught anyway. So "unit" is kept
by the directory, not by memory. (Session-scoped fixtures are set up before it: they build files once.)
"""

from __future__ import annotations

import _posixsubprocess
import importlib.abc
import os
import socket
import subprocess
import sys

import pytest

RULE = ("tests/unit/ runs in-process: no subprocess, no socket, no llama.cpp; a test that needs one belongs in "
        "tests/integration/")
_PROCESS_CALLS = ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system")


class UnitRoomViolation(BaseException):
    """A unit test reached for a process, a socket or llama.cpp (not an Exception: `except Exception` misses it)."""


class _NoLlamaCpp(importlib.abc.MetaPathFinder):
    def __init__(self, refuse):
        self.refuse = refuse

    def find_spec(self, name, path, target=None):
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            self.refuse(f"import {name}")()
        return None


@pytest.fixture(autouse=True)
def _unit_room(monkeypatch):
    refused: list[str] = []

    def refuse(what: str):
        def refused_call(*args, **kwargs):
            refused.append(what)
            raise UnitRoomViolation(f"{what}: {RULE}")

        return refused_call

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("a subprocess"))
    monkeypatch.setattr(_posixsubprocess, "fork_exec", refuse("fork_exec (a child process)"))
    for name in _PROCESS_CALLS:
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse(f"os.{name} (a child process)"))
    monkeypatch.setattr(socket.socket, "connect", refuse("a socket connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("a socket connect"))
    monkeypatch.setattr(socket.socket, "bind", refuse("a socket bind (a server or a port probe)"))
    monkeypatch.delitem(sys.modules, "llama_cpp", raising=False)  # imported by an integration test before: ask again
    monkeypatch.setattr(sys, "meta_path", [_NoLlamaCpp(refuse), *sys.meta_path])
    yield
    if refused:
        pytest.fail(f"refused in the unit room: {', '.join(refused)} ({RULE})", pytrace=False)


@pytest.fixture(scope="session")
def rtx3060(tmp_path_factory):
    """The RTX 3060 env, composed once a run (memory and ops tests deep-copy it); the composed-config cache under
    the run's own temp dir, never the user's."""
    from rdic_ops.config.compose import compose

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RDIC_STATE_DIR", str(tmp_path_factory.getbasetemp() / "composed"))
        return compose("rtx3060")
