"""rdic-ops tasks: parse flags, compose the config, call one library function, render the result.

Library modules are imported inside each task so that `invoke --list` stays as fast as invoke itself.
"""

from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager

from invoke import Collection, Exit, task

ENV_HELP = ("machine profile, a file of conf/env/ (local, cpu, rtx3060, m_series_max, ...) [default: chosen from "
            "this machine's facts (GPU, Apple Silicon; else cpu when the Hub serves its model, else local)]")
SET_HELP = "override a config value, KEY=VALUE (repeatable), e.g. --set chat.keep_alive=1800"
COMMON = {"env": ENV_HELP, "set": SET_HELP, "json": "print machine-readable JSON instead of tables"}
FLAGS = dict(auto_shortflags=False, iterable=["set_"])  # no -e: it would shadow invoke's --echo
# Numeric flags arrive as text and are converted by _number, so a bad value is one line naming the flag and
# its range (exit 2) instead of Invoke's traceback or hours of work: flag -> (type, lowest, highest value).
# The highest values are the config's for the same quantity (rdic_ops/config/rules.py says why each;
# tests/test_ranges.py holds the two together):
NUMBERS = {
    "ctx": (int, 1, 1_048_576),  # context length: 2^20 tokens, rules.MAX_CTX (a 1M KV cache fills any machine)
    "parallel": (int, 1, 256),  # llama.cpp's LLAMA_MAX_SEQ for --gguf; hosts at a time for fleet.* (fleet.parallel)
    "since": (float, 0, 31_536_000),  # seconds: a year; anything past the routing window reads the same
    "batch-size": (int, 1, 4_096),  # texts per batch (embedding.batch_size)
    "texts": (int, 1, 100_000),  # corpus size: a throughput figure settles within a few thousand texts;
    # 100,000 mixed texts are about 150 MB and hours of embedding on a CPU: the ceiling of a benchmark
    "runs": (int, 1, 100),  # runs per question: a median settles within 10; 100 x 10 questions x 2 models
    "max-tokens": (int, 1, 32_768),  # tokens per answer: the longest outputs models are trained for
    "batch-sizes": (int, 1, 4_096),  # as batch-size
    "max-seq-lengths": (int, 1, 32_768),  # tokens: an embedding model's max_seq_length (embedding.max_seq_length)
}
LISTS = ("batch-sizes", "max-seq-lengths")  # comma-separated numbers


def _number(flag: str, raw):
    """The value of a numeric flag (None when not given), or a UsageError naming the flag and the fix."""
    from rdic_ops.errors import UsageError

    kind, lo, hi = NUMBERS[flag]
    raw = str(raw).strip()
    if raw == "":
        return None
    want = f"{'an integer' if kind is int else 'a number'} {_range(flag)}"
    try:
        value = kind(raw)
    except ValueError:
        raise UsageError(f"--{flag}={raw}: not a number (expected {want})") from None
    if not lo <= value <= hi:  # NaN and inf fail too
        raise UsageError(f"--{flag}={raw}: out of range (expected {want})")
    return value


def _range(flag: str) -> str:
    """A numeric flag's range as the error and --help say it: "from 1 to 1048576"."""
    _, lo, hi = NUMBERS[flag]
    return f"from {lo:d} to {hi:d}"


MAX_LIST = 16  # values in a comma-separated numeric flag: every value is another row (another measurement)


def _numbers(flag: str, raw: str) -> list:
    """A comma-separated list of numbers, each checked as _number does; at least one, at most MAX_LIST."""
    from rdic_ops.errors import UsageError

    values = [_number(flag, x) for x in _split(raw)]
    if not values:
        raise UsageError(f"--{flag}: give at least one value (comma-separated)")
    if len(values) > MAX_LIST:
        raise UsageError(f"--{flag}: {len(values)} values: at most {MAX_LIST}")
    return values


def _help(fn, texts: dict) -> dict:
    """Each flag's help with its type and default appended, read from the task's signature."""
    import inspect

    out = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        flag = p.name.strip("_").replace("_", "-")
        text = texts.get(flag, "")
        if flag in NUMBERS:
            kind = NUMBERS[flag][0]
            noun = "comma-separated integers" if flag in LISTS else "integer" if kind is int else "number"
            default = f"; default: {p.default}" if p.default != "" else ""
            text += f" [{noun} {_range(flag)}{default}]" if "[default" not in text else f" [{noun} {_range(flag)}]"
        elif isinstance(p.default, str) and p.default and "default" not in text:
            text += f" [default: {p.default}]"
        if text:
            out[flag] = text.strip()
    return out


