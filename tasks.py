"""rdic-ops tasks: parse flags, compose the config, call one library function, render the result.

Library modules are imported inside each task so that `invoke --list` stays as fast as invoke itself.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from invoke import Collection, Exit, task

ENV_HELP = ("machine profile, a file of conf/env/ (local, cpu, rtx3060, m_series_max, ...); default: chosen from "
            "this machine's facts (GPU, Apple Silicon; else cpu when the Hub serves its model, else local)")
SET_HELP = "override a config value, KEY=VALUE (repeatable), e.g. --set chat.keep_alive=1800"
COMMON = {"env": ENV_HELP, "set": SET_HELP, "json": "print machine-readable JSON instead of tables"}
FLAGS = dict(auto_shortflags=False, iterable=["set_"])  # no -e: it would shadow invoke's --echo


def _masked(text: str) -> str:
    from rdic_ops.redact import mask_text

    return mask_text(text)


@contextmanager
def _errors():
    """Library errors become one line on stderr and their exit code; nothing else escapes as a traceback."""
    from rdic_ops.errors import RdicError

    try:
        yield
    except RdicError as err:
        print(f"rdic-ops: {_masked(err.line())}", file=sys.stderr)
        raise Exit(code=err.exit_code) from None
    except KeyboardInterrupt:
        print("rdic-ops: interrupted; re-run to resume", file=sys.stderr)
        raise Exit(code=130) from None
    except Exit:
        raise
    except Exception as exc:  # a bug: say so in one line; RDIC_DEBUG=1 shows the traceback
        if os.environ.get("RDIC_DEBUG"):
            raise
        print(f"rdic-ops: internal error: {type(exc).__name__}: {_masked(str(exc))} (RDIC_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        raise Exit(code=1) from None


def _compose(env, set_):
    from rdic_ops.config.compose import compose

    return compose(env, list(set_ or []))


def _auto_env(env):
    """--env, or the env chosen from this machine's facts (one way for every task; said on stderr)."""
    if env:
        return env
    from rdic_ops.config.choose import choose_env
    from rdic_ops.facts import hardware

    name, why = choose_env(hardware.probe())
    # said every time: even `local` is a choice now (the Hub unreachable, too little RAM, ...)
    print(f"rdic-ops: env {name} chosen from this machine's facts ({why}); pass --env to pick", file=sys.stderr)
    return name


def _compose_auto(env, set_):
    return _compose(_auto_env(env), set_)


def _finish(results, json_, *, strict=True, **extra):
    """Render step results; exit non-zero when a step failed (a dry run only reports what is missing)."""
    from rdic_ops.plan import Status
    from rdic_ops.render import emit_json, print_report, report_dict

    if json_:
        emit_json(report_dict(results, **extra))
    else:
        print_report(results)
    failed = [r for r in results if r.status is Status.failed]
    if failed and not strict:
        print(f"rdic-ops: dry run: {len(failed)} step(s) would fail: {', '.join(r.step for r in failed)}",
              file=sys.stderr)
    elif failed:
        first = failed[0]
        msg = f"{first.step} failed: {first.message}" + (f" ({first.remedy})" if first.remedy else "")
        print(f"rdic-ops: {_masked(msg)}", file=sys.stderr)
        raise Exit(code=1)


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@task(help=COMMON, **FLAGS)
def config(c, env=None, set_=None, json_=False):
    """Print the composed config of an env (YAML, or --json)."""
    with _errors():
        from rdic_ops.config.compose import to_container
        from rdic_ops.redact import mask_data

        data = mask_data(to_container(_compose_auto(env, set_)))
        if json_:
            from rdic_ops.render import emit_json

            emit_json(data)
        else:
            import yaml

            print(yaml.safe_dump(data, sort_keys=False), end="")


@task(help=COMMON, **FLAGS)
def doctor(c, env=None, set_=None, json_=False):
    """Check this machine's facts (GPU, RAM, cores, WSL2, disk, runtime) against the env."""
    with _errors():
        from rdic_ops.ops import doctor as doctor_op

        cfg = _compose_auto(env, set_)
        _finish([doctor_op.run(cfg)], json_, env=cfg.env.name)


