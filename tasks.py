"""rdic-ops tasks: parse flags, compose the config, call one library function, render the result.

Library modules are imported inside each task so that `invoke --list` stays as fast as invoke itself.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from invoke import Collection, Exit, task

ENV_HELP = ("machine profile, a file of conf/env/ (local, rtx3060, m_series_max, ...); "
            "default: chosen from this machine's facts (GPU, Apple Silicon), else local")
SET_HELP = "override a config value, KEY=VALUE (repeatable), e.g. --set chat.keep_alive=1800"
COMMON = {"env": ENV_HELP, "set": SET_HELP, "json": "print machine-readable JSON instead of tables"}
FLAGS = dict(auto_shortflags=False, iterable=["set_"])  # no -e: it would shadow invoke's --echo


@contextmanager
def _errors():
    """Library errors become one line on stderr and their exit code; nothing else escapes as a traceback."""
    from rdic_ops.errors import RdicError

    try:
        yield
    except RdicError as err:
        print(f"rdic-ops: {err.line()}", file=sys.stderr)
        raise Exit(code=err.exit_code) from None
    except KeyboardInterrupt:
        print("rdic-ops: interrupted; re-run to resume", file=sys.stderr)
        raise Exit(code=130) from None
    except Exit:
        raise
    except Exception as exc:  # a bug: say so in one line; RDIC_DEBUG=1 shows the traceback
        if os.environ.get("RDIC_DEBUG"):
            raise
        print(f"rdic-ops: internal error: {type(exc).__name__}: {exc} (RDIC_DEBUG=1 shows the traceback)",
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
    if name != "local":  # the offline default needs no announcement; a GPU profile does
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
        print(f"rdic-ops: {msg}", file=sys.stderr)
        raise Exit(code=1)


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@task(help=COMMON, **FLAGS)
def config(c, env=None, set_=None, json_=False):
    """Print the composed config of an env (YAML, or --json)."""
    with _errors():
        from rdic_ops.config.compose import to_container

        data = to_container(_compose_auto(env, set_))
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
          "oracle": "also ask llama.cpp itself (no-alloc dry run) and show both side by side"},
    **FLAGS,
)
def plan_memory(c, env=None, set_=None, ctx=0, kv_type="", gguf="", parallel=1, oracle=False, json_=False):
    """Will the env's models fit in VRAM / unified memory together? What to change if not."""
    with _errors():
        from rdic_ops.ops import plan_memory as op
        from rdic_ops.render import emit_json, print_fit

        report, comparisons = op.run(None if gguf else _auto_env(env), list(set_ or []), ctx=ctx,
                                     kv_type=kv_type, gguf=gguf, parallel=parallel, oracle=oracle)
        if json_:
            emit_json({**report.to_dict(), "oracle": [x.to_dict() for x in comparisons]})
        else:
            print_fit(report, comparisons)
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
            print(f"chat -> {r.model} ({r.tag}): {r.reason}")


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
            "skip-fit": "do not check the new model against the env's memory"}, **FLAGS)
def migrate_model(c, env=None, set_=None, migration="llama31_8b_to_gemma3_12b", target="", dry_run=False,
                  status=False, rollback=False, allow_dirty=False, skip_fit=False, json_=False):
    """Migrate a project to another model: renames, values, text, verified and reversible."""
    with _errors():
        from pathlib import Path

        from rdic_ops.errors import UsageError
        from rdic_ops.ops import migrate_model as mm

        cfg = _compose_auto(env, set_)
        spec, _ = mm.load(migration)
        where = target or spec.target
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
            result = mm.migrate(cfg, spec, root, dry_run=dry_run, allow_dirty=allow_dirty, skip_fit=skip_fit)
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
