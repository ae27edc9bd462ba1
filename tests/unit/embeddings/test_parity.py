"""Do two embedding backends agree (rdic_ops/embeddings/parity.py)? Row cosines, their mean, minimum and 1st
percentile, a dimension mismatch refused, and the texts sampled from the stores (else the bundled sample).
The backends are stand-ins that return fixed vectors."""

import numpy as np
import pytest
from nano_vectordb import NanoVectorDB

from rdic_ops.embeddings import parity
from rdic_ops.embeddings.sample import SAMPLE
from rdic_ops.errors import StepFailed


class Fixed:
    def __init__(self, rows):
        self.rows, self.asked = np.asarray(rows, dtype=np.float32), []

    def embed(self, texts):
        self.asked.append(list(texts))
        return self.rows[: len(texts)]


def test_cosine_rows_ignores_length_and_survives_a_zero_vector():
    got = parity.cosine_rows(np.array([[1.0, 0], [3, 4], [0, 0]]), np.array([[2.0, 0], [4, -3], [1, 1]]))
    assert np.allclose(got, [1.0, 0.0, 0.0])


def test_parity_of_two_backends_on_the_same_texts():
    a = Fixed([[1, 0], [1, 0], [0, 1], [1, 1]])
    b = Fixed([[1, 0], [0, 1], [0, 1], [1, 1]])
    p = parity.parity(a, b, ["t1", "t2", "t3", "t4"])
    assert a.asked == b.asked == [["t1", "t2", "t3", "t4"]]
    assert (p.n, p.dim_from, p.dim_to, p.min) == (4, 2, 2, pytest.approx(0.0))
    assert p.mean == pytest.approx(0.75) and p.p1 == pytest.approx(0.0, abs=0.05)
    assert p.to_dict()["mean"] == p.mean


def test_a_dimension_mismatch_cannot_keep_the_index():
    with pytest.raises(StepFailed, match=r"dimension mismatch: 2 \(from\) vs 3 \(to\)") as err:
        parity.parity(Fixed([[1, 0]]), Fixed([[1, 0, 0]]), ["t"])
    assert "same dimension" in err.value.remedy


def test_texts_come_spread_from_the_stores_else_the_bundled_sample(tmp_path):
    assert parity.sample_texts([], "content") == SAMPLE
    path = tmp_path / "vdb_chunks.json"
    db = NanoVectorDB(2, storage_file=str(path))
    db.upsert(
        [{"__id__": f"c{i}", "content": f"text {i}", "__vector__": np.ones(2, dtype=np.float32)} for i in range(200)]
    )
    db.save()
    got = parity.sample_texts([path], "content")
    assert len(got) == parity.SAMPLE_SIZE and got[:2] == ["text 0", "text 3"]  # every 3rd of 200
