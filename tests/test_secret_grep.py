"""Secrets never appear in output or logs: known values in env vars, the app's .env and the Ollama URL, every
task run with and without --json, against a live server and a dead one (failures print errors), then every
byte of stdout, stderr and the files rdic-ops writes is searched for them."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import free_port, run_invoke
from ollama_server import publish

URL_PASSWORD = "pw-7f3a-in-the-url"
ENV_SECRETS = {"HF_TOKEN": "hf_env_token_9c1d", "OPENAI_API_KEY": "sk-env-openai-52e8",
               "EMBEDDING_BINDING_API_KEY": "sk-env-lightrag-0b7f", "ANTHROPIC_API_KEY": "sk-ant-env-44aa"}
DOTENV_SECRET = "sk-dotenv-lightrag-d00d"
SECRETS = [URL_PASSWORD, DOTENV_SECRET, *ENV_SECRETS.values()]
HEAVY = {"setup", "smoke", "bench"}  # against the live server: run once (--json), to keep the test's time modest


def task_lines(base: list[str], work: Path) -> list[list[str]]:
    """Every task of `invoke --list`, with the flags that make it do something here."""
    return [
        ["config", *base], ["doctor", *base], ["setup", "--dry-run", *base], ["setup", *base],
        ["plan-memory", *base], ["models.pull", *base], ["models.pull", "--dry-run", *base],
        ["models.lock", *base], ["models.verify", "--all", *base], ["preload", *base], ["preload", "--unload", *base],
        ["server-settings", "--dry-run", *base], ["route", *base],
        ["wsl.tune", "--dry-run", "--path", str(work / ".wslconfig"), *base],
        ["migrate-embeddings", "--dry-run", "--from=ollama", "--to=sentence_transformers", *base],
        ["migrate-embeddings", "--from=ollama", "--to=sentence_transformers", *base],
        ["migrate-model", "--dry-run", f"--target={work / 'nowhere'}", *base],
        ["smoke", *base], ["bench", "--runs=1", "--max-tokens=2", f"--out={work / 'bench'}", *base],
        ["embeddings.bench", "--backends=ollama", "--batch-sizes=2", "--max-seq-lengths=32", "--texts=4", *base],
    ]


def test_no_secret_in_any_output_or_log(ollama_server, tiny_gguf, fake_system, tmp_path):
    for tag in ("gemma3:4b-it-q8_0", "llama3.2:3b", "bge-m3"):
        publish(ollama_server.registry, tag, tiny_gguf)
    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_text(f"EMBEDDING_BACKEND=ollama\nEMBEDDING_BINDING_API_KEY={DOTENV_SECRET}\n")
    (work / ".wslconfig").write_text("[wsl2]\nmemory=4GB\n")
    live = ollama_server.url.replace("http://", f"http://rdic:{URL_PASSWORD}@")
    dead = f"http://rdic:{URL_PASSWORD}@127.0.0.1:{free_port()}"
    common = ["--set=env.runtime.ollama.service=systemd", f"--set=paths.system_root={fake_system.root}",
              f"--set=embedding.app_setting_file={work / '.env'}", f"--set=paths.lockfile={work / 'models.lock'}",
              "--set=env.runtime.ollama.timeout_s=5", "--set=env.runtime.ready_timeout_s=2",
              f"--set=env.runtime.ollama.models_dir={ollama_server.models}", "--set=embedding.backend=ollama",
              "--set=env.runtime.preload_at_startup=true"]
    runs = []
    for url in (live, dead):
        base = ["--env=rtx3060", f"--set=env.runtime.ollama.host={url}", f"--set=env.runtime.ollama.registry={url}",
                *common]
        for argv in task_lines(base, work):
            heavy_and_live = url == live and argv[0] in HEAVY  # once is enough to see what they print
            runs += [[*argv, "--json"]] if heavy_and_live else [argv, [*argv, "--json"]]
    env = {**ENV_SECRETS, "RDIC_STATE_DIR": str(tmp_path / "state")}
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda a: (a, run_invoke(*a, env=env, timeout=600)), runs))
    failures = sum(o.returncode != 0 for _, o in outs)
    assert failures >= len(runs) // 4, "the dead server should have made many runs fail"
    leaks = []
    for argv, out in outs:
        for s in SECRETS:
            if s in out.stdout or s in out.stderr:
                leaks.append(f"{' '.join(argv[:2])} (exit {out.returncode}): {s} printed")
    for root in (tmp_path / "state", fake_system.root, work / "bench", fake_system.state):
        for p in root.rglob("*") if root.exists() else []:
            if p.is_file() and "backups" not in p.parts:  # backups of the user's .env are its copy, mode 0600
                data = p.read_bytes()
                leaks += [f"{p}: holds {s}" for s in SECRETS if s.encode() in data]
    assert not leaks, "\n".join(sorted(set(leaks))[:20])


@pytest.mark.parametrize("argv", [["config", "--env=rtx3060"], ["config", "--env=rtx3060", "--json"]])
def test_config_masks_the_url_password(argv):
    out = run_invoke(*argv, f"--set=env.runtime.ollama.host=http://u:{URL_PASSWORD}@10.0.0.2:11434")
    assert out.returncode == 0 and URL_PASSWORD not in out.stdout and "u:********@10.0.0.2" in out.stdout
