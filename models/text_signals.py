"""Text signals: generic praise without specifics (what an analyst recognises), and the machine-text model's input
(edge markers for its n-grams, whole-text style statistics).

The lexicon is deliberately small and English-first: it only has to tell "Great product! Love it! Highly
recommend!" from a review that names a part, a number, a person or a use; the n-gram models carry the rest.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from models.sentence_ends import SentenceEnds

# Stock words of templated praise (and of templated complaint, for smear), as seen in farm reviews; a review
# made only of these, with no number, name or concrete detail, reads as generic.
PRAISE_WORDS = frozenset(
    """great good best excellent amazing awesome love loved loves perfect wonderful fantastic nice super
    recommend recommended highly happy satisfied outstanding superb brilliant incredible quality product
    service five stars star must buy worth""".split()
)
COMPLAINT_WORDS = frozenset(
    """worst terrible horrible awful bad scam fraud waste avoid never useless poor disappointed
    disappointing garbage trash rubbish fake zero stars star money""".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+(?:[.,]\d+)?", re.UNICODE)
_NUMBER = re.compile(r"\d")
_NAMED = re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def stock_share(text: str) -> float:
    """Share of the words that are stock praise or complaint words (0 for an empty text)."""
    tokens = words(text)
    if not tokens:
        return 0.0
    stock = PRAISE_WORDS | COMPLAINT_WORDS
    return sum(t in stock for t in tokens) / len(tokens)


def specifics(text: str) -> int:
    """Concrete details: numbers and mid-sentence capitalised names (a model, a place, a person)."""
    return len(_NUMBER.findall(text or "")) + len(_NAMED.findall(text or ""))


def is_generic(text: str) -> bool:
    """Short, stock-worded and without a single concrete detail: how farm reviews read one by one."""
    tokens = words(text)
    return 0 < len(tokens) <= 30 and stock_share(text) >= 0.25 and specifics(text) == 0


def mark_edges(text: str) -> str:
    """Wrap a text in start/end markers so character n-grams see how it begins and ends.

    Generated text is often cut off mid-sentence; the end marker lets "ing \\x03" weigh against ". \\x03".
    """
    return "\x02 " + (text or "").strip() + " \x03"


# Style statistics of machine-generated text (GPT-2 era), each cheap and language-light. Generated reviews are
# cut off mid-sentence, repeat their own phrases ("the story is well told ... the story is well told"), glue
# sentences without a space ("this book.I really"), and vary sentence length less than people do. n-grams see
# some of this only locally; these statistics see the whole text.
STYLE_FEATURES: tuple[str, ...] = (
    "ends_sentence",
    "ends_function_word",
    "glued_sentences",
    "repeated_trigrams",
    "repeated_bigrams",
    "repeated_nearby_words",
    "type_token_ratio",
    "log_chars",
    "log_words",
    "mean_sentence_words",
    "sd_sentence_words",
    "sentences",
    "double_spaces",
    "newlines",
    "digit_share",
    "upper_share",
    "commas",
    "exclamations",
    "questions",
    "quotes",
    "parentheses",
    "starts_lowercase",
    "mean_word_length",
)
FUNCTION_WORDS = frozenset(
    "the a an to and of for with but that it is in on at as by from or so this my i was be have has if not no".split()
)
_TOKEN = re.compile(r"[A-Za-z']+|\d+")
_GLUED = re.compile(r"[a-z][.!?][A-Z]")
_SENTENCE_END = re.compile(r"[.!?]+\s*")
NEARBY = 3


def _repeated_share(grams: list[tuple[str, ...]]) -> float:
    counts = Counter(grams)
    return sum(c for c in counts.values() if c > 1) / max(len(grams), 1)


def style_vector(text: str) -> list[float]:
    """One text's STYLE_FEATURES, in that order (rates are per word or per character, so length is separate)."""
    text = text or ""
    stripped = text.rstrip()
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    n = max(len(tokens), 1)
    nearby = sum(
        1 for i, token in enumerate(tokens) if token not in FUNCTION_WORDS and token in tokens[i + 1 : i + 1 + NEARBY]
    )
    lengths = [len(_TOKEN.findall(s)) for s in _SENTENCE_END.split(stripped) if s.strip()] or [0]
    chars = max(len(text), 1)
    return [
        float(stripped[-1:] in ".!?)\"'"),
        float(bool(tokens) and tokens[-1] in FUNCTION_WORDS),
        float(len(_GLUED.findall(text))),
        _repeated_share(list(zip(tokens, tokens[1:], tokens[2:], strict=False))),
        _repeated_share(list(zip(tokens, tokens[1:], strict=False))),
        nearby / n,
        len(set(tokens)) / n,
        math.log1p(len(text)),
        math.log1p(len(tokens)),
        float(np.mean(lengths)),
        float(np.std(lengths)),
        float(len(lengths)),
        text.count("  ") / n,
        text.count("\n") / n,
        sum(c.isdigit() for c in text) / chars,
        sum(c.isupper() for c in text) / chars,
        text.count(",") / n,
        text.count("!") / n,
        text.count("?") / n,
        text.count('"') / n,
        text.count("(") / n,
        float(text[:1].islower()),
        float(np.mean([len(t) for t in tokens])) if tokens else 0.0,
    ]


def style_features(texts: Sequence[str]) -> np.ndarray:
    """len(texts) x len(STYLE_FEATURES) matrix of `style_vector`."""
    return np.array([style_vector(t) for t in texts], dtype=float).reshape(len(texts), len(STYLE_FEATURES))


# When a machine-text verdict is worth a sign an analyst can check by reading the review: a last word pair after
# which people end fewer than 2% of sentences, a tenth of the word triples repeated, one glued sentence.
CUT_OFF_RATE = 0.02
REPEATED_SHARE = 0.1
_QUOTE_WORDS = 4


def machine_signs(text: str, ends: SentenceEnds | None = None) -> list[str]:
    """What in this text looks machine-written, in words: where it stops, what it repeats, how it joins sentences.

    The machine-text model's verdict is one log-odds; these are the readable parts of its input (style
    statistics and, given the reference, sentence-end rates), so the evidence says what to look at."""
    values = dict(zip(STYLE_FEATURES, style_vector(text), strict=True))
    signs = []
    if not values["ends_sentence"]:
        cut = ends.rates(text)[1] < math.log(CUT_OFF_RATE) if ends else bool(values["ends_function_word"])
        if cut:
            tail = " ".join((text or "").split()[-_QUOTE_WORDS:])
            signs.append(f'stops mid-sentence ("...{tail}")')
    if values["repeated_trigrams"] >= REPEATED_SHARE:
        signs.append("repeats its own phrases")
    if values["glued_sentences"]:
        signs.append("runs sentences together without a space")
    return signs
