"""Which files of a project the migration reads, and as what (rdic_ops/migration/scan.py): the kind by name,
the exclusion patterns, and a file read whole with its BOM, or not at all (a link, binary, not UTF-8, huge).
Listing the tracked files asks git: tests/integration/test_migrate_projects.py."""

import pytest

from rdic_ops.migration.scan import BOM, CONFIG, MAX_BYTES, PYTHON, TEXT, SourceFile, excluded, kind_of, read


@pytest.mark.parametrize("rel, kind", [
    ("src/utils.py", PYTHON), ("stubs/x.PYI", PYTHON), ("conf/app.yaml", CONFIG), ("a.YML", CONFIG),
    ("pyproject.toml", CONFIG), ("data/x.json", CONFIG), (".env", CONFIG), (".env.local", CONFIG),
    ("deploy/prod.env.example", CONFIG), ("setup.cfg", CONFIG), ("x.ini", CONFIG), ("nginx.conf", CONFIG),
    ("app.properties", CONFIG), ("README.md", TEXT), ("Makefile", TEXT), ("run.sh", TEXT),
    ("requirements.txt", TEXT), ("Modelfile", TEXT), ("dir.py/notes", TEXT),
])
def test_kind_by_name(rel, kind):
    assert kind_of(rel) == kind


@pytest.mark.parametrize("rel, patterns, out", [
    ("results/run1/out.md", ["results/**"], True),
    ("results", ["results/**"], False),  # a file named like the folder is not in it
    ("results.md", ["results/**"], False), ("a/b/poetry.lock", ["*.lock"], True), ("docs/x.md", ["docs/x.md"], True),
    ("docs/y.md", ["docs/x.md"], False), ("docs/x.md", ["docs/"], True), ("src/a.py", [], False),
    ("data/big/file.bin", ["data"], True), ("database.py", ["data"], False),
])
def test_exclusions(rel, patterns, out):
    assert excluded(rel, patterns) is out


def test_a_file_is_read_with_its_bom_kept_for_writing_back(tmp_path):
    (tmp_path / "a.yaml").write_bytes(BOM + b"model: x\r\n")
    f = read(tmp_path, "a.yaml")
    assert (f.rel, f.kind, f.bom, f.text) == ("a.yaml", CONFIG, True, "model: x\r\n")
    assert f.encode("model: y\r\n") == BOM + b"model: y\r\n"
    assert SourceFile("b", tmp_path / "b", TEXT, b"", False, "").encode("z") == b"z"


def test_what_is_not_read(tmp_path):
    (tmp_path / "real.md").write_text("x")
    (tmp_path / "link.md").symlink_to(tmp_path / "real.md")
    (tmp_path / "bin.dat").write_bytes(b"GGUF\0\0\0")
    (tmp_path / "latin1.txt").write_bytes("Grüße".encode("latin-1"))
    (tmp_path / "dir").mkdir()
    with open(tmp_path / "huge.txt", "wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    (tmp_path / "limit.txt").write_bytes(b"a" * MAX_BYTES)
    assert [n for n in ["link.md", "bin.dat", "latin1.txt", "dir", "huge.txt", "gone.md"] if read(tmp_path, n)] == []
    assert read(tmp_path, "limit.txt").text == "a" * MAX_BYTES and read(tmp_path, "real.md").text == "x"
