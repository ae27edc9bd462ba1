"""No false "verified": files rdic-ops builds or adopts have a recorded sha256; --full re-hashes; dry runs write
no cache; Hub files in subfolders land where the lock looks for them; the Hub is asked once per run."""



from rdic_ops.config.compose import compose, expand
from rdic_ops.models import lock as lockfile
from rdic_ops.ops import models


def test_hub_file_in_a_subfolder_lands_where_the_lock_finds_it(hub, tmp_path, tiny_gguf, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sha = hub.add("org/repo-GGUF", "quant/Q4/model.gguf", tiny_gguf)
    cfg = compose("m_series_max", ["extraction.model.hf.repo=org/repo-GGUF",
                                   "extraction.model.hf.file=quant/Q4/model.gguf"])
    only = ["gemma3-12b-it-q4_k_m"]
    models.pull(cfg, only)
    root = expand(cfg.paths.models_dir)
    assert (root / "quant/Q4/model.gguf").read_bytes() == tiny_gguf
    assert not (root / "quant/Q4/quant").exists()
    models.write_lock(cfg, only)
    entry = lockfile.load("models.lock").models["gemma3-12b-it-q4_k_m"]
    assert [(f.name, f.sha256) for f in entry.files] == [("quant/Q4/model.gguf", sha)]
    again = models.pull(cfg, only)
    assert again.change_count == 0 and "pinned by models.lock" in again.changes[0].reason


def test_hub_metadata_asked_once_per_run(hub, tmp_path, tiny_gguf, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hub.add("ggml-org/gemma-3-12b-it-GGUF", "gemma-3-12b-it-Q4_K_M.gguf", tiny_gguf)
    cfg = compose("m_series_max")
    models.pull(cfg, ["gemma3-12b-it-q4_k_m"])  # plan, download, plan again to verify
    heads = [p for m, p in hub.requests if m == "HEAD"]
    assert len(heads) <= 2, heads  # one for planning (verify re-uses it), one inside hf_hub_download
