"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""

import json

from support.cli import run_invoke
from support.schemas import BAD_LOCKS, MARK, PASSWD, _no_secret, lock_text


def test_cli_bad_lock_is_exit_2_one_line(tmp_path):
    path = tmp_path / "models.lock"
    path.write_text(lock_text(BAD_LOCKS["size -5"][0]))
    out = run_invoke("models.verify", "--env=local", "--set", f"paths.lockfile={path}", "--json")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (f"rdic-ops: {path}: entry gemma3-1b-it-q4_k_m: file gemma-3-1b-it-Q4_K_M.gguf: "
                                  "size must be an integer >= 0 (fix it by hand, or delete the entry and run "
                                  "invoke models.lock)")
    assert json.loads(out.stdout)["exit_code"] == 2


def test_cli_bench_rate_on_a_garbage_sheet_is_exit_2_not_rate_first(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"g": {"gen_tps": {"median": 25}}}))
    (tmp_path / "ratings.csv").write_bytes(b"\0" * 64)
    out = run_invoke("bench.rate", f"--run={tmp_path}", "--env=rtx3060")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {tmp_path / 'ratings.csv'}: line 1: a NUL byte")
    assert "rate the answers first" not in out.stdout and "Traceback" not in out.stderr


def test_cli_wsl_tune_on_a_passwd_copy_is_exit_2_and_writes_nothing(tmp_path):
    path = tmp_path / "passwd"
    path.write_text(PASSWD)
    out = run_invoke("wsl.tune", "--env=rtx3060", f"--path={path}")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {path}:1: does not parse as a .wslconfig")
    assert MARK not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert path.read_text() == PASSWD and not list(tmp_path.glob("passwd.*"))


def test_cli_plan_memory_on_a_link_to_a_private_file(tmp_path):
    private = tmp_path / "private"
    private.write_bytes(f"root:{MARK}\n".encode())
    link = tmp_path / "model.gguf"
    link.symlink_to(private)
    out = run_invoke("plan-memory", f"--gguf={link}")
    assert out.returncode == 2 and out.stderr.startswith(f"rdic-ops: {link}: not a GGUF file")
    _no_secret(out.stderr.replace(str(tmp_path), ""))
