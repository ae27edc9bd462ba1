"""Fit of an env's co-resident models, and the advice when they do not fit."""

import json
import shutil

from support.shapes import build

from rdic_ops.config.compose import compose
from rdic_ops.memory import planner
from rdic_ops.models.store import model_file
from rdic_ops.units import GiB, MiB


def test_local_budget_is_this_machines_ram():
    from rdic_ops.facts.hardware import memory

    report = planner.plan_env(compose("local"))
    total, available = memory()
    # MemAvailable moves while other processes run: the budget is the figure read when planning
    assert report.budget_name == "RAM available" and abs(report.budget - available) < 0.1 * total
    assert report.budget != int(compose("local").env.hardware.ram_gb * GiB)
    assert "cores" in report.note and report.fits


def test_m_series_fits_in_metal_budget():
    report = planner.plan_env(compose("m_series_max"))
    assert report.budget_name == "Metal working set" and report.fits
    (row,) = [r for r in report.rows if r.where == "gpu"]
    assert row.roles == ["extraction", "chat"] and row.memory.kv.bytes == 2528 * MiB


def test_the_gguf_on_disk_is_the_truth(tmp_path, monkeypatch):
    """An Ollama manifest in the store points at the model blob; the planner reads that GGUF."""
    models = tmp_path / "ollama"
    cfg = compose("rtx3060", [f"env.runtime.ollama.models_dir={models}"])
    blob = build(tmp_path, "gemma3-12b-it-q4_k_m")  # deliberately not the shape the config declares
    digest = "sha256-" + "ab" * 32
    (models / "blobs").mkdir(parents=True)
    shutil.move(blob, models / "blobs" / digest)
    manifest = model_file(cfg, cfg.extraction.model)
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest.replace("-", ":"), "size": 1}]}))
    report = planner.plan_env(cfg)
    row = next(r for r in report.rows if r.model == "gemma3-4b-it-q8_0")
    assert row.source.startswith("gguf ") and row.memory.n_layer == 48
    assert any("n_layer: config says 34, GGUF has 48" in w for w in row.warnings)
