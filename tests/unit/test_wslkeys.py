"""The .wslconfig reader/editor's rules one by one, as WSL's parser applies them (REFERENCE.md: sizes, C-style
integers, booleans, escapes, comments, sections, first occurrence wins); written against the surviving
mutants of `benchmarks/mutation.py wslconfig` (issue 18)."""

import pytest

from rdic_ops import wslconfig as w


@pytest.mark.parametrize("text, n", [
    ("0", 0), ("7", 7), ("12GB", 12 * 1024**3), ("12G", 12 * 1024**3), ("512MB", 512 * 1024**2),
    ("512M", 512 * 1024**2), ("3KB", 3072), ("3K", 3072), ("9B", 9), ("2TB", 2 * 1024**4), ("2T", 2 * 1024**4),
    ("010GB", 10 * 1024**3),
])
def test_sizes_wsl_reads(text, n):
    assert w.size_bytes(text) == n
    assert w.check_value(w.SIZE_T, text) is None


@pytest.mark.parametrize("text", ["12gb", "12 GB", "1.5GB", "GB", "", "12GiB", "-1GB", " 12GB", "12GB ", "0x10GB"])
def test_sizes_wsl_rejects(text):
    with pytest.raises(w.WslValueError, match="not a size WSL reads"):
        w.size_bytes(text)
    assert "not a size" in w.check_value(w.SIZE_T, text)


@pytest.mark.parametrize("text, n", [
    ("0", 0), ("8", 8), ("10", 10), ("010", 8), ("07", 7), ("0x1F", 31), ("0XfF", 255), ("-5", -5), ("-010", -8),
    ("-0x10", -16), (" 12 ", 12),
])
def test_integers_c_style(text, n):
    assert w.parse_int(text) == n


@pytest.mark.parametrize("text, octal_hint", [("08", True), ("09", True), ("0x", False), ("1e3", False),
                                               ("", False), ("12a", False), ("+3", False), ("0xg", False)])
def test_integers_wsl_rejects(text, octal_hint):
    with pytest.raises(w.WslValueError, match="not an integer WSL reads") as e:
        w.parse_int(text)
    assert ("leading 0 means octal" in str(e.value)) is octal_hint


def test_check_value_notes():
    assert w.check_value(w.INT, "010") == "WSL reads 010 as octal 8"
    assert w.check_value(w.INT, "8") is None and w.check_value(w.INT, "0") is None
    assert w.check_value(w.INT, "0x10") is None
    assert "not an integer" in w.check_value(w.INT, "08")
    for ok in ("true", "false", "1", "0"):
        assert w.check_value(w.BOOL, ok) is None
    for bad in ("True", "yes", "2", ""):
        assert w.check_value(w.BOOL, bad) == f"{bad!r} is not a boolean WSL reads (true, false, 1, 0)"
    kinds = ("nat", "mirrored")
    assert w.check_value(kinds, "mirrored") is None
    assert w.check_value(kinds, "Mirrored") == "'Mirrored' is not one of nat, mirrored"
    assert w.check_value(w.PATH, "anything") is None and w.check_value(w.STR, "x y") is None
