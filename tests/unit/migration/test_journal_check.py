"""A migration journal read back is checked before a rollback acts on it (rdic_ops/migration/journal_check.py):
every field typed and in range, every path relative and inside the project, one error naming the file (exit 2)
that never quotes its contents. Journals a real apply wrote: tests/integration/test_migrate_journal_trust.py."""

import json
from pathlib import Path

import pytest

from rdic_ops.errors import UsageError
from rdic_ops.migration.journal_check import MAX_BYTES, checked, checked_error, relative

J = Path("/state/migrations/p/journal.json")
SHA = "0" * 64
GOOD = {"status": "applied", "files": [{"path": "src/a.py", "before_sha256": SHA, "after_sha256": "f" * 64,
                                       "mode": 0o644}], "placed": ["models/m.gguf"],
        "placed_ids": {"models/m.gguf": [2049, 1234]}}


def test_a_good_journal_reads_back_as_it_was():
    assert checked(J, json.dumps(GOOD)) == GOOD
    assert checked(J, "{}") == {}


def broken(**change) -> dict:
    data = json.loads(json.dumps(GOOD))
    for key, value in change.items():
        if key.startswith("f_"):
            data["files"][0][key[2:]] = value
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("text, why", [
    ('{"files": [', "not JSON: cut short or edited"),
    ("[1]", "not a JSON object"),
    (broken(status="done"), "unknown status"),
    (broken(files={}), "files is not a list"),
    (broken(files=[1]), "files[0] is not an object"),
    (broken(f_path="/etc/hostname"), "files[0].path '/etc/hostname' leaves the project"),
    (broken(f_path="a/../../x"), "files[0].path 'a/../../x' leaves the project"),
    (broken(f_path="a//b"), "files[0].path 'a//b' leaves the project"),
    (broken(f_path="a\0b"), "files[0].path is not a relative path"),
    (broken(f_path="a\\b"), "files[0].path is not a relative path"),
    (broken(f_path=""), "files[0].path is not a relative path"),
    (broken(f_path=3), "files[0].path is not a relative path"),
    (broken(f_before_sha256="F" * 64), "files[0].before_sha256 is not a sha256"),
    (broken(f_before_sha256=None), "files[0].before_sha256 is not a sha256"),
    (broken(f_after_sha256="abc"), "files[0].after_sha256 is not a sha256"),
    (broken(f_mode=0o10000), "files[0].mode is not a file mode (0 to 0o7777)"),
    (broken(f_mode=-1), "files[0].mode is not a file mode (0 to 0o7777)"),
    (broken(f_mode=True), "files[0].mode is not a file mode (0 to 0o7777)"),
    (broken(f_mode=420.0), "files[0].mode is not a file mode (0 to 0o7777)"),
    (broken(placed="m.gguf"), "placed is not a list"),
    (broken(placed=["../m.gguf"]), "placed[0] '../m.gguf' leaves the project"),
    (broken(placed_ids={"m": [1]}), "placed_ids is not a map of [device, inode]"),
    (broken(placed_ids={"m": [1, "2"]}), "placed_ids is not a map of [device, inode]"),
    (broken(placed_ids=[]), "placed_ids is not a map of [device, inode]"),
    (broken(placed_ids={"/m": [1, 2]}), "placed_ids '/m' leaves the project"),
])
def test_each_break_is_one_error_naming_the_file_and_what(text, why):
    text = text if isinstance(text, str) else json.dumps(text)
    with pytest.raises(UsageError) as err:
        checked(J, text)
    assert str(err.value) == f"{J}: damaged migration journal ({why})"
    assert err.value.exit_code == 2 and "nothing was restored" in err.value.remedy
    assert str(J.parent / "backups") in err.value.remedy


def test_the_contents_are_never_quoted():
    with pytest.raises(UsageError) as err:
        checked(J, '{"status": "hunter2-secret"}')
    assert "hunter2" not in err.value.line()


def test_an_after_sha256_may_be_absent_a_before_one_may_not():
    data = broken()
    del data["files"][0]["after_sha256"], data["files"][0]["mode"]
    assert checked(J, json.dumps(data)) == data


def test_relative_paths_and_the_file_error():
    assert relative(J, "src/a.py", "x") == "src/a.py"
    assert str(checked_error(J)) == f"{J}: damaged migration journal (not a regular file of at most 64 MiB)"
    assert MAX_BYTES == 64 * 2**20
