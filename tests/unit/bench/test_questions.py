"""The chat benchmark's questions (rdic_ops/bench/questions.py): the shipped ten, a multi-turn transcript, and a
--questions file of any other shape refused as one UsageError naming what is wrong (the bounds of 1,000 questions
and 32 turns are in tests/unit/config/test_rules_ranges.py)."""

import pytest

from rdic_ops.bench.questions import QUESTIONS, load_questions, prompt_of
from rdic_ops.errors import UsageError


def test_ten_questions_with_unique_ids_one_of_them_multi_turn():
    assert [q["id"] for q in QUESTIONS] == [f"q{n:02d}" for n in range(1, 11)]
    assert [len(q["turns"]) for q in QUESTIONS].count(2) == 1 and all(q["turns"] for q in QUESTIONS)


def test_one_turn_is_the_question_and_the_assistant_s_cue():
    assert prompt_of({"turns": ["Was ist ein Interrupt?"]}) == "Benutzer: Was ist ein Interrupt?\nAssistent:"


def test_a_multi_turn_question_carries_the_earlier_answers():
    q = {"turns": ["Eins?", "Zwei?", "Drei?"]}
    assert prompt_of(q, ["A1", "A2"]) == ("Benutzer: Eins?\nAssistent: A1\nBenutzer: Zwei?\nAssistent: A2\n"
                                          "Benutzer: Drei?\nAssistent:")
    assert prompt_of(q) == ("Benutzer: Eins?\nAssistent: (Antwort)\nBenutzer: Zwei?\nAssistent: (Antwort)\n"
                            "Benutzer: Drei?\nAssistent:")
    assert prompt_of(q, ["", "A2"]).splitlines()[1] == "Assistent: (Antwort)"


def test_a_good_file_reads(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("- id: a\n  turns: ['Hallo?']\n- id: b\n  turns:\n    - Eins?\n    - Zwei?\n")
    assert load_questions(str(path)) == [{"id": "a", "turns": ["Hallo?"]}, {"id": "b", "turns": ["Eins?", "Zwei?"]}]


@pytest.mark.parametrize("text, words", [
    ("- id: a\n  turns: [x\n", "cannot read it as YAML (ParserError)"),
    ("id: a\n", "expected a YAML list of {id, turns: [...]}"),
    ("[]\n", "expected a YAML list"),
    ("- turns: [x]\n", "entry 1 has no id"),
    ("- id: a\n  turns: [x]\n- just text\n", "entry 2 has no id"),
    ("- id: a\n", "a: turns must be a list of non-empty strings"),
    ("- id: a\n  turns: []\n", "a: turns must be a list"),
    ("- id: a\n  turns: ['  ']\n", "a: turns must be a list"),
    ("- id: a\n  turns: [1]\n", "a: turns must be a list"),
    ("- id: a\n  turns: x\n", "a: turns must be a list"),
])
def test_every_other_shape_is_one_usage_error_naming_the_file(tmp_path, text, words):
    path = tmp_path / "q.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        load_questions(str(path))
    assert str(err.value).startswith(f"--questions {path}: ") and words in str(err.value)
