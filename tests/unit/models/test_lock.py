"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""

import json

import pytest
from support.schemas import BAD_LOCKS, SHA, lock_text

from rdic_ops.config.compose import compose
from rdic_ops.errors import ConfigError
from rdic_ops.models import lock as lockfile

GOOD = {"source": "hf", "repo": "unsloth/gemma-3-1b-it-GGUF", "file": "gemma-3-1b-it-Q4_K_M.gguf",
        "revision": "c" * 40, "files": [{"name": "gemma-3-1b-it-Q4_K_M.gguf", "sha256": SHA, "size": 806}]}


@pytest.mark.parametrize("case", list(BAD_LOCKS))
def test_a_bad_lock_entry_is_refused_naming_file_and_entry(tmp_path, case):
    entry, why = BAD_LOCKS[case]
    path = tmp_path / "models.lock"
    path.write_text(lock_text(entry))
    with pytest.raises(ConfigError) as err:
        lockfile.load(path)
    assert str(err.value).startswith(f"{path}: entry gemma3-1b-it-q4_k_m: ")
    assert why in str(err.value) and err.value.exit_code == 2


def test_a_good_lock_reads_and_an_upper_case_sha256_is_lower_cased(tmp_path):
    path = tmp_path / "models.lock"
    path.write_text(json.dumps({"version": 1, "models": {"gemma3-1b-it-q4_k_m": {
        **GOOD, "files": [{"name": "gemma-3-1b-it-Q4_K_M.gguf", "sha256": SHA.upper(), "size": 0}]}}}))
    entry = lockfile.load(path).models["gemma3-1b-it-q4_k_m"]
    assert entry.file_sha("gemma-3-1b-it-Q4_K_M.gguf") == SHA and entry.files[0].size == 0
    assert entry.revision == "c" * 40 and entry.source == "hf"


def test_all_digit_sha256_is_not_taken_for_not_pinned(tmp_path, monkeypatch):
    """YAML reads 000...0 as the number 0: before, the model counted as "not pinned" and verified although the
    file differs from the lock; now the lock is refused."""
    from rdic_ops.ops import models

    monkeypatch.chdir(tmp_path)
    cfg = compose("local", ["workload=offline_tiny"])
    models.pull(cfg)
    entry = ("    source: generated\n    files:\n    - name: tiny-llama.gguf\n"
             f"      sha256: {'0' * 64}\n      size: 5\n")  # unquoted: YAML reads the number 0
    (tmp_path / "models.lock").write_text(lock_text(entry).replace("gemma3-1b-it-q4_k_m", "tiny-llama-gguf"))
    with pytest.raises(ConfigError, match="entry tiny-llama-gguf: file tiny-llama.gguf: sha256 must be 64 hex"):
        models.verify(cfg)


def test_save_never_writes_a_lock_it_would_refuse(tmp_path):
    path = tmp_path / "models.lock"
    bad = lockfile.Lock({"m": lockfile.LockEntry("hf", files=[lockfile.LockedFile("f.gguf", "abc", 1)])})
    with pytest.raises(ConfigError, match="entry m: file f.gguf: sha256"):
        lockfile.save(path, bad)
    assert not path.exists()
