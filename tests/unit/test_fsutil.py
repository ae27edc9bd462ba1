"""The one home of timestamped unique names (fsutil.unique_path): a table of what is already there -> the name
it gives, and its users (backup, quarantine, the re-embed's old store, a migration's set-aside journal, a fleet
run's directory) never reusing a name within the same second. A guard keeps the rule from being written again."""

import re
from pathlib import Path

import pytest
from support.paths import PKG

from rdic_ops import fsutil

NOW = "20261123-120000"




# Still spelt by hand while the CLI moves out of tasks.py (bench's default --out); use fsutil.unique_path there
PENDING: set[str] = set()


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(fsutil, "stamp", lambda: NOW)


@pytest.mark.parametrize("prefix, suffix, there, want", [
    ("a.txt.", ".bak", [], f"a.txt.{NOW}.bak"),
    ("a.txt.", ".bak", [f"a.txt.{NOW}.bak"], f"a.txt.{NOW}-1.bak"),
    ("a.txt.", ".bak", [f"a.txt.{NOW}.bak", f"a.txt.{NOW}-1.bak"], f"a.txt.{NOW}-2.bak"),
    ("", "-m.gguf", [f"{NOW}-m.gguf"], f"{NOW}-1-m.gguf"),  # quarantine's form
    ("", "", [f"{NOW}/"], f"{NOW}-1"),  # a directory takes the name too
    ("", "", [f"{NOW}@"], f"{NOW}-1"),  # and so does a dangling link
    ("a.txt.", ".bak", [f"a.txt.{NOW}-1.bak"], f"a.txt.{NOW}.bak"),  # a free name is used, gaps or not
])
def test_unique_path(tmp_path, prefix, suffix, there, want):
    for name in there:
        if name.endswith("/"):
            (tmp_path / name[:-1]).mkdir()
        elif name.endswith("@"):
            (tmp_path / name[:-1]).symlink_to(tmp_path / "nowhere")
        else:
            (tmp_path / name).write_text("x")
    assert fsutil.unique_path(tmp_path, prefix, suffix) == tmp_path / want


def test_every_user_gets_a_new_name_within_one_second(tmp_path):
    from rdic_ops.config.compose import compose
    from rdic_ops.migration.journal import Journal
    from rdic_ops.models.store import quarantine

    f = tmp_path / "f.txt"
    f.write_text("one")
    assert [fsutil.backup(f).name for _ in range(2)] == [f"f.txt.{NOW}.bak", f"f.txt.{NOW}-1.bak"]
    cfg = compose("local", [f"paths.state_dir={tmp_path / 'state'}"])
    moved = []
    for content in ("a", "b"):
        bad = tmp_path / "m.gguf"
        bad.write_text(content)
        moved.append(quarantine(cfg, bad, "test"))
    assert [p.name for p in moved] == [f"{NOW}-m.gguf", f"{NOW}-1-m.gguf"]
    assert [p.read_text() for p in moved] == ["a", "b"]
    j = Journal(tmp_path / "journal", tmp_path)
    (tmp_path / "journal").mkdir()
    asides = []
    for _ in range(2):
        j.write({"status": "applied", "files": []})
        asides.append(j.set_aside())
    assert [p.name for p in asides] == [NOW, f"{NOW}-1"]


def test_the_reembed_keeps_each_old_store(tmp_path):
    """The re-embed's copy of the old store: a second swap in the same second kept its own copy (it
    overwrote the first one's .bak, the only way back to the store before the first re-embed)."""
    from types import SimpleNamespace

    import numpy as np

    from rdic_ops.embeddings import reembed
    from rdic_ops.embeddings.store import read_sidecar
    from rdic_ops.models.hashing import sha256_file

    store = tmp_path / "vdb.json"
    store.write_text("v1")
    kept = []
    for new in ("v2", "v3"):
        fmt = SimpleNamespace(write=lambda st, vectors, out, new=new: Path(out).write_text(new))
        reembed._swap(store, fmt, SimpleNamespace(texts=["t"]), np.zeros((1, 4)), {}, sha256_file(store))
        kept.append(Path(read_sidecar(store)["previous"]))
    assert [p.name for p in kept] == [f"vdb.json.{NOW}.bak", f"vdb.json.{NOW}-1.bak"]
    assert [p.read_text() for p in kept] == ["v1", "v2"] and store.read_text() == "v3"


def test_a_fleet_run_gets_its_own_directory(tmp_path, monkeypatch):
    from rdic_ops.config.fleet import FleetSpec
    from rdic_ops.fleet import connect, report

    monkeypatch.setattr(connect, "state_dir", lambda: tmp_path)
    fleet = FleetSpec(name="lab")
    first = report.default_out(fleet, "doctor")
    first.mkdir(parents=True)
    assert first.name == f"{NOW}-doctor" and report.default_out(fleet, "doctor").name == f"{NOW}-1-doctor"


def test_the_rule_lives_in_one_place():
    """A guard: only fsutil spells the stamp or counts up to a free name."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name == "fsutil.py" or str(path.relative_to(PKG.parent)) in PENDING:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "%Y%m%d-%H%M%S" in line or re.search(r"while \w+\.exists\(\):", line):
                bad.append(f"{path.relative_to(PKG.parent)}:{n}: {line.strip()}")
    assert bad == []