def _task(name=None, help=None):
    """invoke's @task with the project's flag conventions and help that states each flag's type and default."""
    def deco(fn):
        kwargs = {"name": name} if name else {}

        @functools.wraps(fn)
        def body(c, *args, **kw):
            if kw.get("dry_run"):  # a dry run reads; it writes no cache either (this process and its children)
                os.environ["RDIC_CONFIG_CACHE_WRITE"] = "0"
            return fn(c, *args, **kw)

        return task(body, help=_help(fn, help or {}), **FLAGS, **kwargs)
    return deco


def _fail_json(json_: bool, step: str, error: str, code: int) -> None:
    """With --json a failure still prints one JSON object on stdout, so CI parsers always get JSON."""
    if json_:
        from rdic_ops.render import emit_json

        emit_json({"error": error, "step": step, "exit_code": code})


_NOTES: list[str] = []  # said on stderr after a task that ended well (the env chosen from facts)


def _masked(text: str) -> str:
    from rdic_ops.redact import mask_text

    return mask_text(text)


@contextmanager
def _errors(json_: bool = False, step: str = ""):
    """Library errors become one line on stderr and their exit code; nothing else escapes as a traceback."""
    from rdic_ops.errors import RdicError
    from rdic_ops.redact import mask_logging

    mask_logging()  # what libraries log or warn on stderr goes through redact.py too
    try:
        yield
        for note in _NOTES:
            print(_masked(note), file=sys.stderr)  # the Hub URL in the env choice: no userinfo, no token
    except RdicError as err:
        line = _masked(err.line())
        print(f"rdic-ops: {line}", file=sys.stderr)
        _fail_json(json_, step, line, err.exit_code)
        raise Exit(code=err.exit_code) from None
    except KeyboardInterrupt:
        print("rdic-ops: interrupted; re-run to resume", file=sys.stderr)
        _fail_json(json_, step, "interrupted", 130)
        raise Exit(code=130) from None
    except Exit:
        raise
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do on SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise Exit(code=141) from None
    except OSError as exc:  # the machine refused (read-only, full disk, not a directory): its words and the path
        if os.environ.get("RDIC_DEBUG"):
            raise
        from rdic_ops.errors import os_error_line

        line = _masked(os_error_line(exc))
        print(f"rdic-ops: {line}", file=sys.stderr)
        _fail_json(json_, step, line, 1)
        raise Exit(code=1) from None
    except Exception as exc:  # a bug: say so in one line; RDIC_DEBUG=1 shows the traceback
        if os.environ.get("RDIC_DEBUG"):
            raise
        line = (f"internal error: {type(exc).__name__}: {_masked(str(exc))}".splitlines() or ["internal error"])[0]
        print(f"rdic-ops: {line} (RDIC_DEBUG=1 shows the traceback)", file=sys.stderr)
        _fail_json(json_, step, line, 1)
        raise Exit(code=1) from None


def _parse_errors_are_usage_errors() -> None:
    """Invoke's own parser errors (an unknown flag, a flag without its value) become one rdic-ops line and
    exit code 2, as every other usage error; Invoke would exit 1."""
    from invoke.exceptions import ParseError
    from invoke.program import Program

    original = Program.parse_tasks
    if getattr(original, "rdic_ops", False):
        return

    def parse_tasks(self):
        try:
            args = list(self.argv[1:])
            for i, arg in enumerate(args):  # Invoke takes a list flag without its value as an empty list
                if arg == "--set" and (i + 1 == len(args) or args[i + 1].startswith("-")):
                    from types import SimpleNamespace

                    task_name = next((a for a in reversed(args[:i]) if a in self.collection.task_names), None)
                    raise ParseError("Flag '--set' needed value and was not given one!",
                                     SimpleNamespace(name=task_name) if task_name else None)
            original(self)
        except ParseError as exc:
            import re

            name = getattr(getattr(exc, "context", None), "name", None)
            msg = re.sub(r"<Argument: ([^\s>]+)[^>]*>", r"--\1", str(exc))
            fix = f"invoke {name} --help lists its flags" if name else "invoke --list shows the tasks"
            _fail_json("--json" in self.argv or "--format=json" in self.argv, name or "", f"{msg} ({fix})", 2)
            print(f"rdic-ops: {_masked(msg)} ({fix})", file=sys.stderr)
            raise SystemExit(2) from None

    parse_tasks.rdic_ops = True
    Program.parse_tasks = parse_tasks


_parse_errors_are_usage_errors()


def _compose(env, set_):
    from rdic_ops.config import statedir
    from rdic_ops.config.compose import compose

    cfg = compose(env, list(set_ or []))
    statedir.require(cfg)  # a fact, checked every time (a file there is a config error, a dry run included)
    return cfg


