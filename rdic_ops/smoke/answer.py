"""Does the chat model answer? A fixed question with a known short answer, and a judge of the reply.

A model that loads and emits tokens can still be useless (wrong file, broken template, random weights):
the judge passes only a reply that is readable text and contains the known answer as a word. Noise fails,
and so does a fluent reply without the answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rdic_ops.config.schema import KnownAnswerSpec, RootConfig
from rdic_ops.runtime.base import Generation

# Characters a reply in any language is made of: letters, marks, digits, spaces, punctuation, symbols.
_TEXT_CATEGORIES = ("L", "M", "N", "Z", "P", "S")


@dataclass
class Verdict:
    ok: bool
    reason: str


def _fold(text: str) -> str:
    """Casefolded, accents removed: 'PARÍS' and 'París' compare equal to 'paris'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _preview(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def garbage_reason(reply: str) -> str | None:
    """Why ``reply`` is not readable text, or None when it is."""
    visible = [ch for ch in reply if not ch.isspace()]
    if not visible:
        return "empty reply"
    bad = [
        ch
        for ch in reply
        if ch == "\ufffd" or (unicodedata.category(ch)[0] not in _TEXT_CATEGORIES and ch not in "\n\t\r")
    ]
    if bad:
        return f"{len(bad)} undecodable or control character(s)"
    letters = sum(1 for ch in visible if unicodedata.category(ch)[0] == "L")
    if letters < 0.5 * len(visible):
        return f"only {letters} of {len(visible)} visible characters are letters"
    return None


def judge(reply: str, expected: str) -> Verdict:
    """Pass a readable reply that contains ``expected`` as a whole word (case and accents ignored)."""
    why = garbage_reason(reply)
    if why:
        return Verdict(False, f"not an answer ({why}): {_preview(reply)}")
    want = _fold(expected.strip())
    if not want:
        raise ValueError("the known answer is empty")
    if not contains_word(_fold(reply), want):
        return Verdict(False, f"reply {_preview(reply)} does not contain the known answer {expected!r}")
    return Verdict(True, f"answered {_preview(reply)}")


_UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def _unspaced(ch: str) -> bool:
    """Scripts that write words (and particles) without spaces: there a word boundary is not a space."""
    return unicodedata.name(ch, "").startswith(_UNSPACED)


def contains_word(text: str, word: str) -> bool:
    """``word`` in ``text``, not as part of a longer word ('Paris' is not in 'Parisian'; '東京' is in '東京です')."""
    for m in re.finditer(re.escape(word), text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if all(
            not ch.isalnum() or _unspaced(ch) or _unspaced(edge) for ch, edge in ((before, word[0]), (after, word[-1]))
        ):
            return True
    return False


def ask(cfg: RootConfig, runtime, tag: str, num_ctx: int, known: KnownAnswerSpec) -> tuple[Verdict, Generation]:
    """Ask the env's chat model the known question through its runtime; the judge's verdict and the timing."""
    gen = runtime.chat(tag, [{"role": "user", "content": known.question}], num_ctx=num_ctx, max_tokens=known.max_tokens)
    verdict = judge(gen.text, known.answer)
    budget = cfg.env.latency_budget_s
    if verdict.ok and gen.total_s > budget:
        verdict = Verdict(False, f"{verdict.reason}, but in {gen.total_s:.1f} s (budget {budget:g} s)")
    return verdict, gen
