"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""

import json
import struct

import pytest
from support.schemas import BAD_LOCKS, MARK, PASSWD, SHA, _no_secret, lock_text

from rdic_ops.config.compose import compose
from rdic_ops.errors import ConfigError, UsageError
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
    cfg = compose("local")
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


HEADER = "model,question,run,answer,score\n"


BAD_SHEETS = {
    "NUL bytes": ((HEADER + "gemma,q01,0,ok,5\n").encode() + b"\0\0\0\0", 3, "NUL byte"),
    "other columns": (b"name,age\nx,1\n", 1, "the header is not model,question,run,answer,score"),
    "a row of three fields": ((HEADER + "gemma,q01,0,ok,5\nllama,q01,0\n").encode(), 3, "3 fields, expected 5"),
    "score not a number": ((HEADER + "gemma,q01,0,ok,good\n").encode(), 2, "score is not a number"),
    "score out of range": ((HEADER + "gemma,q01,0,ok,nan\n").encode(), 2, "score is not 1-5"),
    "run not a number": ((HEADER + "gemma,q01,first,ok,\n").encode(), 2, "run is not a whole number"),
    "no model": ((HEADER + ",q01,0,ok,\n").encode(), 2, "no model or no question"),
    "empty file": (b"", 1, "empty"),
    "not UTF-8": ((HEADER + "gemma,q01,0,").encode() + b"\xff\xfe" + b",\n", 2, "not UTF-8"),
    "row after a multi-line answer": ((HEADER + 'gemma,q01,0,"two\nlines",4\nx\n').encode(), 4, "1 fields"),
}


@pytest.mark.parametrize("case", list(BAD_SHEETS))
def test_a_garbage_ratings_sheet_is_refused_naming_file_and_line(tmp_path, case):
    from rdic_ops.bench import runner

    data, line, why = BAD_SHEETS[case]
    sheet = tmp_path / "ratings.csv"
    sheet.write_bytes(data)
    with pytest.raises(UsageError) as err:
        runner.read_ratings(sheet)
    msg = str(err.value)
    assert why in msg and err.value.exit_code == 2
    assert msg.startswith(f"{sheet}: line {line}: ") or (case == "empty file" and msg.startswith(f"{sheet}: empty"))


def test_a_spreadsheet_saved_sheet_still_reads(tmp_path):
    from rdic_ops.bench import runner

    sheet = tmp_path / "ratings.csv"
    sheet.write_bytes(b"\xef\xbb\xbfmodel,question,run,answer,score\r\ngemma,q01,0,\"a, b\",4.5\r\n"
                      b"llama,q01,0,x,\r\n\r\n")
    assert runner.read_ratings(sheet) == {"gemma": 4.5}


NOT_WSLCONFIG = {
    "a copy of /etc/passwd": (PASSWD, 1, "text before the first [section]"),
    "YAML": (f"memory: 8GB\n{MARK}: 1\n", 1, "text before the first [section]"),
    "JSON": ('{"memory": "8GB"}\n', 1, "text before the first [section]"),
    "a key before the first section": ("memory=8GB\n[wsl2]\nswap=0\n", 1, "text before the first [section]"),
    "a line with no = inside a section": (f"[wsl2]\nmemory=8GB\n{MARK}\n", 3, "a line that is neither key=value"),
    "/etc/wsl.conf": ("[boot]\nsystemd=true\n[automount]\nenabled=true\n", 1, "none of its sections is one WSL"),
}


@pytest.mark.parametrize("case", list(NOT_WSLCONFIG))
def test_a_file_that_is_no_wslconfig_is_refused_untouched(tmp_path, monkeypatch, case):
    from rdic_ops.facts import hardware
    from rdic_ops.ops import wsl

    monkeypatch.setattr(hardware, "wsl", lambda *a, **k: None)
    text, line, why = NOT_WSLCONFIG[case]
    path = tmp_path / ".wslconfig"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        wsl.tune(compose("rtx3060"), path=str(path))
    assert str(err.value).startswith(f"{path}:{line}: does not parse as a .wslconfig ({why}")
    assert MARK not in err.value.line() and "root:x" not in err.value.line()
    assert path.read_text() == text and not list(tmp_path.glob(".wslconfig.*"))  # no backup, no temp file