def _auto_env(env):
    """--env, or the env chosen from this machine's facts (one way for every task; said on stderr)."""
    if env:
        return env
    from rdic_ops.config.choose import choose_env
    from rdic_ops.facts import hardware

    name, why = choose_env(hardware.probe())
    # said every time: even `local` is a choice now (the Hub unreachable, too little RAM, ...); said when the
    # task ends well, so that a failure stays one line on stderr (_errors)
    _NOTES.append(f"rdic-ops: env {name} chosen from this machine's facts ({why}); pass --env to pick")
    return name


def _compose_auto(env, set_):
    return _compose(_auto_env(env), set_)


def _finish(results, json_, *, strict=True, **extra):
    """Render step results; exit non-zero when a step failed (a dry run only reports what is missing)."""
    from rdic_ops.plan import Status
    from rdic_ops.render import emit_json, print_report, report_dict

    failed = [r for r in results if r.status is Status.failed]
    msg = ""
    if failed:
        first = failed[0]
        msg = f"{first.step} failed: {first.message}" + (f" ({first.remedy})" if first.remedy else "")
    if json_:
        errors = {"error": _masked(msg), "step": failed[0].step, "exit_code": 1} if failed and strict else {}
        emit_json({**report_dict(results, **extra), **errors})
    else:
        print_report(results)
    if failed and not strict:
        print(f"rdic-ops: dry run: {len(failed)} step(s) would fail: {', '.join(r.step for r in failed)}",
              file=sys.stderr)
    elif failed:
        print(f"rdic-ops: {_masked(msg)}", file=sys.stderr)
        raise Exit(code=1)


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@_task(help=COMMON)
def config(c, env=None, set_=None, json_=False):
    """Print the composed config of an env (YAML, or --json)."""
    with _errors(json_, "config"):
        from rdic_ops.config import from_env

        data = from_env.shown(_compose_auto(env, set_))  # ${oc.env:NAME} values: "******** (from $NAME)"
        if json_:
            from rdic_ops.render import emit_json

            emit_json(data)
        else:
            import yaml

            print(yaml.safe_dump(data, sort_keys=False), end="")


@_task(help=COMMON)
def doctor(c, env=None, set_=None, json_=False):
    """Check this machine's facts (GPU, RAM, cores, WSL2, disk, runtime) against the env."""
    with _errors(json_, "doctor"):
        from rdic_ops.ops import doctor as doctor_op

        cfg = _compose_auto(env, set_)
        _finish([doctor_op.run(cfg)], json_, env=cfg.env.name)


@_task(help={**COMMON, "dry-run": "show the plan and what is missing; change nothing",
             "only": "run only these steps (comma-separated)", "skip": "skip these steps (comma-separated)"})
def setup(c, env=None, set_=None, dry_run=False, only="", skip="", json_=False):
    """Bring this machine to the env's declared state (idempotent: a re-run changes nothing)."""
    with _errors(json_, "setup"):
        from rdic_ops.ops import setup as setup_op

        cfg = _compose_auto(env, set_)
        results = setup_op.run(cfg, dry_run=dry_run, only=_split(only), skip=_split(skip), overrides=list(set_ or []))
        _finish(results, json_, strict=not dry_run, env=cfg.env.name, dry_run=dry_run)


@_task(name="plan-memory",
       help={**COMMON, "ctx": "context length for the env's LLMs (or the --gguf file) [default: the env's num_ctx]",
             "kv-type": "KV cache type: f16, q8_0, q4_0, ... (turns flash attention on) [default: the env's]",
             "gguf": "plan one GGUF file (or Ollama manifest) instead of an env",
             "parallel": "parallel sequences for --gguf (llama.cpp n_seq_max)",
             "oracle": "also ask llama.cpp itself (no-alloc dry run) and show both side by side",
             "plot": "also draw the plan as stacked bars against the budget line into this PNG file"})
