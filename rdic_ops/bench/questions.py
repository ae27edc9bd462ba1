"""Ten German PLC questions: the five the RTX 3060 laptop's chat benchmark asked, five more in their spirit (one
multi-turn)."""

QUESTIONS = [
    {"id": "q01", "turns": ["Was ist der Unterschied zwischen ST und FBD in der SPS-Programmierung?"]},
    {"id": "q02", "turns": ["Erkläre mir die Funktion eines Timers in TIA Portal."]},
    {"id": "q03", "turns": ["Welche Datentypen gibt es in SCL?"]},
    {"id": "q04", "turns": ["Wie funktioniert ein Analogwerteingang?"]},
    {"id": "q05", "turns": ["Was ist ein Interrupt in der SPS?"]},
    {"id": "q06", "turns": ["Wie skaliere ich einen 4-20-mA-Rohwert mit NORM_X und SCALE_X?"]},
    {"id": "q07", "turns": ["Wann nehme ich einen Funktionsbaustein (FB) statt einer Funktion (FC)?"]},
    {"id": "q08", "turns": ["Wie erkenne ich eine steigende Flanke in SCL?"]},
    {"id": "q09", "turns": ["Was bedeutet ein Eintrag 'Zykluszeit überschritten' im Diagnosepuffer, und was tue ich?"]},
    {
        "id": "q10",
        "turns": [
            "Ich möchte eine Pumpe mit einem Taster starten und stoppen.",
            "Wie verriegele ich das zusätzlich mit einem Not-Halt?",
        ],
    },
]


def messages_of(q: dict, answers: list[str] | None = None) -> list[dict]:
    """The question as chat messages; a multi-turn question carries the earlier turns (with their answers)."""
    out: list[dict] = []
    for i, turn in enumerate(q["turns"]):
        out.append({"role": "user", "content": turn})
        if i < len(q["turns"]) - 1:
            out.append({"role": "assistant", "content": (answers or [""] * len(q["turns"]))[i] or "(Antwort)"})
    return out


def prompt_of(q: dict, answers: list[str] | None = None) -> str:
    """A plain chat transcript of messages_of (for a model without a chat template: a base model)."""
    speaker = {"user": "Benutzer", "assistant": "Assistent"}
    lines = [f"{speaker[m['role']]}: {m['content']}" for m in messages_of(q, answers)]
    lines.append("Assistent:")
    return "\n".join(lines)


# A file's numbers: questions and turns each. Every question is asked runs x models times (after a warm-up),
# so 1,000 questions at 100 runs are already 100,000 generations per model; a turn beyond 32 is no chat.
MAX_QUESTIONS, MAX_TURNS = 1_000, 32


def load_questions(path: str) -> list[dict]:
    """A YAML list of {id, turns: [text, ...]}; every other shape is a UsageError naming the problem."""
    import yaml

    from rdic_ops.config import yamlguard
    from rdic_ops.errors import UsageError
    from rdic_ops.fsutil import MAX_QUESTIONS_BYTES, read_user_text

    text = read_user_text(path, "--questions", MAX_QUESTIONS_BYTES)  # a regular file, bounded, never blocking
    try:
        data = yamlguard.load(path, text)  # aliases bounded: a ConfigError naming the file and line
    except yaml.YAMLError as exc:
        raise UsageError(f"--questions {path}: cannot read it as YAML ({type(exc).__name__})") from None
    if not isinstance(data, list) or not data:
        raise UsageError(f"--questions {path}: expected a YAML list of {{id, turns: [...]}}")
    if len(data) > MAX_QUESTIONS:
        raise UsageError(f"--questions {path}: {len(data)} questions: at most {MAX_QUESTIONS}")
    for n, q in enumerate(data, 1):
        turns = q.get("turns") if isinstance(q, dict) else None
        if not isinstance(q, dict) or "id" not in q:
            raise UsageError(f"--questions {path}: entry {n} has no id")
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
            raise UsageError(f"--questions {path}: {q['id']}: turns must be a list of non-empty strings")
        if len(turns) > MAX_TURNS:
            raise UsageError(f"--questions {path}: {q['id']}: {len(turns)} turns: at most {MAX_TURNS}")
    return data