@task(
    help={**COMMON, "dry-run": "show the plan and what is missing; change nothing",
          "only": "run only these steps (comma-separated)", "skip": "skip these steps (comma-separated)"},
    **FLAGS,
)
def setup(c, env=None, set_=None, dry_run=False, only="", skip="", json_=False):
    """Bring this machine to the env's declared state (idempotent: a re-run changes nothing)."""
    with _errors():
        from rdic_ops.ops import setup as setup_op

        cfg = _compose_auto(env, set_)
        results = setup_op.run(cfg, dry_run=dry_run, only=_split(only), skip=_split(skip), overrides=list(set_ or []))
        _finish(results, json_, strict=not dry_run, env=cfg.env.name, dry_run=dry_run)


@task(
    help={**COMMON, "ctx": "context length for the env's LLMs (or the --gguf file); default: the env's",
          "kv-type": "KV cache type: f16, q8_0, q4_0, ... (turns flash attention on)",
          "gguf": "plan one GGUF file (or Ollama manifest) instead of an env",
          "parallel": "parallel sequences for --gguf (llama.cpp n_seq_max)",
          "oracle": "also ask llama.cpp itself (no-alloc dry run) and show both side by side",
          "plot": "also draw the plan as stacked bars against the budget line into this PNG file"},
    **FLAGS,
)
def plan_memory(c, env=None, set_=None, ctx=0, kv_type="", gguf="", parallel=1, oracle=False, plot="",
                json_=False):
    """Will the env's models fit in VRAM / unified memory together? What to change if not."""
    with _errors():
        from rdic_ops.ops import plan_memory as op
        from rdic_ops.render import emit_json, print_fit

        report, comparisons = op.run(None if gguf else _auto_env(env), list(set_ or []), ctx=ctx,
                                     kv_type=kv_type, gguf=gguf, parallel=parallel, oracle=oracle)
        drawn = None
        if plot:
            from rdic_ops.memory.plot import plot as draw

            drawn = str(draw(report, plot))
        if json_:
            emit_json({**report.to_dict(), "oracle": [x.to_dict() for x in comparisons], "plot": drawn})
        else:
            print_fit(report, comparisons)
            if drawn:
                print(f"plot: {drawn}")
        if not gguf and not report.fits:
            raise Exit(code=1)


MODEL_HELP = {**COMMON, "model": "only these models of the env (comma-separated names from conf/model/)"}
FULL_HELP = {"full": "re-hash every file, ignoring the cache of verified files"}


@task(name="pull", help={**MODEL_HELP, **FULL_HELP, "dry-run": "show what would be fetched; change nothing"},
      **FLAGS)
def models_pull(c, env=None, set_=None, model="", dry_run=False, full=False, json_=False):
    """Fetch the env's models from their sources and verify every file (honours models.lock)."""
    with _errors():
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        _finish([models.pull(cfg, _split(model), dry_run=dry_run, full=full)], json_, env=cfg.env.name)


@task(name="lock", help={**MODEL_HELP, "dry-run": "show the lockfile diff; write nothing"}, **FLAGS)
def models_lock(c, env=None, set_=None, model="", dry_run=False, json_=False):
    """Write models.lock from the verified state: source, revision or manifest digest, sha256 of every file."""
    with _errors():
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        _finish([models.write_lock(cfg, _split(model), dry_run=dry_run)], json_, env=cfg.env.name)


VERIFY_HELP = {"all": "the whole Ollama store (orphans, partials) and every GGUF file",
               "repair": "move bad files aside and fetch them again through the same pull path"}


@task(name="verify", help={**MODEL_HELP, **FULL_HELP, **VERIFY_HELP}, **FLAGS)
def models_verify(c, env=None, set_=None, model="", all_=False, repair=False, full=False, json_=False):
    """Re-hash model files: report missing, truncated, corrupted, orphaned and partial ones."""
    with _errors():
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        result = models.verify(cfg, all_=all_, full=full, repair=repair, only=_split(model))
        _finish([result], json_, env=cfg.env.name)


@task(help={**COMMON, "unload": "unload the env's models instead (llama.cpp: stop the server)",
            "dry-run": "show what would be loaded; change nothing"}, **FLAGS)
def preload(c, env=None, set_=None, unload=False, dry_run=False, json_=False):
    """Load every resident model with the options real traffic uses (num_ctx, numeric keep_alive)."""
    with _errors():
        from rdic_ops.ops import preload as preload_op

        cfg = _compose_auto(env, set_)
        _finish([preload_op.preload(cfg, unload=unload, dry_run=dry_run)], json_, env=cfg.env.name)