def plan_memory(c, env=None, set_=None, ctx="", kv_type="", gguf="", parallel="1", oracle=False, plot="",
                json_=False):
    """Will the env's models fit in VRAM / unified memory together? What to change if not."""
    with _errors(json_, "plan-memory"):
        from rdic_ops.ops import plan_memory as op
        from rdic_ops.render import emit_json, print_fit
        from rdic_ops.units import gib

        ctx, parallel = _number("ctx", ctx) or 0, _number("parallel", parallel)
        report, comparisons = op.run(None if gguf else _auto_env(env), list(set_ or []), ctx=ctx,
                                     kv_type=kv_type, gguf=gguf, parallel=parallel, oracle=oracle)
        failed = not gguf and not report.fits
        error = (f"the env's resident models do not fit: {gib(report.used, 2)} needed of "
                 f"{report.budget_name} {gib(report.budget, 2)} (see 'what to change')") if failed else ""
        drawn = None
        if plot:
            from rdic_ops.memory.plot import plot as draw

            drawn = str(draw(report, plot))
        if json_:
            fail = {"error": error, "step": "plan-memory", "exit_code": 1} if failed else {}
            emit_json({**report.to_dict(), "oracle": [x.to_dict() for x in comparisons], "plot": drawn, **fail})
        else:
            print_fit(report, comparisons)
            if drawn:
                print(_masked(f"plot: {drawn}"))
        if failed:
            print(f"rdic-ops: {_masked(error)}", file=sys.stderr)
            raise Exit(code=1)


MODEL_HELP = {**COMMON, "model": "only these models of the env (comma-separated names from conf/model/)"}
FULL_HELP = {"full": "re-hash every file, ignoring the cache of verified files"}


@_task(name="pull", help={**MODEL_HELP, **FULL_HELP, "dry-run": "show what would be fetched; change nothing"})
def models_pull(c, env=None, set_=None, model="", dry_run=False, full=False, json_=False):
    """Fetch the env's models from their sources and verify every file (honours models.lock)."""
    with _errors(json_, "models.pull"):
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        _finish([models.pull(cfg, _split(model), dry_run=dry_run, full=full)], json_, env=cfg.env.name)


@_task(name="lock", help={**MODEL_HELP, "dry-run": "show the lockfile diff; write nothing"})
def models_lock(c, env=None, set_=None, model="", dry_run=False, json_=False):
    """Write models.lock from the verified state: source, revision or manifest digest, sha256 of every file."""
    with _errors(json_, "models.lock"):
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        _finish([models.write_lock(cfg, _split(model), dry_run=dry_run)], json_, env=cfg.env.name)


VERIFY_HELP = {"all": "the whole Ollama store (orphans, partials) and every GGUF file",
               "repair": "move bad files aside and fetch them again through the same pull path"}


@_task(name="verify", help={**MODEL_HELP, **FULL_HELP, **VERIFY_HELP})
def models_verify(c, env=None, set_=None, model="", all_=False, repair=False, full=False, json_=False):
    """Re-hash model files: report missing, truncated, corrupted, orphaned and partial ones."""
    with _errors(json_, "models.verify"):
        from rdic_ops.ops import models

        cfg = _compose_auto(env, set_)
        result = models.verify(cfg, all_=all_, full=full, repair=repair, only=_split(model))
        _finish([result], json_, env=cfg.env.name)


@_task(help={**COMMON, "unload": "unload the env's models instead (llama.cpp: stop the server)",
             "dry-run": "show what would be loaded; change nothing"})
def preload(c, env=None, set_=None, unload=False, dry_run=False, json_=False):
    """Load every resident model with the options real traffic uses (num_ctx, numeric keep_alive)."""
    with _errors(json_, "preload"):
        from rdic_ops.ops import preload as preload_op

        cfg = _compose_auto(env, set_)
        _finish([preload_op.preload(cfg, unload=unload, dry_run=dry_run)], json_, env=cfg.env.name)


@_task(name="server-settings", help={**COMMON, "dry-run": "show the diff; change nothing"})
def server_settings(c, env=None, set_=None, dry_run=False, json_=False):
    """Write Ollama's server settings (systemd drop-in or launchctl) and the preload-at-startup unit."""
    with _errors(json_, "server-settings"):
        from rdic_ops.ops import server_settings as settings

        cfg = _compose_auto(env, set_)
        results = [settings.run_all(cfg, dry_run)]
        _finish(results, json_, strict=not dry_run, env=cfg.env.name)


@_task(help={**COMMON, "since": "seconds since extraction last ran [default: read from the runtime]"})
def route(c, env=None, set_=None, since="", json_=False):
    """Which model should answer chat now (the seeds' Option C: gemma while warm, else llama)."""
    with _errors(json_, "route"):
        from rdic_ops.ops import route as route_op
        from rdic_ops.runtime import for_env

        since = _number("since", since)
        cfg = _compose_auto(env, set_)
        r = route_op.route(cfg, for_env(cfg), since)
        if json_:
            from rdic_ops.render import emit_json

            emit_json(r.__dict__)
        else:
            print(_masked(f"chat -> {r.model} ({r.tag}): {r.reason}"))
            held = "unknown (no answer)" if r.resident is None else ", ".join(r.resident) or "nothing"
            print(_masked(f"resident now: {held}"))


