"""`invoke test --args=...`: pytest's arguments are split as a shell would split them and never run by one.

An independent tester found `--args='... $(touch FILE)'` created FILE (the arguments went through a shell) and
`--args='nosuchfile; touch X'` exited 0 although pytest failed. Both failed on the code before the fix.
"""

from support.cli import run_invoke


def test_a_shell_construct_is_an_argument_not_a_command(tmp_path):
    planted = tmp_path / "pwned"
    out = run_invoke("test", f"--args=--collect-only -q nosuchfile $(touch {planted}); touch {planted}")
    assert not planted.exists()
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1] == "rdic-ops: pytest exited 4"


def test_pytest_failing_is_the_tasks_failure_and_bad_quoting_is_usage(tmp_path):
    failing = tmp_path / "test_x.py"
    failing.write_text("def test_x():\n    assert False\n")
    out = run_invoke("test", f"--args=-q -p no:cacheprovider {failing}")
    assert out.returncode == 1 and out.stderr.strip() == "rdic-ops: pytest exited 1"
    bad = run_invoke("test", "--args='unbalanced")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "rdic-ops: --args: No closing quotation (quote as a shell would)"
    ok = run_invoke("test", f"--args=-q -p no:cacheprovider {failing} --deselect {failing}::test_x")
    assert ok.returncode == 1  # nothing left to run (pytest exits 5): a failure too
