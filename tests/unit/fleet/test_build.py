"""What the controller ships (rdic_ops/fleet/build.py): every file that goes out, conf/site/ never; a build id
that changes with any shipped byte and not with anything else; a wheel built once per id. The checkout is a
small tree of its own; pip's wheel build is faked at the one subprocess helper."""

import pytest

from rdic_ops.errors import StepFailed
from rdic_ops.facts.run import Ran
from rdic_ops.fleet import build


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "co"
    for rel, text in {
        "pyproject.toml": '[project]\nname = "rdic-ops"\nversion = "0.2.0"\n',
        "README.md": "# r\n",
        "rdic_ops/__init__.py": "",
        "rdic_ops/x.py": "X = 1\n",
        "conf/env/local.yaml": "env: {}\n",
        "conf/site/default.yaml": "secret: 1\n",
        "rdic_ops/__pycache__/x.cpython-311.pyc": "b",
        "tests/test_x.py": "",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_sources_are_the_package_conf_and_project_files_without_site_or_caches(checkout):
    assert build.sources(checkout) == [
        "README.md",
        "conf/env/local.yaml",
        "pyproject.toml",
        "rdic_ops/__init__.py",
        "rdic_ops/x.py",
    ]


def test_the_build_id_follows_every_shipped_byte_and_nothing_else(checkout):
    version, bid = build.build_id(checkout)
    assert version == "0.2.0" and bid.startswith("0.2.0+") and len(bid) == len("0.2.0+") + 12
    (checkout / "conf" / "site" / "default.yaml").write_text("secret: 2\n")
    (checkout / "tests" / "test_x.py").write_text("changed")
    assert build.build_id(checkout)[1] == bid
    (checkout / "rdic_ops" / "x.py").write_text("X = 2\n")
    assert build.build_id(checkout)[1] != bid


def test_a_checkout_without_a_version_is_one_line(checkout):
    (checkout / "pyproject.toml").write_text("[project]\n")
    with pytest.raises(StepFailed, match=r"pyproject\.toml: cannot read the version"):
        build.build_id(checkout)


@pytest.mark.parametrize(
    ("rel", "dest"),
    [
        ("rdic_ops/x.py", "rdic_ops/x.py"),
        ("conf/env/a.yaml", "rdic_ops/conf/env/a.yaml"),
        ("README.md", "README.md"),
        ("tests/x.py", None),
    ],
)
def test_conf_goes_inside_the_package(rel, dest):
    assert build._staged(rel) == dest


def test_the_wheel_is_built_once_per_id_from_exactly_the_staged_files(checkout, tmp_path, monkeypatch):
    staged, calls = [], []

    def pip_wheel(argv, timeout):
        calls.append(argv)
        src, dist = build.Path(argv[-1]), build.Path(argv[argv.index("-w") + 1])
        staged.extend(sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()))
        dist.mkdir(parents=True)
        (dist / "rdic_ops-0.2.0-py3-none-any.whl").write_bytes(b"PK")
        return Ran(argv, 0, "", "")

    monkeypatch.setattr("rdic_ops.facts.run.run", pip_wheel)
    b = build.Builder(checkout, cache=tmp_path / "cache")
    got = b.get()
    assert got.id == b.id and got.wheel == tmp_path / "cache" / b.id / "rdic_ops-0.2.0-py3-none-any.whl"
    assert staged == [
        "README.md",
        "pyproject.toml",
        "rdic_ops/__init__.py",
        "rdic_ops/conf/env/local.yaml",
        "rdic_ops/x.py",
    ]
    assert build.Builder(checkout, cache=tmp_path / "cache").get().wheel == got.wheel and len(calls) == 1  # cached


def test_a_failed_wheel_build_is_one_line(checkout, tmp_path, monkeypatch):
    monkeypatch.setattr("rdic_ops.facts.run.run", lambda argv, timeout: Ran(argv, 1, "", "error: bad\nno setuptools\n"))
    with pytest.raises(StepFailed, match="^building the rdic-ops wheel failed: no setuptools$"):
        build.Builder(checkout, cache=tmp_path / "cache").get()