@_task(name="tune", help={**COMMON, "path": "edit this .wslconfig [default: the Windows profile's, found via interop]",
                          "dry-run": "show the diff; write nothing",
                          "restart": "run wsl.exe --shutdown through interop afterwards (ends this WSL session)"})
def wsl_tune(c, env=None, set_=None, path="", dry_run=False, restart=False, json_=False):
    """Set the Windows-side .wslconfig for the env (memory, processors, swap, ...), editing in place."""
    with _errors(json_, "wsl.tune"):
        from rdic_ops.ops import wsl

        cfg = _compose_auto(env, set_)
        result = wsl.tune(cfg, path=path or None, dry_run=dry_run, restart=restart)
        _finish([result], json_, env=cfg.env.name)


@_task(help={**COMMON, "junit": "also write JUnit XML to this path"})
def smoke(c, env=None, set_=None, junit="", json_=False):
    """Check the live machine: runtime reachable, models verified, generation in budget, embeddings, residency."""
    with _errors(json_, "smoke"):
        from rdic_ops.ops import smoke as smoke_op

        cfg = _compose_auto(env, set_)  # validates the overrides before the suite runs
        _finish([smoke_op.run(cfg.env.name, list(set_ or []), junit or None)], json_, env=cfg.env.name)


@_task(name="migrate-embeddings",
       help={**COMMON, "from": "backend that made the current vectors: ollama, sentence_transformers, llamacpp",
             "to": "backend to move to", "store": "a vector store file, or a LightRAG working dir (vdb_*.json)",
             "text-field": "the record field holding each vector's text (LightRAG: content)",
             "batch-size": "texts per batch [default: embedding.batch_size]",
             "force": "re-embed even when parity is above the threshold",
             "dry-run": "measure parity and show the plan; change nothing"})
def migrate_embeddings(c, env=None, set_=None, from_="ollama", to="sentence_transformers", store="",
                       text_field="content", batch_size="", force=False, dry_run=False, json_=False):
    """Move embeddings to another backend: parity check, keep or re-embed the index, switch the app."""
    with _errors(json_, "migrate-embeddings"):
        from rdic_ops.ops import migrate_embeddings as migrate

        batch_size = _number("batch-size", batch_size)
        cfg = _compose_auto(env, set_)
        result = migrate.migrate(cfg, src=from_, dst=to, store=store or None, text_field=text_field,
                                 dry_run=dry_run, batch_size=batch_size, force=force)
        _finish([result], json_, env=cfg.env.name)


@_task(name="bench", help={**COMMON, "backends": "comma-separated: sentence_transformers,llamacpp,ollama",
                           "batch-sizes": "batch sizes to try", "max-seq-lengths": "max_seq_length values to try",
                           "texts": "corpus size (texts embedded per measurement)"})
def embeddings_bench(c, env=None, set_=None, backends="sentence_transformers,llamacpp", batch_sizes="8,32",
                     max_seq_lengths="128,256", texts="256", json_=False):
    """Embedding throughput (texts/s) per backend, batch size and max_seq_length, with parity to torch fp32."""
    with _errors(json_, "embeddings.bench"):
        from rdic_ops.embeddings import bench

        sizes, lengths = _numbers("batch-sizes", batch_sizes), _numbers("max-seq-lengths", max_seq_lengths)
        texts = _number("texts", texts) or 256
        names = bench.backend_names(_split(backends))
        cfg = _compose_auto(env, set_)
        rows = bench.run(cfg, names, sizes, lengths, texts)
        if json_:
            from rdic_ops.render import emit_json

            emit_json([r.to_dict() for r in rows])
        else:
            from rdic_ops.render import print_embedding_bench

            print_embedding_bench(rows, texts)


@_task(name="migrate-model",
       help={**COMMON, "migration": "a file of conf/migration/ (by name) or a path to one",
             "target": "the project to migrate (a git work tree) [default: the migration file's target]",
             "dry-run": "show every edit as a diff",
             "status": "the migration checklist from facts (not with --rollback)",
             "rollback": "restore every file from the journal (with --dry-run: show it); stops without restoring "
                         "anything when a file changed after the migration",
             "discard-later-edits": "with --rollback: restore files changed after the migration too (each such "
                                    "version is saved beside the backups first)",
             "allow-dirty": "migrate a work tree with uncommitted changes",
             "skip-fit": "do not check the new model against the env's memory",
             "skip-verify": "edit the code only: no model download, no tests"})
