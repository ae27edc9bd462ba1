"""The file schemas' refusals through the command line, in this process (support.cli.run; the process itself
is not what is tested): a broken models.lock, a garbage ratings.csv, a /etc/passwd copy given as .wslconfig, a
link to a private file and a hostile header given as a GGUF are each one line naming the file, exit 2, and never
echo its contents.
"""

import json

from support import cli
from support.gguf_bytes import HOSTILE
from support.schemas import BAD_LOCKS, MARK, PASSWD, _no_secret, lock_text


def test_cli_bad_lock_is_exit_2_one_line(tmp_path):
    path = tmp_path / "models.lock"
    path.write_text(lock_text(BAD_LOCKS["size -5"][0]))
    out = cli.run("models.verify", "--env=local", "--set", f"paths.lockfile={path}", "--json")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == (f"rdic-ops: {path}: entry gemma3-1b-it-q4_k_m: file gemma-3-1b-it-Q4_K_M.gguf: "
                                  "size must be an integer >= 0 (fix it by hand, or delete the entry and run "
                                  "rdic-ops models.lock)")  # the command the user ran (cli/streams.as_ran)
    assert json.loads(out.stdout)["exit_code"] == 2


def test_cli_bench_rate_on_a_garbage_sheet_is_exit_2_not_rate_first(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"g": {"gen_tps": {"median": 25}}}))
    (tmp_path / "ratings.csv").write_bytes(b"\0" * 64)
    out = cli.run("bench.rate", f"--run={tmp_path}", "--env=rtx3060")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {tmp_path / 'ratings.csv'}: line 1: a NUL byte")
    assert "rate the answers first" not in out.stdout and "Traceback" not in out.stderr


def test_cli_wsl_tune_on_a_passwd_copy_is_exit_2_and_writes_nothing(tmp_path):
    path = tmp_path / "passwd"
    path.write_text(PASSWD)
    out = cli.run("wsl.tune", "--env=rtx3060", f"--path={path}")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {path}:1: does not parse as a .wslconfig")
    assert MARK not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert path.read_text() == PASSWD and not list(tmp_path.glob("passwd.*"))


def test_cli_plan_memory_on_a_link_to_a_private_file(tmp_path):
    private = tmp_path / "private"
    private.write_bytes(f"root:{MARK}\n".encode())
    link = tmp_path / "model.gguf"
    link.symlink_to(private)
    out = cli.run("plan-memory", f"--gguf={link}")
    assert out.returncode == 2 and out.stderr.startswith(f"rdic-ops: {link}: not a GGUF file")
    _no_secret(out.stderr.replace(str(tmp_path), ""))


def test_cli_exits_2_on_hostile_file(tmp_path):
    path = tmp_path / "hostile.gguf"
    path.write_bytes(HOSTILE["block_count 2**40"][0])
    out = cli.run("plan-memory", f"--gguf={path}")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("rdic-ops: ") and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