REAL_QUIRKS = {
    "semicolon lines, even at the top": "; my settings\n[wsl2]\n; old: memory=4GB\nmemory=4GB\n",
    "indented keys, CRLF, trailing comments": "[WSL2]\r\n  memory = 4GB  # cap\r\n\tswap=0\r\n",
    "a value continued on the next line": "[wsl2]\nkernelCommandLine = quiet \\\n    splash\nmemory=4GB\n",
    "unknown keys and sections beside [wsl2]": "[wsl2]\nmyKey=1\n[network]\nx=y\n",
    "malformed values and a broken section header": "[wsl2]\nmemory=7.5GB\nkernel=\"C:\\q\"\n[bad\n",
    "only comments": "# nothing set yet\n\n",
    "only [experimental]": "[experimental]\nsparseVhd=true\n",
    "empty": "",
}


@pytest.mark.parametrize("case", list(REAL_QUIRKS))
def test_real_wslconfig_quirks_still_edit(tmp_path, monkeypatch, case):
    from rdic_ops import wslconfig
    from rdic_ops.facts import hardware
    from rdic_ops.ops import wsl
    from rdic_ops.plan import Status

    monkeypatch.setattr(hardware, "wsl", lambda *a, **k: None)
    path = tmp_path / ".wslconfig"
    path.write_text(REAL_QUIRKS[case], newline="")
    result = wsl.tune(compose("rtx3060"), path=str(path))
    assert result.status is Status.changed
    assert wslconfig.effective(wslconfig.parse(path.read_text()))[("wsl2", "memory")] == "12GB"


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _gguf(kvs: bytes, n_kv: int, tensors: bytes = b"", n_tensors: int = 0, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs + tensors + b"\0" * 64


ARCH = _s("general.architecture") + struct.pack("<I", 8) + _s(MARK)


HOSTILE = {
    "a private text file": (f"root:{MARK}\n".encode(), "not a GGUF file"),
    "an empty file": (b"", "not a GGUF file (empty)"),
    "a tensor named with the secret, 5 dimensions": (
        _gguf(ARCH, 1, _s(MARK) + struct.pack("<I", 5) + struct.pack("<5Q", 1, 1, 1, 1, 1) + struct.pack("<IQ", 0, 0),
              1), "tensor #0 has more than 4 dimensions"),
    "a tensor named with the secret, unknown type": (
        _gguf(ARCH, 1, _s(MARK) + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 999, 0), 1),
        "tensor #0 has unknown type 999"),
    "the secret as the alignment": (_gguf(ARCH + _s("general.alignment") + struct.pack("<I", 8) + _s(MARK), 2),
                                    "general.alignment is not a positive power of two"),
    "the secret as a count": (_gguf(ARCH + _s(f"{MARK}.block_count") + struct.pack("<I", 8) + _s(MARK), 2),
                              "the architecture's block_count is not a number"),
    "bytes of the file as a version": (b"GGUF" + MARK.encode()[:4] + b"\0" * 60, "unsupported GGUF version ("),
    "bytes of the file as a value type": (_gguf(_s("k") + MARK.encode()[:4], 1), "unknown GGUF value type"),
    "bytes of the file as a count": (b"GGUF" + struct.pack("<I", 3) + MARK.encode()[:8] + b"\0" * 8,
                                     "the tensors it declares cannot fit"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_gguf_errors_never_quote_the_file(tmp_path, case):
    from rdic_ops.gguf.read import inspect

    data, why = HOSTILE[case]
    private = tmp_path / "private"
    private.write_bytes(data)
    link = tmp_path / "model.gguf"
    link.symlink_to(private)
    with pytest.raises(UsageError) as err:
        inspect(link)
    assert why in str(err.value) and str(err.value).startswith(f"{link}: ")
    _no_secret(str(err.value).replace(str(tmp_path), ""))


def test_ollama_manifest_with_a_bad_digest_is_not_quoted(tmp_path):
    from rdic_ops.gguf.read import inspect

    manifest = tmp_path / "manifests" / "registry.ollama.ai" / "library" / "m" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                "digest": f"sha256:{MARK}"}]}))
    with pytest.raises(UsageError, match="no valid sha256:<64 hex> digest") as err:
        inspect(manifest)
    _no_secret(str(err.value).replace(str(tmp_path), ""))