@task(name="server-settings", help={**COMMON, "dry-run": "show the diff; change nothing"}, **FLAGS)
def server_settings(c, env=None, set_=None, dry_run=False, json_=False):
    """Write Ollama's server settings (systemd drop-in or launchctl) and the preload-at-startup unit."""
    with _errors():
        from rdic_ops.ops import server_settings as settings

        cfg = _compose_auto(env, set_)
        results = [settings.run_all(cfg, dry_run)]
        _finish(results, json_, strict=not dry_run, env=cfg.env.name)


@task(help={**COMMON, "since": "seconds since extraction last ran (default: read from the runtime)"}, **FLAGS)
def route(c, env=None, set_=None, since=-1.0, json_=False):
    """Which model should answer chat now (the seeds' Option C: gemma while warm, else llama)."""
    with _errors():
        from rdic_ops.ops import route as route_op
        from rdic_ops.runtime import for_env

        cfg = _compose_auto(env, set_)
        r = route_op.route(cfg, for_env(cfg), since if since >= 0 else None)
        if json_:
            from rdic_ops.render import emit_json

            emit_json(r.__dict__)
        else:
            print(_masked(f"chat -> {r.model} ({r.tag}): {r.reason}"))
            held = "unknown (no answer)" if r.resident is None else ", ".join(r.resident) or "nothing"
            print(f"resident now: {held}")


@task(name="tune", help={**COMMON, "path": "edit this .wslconfig (default: the Windows profile's, found via interop)",
                         "dry-run": "show the diff; write nothing",
                         "restart": "run wsl.exe --shutdown through interop afterwards (ends this WSL session)"},
      **FLAGS)
def wsl_tune(c, env=None, set_=None, path="", dry_run=False, restart=False, json_=False):
    """Set the Windows-side .wslconfig for the env (memory, processors, swap, ...), editing in place."""
    with _errors():
        from rdic_ops.ops import wsl

        cfg = _compose_auto(env, set_)
        result = wsl.tune(cfg, path=path or None, dry_run=dry_run, restart=restart)
        _finish([result], json_, env=cfg.env.name)


@task(help={**COMMON, "junit": "also write JUnit XML to this path"}, **FLAGS)
def smoke(c, env=None, set_=None, junit="", json_=False):
    """Check the live machine: runtime reachable, models verified, generation in budget, embeddings, residency."""
    with _errors():
        from rdic_ops.ops import smoke as smoke_op

        cfg = _compose_auto(env, set_)  # validates the overrides before the suite runs
        _finish([smoke_op.run(cfg.env.name, list(set_ or []), junit or None)], json_, env=cfg.env.name)


@task(name="migrate-embeddings",
      help={**COMMON, "from": "backend that made the current vectors: ollama, sentence_transformers, llamacpp",
            "to": "backend to move to", "store": "a vector store file, or a LightRAG working dir (vdb_*.json)",
            "text-field": "the record field holding each vector's text (LightRAG: content)",
            "batch-size": "texts per batch (default: embedding.batch_size)",
            "force": "re-embed even when parity is above the threshold",
            "dry-run": "measure parity and show the plan; change nothing"}, **FLAGS)
def migrate_embeddings(c, env=None, set_=None, from_="ollama", to="sentence_transformers", store="",
                       text_field="content", batch_size=0, force=False, dry_run=False, json_=False):
    """Move embeddings to another backend: parity check, keep or re-embed the index, switch the app."""
    with _errors():
        from rdic_ops.ops import migrate_embeddings as migrate

        cfg = _compose_auto(env, set_)
        result = migrate.migrate(cfg, src=from_, dst=to, store=store or None, text_field=text_field,
                                 dry_run=dry_run, batch_size=batch_size or None, force=force)
        _finish([result], json_, env=cfg.env.name)


@task(name="bench", help={**COMMON, "backends": "comma-separated: sentence_transformers,llamacpp,ollama",
                          "batch-sizes": "comma-separated batch sizes", "max-seq-lengths": "comma-separated",
                          "texts": "corpus size"}, **FLAGS)
def embeddings_bench(c, env=None, set_=None, backends="sentence_transformers,llamacpp", batch_sizes="8,32",
                     max_seq_lengths="128,256", texts=256, json_=False):
    """Embedding throughput (texts/s) per backend, batch size and max_seq_length, with parity to torch fp32."""
    with _errors():
        from rdic_ops.embeddings import bench

        cfg = _compose_auto(env, set_)
        try:
            sizes = [int(x) for x in _split(batch_sizes)]
            lengths = [int(x) for x in _split(max_seq_lengths)]
        except ValueError:
            from rdic_ops.errors import UsageError

            raise UsageError("--batch-sizes and --max-seq-lengths take comma-separated integers") from None
        rows = bench.run(cfg, _split(backends), sizes, lengths, texts)
        if json_:
            from rdic_ops.render import emit_json

            emit_json([r.to_dict() for r in rows])
        else:
            from rdic_ops.render import print_embedding_bench

            print_embedding_bench(rows, texts)


