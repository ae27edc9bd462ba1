"""The command line's namespace (rdic_ops/cli/__init__.py): every task once, in its collection, `bench` a
collection whose default task runs it, and `rdic-ops` running the same namespace through the Program."""

from rdic_ops import cli

TOP = [
    "config",
    "doctor",
    "setup",
    "plan-memory",
    "preload",
    "server-settings",
    "route",
    "smoke",
    "migrate-embeddings",
    "migrate-model",
    "test",
    "version",
]
COLLECTIONS = {
    "models": ["lock", "pull", "verify"],
    "wsl": ["tune"],
    "embeddings": ["bench"],
    "providers": ["check"],
    "bench": ["rate", "run"],
    "fleet": ["bench", "bootstrap", "doctor", "inventory", "models-verify", "setup", "smoke"],
}


def test_the_namespace_holds_every_task_in_its_collection():
    ns = cli.namespace()
    assert sorted(ns.tasks) == sorted(TOP)
    assert {name: sorted(c.tasks) for name, c in ns.collections.items()} == COLLECTIONS
    assert ns.collections["bench"].default == "run"  # `invoke bench` runs the benchmark
    assert sorted(cli.ns.task_names) == sorted(ns.task_names)


def test_main_runs_the_same_namespace(monkeypatch):
    from rdic_ops.cli import program

    ran = []

    class Program:
        def run(self):
            ran.append("run")

    monkeypatch.setattr(program, "program", lambda ns: ran.append(ns) or Program())
    cli.main()
    assert ran == [cli.ns, "run"]
