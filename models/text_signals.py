"""Text signals a reputation analyst recognises: generic praise without specifics, and the text model's input.

The lexicon is deliberately small and English-first: it only has to tell "Great product! Love it! Highly
recommend!" from a review that names a part, a number, a person or a use; the n-gram models carry the rest.
"""

from __future__ import annotations

import re

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