@task(name="migrate-model",
      help={**COMMON, "migration": "a file of conf/migration/ (by name) or a path to one",
            "target": "the project to migrate (a git work tree)", "dry-run": "show every edit as a diff",
            "status": "the migration checklist from facts", "rollback": "restore every file from the journal",
            "allow-dirty": "migrate a work tree with uncommitted changes",
            "skip-fit": "do not check the new model against the env's memory",
            "skip-verify": "edit the code only: no model download, no tests"}, **FLAGS)
def migrate_model(c, env=None, set_=None, migration="llama31_8b_to_gemma3_12b", target="", dry_run=False,
                  status=False, rollback=False, allow_dirty=False, skip_fit=False, skip_verify=False, json_=False):
    """Migrate a project to another model: every use found and changed, the new model fetched and proven to load."""
    with _errors():
        from pathlib import Path

        from rdic_ops.errors import UsageError
        from rdic_ops.ops import migrate_model as mm

        cfg = _compose_auto(env, set_)
        spec, spec_path = mm.load(migration)
        where = target or spec.project
        if not where:
            raise UsageError("pass --target PATH (the project to migrate)")
        root = Path(where).expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"--target {root}: no such directory")
        if status:
            result = mm.status(cfg, spec, root)
        elif rollback:
            result = mm.rollback(cfg, spec, root, dry_run=dry_run)
        else:
            result = mm.migrate(cfg, spec, root, dry_run=dry_run, allow_dirty=allow_dirty, skip_fit=skip_fit,
                                skip_verify=skip_verify, spec_path=None if spec_path.parent.name == "migration"
                                and spec_path.stem == migration else spec_path)
        _finish([result], json_, strict=not status, env=cfg.env.name)


@task(name="run", help={**COMMON, "models": "comma-separated model names (default: the env's chat and extraction)",
                        "runs": "runs per question (after one warm-up)", "max-tokens": "tokens per answer",
                        "questions": "a YAML file of questions [{id, turns: [...]}] (default: the seed's ten)",
                        "out": "results directory (default: bench-results/<time>)"}, **FLAGS)
def bench_run(c, env=None, set_=None, models="", runs=3, max_tokens=64, questions="", out="", json_=False):
    """The seeds' chat benchmark: TTFT, tokens/s, load time, VRAM per model; answers for rating."""
    with _errors():
        import time as _time
        from pathlib import Path

        from rdic_ops.bench import runner
        from rdic_ops.bench.questions import load_questions
        from rdic_ops.render import emit_json

        cfg = _compose_auto(env, set_)
        names = _split(models) or list(dict.fromkeys([cfg.chat.model.name, cfg.extraction.model.name]))
        qs = load_questions(questions) if questions else None
        where = Path(out or f"bench-results/{_time.strftime('%Y%m%d-%H%M%S')}")
        out_dir, results, summary = runner.run(cfg.env.name, list(set_ or []), names, questions=qs, runs=runs,
                                               max_tokens=max_tokens, out_dir=where)
        option, why = runner.decide(summary, {}, cfg.extraction.model.name, cfg.chat.model.name)
        if json_:
            emit_json({"dir": str(out_dir), "summary": summary, "recommendation": [option, why]})
        else:
            print((out_dir / "summary.md").read_text())
            print(f"results: {out_dir} (raw.jsonl, summary.csv/.md, plot.png, ratings.csv)")
            print(f"recommendation: {option}: {why}")
        if all(not r.ok for r in results):
            raise Exit(code=1)


@task(name="rate", help={"run": "a results directory of invoke bench", **COMMON}, **FLAGS)
def bench_rate(c, run="", env=None, set_=None, json_=False):
    """Score each answer 1-5 in the terminal, then apply the seed's decision rules (A, B or C)."""
    with _errors():
        import json as _json
        from pathlib import Path

        from rdic_ops.bench import runner
        from rdic_ops.bench.rate import rate, sheet_of

        sheet = sheet_of(run)
        rate(sheet)
        cfg = _compose_auto(env, set_)
        summary = _json.loads((Path(run) / "summary.json").read_text())
        option, why = runner.decide(summary, runner.read_ratings(sheet), cfg.extraction.model.name,
                                    cfg.chat.model.name)
        print(f"recommendation: {option}: {why}")


