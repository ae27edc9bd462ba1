"""Broken models.lock entries, a /etc/passwd look-alike and the marker a refused file must never echo, for the
file-schema tests (tests/unit/models/test_lock.py and its neighbours, tests/unit/cli/test_contract_files.py)."""

SHA = "ab" * 32


def lock_text(entry_yaml: str) -> str:
    return f"version: 1\nmodels:\n  gemma3-1b-it-q4_k_m:\n{entry_yaml}"


ENTRY = """    source: hf
    revision: {revision}
    files:
    - name: gemma-3-1b-it-Q4_K_M.gguf
      sha256: {sha256}
      size: {size}
"""


BAD_LOCKS = {
    "sha256 a list": (ENTRY.format(revision="main", sha256="[1, 2]", size=5), "sha256 must be 64 hex characters"),
    "size -5": (ENTRY.format(revision="main", sha256=SHA, size=-5), "size must be an integer >= 0"),
    "size a string": (ENTRY.format(revision="main", sha256=SHA, size="'5'"), "size must be an integer >= 0"),
    "all-digit sha256 read as a number": (ENTRY.format(revision="main", sha256="1" * 64, size=5),
                                          "sha256 must be 64 hex characters, quoted"),
    "sha256 of 63 characters": (ENTRY.format(revision="main", sha256="a" * 63, size=5),
                                "sha256 must be 64 hex characters"),
    "sha256 not hex": (ENTRY.format(revision="main", sha256="g" * 64, size=5), "sha256 must be 64 hex characters"),
    "revision a number": (ENTRY.format(revision="1234567", sha256=SHA, size=5), "revision must be a non-empty string"),
    "unknown source": ("    source: ftp\n", "source must be one of ollama, hf, local, generated, package"),
    "no source": ("    revision: main\n", "source must be one of"),
    "unknown key": ("    source: hf\n    sha: x\n", "unknown key 'sha'"),
    "files a mapping": ("    source: hf\n    files: {a: 1}\n", "files must be a list"),
    "manifest digest": ("    source: ollama\n    manifest_digest: md5:1\n",
                        "manifest_digest must be sha256: and 64 hex characters"),
    "entry a string": ("    hf\n", "must be a mapping"),
}


MARK = "s3cr3t-marker"


PASSWD = f"root:x:0:0:root:/root:/bin/bash\n{MARK}:x:1000:1000::/home/{MARK}:/bin/sh\n"


def _no_secret(text: str) -> None:
    for secret in (MARK, MARK[:4], str(int.from_bytes(MARK.encode()[:4], "little")),
                   str(int.from_bytes(MARK.encode()[:8], "little")), "root"):
        assert secret not in text, f"{secret!r} quoted in: {text}"