def migrate_model(c, env=None, set_=None, migration="llama31_8b_to_gemma3_12b", target="", dry_run=False,
                  status=False, rollback=False, discard_later_edits=False, allow_dirty=False, skip_fit=False,
                  skip_verify=False, json_=False):
    """Migrate a project to another model: every use found and changed, the new model fetched and proven to load."""
    with _errors(json_, "migrate-model"):
        from pathlib import Path

        from rdic_ops.errors import UsageError

        if discard_later_edits and not rollback:
            raise UsageError("--discard-later-edits goes with --rollback (it lets a rollback overwrite later edits)")
        if status and (rollback or dry_run):
            raise UsageError(f"--status cannot be combined with {'--rollback' if rollback else '--dry-run'} "
                             "(pick one: --status reports, --rollback restores)")
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
            result = mm.rollback(cfg, spec, root, dry_run=dry_run, discard_later_edits=discard_later_edits)
        else:
            result = mm.migrate(cfg, spec, root, dry_run=dry_run, allow_dirty=allow_dirty, skip_fit=skip_fit,
                                skip_verify=skip_verify, spec_path=None if spec_path.parent.name == "migration"
                                and spec_path.stem == migration else spec_path)
        _finish([result], json_, strict=not status, env=cfg.env.name)


@_task(name="run", help={**COMMON, "models": "comma-separated model names [default: the env's chat and extraction]",
                         "runs": "runs per question (after one warm-up)", "max-tokens": "tokens per answer",
                         "questions": "a YAML file of questions [{id, turns: [...]}] [default: the seed's ten]",
                         "out": "results directory [default: bench-results/<time>]"})
def bench_run(c, env=None, set_=None, models="", runs="3", max_tokens="64", questions="", out="", json_=False):
    """The seeds' chat benchmark: TTFT, tokens/s, load time, VRAM per model; answers for rating."""
    with _errors(json_, "bench"):
        import time as _time
        from pathlib import Path

        from rdic_ops.bench import runner
        from rdic_ops.bench.questions import load_questions
        from rdic_ops.render import emit_json

        runs, max_tokens = _number("runs", runs), _number("max-tokens", max_tokens)
        qs = load_questions(questions) if questions else None
        cfg = _compose_auto(env, set_)
        names = _split(models) or list(dict.fromkeys([cfg.chat.model.name, cfg.extraction.model.name]))
        where = Path(out or f"bench-results/{_time.strftime('%Y%m%d-%H%M%S')}")
        out_dir, results, summary = runner.run(cfg.env.name, list(set_ or []), names, questions=qs, runs=runs,
                                               max_tokens=max_tokens, out_dir=where)
        option, why = runner.decide(summary, {}, cfg.extraction.model.name, cfg.chat.model.name)
        error = f"bench: no run succeeded (see {out_dir / 'raw.jsonl'})" if all(not r.ok for r in results) else ""
        if json_:
            fail = {"error": error, "step": "bench", "exit_code": 1} if error else {}
            emit_json({"dir": str(out_dir), "summary": summary, "recommendation": [option, why], **fail})
        else:
            print(_masked((out_dir / "summary.md").read_text()))
            print(_masked(f"results: {out_dir} (raw.jsonl, summary.csv/.md, plot.png, ratings.csv)"))
            print(_masked(f"recommendation: {option}: {why}"))
        if error:
            print(_masked(f"rdic-ops: {error}"), file=sys.stderr)
            raise Exit(code=1)


@_task(name="rate", help={"run": "a results directory of invoke bench", **COMMON})
def bench_rate(c, run="", env=None, set_=None, json_=False):
    """Score each answer 1-5 in the terminal, then apply the seed's decision rules (A, B or C)."""
    with _errors(json_, "bench.rate"):
        from rdic_ops.bench import runner
        from rdic_ops.bench.rate import rate, sheet_of, summary_of

        sheet = sheet_of(run)
        summary = summary_of(run)
        cfg = _compose_auto(env, set_)
        rate(sheet)
        option, why = runner.decide(summary, runner.read_ratings(sheet), cfg.extraction.model.name,
                                    cfg.chat.model.name)
        if json_:
            from rdic_ops.render import emit_json

            emit_json({"recommendation": [option, why]})
        else:
            print(_masked(f"recommendation: {option}: {why}"))


