"""Every file rdic-ops writes is written whole or not at all.

A full disk is simulated at the bottom, without root: a forked child (or the `invoke` process) runs under the
kernel's own file size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so every write past it fails with EFBIG exactly
where a full disk fails with ENOSPC; or the temp file's write itself writes half and raises ENOSPC. Afterwards
the old file must be byte-identical and no half file or temp file may be left.
"""

import errno
import os
import resource
import signal
import subprocess
from multiprocessing import get_context
from pathlib import Path

import pytest
from support.paths import INVOKE, ROOT

from rdic_ops import fsutil
from rdic_ops.errors import StepFailed

OLD = b"the old file, intact\n"


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


def leftovers(directory: Path, *keep: str) -> list[str]:
    """What else is in the directory (the test's own RDIC_STATE_DIR aside)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in (*keep, "state"))


class HalfThenFull:
    """A temp file whose write puts half the bytes on disk, then fails as a full disk does."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def test_atomic_write_half_written_then_enospc_keeps_the_old_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(fsutil.os, "fdopen", lambda fd, mode: HalfThenFull(real_fdopen(fd, mode)))
    old = tmp_path / "models.lock"
    old.write_bytes(OLD)
    with pytest.raises(StepFailed, match=r"cannot write .*models.lock: No space left on device") as err:
        fsutil.atomic_write(old, "new content " * 1000)
    assert isinstance(err.value, OSError)  # still an OSError: a best-effort cache write keeps swallowing it
    assert err.value.exit_code == 1 and "free some space" in err.value.line()
    assert old.read_bytes() == OLD and leftovers(tmp_path) == ["models.lock"]
    with pytest.raises(StepFailed):
        fsutil.atomic_write(tmp_path / "new.json", "{}" * 1000)
    assert leftovers(tmp_path) == ["models.lock"]  # no new file, not even an empty one


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


def test_bench_raw_jsonl_holds_every_run_failed_loads_included(tmp_path):
    from rdic_ops.bench import runner

    results = [runner.Run("m", "q01", 0, False, error="load: no such model"),
               runner.Run("n", "q01", 0, True, gen_tps=5.0, answer="ok")]
    runner.write_artifacts(tmp_path, results, runner.summarize(results, {"n": 1.0}))
    lines = (tmp_path / "raw.jsonl").read_text().splitlines()
    assert [line.split('"model": ')[1].split(",")[0] for line in lines] == ['"m"', '"n"']


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


def test_smoke_junit_is_written_whole_never_by_pytest_itself(tmp_path, monkeypatch):
    from rdic_ops.ops import smoke

    junit = tmp_path / "ci" / "smoke.xml"
    junit.parent.mkdir()
    junit.write_bytes(OLD)
    xml = b'<?xml version="1.0"?><testsuites><testsuite><testcase name="test_runtime"/></testsuite></testsuites>'
    seen = []

    def fake_pytest(cmd, **kwargs):
        where = next(a for a in cmd if a.startswith("--junitxml=")).split("=", 1)[1]
        seen.append(Path(where))
        assert junit.read_bytes() == OLD  # while the suite runs, the user's file is the old one
        Path(where).write_bytes(xml)
        return subprocess.CompletedProcess(cmd, 0, "1 passed", "")

    monkeypatch.setattr(smoke.subprocess, "run", fake_pytest)
    result = smoke.run("local", [], junit=str(junit))
    assert seen and seen[0] != junit and junit.read_bytes() == xml
    assert not seen[0].parent.exists()  # pytest's temp dir is removed
    assert "1 passed" in result.message and str(junit) in result.message


def test_new_reports_get_open_s_mode_private_files_stay_private(tmp_path):
    old_mask = os.umask(0o027)
    try:
        report = fsutil.atomic_write(tmp_path / "summary.md", "x", shared=True)
        cache = fsutil.atomic_write(tmp_path / "cache.json", "{}")
    finally:
        os.umask(old_mask)
    assert report.stat().st_mode & 0o777 == 0o640  # 0666 less the umask, as open() gives
    assert cache.stat().st_mode & 0o777 == 0o600
    report.chmod(0o604)
    fsutil.atomic_write(report, "y", shared=True)
    assert report.stat().st_mode & 0o777 == 0o604  # an existing file keeps its mode
