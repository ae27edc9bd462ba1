"""`invoke embeddings.bench`: texts/s per backend, batch size and max_seq_length on this machine, with each
backend's cosine parity to sentence-transformers (torch fp32), so a user chooses with numbers."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from rdic_ops.config.schema import RootConfig
from rdic_ops.embeddings import backends
from rdic_ops.embeddings.sample import SAMPLE
from rdic_ops.errors import RdicError, UsageError


@dataclass
class BenchRow:
    backend: str
    batch_size: int
    max_seq_length: int
    texts_per_s: float
    parity_min: float | None
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def corpus(n: int) -> list[str]:
    return [f"{SAMPLE[i % len(SAMPLE)]} ({i})" for i in range(n)]


def backend_names(names: list[str]) -> list[str]:
    """--backends checked against the backends there are (a UsageError naming the unknown one)."""
    from rdic_ops.config.schema import EmbeddingBackend

    known = [b.value for b in EmbeddingBackend]
    for name in names:
        if name not in known:
            raise UsageError(f"--backends: unknown backend {name!r} (choices: {', '.join(known)})")
    if not names:
        raise UsageError(f"--backends: give at least one of {', '.join(known)}")
    return names


def run(cfg: RootConfig, names: list[str], batch_sizes: list[int], max_seq_lengths: list[int],
        n_texts: int = 256) -> list[BenchRow]:
    from rdic_ops.embeddings.parity import cosine_rows

    if n_texts < 1 or min(batch_sizes, default=0) < 1 or min(max_seq_lengths, default=0) < 1:
        raise UsageError("embeddings.bench needs at least one text, and batch sizes and lengths >= 1")
    texts = corpus(n_texts)
    reference = None
    rows: list[BenchRow] = []
    for name, bs, msl in itertools.product(names, batch_sizes, max_seq_lengths):
        if name != "sentence_transformers" and bs != batch_sizes[0]:
            continue  # batch size only matters to sentence-transformers
        try:
            if name == "sentence_transformers":
                emb = backends.make(cfg, name, batch_size=bs, max_seq_length=msl)
            else:
                cfg.embedding.max_seq_length = msl
                emb = backends.make(cfg, name)  # llama.cpp and Ollama embed text by text: batch n/a
            emb.embed(texts[:4])  # warm-up
            t0 = time.perf_counter()
            v = emb.embed(texts)
            rate = len(texts) / (time.perf_counter() - t0)
        except RdicError as exc:
            rows.append(BenchRow(name, bs, msl, 0.0, None, f"not available: {exc.line()}"))
            continue
        if reference is None and name == "sentence_transformers":
            reference = v
        par = float(np.min(cosine_rows(reference, v))) if reference is not None and v.shape == reference.shape else None
        rows.append(BenchRow(name, bs, msl, rate, par))
    return rows
