"""Parity of two embedding backends on the same texts: do their vectors agree well enough to keep an index?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdic_ops.embeddings import backends
from rdic_ops.embeddings import store as stores
from rdic_ops.embeddings.sample import SAMPLE
from rdic_ops.errors import StepFailed

SAMPLE_SIZE = 64


@dataclass
class Parity:
    n: int
    dim_from: int
    dim_to: int
    mean: float
    min: float
    p1: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = backends.normalize(np.asarray(a, dtype=np.float64))
    b = backends.normalize(np.asarray(b, dtype=np.float64))
    return (a * b).sum(axis=1)


def parity(src, dst, texts: list[str]) -> Parity:
    a, b = src.embed(texts), dst.embed(texts)
    if a.shape[1] != b.shape[1]:
        raise StepFailed(
            f"dimension mismatch: {a.shape[1]} (from) vs {b.shape[1]} (to): the index cannot be kept or mixed",
            remedy="pick a target model with the same dimension, or rebuild the index",
        )
    cos = cosine_rows(a, b)
    return Parity(
        len(texts), int(a.shape[1]), int(b.shape[1]), float(cos.mean()), float(cos.min()), float(np.percentile(cos, 1))
    )


def sample_texts(paths: list[Path], text_field: str) -> list[str]:
    """Up to SAMPLE_SIZE texts spread over the stores (their own texts), else the bundled sample."""
    texts: list[str] = []
    for p in paths:
        texts += stores.fmt_for(p).load(p, text_field).texts
    if not texts:
        return list(SAMPLE)
    step = max(len(texts) // SAMPLE_SIZE, 1)
    return texts[::step][:SAMPLE_SIZE]
