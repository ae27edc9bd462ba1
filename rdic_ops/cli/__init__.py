"""The command line: Invoke tasks, one module per collection, one decorator and one contract for all.

``ns`` is the whole namespace (`invoke --list` from a checkout reads it through tasks.py); ``main`` is the
`rdic-ops` console script (the same tasks, from the installed wheel, no checkout needed). Every task is thin:
flags -> a composed config -> one library call -> one renderer; the decisions live in rdic_ops.ops.
"""

from __future__ import annotations

from invoke import Collection

from rdic_ops.cli import bench, core, embeddings, fleet, migrate, models, providers, wsl


def namespace() -> Collection:
    ns = Collection(
        core.config,
        core.doctor,
        core.setup,
        core.plan_memory,
        core.preload,
        core.server_settings,
        core.route,
        core.smoke,
        embeddings.migrate_embeddings,
        migrate.migrate_model,
        core.test,
        core.version,
    )
    ns.add_collection(Collection("models", models.pull, models.lock, models.verify))
    ns.add_collection(Collection("wsl", wsl.tune))
    ns.add_collection(Collection("embeddings", embeddings.bench))
    ns.add_collection(Collection("providers", providers.check))
    bench_ns = Collection("bench")
    bench_ns.add_task(bench.run, default=True)
    bench_ns.add_task(bench.rate)
    ns.add_collection(bench_ns)
    ns.add_collection(
        Collection(
            "fleet",
            fleet.doctor,
            fleet.setup,
            fleet.models_verify,
            fleet.smoke,
            fleet.bench,
            fleet.bootstrap,
            fleet.inventory,
        )
    )
    return ns


ns = namespace()


def main() -> None:
    """`rdic-ops TASK [--flags]`: the same tasks as `invoke` in a checkout, from the installed package."""
    from rdic_ops.cli.program import program

    program(ns).run()
