"""Every file rdic-ops reads has a schema: models.lock, ratings.csv, .wslconfig (before an edit) and GGUF headers.

A file that breaks it is one line naming the file and the entry or line, exit 2, never a traceback, never read
as something milder ("not pinned", "not rated yet", a file to edit); GGUF errors never quote the file's bytes.
"""


import pytest
from support.schemas import MARK, PASSWD

from rdic_ops.config.compose import compose
from rdic_ops.errors import ConfigError

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
