"""Every file rdic-ops writes is written whole or not at all.

A full disk is simulated at the bottom, without root: a forked child (or the `invoke` process) runs under the
kernel's own file size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so every write past it fails with EFBIG exactly
where a full disk fails with ENOSPC; or the temp file's write itself writes half and raises ENOSPC. Afterwards
the old file must be byte-identical and no half file or temp file may be left.
"""

import resource
import signal
import subprocess
from multiprocessing import get_context

from support.leftovers import OLD, leftovers
from support.paths import INVOKE, ROOT


def _limit_files(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def on_a_full_disk(fn, limit: int = 4096) -> str | None:
    """Run ``fn()`` in a forked child whose files cannot grow past ``limit`` bytes; what it raised, or None."""
    ctx = get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def target():
        _limit_files(limit)
        try:
            fn()
            child.send(None)
        except BaseException as exc:  # sent back as text: the test asserts on it
            child.send(f"{type(exc).__name__}: {exc}")

    proc = ctx.Process(target=target)
    proc.start()
    assert parent.poll(120), "the child gave no answer"
    got = parent.recv()
    proc.join(10)
    return got


def test_plan_memory_plot_on_a_full_disk_keeps_the_old_png(tmp_path):
    png = tmp_path / "plan.png"
    png.write_bytes(OLD)
    out = subprocess.run([INVOKE, "plan-memory", "--env=rtx3060", f"--plot={png}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, preexec_fn=lambda: _limit_files(8192))
    assert png.read_bytes() == OLD and leftovers(tmp_path) == ["plan.png"]  # not a 0-byte or cut PNG
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.startswith(f"rdic-ops: cannot write {png}: File too large") and "internal error" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    ok = subprocess.run([INVOKE, "plan-memory", "--env=rtx3060", f"--plot={png}"], cwd=ROOT, capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_artifacts_on_a_full_disk_are_old_or_whole(tmp_path):
    from rdic_ops.bench import runner

    results = [runner.Run("m", "q01", 0, True, ttft_s=0.1, gen_tps=10.0, answer="a long answer " * 2000)]
    summary = runner.summarize(results, {"m": 1.0})
    names = ("raw.jsonl", "summary.csv", "summary.md", "summary.json", "ratings.csv", "plot.png")
    for name in names:
        (tmp_path / name).write_bytes(OLD)
    got = on_a_full_disk(lambda: runner.write_artifacts(tmp_path, results, summary), limit=8192)
    assert (tmp_path / "ratings.csv").read_bytes() == OLD  # 28 kB of answer: past the limit, so not replaced
    assert (tmp_path / "raw.jsonl").read_bytes() == OLD
    for name in names:  # each file is the old one or a whole new one, never a cut one
        data = (tmp_path / name).read_bytes()
        assert data == OLD or data.endswith(b"\n") or data.endswith(b"}"), name
    assert leftovers(tmp_path, *names) == []
    assert got and got.startswith("WriteFailed: cannot write"), got


def test_models_lock_and_gguf_on_a_full_disk_keep_the_old_file(tmp_path):
    from rdic_ops.config.compose import load_model_spec
    from rdic_ops.gguf import write as gguf_write
    from rdic_ops.models import lock as lockfile

    lock_path = tmp_path / "models.lock"
    lock_path.write_bytes(OLD)
    big = lockfile.Lock({f"model-{i}": lockfile.LockEntry("local", files=[lockfile.LockedFile(f"m{i}.gguf", "a" * 64,
                                                                                              i)])
                         for i in range(200)})
    got = on_a_full_disk(lambda: lockfile.save(lock_path, big))
    assert got and got.startswith("WriteFailed:"), got
    spec = load_model_spec("tiny-llama-gguf")
    model = tmp_path / "tiny.gguf"
    model.write_bytes(OLD)
    got = on_a_full_disk(lambda: gguf_write.write(model, spec.arch, spec.shape, data="random", name="t", seed=0))
    assert got and got.startswith("WriteFailed:"), got
    assert lock_path.read_bytes() == OLD and model.read_bytes() == OLD
    assert leftovers(tmp_path) == ["models.lock", "tiny.gguf"]


def test_fleet_agent_installed_json_on_a_full_disk(tmp_path):
    from rdic_ops.fleet import agent

    installed = tmp_path / "installed.json"
    installed.write_bytes(OLD)
    got = on_a_full_disk(lambda: agent._atomic_json(installed, {"build": "x" * 10000}))
    assert installed.read_bytes() == OLD and leftovers(tmp_path) == ["installed.json"]  # no .installed.json.tmp
    assert got and "File too large" in got