@task(name="check", help={**COMMON, "only": "check only these providers (comma-separated names or keys)"}, **FLAGS)
def providers_check(c, env=None, set_=None, only="", json_=False):
    """Ask each model API the env declares (conf/provider/) for one short answer: ✓/✗ per provider."""
    with _errors():
        from rdic_ops.providers import report, run

        cfg = _compose_auto(env, set_)
        if not cfg.providers:
            print(f"rdic-ops: env {cfg.env.name} declares no providers (see conf/provider/)", file=sys.stderr)
            return
        outcomes = run(cfg, _split(only))
        result = report.step(outcomes)
        if json_:
            from rdic_ops.render import emit_json, report_dict

            emit_json(report_dict([result], env=cfg.env.name, providers=[o.to_dict() for o in outcomes]))
        else:
            from rdic_ops.render import checks_table, console

            console().print(checks_table(result.checks, title=f"providers of env {cfg.env.name}"))
            print("\n".join(report.lines(outcomes)))
        if result.status.value == "failed":
            print(f"rdic-ops: {result.message}", file=sys.stderr)
            raise Exit(code=1)


FLEET_HELP = {"fleet": "inventory: a file of conf/fleet/ (by name) or a path to one",
              "hosts": "only these hosts of the inventory (comma-separated)",
              "parallel": "hosts worked on at the same time (default: the inventory's parallel)",
              "set": "override an inventory value, KEY=VALUE (repeatable), e.g. --set hosts.gpu1.port=2222",
              "accept-new-host-keys": "trust hosts whose key is not on record yet, and record it (a changed "
                                      "key is still refused)",
              "out": "directory for the per-host JSON files (default: <state>/fleet/<name>/runs/<time>-<task>)",
              "json": "print machine-readable JSON instead of the table"}
FLEET_FLAGS = dict(auto_shortflags=False, iterable=["set_"])


def _fleet(task_name, fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, extra=(), dry_run=False):
    """Flags -> inventory -> one fan-out over the hosts -> one report; exit 1 when any host failed."""
    from pathlib import Path

    from rdic_ops.config.fleet import compose_fleet
    from rdic_ops.errors import UsageError
    from rdic_ops.fleet import report
    from rdic_ops.fleet.run import run_task

    if not fleet:
        raise UsageError("pass --fleet=NAME (a file of conf/fleet/) or --fleet=PATH")
    inv = compose_fleet(fleet, list(set_ or []))
    tell = (lambda r: print(report.progress_line(r), file=sys.stderr)) if sys.stderr.isatty() else None
    runs = run_task(inv, task_name, hosts=_split(hosts), parallel=parallel, extra=list(extra), dry_run=dry_run,
                    accept_new=accept_new_host_keys, progress=tell)
    where = report.write_files(runs, Path(out) if out else report.default_out(inv, task_name))
    if json_:
        from rdic_ops.render import emit_json

        emit_json(report.report_dict(inv, task_name, runs, dry_run=dry_run, report_dir=str(where)))
    else:
        report.print_report(inv, task_name, runs, where, dry_run)
    failed = report.failed_hosts(runs, dry_run)
    if failed:
        why = "; ".join(f"{r.host}: {report.reason(r)}" for r in failed[:3]) + ("; ..." if len(failed) > 3 else "")
        print(f"rdic-ops: fleet {inv.name}: {task_name} failed on {len(failed)} of {len(runs)} hosts ({why})",
              file=sys.stderr)
        raise Exit(code=1)


@task(name="doctor", help=FLEET_HELP, **FLEET_FLAGS)
def fleet_doctor(c, fleet="", hosts="", parallel=0, set_=None, accept_new_host_keys=False, out="", json_=False):
    """doctor on every host of the fleet: facts against each host's env, one table back."""
    with _errors():
        _fleet("doctor", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_)


@task(name="setup", help={**FLEET_HELP, "dry-run": "show each host's plan; change nothing (no bootstrap either)",
                          "only": "run only these setup steps (comma-separated)",
                          "skip": "skip these setup steps (comma-separated)"}, **FLEET_FLAGS)
def fleet_setup(c, fleet="", hosts="", parallel=0, set_=None, accept_new_host_keys=False, out="", json_=False,
                dry_run=False, only="", skip=""):
    """setup on every host of the fleet (bootstrapped first): the same declared state everywhere."""
    with _errors():
        extra = (["--dry-run"] if dry_run else []) + ([f"--only={only}"] if only else []) + \
                ([f"--skip={skip}"] if skip else [])
        _fleet("setup", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, extra, dry_run)


