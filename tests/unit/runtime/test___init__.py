"""Which runtime serves an env (rdic_ops/runtime/__init__.py's for_env): Ollama through its official client,
else the llama_cpp.server rdic-ops manages. Built only: nothing is started or asked."""

from rdic_ops.config.schema import RootConfig, RuntimeKind
from rdic_ops.runtime import for_env
from rdic_ops.runtime.llamacpp import LlamaCppRuntime
from rdic_ops.runtime.ollama import OllamaRuntime


def test_an_ollama_env_gets_the_client_for_its_host(tmp_path):
    cfg = RootConfig()
    cfg.env.runtime.kind = RuntimeKind.ollama
    cfg.env.runtime.ollama.host = "http://gpu1:11434/"
    rt = for_env(cfg)
    assert isinstance(rt, OllamaRuntime) and rt.host == "http://gpu1:11434"


def test_a_llamacpp_env_gets_its_managed_server_under_the_state_dir(tmp_path):
    cfg = RootConfig()
    cfg.paths.state_dir = str(tmp_path / "st")
    cfg.env.runtime.llamacpp_port = 8799
    rt = for_env(cfg)
    assert isinstance(rt, LlamaCppRuntime) and rt.url == "http://127.0.0.1:8799"
    assert rt.pid_path == tmp_path / "st" / "runtime" / "llamacpp-server.pid"
