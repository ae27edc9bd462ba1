"""fsread: what a file a user names is, said before anything is opened; output paths checked before work."""

import os
import re

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.fsread import output_dir, output_file, read_user_file, read_user_text, user_file_problem


def test_a_regular_file_is_read_whole_and_bounded(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_bytes(b"x" * 10)
    assert user_file_problem(f, 10) is None and read_user_file(f, "--f", 10) == b"x" * 10
    assert user_file_problem(f, 9) == "10 bytes: larger than the 9 bytes such a file may be"


@pytest.mark.parametrize("make, why", [
    (lambda p: p.mkdir(), "a directory, not a regular file"),
    (lambda p: os.mkfifo(p), "a FIFO (named pipe), not a regular file"),
    (lambda p: p.symlink_to(p.parent / "gone"), "a symbolic link to a file that does not exist"),
    (lambda p: None, "no such file"),
])
def test_what_it_is_is_named_never_its_bytes(tmp_path, make, why):
    p = tmp_path / "thing"
    make(p)
    assert user_file_problem(p, 100) == why
    with pytest.raises(UsageError, match="^" + re.escape(f"--questions {p}: {why}")):
        read_user_file(p, "--questions", 100)


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    f = tmp_path / "t.txt"
    f.write_bytes(b"ok\nok\n\xff secret\n")
    with pytest.raises(UsageError) as raised:
        read_user_text(f, "--f", 100)
    assert str(raised.value).endswith("line 3: not UTF-8 text") and "secret" not in str(raised.value)
    assert read_user_text(tmp_path / "none", "--f", 100, missing_ok=True) is None


def test_output_paths(tmp_path):
    (tmp_path / "file").write_text("x")
    assert output_dir(tmp_path / "new", "--out") == tmp_path / "new"
    with pytest.raises(UsageError, match="a file, not a directory"):
        output_dir(tmp_path / "file", "--out")
    with pytest.raises(UsageError, match="cannot be created: .* is not a directory"):
        output_file(tmp_path / "file" / "x.png", "--plot")
    with pytest.raises(UsageError, match="a directory, not a file"):
        output_file(tmp_path, "--plot")
    assert output_file(tmp_path / "p.png", "--plot") == tmp_path / "p.png"