@_task(name="check", help={**COMMON, "only": "check only these providers (comma-separated names or keys)"})
def providers_check(c, env=None, set_=None, only="", json_=False):
    """Ask each model API the env declares (conf/provider/) for one short answer: ✓/✗ per provider."""
    with _errors(json_, "providers.check"):
        from rdic_ops.providers import report, run

        cfg = _compose_auto(env, set_)
        if not cfg.providers:
            note = f"env {cfg.env.name} declares no providers (see conf/provider/)"
            if json_:  # --json always answers with an object
                from rdic_ops.render import emit_json

                emit_json({"env": cfg.env.name, "providers": [], "message": note})
            print(_masked(f"rdic-ops: {note}"), file=sys.stderr)
            return
        outcomes = run(cfg, _split(only))
        result = report.step(outcomes)
        if json_:
            from rdic_ops.render import emit_json, report_dict

            emit_json(report_dict([result], env=cfg.env.name, providers=[o.to_dict() for o in outcomes]))
        else:
            from rdic_ops.render import checks_table, console

            console().print(checks_table(result.checks, title=f"providers of env {cfg.env.name}"))
            print(_masked("\n".join(report.lines(outcomes))))
        if result.status.value == "failed":
            print(f"rdic-ops: {_masked(result.message)}", file=sys.stderr)
            raise Exit(code=1)


FLEET_HELP = {"fleet": "inventory: a file of conf/fleet/ (by name) or a path to one",
              "hosts": "only these hosts of the inventory (comma-separated)",
              "parallel": "hosts worked on at the same time (default: the inventory's parallel)",
              "set": "override an inventory value, KEY=VALUE (repeatable), e.g. --set hosts.gpu1.port=2222",
              "accept-new-host-keys": "trust hosts whose key is not on record yet, and record it (a changed "
                                      "key is still refused)",
              "out": "directory for the per-host JSON files (default: <state>/fleet/<name>/runs/<time>-<task>)",
              "json": "print machine-readable JSON instead of the table"}


def _fleet(task_name, fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, extra=(), dry_run=False):
    """Flags -> inventory -> one fan-out over the hosts -> one report; exit 1 when any host failed."""
    from pathlib import Path

    from rdic_ops.config.fleet import compose_fleet
    from rdic_ops.errors import UsageError
    from rdic_ops.fleet import report
    from rdic_ops.fleet.run import run_task

    if not fleet:
        raise UsageError("pass --fleet=NAME (a file of conf/fleet/) or --fleet=PATH")
    parallel = _number("parallel", parallel) or 0  # not given: the inventory's own limit (0 passed to run_task)
    inv = compose_fleet(fleet, list(set_ or []))
    tell = (lambda r: print(_masked(report.progress_line(r)), file=sys.stderr)) if sys.stderr.isatty() else None
    runs = run_task(inv, task_name, hosts=_split(hosts), parallel=parallel, extra=list(extra), dry_run=dry_run,
                    accept_new=accept_new_host_keys, progress=tell)
    where = report.write_files(runs, Path(out) if out else report.default_out(inv, task_name))
    failed = report.failed_hosts(runs, dry_run)
    why = "; ".join(f"{r.host}: {report.reason(r)}" for r in failed[:3]) + ("; ..." if len(failed) > 3 else "")
    error = f"fleet {inv.name}: {task_name} failed on {len(failed)} of {len(runs)} hosts ({why})" if failed else ""
    if json_:
        from rdic_ops.render import emit_json

        fail = {"error": error, "step": f"fleet.{task_name}", "exit_code": 1} if failed else {}
        emit_json({**report.report_dict(inv, task_name, runs, dry_run=dry_run, report_dir=str(where)), **fail})
    else:
        report.print_report(inv, task_name, runs, where, dry_run)
    if failed:
        print(_masked(f"rdic-ops: {error}"), file=sys.stderr)
        raise Exit(code=1)


@_task(name="doctor", help=FLEET_HELP)
def fleet_doctor(c, fleet="", hosts="", parallel="", set_=None, accept_new_host_keys=False, out="", json_=False):
    """doctor on every host of the fleet: facts against each host's env, one table back."""
    with _errors(json_, "fleet.doctor"):
        _fleet("doctor", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_)


@_task(name="setup", help={**FLEET_HELP, "dry-run": "show each host's plan; change nothing (no bootstrap either)",
                          "only": "run only these setup steps (comma-separated)",
                          "skip": "skip these setup steps (comma-separated)"})
def fleet_setup(c, fleet="", hosts="", parallel="", set_=None, accept_new_host_keys=False, out="", json_=False,
                dry_run=False, only="", skip=""):
    """setup on every host of the fleet (bootstrapped first): the same declared state everywhere."""
    with _errors(json_, "fleet.setup"):
        extra = (["--dry-run"] if dry_run else []) + ([f"--only={only}"] if only else []) + \
                ([f"--skip={skip}"] if skip else [])
        _fleet("setup", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, extra, dry_run)


