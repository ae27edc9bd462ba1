"""The tester's second round of contract breaks: bad input is one line on stderr and exit 2 (never a traceback,
never exit 1 or 0), naming the file or flag, the key and its range, and never quoting a file's contents."""

import json

import pytest
from support.cli import run as cli

# -- row 5: bench.rate reads summary.json with a schema ---------------------------------------------------------

GOOD = {
    "gemma3-4b-it-q8_0": {"load_s": 1.5, "runs": 3, "failed": 0, "gen_tps": {"median": 25, "min": 20, "max": 30}},
    "llama3.2-3b-q4_k_m": {"load_s": 1.5, "runs": 3, "failed": 0, "gen_tps": {"median": 30, "min": 28, "max": 31}},
}
G = "gemma3-4b-it-q8_0"


def _bad_summary(key_path, value):
    summary = json.loads(json.dumps(GOOD))
    *outer, last = key_path
    target = summary
    for k in outer:
        target = target[k]
    target[last] = value
    return summary


@pytest.mark.parametrize(
    ("key_path", "value", "said"),
    [
        ((G, "gen_tps", "median"), "fast", f"{G}: gen_tps.median: must be a finite number from 0 to 1000000"),
        ((G, "gen_tps", "median"), float("nan"), f"{G}: gen_tps.median: must be a finite number from 0 to 1000000"),
        ((G, "gen_tps", "median"), -1, f"{G}: gen_tps.median: must be a finite number from 0 to 1000000"),
        ((G, "runs"), -5, f"{G}: runs: must be an integer from 0 to 100000"),
        ((G, "failed"), 2.5, f"{G}: failed: must be an integer from 0 to 100000"),
        ((G, "load_s"), float("inf"), f"{G}: load_s: must be a finite number from 0 to 86400"),
        ((G,), [1, 2], f"{G}: must be an object"),
        ((G, "gen_tps"), "x", f"{G}: gen_tps: must be an object"),
    ],
)
def test_bench_rate_bad_summary_is_exit_2_naming_file_and_key(tmp_path, key_path, value, said):
    (tmp_path / "ratings.csv").write_text("model,question,run,answer,score\n")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(_bad_summary(key_path, value)))  # NaN and Infinity as Python's json writes them
    out = cli("bench.rate", f"--run={tmp_path}", "--env=local", "--json")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {path}: {said}"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "internal error" not in out.stderr
    assert json.loads(out.stdout)["exit_code"] == 2


def test_bench_rate_summary_model_name_is_not_quoted_when_odd(tmp_path):
    (tmp_path / "ratings.csv").write_text("model,question,run,answer,score\n")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"SECRET MARK\x1b[2J": {"gen_tps": {"median": "x"}}}))
    out = cli("bench.rate", f"--run={tmp_path}", "--env=local")
    assert out.returncode == 2 and out.stderr.startswith(f"rdic-ops: {path}: model #1: gen_tps.median: ")
    assert "SECRET" not in out.stderr


def test_bench_rate_good_summary_still_recommends(tmp_path):
    (tmp_path / "ratings.csv").write_text("model,question,run,answer,score\n")
    (tmp_path / "summary.json").write_text(json.dumps(GOOD))
    out = cli("bench.rate", f"--run={tmp_path}", "--env=local")
    assert out.returncode == 0, out.stderr
    assert "recommendation:" in out.stdout


# -- row 10: migrate-embeddings --store is checked where it enters ---------------------------------------------


@pytest.mark.parametrize(
    ("store", "said"),
    [
        ("/etc/passwd", "/etc/passwd: a file of no known vector store format"),
        ("/dev/zero", "--store /dev/zero: a character device, not a regular file"),
    ],
)
def test_migrate_embeddings_store_that_is_no_store_is_exit_2_before_any_backend(store, said):
    out = cli("migrate-embeddings", "--env=local", "--from=ollama", "--to=sentence_transformers",
              f"--store={store}", "--dry-run", env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {said}"), out.stderr
    assert "ollama" not in out.stderr.lower() and len(out.stderr.strip().splitlines()) == 1


def test_migrate_embeddings_store_dir_with_a_vdb_that_is_a_directory(tmp_path):
    (tmp_path / "vdb_chunks.json").mkdir()
    out = cli("migrate-embeddings", "--env=local", "--from=ollama", "--to=sentence_transformers",
              f"--store={tmp_path}", "--dry-run", env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: --store {tmp_path / 'vdb_chunks.json'}: a directory, not a regular file")


# -- row 12: a device or a directory is said as such (fsutil's user_file_problem), not "no such file" -----------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--gguf=/dev/zero"], "/dev/zero: a character device, not a regular file"),
        (["--gguf=/tmp", "--oracle"], "/tmp: a directory, not a regular file"),
    ],
)
def test_plan_memory_gguf_that_is_no_file_says_what_it_is(args, said):
    out = cli("plan-memory", *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.strip() == f"rdic-ops: {said}"


def test_fleet_key_file_that_is_a_directory_says_so():
    out = cli("fleet.doctor", "--fleet=lab", "--hosts=rtx-a", "--set", "hosts.rtx-a.key_file=/tmp")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "key_file /tmp: a directory, not a regular file on this machine (fix" in out.stderr, out.stderr
    assert "no such file" not in out.stdout + out.stderr


# -- row 9: a flag given empty is exit 2 for every task, not only where the default is None ----------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plan-memory", "--env=local", "--plot="],
        ["plan-memory", "--env=local", "--plot= "],
        ["plan-memory", "--env=local", "--kv-type="],
        ["plan-memory", "--gguf="],
        ["migrate-embeddings", "--env=local", "--store=", "--dry-run"],
        ["migrate-embeddings", "--env=local", "--text-field=", "--dry-run"],
    ],
)
def test_a_flag_given_empty_is_exit_2(args, tmp_path):
    flag = next(a for a in args if a.rstrip().endswith("=")).split("=")[0]
    out = cli(*args, "--json", cwd=tmp_path, env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: {flag}=: give a value, or leave the flag out"), out.stderr
    assert json.loads(out.stdout)["exit_code"] == 2 and not list(tmp_path.iterdir())


def test_a_numeric_flag_given_empty_still_says_its_range():
    out = cli("plan-memory", "--env=local", "--parallel=")
    assert out.returncode == 2
    assert out.stderr.strip() == "rdic-ops: --parallel=: give a value (an integer from 1 to 256)"


# -- row 7: wsl.tune --path=LINK edits the link's target, in place, and says so ---------------------------------


def test_wsl_tune_through_a_symlink_edits_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / ".wslconfig"
    target.write_text("[wsl2]\nmemory=4GB\n")
    link = tmp_path / "LINK"
    link.symlink_to(target)
    out = cli("wsl.tune", "--env=rtx3060", f"--path={link}", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert link.is_symlink() and link.resolve() == target  # still the link
    assert "memory=12GB" in target.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("real", "state")] == ["LINK"]  # no LINK.<ts>.bak
    assert len(list((tmp_path / "real").glob(".wslconfig.*.bak"))) == 1  # the backup beside the target
    report = json.loads(out.stdout)
    assert f"edited {target} (the file the link {link} points to)" in json.dumps(report)


def test_wsl_tune_through_a_dangling_symlink_is_exit_2_and_creates_nothing(tmp_path):
    link = tmp_path / "LINK"
    link.symlink_to(tmp_path / "gone" / ".wslconfig")
    out = cli("wsl.tune", "--env=rtx3060", f"--path={link}")
    assert out.returncode == 2, out.stdout + out.stderr
    assert link.is_symlink() and not (tmp_path / "gone").exists()
