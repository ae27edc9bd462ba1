"""The bundled parity sample (rdic_ops/embeddings/sample.py): German and English technical texts, distinct,
no more than one parity check takes."""

from rdic_ops.embeddings.parity import SAMPLE_SIZE
from rdic_ops.embeddings.sample import SAMPLE


def test_the_sample_is_distinct_non_empty_text_within_one_check():
    assert 16 <= len(SAMPLE) <= SAMPLE_SIZE
    assert len(set(SAMPLE)) == len(SAMPLE) and all(isinstance(t, str) and t.strip() == t and t for t in SAMPLE)


def test_the_sample_is_in_both_languages_with_umlauts():
    german = [t for t in SAMPLE if any(w in t.split() for w in ("der", "die", "ein", "Ein", "Die", "Der", "ist"))]
    english = [t for t in SAMPLE if any(w in t.split() for w in ("the", "a", "A", "The", "is"))]
    assert len(german) >= 8 and len(english) >= 8 and any(c in "".join(SAMPLE) for c in "äöüß")