@_task(name="models-verify", help={**FLEET_HELP, "full": "re-hash every file, ignoring each host's cache"})
def fleet_models_verify(c, fleet="", hosts="", parallel="", set_=None, accept_new_host_keys=False, out="",
                        json_=False, full=False):
    """models.verify on every host of the fleet: re-hash model files, report what is bad where."""
    with _errors(json_, "fleet.models-verify"):
        _fleet("models-verify", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_,
               ["--full"] if full else [])


@_task(name="smoke", help=FLEET_HELP)
def fleet_smoke(c, fleet="", hosts="", parallel="", set_=None, accept_new_host_keys=False, out="", json_=False):
    """smoke on every host of the fleet: the live checks, one table back."""
    with _errors(json_, "fleet.smoke"):
        _fleet("smoke", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_)


@_task(name="bench", help={**FLEET_HELP, "runs": "runs per question on each host"})
def fleet_bench(c, fleet="", hosts="", parallel="1", set_=None, accept_new_host_keys=False, out="", json_=False,
                runs="3"):
    """bench on every host of the fleet (one at a time by default; results stay on each host)."""
    with _errors(json_, "fleet.bench"):
        runs_flag = f"--runs={_number('runs', runs) or 3}"
        _fleet("bench", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, [runs_flag])


@_task(name="bootstrap", help={**FLEET_HELP, "dry-run": "show what each host would install; change nothing"})
def fleet_bootstrap(c, fleet="", hosts="", parallel="", set_=None, accept_new_host_keys=False, out="",
                    json_=False, dry_run=False):
    """Install rdic-ops of this checkout's build on every host (a host already on it is left alone)."""
    with _errors(json_, "fleet.bootstrap"):
        _fleet("bootstrap", fleet, hosts, parallel, set_, accept_new_host_keys, out, json_, dry_run=dry_run)


@_task(name="inventory", help={"fleet": FLEET_HELP["fleet"], "set": FLEET_HELP["set"],
                               "format": "table, json or ansible (an Ansible YAML inventory) [default: table]"})
def fleet_inventory(c, fleet="", set_=None, format="table"):
    """Print the fleet's inventory (validated), or export it for Ansible."""
    with _errors(format == "json", "fleet.inventory"):
        from rdic_ops.config.fleet import compose_fleet
        from rdic_ops.errors import UsageError
        from rdic_ops.fleet.report import ansible_inventory

        if not fleet:
            raise UsageError("pass --fleet=NAME (a file of conf/fleet/) or --fleet=PATH")
        inv = compose_fleet(fleet, list(set_ or []))
        if format == "ansible":
            import yaml

            from rdic_ops.redact import mask_data

            print(yaml.safe_dump(mask_data(ansible_inventory(inv)), sort_keys=False), end="")
        elif format == "json":
            from dataclasses import asdict

            from rdic_ops.render import emit_json

            emit_json(asdict(inv))
        elif format == "table":
            from rich.table import Table

            from rdic_ops.render import _e, console

            t = Table(title=_e(f"fleet {inv.name}: {inv.description}"))
            for col in ("host", "address", "user", "env", "key", "host key"):
                t.add_column(col, overflow="fold")
            for name, h in inv.hosts.items():
                pin = "pinned" if h.host_key else (f"file {h.known_hosts}" if h.known_hosts else "known_hosts")
                t.add_row(_e(name), _e(f"{h.address}:{h.port}"), _e(h.user or "(you)"), _e(h.env),
                          _e(h.key_file or "agent/~/.ssh"), _e(pin))
            console().print(t)
        else:
            raise UsageError(f"--format {format!r}: choose table, json or ansible")


@task(help={"args": "extra pytest arguments, e.g. '-k config -x' [default: none: the whole suite]"})
def test(c, args=""):
    """Run the project's test suite (pytest). Takes no --env: the tests build their own envs and state."""
    c.run(f"{sys.executable} -m pytest {args}", pty=False)


@_task(help={"json": "print machine-readable JSON instead of lines"})
def version(c, json_=False):
    """rdic-ops and what it runs on: config dir, state dir, Python, key libraries, the llama.cpp build."""
    with _errors(json_, "version"):
        from rdic_ops.facts.versions import collect

        info = collect()
        if json_:
            from rdic_ops.render import emit_json

            emit_json(info)
        else:
            width = max(len(k) for k in info)
            for key, value in info.items():
                print(_masked(f"{key:<{width}}  {value}"))


ns = Collection(config, doctor, setup, plan_memory, preload, server_settings, route, smoke, migrate_embeddings,
                migrate_model, test, version)
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