@task(name="models-verify", help={**FLEET_HELP, "full": "re-hash every file, ignoring each host's cache"},
      **FLEET_FLAGS)
def fleet_models_verify(c, fleet="", hosts="", parallel=0, set_=None, accept_new_host_keys=False, out="",
                        json_=False, full=False):
    """models.verify on every host of the fleet: re-hash model files, report what is bad where."""
    with _errors():
        _fleet("models-verify", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_,
               ["--full"] if full else [])


@task(name="smoke", help=FLEET_HELP, **FLEET_FLAGS)
def fleet_smoke(c, fleet="", hosts="", parallel=0, set_=None, accept_new_host_keys=False, out="", json_=False):
    """smoke on every host of the fleet: the live checks, one table back."""
    with _errors():
        _fleet("smoke", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_)


@task(name="bench", help={**FLEET_HELP, "runs": "runs per question on each host"}, **FLEET_FLAGS)
def fleet_bench(c, fleet="", hosts="", parallel=1, set_=None, accept_new_host_keys=False, out="", json_=False,
                runs=3):
    """bench on every host of the fleet (one at a time by default; results stay on each host)."""
    with _errors():
        _fleet("bench", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, [f"--runs={int(runs)}"])


@task(name="bootstrap", help=FLEET_HELP, **FLEET_FLAGS)
def fleet_bootstrap(c, fleet="", hosts="", parallel=0, set_=None, accept_new_host_keys=False, out="",
                    json_=False, dry_run=False):
    """Install rdic-ops of this checkout's build on every host (a host already on it is left alone)."""
    with _errors():
        _fleet("bootstrap", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, dry_run=dry_run)


@task(name="inventory", help={"fleet": FLEET_HELP["fleet"], "set": FLEET_HELP["set"],
                              "format": "table, json or ansible (an Ansible YAML inventory)"}, **FLEET_FLAGS)
def fleet_inventory(c, fleet="", set_=None, format="table"):
    """Print the fleet's inventory (validated), or export it for Ansible."""
    with _errors():
        from rdic_ops.config.fleet import compose_fleet
        from rdic_ops.errors import UsageError
        from rdic_ops.fleet.report import ansible_inventory

        if not fleet:
            raise UsageError("pass --fleet=NAME (a file of conf/fleet/) or --fleet=PATH")
        inv = compose_fleet(fleet, list(set_ or []))
        if format == "ansible":
            import yaml

            print(yaml.safe_dump(ansible_inventory(inv), sort_keys=False), end="")
        elif format == "json":
            from dataclasses import asdict

            from rdic_ops.render import emit_json

            emit_json(asdict(inv))
        elif format == "table":
            from rich.table import Table

            from rdic_ops.render import _e, console

            t = Table(title=f"fleet {inv.name}: {inv.description}")
            for col in ("host", "address", "user", "env", "key", "host key"):
                t.add_column(col, overflow="fold")
            for name, h in inv.hosts.items():
                pin = "pinned" if h.host_key else (f"file {h.known_hosts}" if h.known_hosts else "known_hosts")
                t.add_row(_e(name), _e(f"{h.address}:{h.port}"), _e(h.user or "(you)"), _e(h.env),
                          _e(h.key_file or "agent/~/.ssh"), _e(pin))
            console().print(t)
        else:
            raise UsageError(f"--format {format!r}: choose table, json or ansible")


@task(help={"args": "extra pytest arguments, e.g. '-k config -x'"})
def test(c, args=""):
    """Run the project's test suite (pytest)."""
    c.run(f"{sys.executable} -m pytest {args}", pty=False)


ns = Collection(config, doctor, setup, plan_memory, preload, server_settings, route, smoke, migrate_embeddings,
                migrate_model, test)
ns.add_collection(Collection("models", models_pull, models_lock, models_verify))
ns.add_collection(Collection("wsl", wsl_tune))
ns.add_collection(Collection("embeddings", embeddings_bench))
ns.add_collection(Collection("providers", providers_check))
bench_ns = Collection("bench")
bench_ns.add_task(bench_run, default=True)
bench_ns.add_task(bench_rate)
ns.add_collection(bench_ns)
ns.add_collection(Collection("fleet", fleet_doctor, fleet_setup, fleet_models_verify, fleet_smoke, fleet_bench,
                             fleet_bootstrap, fleet_inventory))
