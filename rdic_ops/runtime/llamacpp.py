"""The llama.cpp runtime: the env's GGUF kept resident in a `llama_cpp.server` process.

llama.cpp runs in-process in whatever loads it, so "resident across commands" needs a process that stays:
rdic-ops starts llama-cpp-python's own server (`python -m llama_cpp.server --config_file ...`) detached,
with the env's model, n_ctx, threads and KV settings (``-P``, cwd state_dir/runtime: no user file shadows a
module), records its pid, identity (start, command line, boot) and config hash before waiting, and talks to
it over HTTP. It is ours only while that identity holds and it listens listing our aliases: a busy port is
refused, a reused pid never signalled. Same config -> nothing to do; another -> restart. No llama_cpp import.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rdic_ops.config.files import expand
from rdic_ops.config.schema import RootConfig
from rdic_ops.errors import StepFailed
from rdic_ops.facts import process
from rdic_ops.fsutil import atomic_write
from rdic_ops.memory.oracle import KV_TYPE_IDS
from rdic_ops.runtime.base import Generation, Resident, role_gpu_layers


@dataclass
class ServedModel:
    alias: str
    path: str
    n_ctx: int


@dataclass
class DaemonState:
    pid: int | None
    alive: bool
    config_hash: str
    answering: bool
    models: list[ServedModel]


class LlamaCppRuntime:
    name = "llamacpp"
    managed = True  # rdic-ops starts the server itself: nothing to wait for before a load
    capacity = 1  # llama_cpp.server keeps one model loaded

    def __init__(self, cfg: RootConfig):
        self.cfg = cfg
        self.port = cfg.env.runtime.llamacpp_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = expand(cfg.paths.state_dir) / "runtime"
        self.config_path = self.dir / "llamacpp-server.json"
        self.pid_path = self.dir / "llamacpp-server.pid"
        self.log_path = self.dir / "llamacpp-server.log"

    def server_config(self, models: list[ServedModel]) -> dict:
        rt = self.cfg.env.runtime
        kv = KV_TYPE_IDS[rt.kv_cache_type.value] if rt.flash_attention else KV_TYPE_IDS["f16"]
        return {
            "host": "127.0.0.1", "port": self.port,
            "models": [{"model": m.path, "model_alias": m.alias, "n_ctx": m.n_ctx,
                        "n_threads": rt.n_threads or (os.cpu_count() or 1),
                        "n_gpu_layers": _layers(rt.n_gpu_layers, role_gpu_layers(self.cfg, m.alias)),
                        "flash_attn": rt.flash_attention, "type_k": kv, "type_v": kv, "verbose": False}
                       for m in models],
        }

    @staticmethod
    def config_hash(config: dict) -> str:
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]

    def _record(self) -> dict:
        try:
            info = json.loads(self.pid_path.read_text())
        except (OSError, ValueError):
            info = {}
        return info if isinstance(info, dict) else {}

    def _ours(self, info: dict) -> bool:
        """The recorded server is still running as that very process (start time, command line, boot)."""
        pid = info.get("pid")
        return isinstance(pid, int) and isinstance(info.get("identity"), dict) and \
            process.same(info["identity"], process.identity(pid))

    def state(self) -> DaemonState:
        info = self._record()
        alive = self._ours(info)
        try:
            models = [ServedModel(**m) for m in info.get("models", [])] if alive else []
        except TypeError:  # not a record of ours
            models, alive = [], False
        return DaemonState(info.get("pid") if alive else None, alive, info.get("config_hash", ""),
                           alive and self._answering(info.get("pid"), [m.alias for m in models]), models)

    def _answering(self, pid: int | None = None, aliases: list[str] = ()) -> bool:
        """Our server answers: /v1/models lists our aliases and the listener on the port is our process."""
        import httpx

        try:
            r = httpx.get(self.url + "/v1/models", timeout=5.0)
            ids = {m.get("id") for m in r.json().get("data", [])} if r.status_code == 200 else set()
        except (httpx.HTTPError, ValueError, AttributeError, TypeError):
            return False
        return set(aliases) <= ids and (pid is None or process.listens(pid, self.port) is not False)

    def start(self, models: list[ServedModel]) -> float:
        """(Re)start the server with these models; seconds until it answered (the model load included)."""
        for m in models:
            if not Path(m.path).is_file():
                raise StepFailed(f"{m.alias}: {m.path} does not exist", remedy="run invoke models.pull first")
        self.stop()
        if not process.port_free(self.port):
            raise StepFailed(f"port {self.port} is in use by another program: the llama.cpp server cannot listen there",
                             remedy="stop that program or set env.runtime.llamacpp_port to a free port")
        config, t0 = self.server_config(models), time.perf_counter()
        atomic_write(self.config_path, json.dumps(config, indent=2))  # (creates self.dir)
        # the server's log grows on purpose (appended across starts, the server writes it itself): not atomic
        with open(self.log_path, "ab") as log:  # -P and a fixed cwd: no file of the user's shadows a module
            proc = subprocess.Popen([sys.executable, "-P", "-m", "llama_cpp.server", "--config_file",
                                     str(self.config_path)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.dir)
        ident = process.identity(proc.pid)  # recorded before waiting: a stop can find it while it loads
        atomic_write(self.pid_path, json.dumps({"pid": proc.pid, "identity": ident.to_dict() if ident else None,
                                                "config_hash": self.config_hash(config),
                                                "models": [m.__dict__ for m in models]}))
        self._wait(proc, [m.alias for m in models])
        return time.perf_counter() - t0

    def _wait(self, proc, aliases: list[str]) -> None:
        deadline = time.monotonic() + self.cfg.env.runtime.ready_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_path.unlink(missing_ok=True)
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise StepFailed(f"llama.cpp server exited ({proc.returncode}): {tail[0]}",
                                 remedy=f"see {self.log_path}")
            if self._answering(proc.pid, aliases):
                return
            time.sleep(0.2)
        self.stop()
        raise StepFailed(f"llama.cpp server did not answer on port {self.port} within "
                         f"{self.cfg.env.runtime.ready_timeout_s:g} s", remedy=f"see {self.log_path}")

    def stop(self) -> bool:
        """Stop our server: signals go only to the process recorded at start, checked again before each."""
        info = self._record()
        ours = self._ours(info)
        if ours:
            pid = info["pid"]
            _signal(pid, signal.SIGTERM)
            for _ in range(50):
                if not self._ours(info):
                    break
                time.sleep(0.1)
            if self._ours(info):
                _signal(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)
        return ours

    # -- the runtime interface ---------------------------------------------------------------------
    def wait_ready(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while not self.state().answering:
            if time.monotonic() >= deadline:
                raise StepFailed(f"llama.cpp server on port {self.port} is not running",
                                 remedy="run invoke preload")
            time.sleep(0.2)
        import importlib.metadata

        return f"llama-cpp-python {importlib.metadata.version('llama-cpp-python')}"

    def resident(self) -> list[Resident]:
        st = self.state()
        if not st.answering:
            return []
        # llama_cpp.server loads its configured model at start and keeps it until it is stopped.
        return [Resident(m.alias, m.n_ctx, None, Path(m.path).stat().st_size, 0, fingerprint=st.config_hash)
                for m in st.models[:1]]

    def served_context(self, tag: str, at_least: int) -> int | None:
        """The context the server itself runs ``tag`` with (not what rdic-ops recorded): a prompt of twice
        ``at_least`` tokens is refused with "maximum context length is N tokens". None: it was not refused
        (the server's context is larger than twice ``at_least``)."""
        import re

        import httpx

        def post(path: str, body: dict) -> httpx.Response:
            return httpx.post(self.url + path, json={"model": tag, **body}, timeout=120.0)

        unit = "hallo " * 100
        per_unit = post("/extras/tokenize/count", {"input": unit}).json()["count"]
        prompt = unit * (2 * at_least // max(per_unit, 1) + 1)
        r = post("/v1/completions", {"prompt": prompt, "max_tokens": 1})
        hit = re.search(r"maximum context length is (\d+) tokens", r.text)
        if r.status_code == 200 or not hit:
            return None
        return int(hit[1])

    def _served(self, tag: str, num_ctx: int) -> ServedModel:
        """The model an alias names: the env's model of that name, at its file on this machine."""
        from rdic_ops.config.schema import ROLES
        from rdic_ops.models.store import model_file

        for role in ROLES:
            spec = getattr(self.cfg, role).model
            if spec.name == tag:
                path = model_file(self.cfg, spec)
                if path is None or not path.exists():
                    raise StepFailed(f"{spec.name}: no GGUF at {path}", remedy="run invoke models.pull first")
                return ServedModel(tag, str(path), num_ctx)
        raise StepFailed(f"{tag}: not a model of env {self.cfg.env.name}")

    def model_settings(self, tag: str, num_ctx: int) -> dict:
        """llama_cpp.server's settings for this model, exactly as start() would write them."""
        return self.server_config([self._served(tag, num_ctx)])["models"][0]

    def matches(self, r: Resident, tag: str, num_ctx: int, keep_alive: int) -> bool:
        """Loaded as asked: same model, context and server settings (threads, KV type, GPU layers)."""
        want = self.config_hash(self.server_config([self._served(tag, num_ctx)]))
        return r.fingerprint == want

    def load(self, tag: str, num_ctx: int, keep_alive: int) -> float:
        """(Re)start the server with this model resident; keep_alive does not apply (it stays until stopped)."""
        return self.start([self._served(tag, num_ctx)])

    def unload(self, tag: str) -> None:
        self.stop()

    def generate(self, tag: str, prompt: str, *, num_ctx: int, max_tokens: int = 32,
                 keep_alive: int | None = None) -> Generation:
        import httpx

        body = {"model": tag, "prompt": prompt, "max_tokens": max_tokens, "stream": True, "temperature": 0.0}
        t0 = time.perf_counter()
        first, pieces = None, []
        try:
            with httpx.stream("POST", self.url + "/v1/completions", json=body, timeout=120.0) as r:
                if r.status_code != 200:
                    r.read()
                    raise StepFailed(f"generate {tag}: HTTP {r.status_code}: {r.text[:200]}")
                for line in r.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    text = json.loads(line[6:])["choices"][0].get("text", "")
                    if first is None:
                        first = time.perf_counter() - t0
                    pieces.append(text)
                    if len(pieces) >= max_tokens:  # one event a token; llama_cpp.server can run past max_tokens
                        break                      # on byte tokens, and stops when the client goes
        except httpx.HTTPError as exc:
            raise StepFailed(f"generate {tag}: {type(exc).__name__}: {exc}",
                             remedy="run invoke preload to start the llama.cpp server") from None
        total = time.perf_counter() - t0
        ttft = first if first is not None else total
        return Generation("".join(pieces), ttft, total, eval_tokens=len(pieces), eval_s=max(total - ttft, 1e-9),
                          delivered=sum(1 for p in pieces if p))

    def chat(self, tag: str, messages: list[dict], *, num_ctx: int, max_tokens: int = 32) -> Generation:
        """One chat turn through /v1/chat/completions: the server formats it with the GGUF's chat template."""
        import httpx

        body = {"model": tag, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": False}
        t0 = time.perf_counter()
        try:
            r = httpx.post(self.url + "/v1/chat/completions", json=body, timeout=120.0)
            if r.status_code != 200:
                raise StepFailed(f"chat {tag}: HTTP {r.status_code}: {r.text[:200]}")
            data = r.json()
            text = data["choices"][0]["message"].get("content") or ""
        except httpx.HTTPError as exc:
            raise StepFailed(f"chat {tag}: {type(exc).__name__}: {exc}",
                             remedy="run invoke preload to start the llama.cpp server") from None
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise StepFailed(f"chat {tag}: not an OpenAI-style chat answer ({type(exc).__name__}: {exc})") from None
        total = time.perf_counter() - t0
        usage = data.get("usage") or {}
        return Generation(text, total, total, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          eval_tokens=int(usage.get("completion_tokens") or 0), raw=usage)


def _signal(pid: int, sig: int) -> None:
    """Signal our server's process group (it runs in a session of its own); gone or not ours is no error."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise StepFailed(f"cannot stop the llama.cpp server (pid {pid}): {exc.strerror}") from None


def _layers(runtime: int, role: int | None) -> int:
    """A role's partial offload narrows the runtime's n_gpu_layers (-1 = all)."""
    return runtime if role is None else (role if runtime < 0 else min(role, runtime))
