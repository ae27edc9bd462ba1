"""Ten German PLC questions: the five from the first seed, five more in its spirit (one multi-turn)."""

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
    {"id": "q10", "turns": ["Ich möchte eine Pumpe mit einem Taster starten und stoppen.",
                            "Wie verriegele ich das zusätzlich mit einem Not-Halt?"]},
]


def prompt_of(q: dict, answers: list[str] | None = None) -> str:
    """A plain chat transcript; a multi-turn question carries the earlier turns (with their answers)."""
    lines = []
    for i, turn in enumerate(q["turns"]):
        lines.append(f"Benutzer: {turn}")
        if i < len(q["turns"]) - 1:
            lines.append(f"Assistent: {(answers or [''] * 9)[i] or '(Antwort)'}")
    lines.append("Assistent:")
    return "\n".join(lines)
