"""Reason codes with polarity and evidence, the touchpoint, and active detractors, from ``data/reasons.toml``.

Per language a blank spaCy pipeline with a sentencizer and token Matchers built from the word lists (one regular
expression per label for the wildcard terms, one set lookup for the plain ones, so matching stays fast). A reason's
polarity comes from the nearest polarity cue in its sentence (flipped by a negator just before the cue); where the
sentence has no cue, from ``sentence_polarity`` (the scorer's judgement of that sentence) when given.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.attrs import LOWER
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from nlp.result import Polarity, ReasonHit

DATA = Path(__file__).resolve().parent / "data" / "reasons.toml"
# employees' reason codes (pay_benefits, management, ...) and warnings; polarity cues come from DATA for both
EMPLOYEE_DATA = Path(__file__).resolve().parent / "data" / "employee_reasons.toml"
CUE_WINDOW = 6  # tokens between a reason term and the cue that qualifies it
NEGATION_WINDOW = 3  # tokens before a cue in which a negator flips it
EVIDENCE_TOKENS = 12  # tokens each side of the term kept when a sentence is too long to quote whole
MAX_EVIDENCE_CHARS = 200
MIN_CLAUSE_TOKENS = 3  # a shorter clause is quoted with its whole sentence
SENTENCE_POLARITY_MIN = 0.25  # |sentence polarity| below this stays neutral

SentencePolarity = Callable[[list[str]], list[float]]


@lru_cache(maxsize=2)
def taxonomy(path: Path = DATA) -> dict:
    """A parsed data file (reason codes, touchpoints, active-detractor phrases); the polarity cues are always
    those of DATA, the one list of them."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    if path != DATA:
        data = {"touchpoints": {}, **data, "polarity": taxonomy(DATA)["polarity"]}
    return data


def reason_codes(path: Path = DATA) -> list[str]:
    return list(taxonomy(path)["reasons"])


def languages() -> list[str]:
    return sorted({lang for entry in taxonomy()["reasons"].values() for lang in entry if lang != "label"})


@dataclass
class TextSignals:
    """Everything the word lists say about one text."""

    reasons: list[ReasonHit] = field(default_factory=list)
    touchpoint: str | None = None
    warns_others: bool = False


def _token_spec(piece: str) -> dict:
    if piece.endswith("*") and len(piece) > 1:
        return {"LOWER": {"REGEX": "^" + re.escape(piece[:-1].lower())}}
    if piece.startswith("*") and len(piece) > 1:
        return {"LOWER": {"REGEX": re.escape(piece[1:].lower()) + "$"}}
    return {"LOWER": piece.lower()}


@dataclass
class _Terms:
    """One label's terms: multi-token patterns for the spaCy Matcher, single tokens as a set and one regex."""

    multi: list[list[dict]]
    plain: set[str]
    wild: re.Pattern | None


def _patterns(nlp: Language, terms: Sequence[str]) -> _Terms:
    plain, wild, multi = set(), [], []
    for term in terms:
        tokens: list[dict] = []
        for piece in term.split():
            if "*" in piece:
                tokens.append(_token_spec(piece))
            else:
                tokens += [{"LOWER": t.lower_} for t in nlp.make_doc(piece)]
        if len(tokens) > 1:
            multi.append(tokens)
        elif "REGEX" in str(tokens[0]["LOWER"]):
            wild.append(tokens[0]["LOWER"]["REGEX"])
        else:
            plain.add(tokens[0]["LOWER"])
    return _Terms(multi, plain, re.compile("|".join(f"(?:{w})" for w in wild)) if wild else None)


class _LanguageLists:
    """The word lists of one language (or of all lists at once, for text in an unlisted language).

    Single-token terms (most of them) are looked up per distinct lower-cased word and the answer is cached by the
    word's hash: a text costs one dict lookup per token instead of every label's predicates per token (what made
    the spaCy Matcher the scorer's slowest step). Multi-token terms go through a PhraseMatcher (hash lookups),
    the few with a wildcard through a Matcher."""

    def __init__(self, lang: str, path: Path = DATA) -> None:
        data = taxonomy(path)
        self.nlp = spacy.blank(lang if lang in languages() else "xx")
        self.nlp.add_pipe("sentencizer")
        wanted = [lang] if lang in languages() else languages()

        def terms(entry: dict) -> list[str]:
            return [t for code in wanted for t in entry.get(code, [])]

        # Labels "reason:price", "touch:delivery", "warn", "cue:negators", ...: one pass over each text for all.
        lists = {f"reason:{code}": terms(entry) for code, entry in data["reasons"].items()}
        for name, entry in data["touchpoints"].items():
            borrowed = [t for code in entry.get("reasons", []) for t in terms(data["reasons"][code])]
            lists[f"touch:{name}"] = borrowed + terms(entry)
        lists["warn"] = terms(data["active_detractor"])
        for label in ("positive", "negative", "negators", "contrast"):
            lists[f"cue:{label}"] = terms(data["polarity"][label])
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.matcher = Matcher(self.nlp.vocab)
        self.single: list[tuple[str, _Terms]] = []
        for label, words in lists.items():
            found = _patterns(self.nlp, words)
            literal = [p for p in found.multi if all(isinstance(t["LOWER"], str) for t in p)]
            if literal:
                self.phrases.add(label, [Doc(self.nlp.vocab, words=[t["LOWER"] for t in p]) for p in literal])
            if wildcard := [p for p in found.multi if p not in literal]:
                self.matcher.add(label, wildcard)
            self.single.append((label, found))
        self._words: dict[int, tuple[str, ...]] = {}
        self.rank = {label: i for i, label in enumerate(lists)}  # ties in text order: the lists' order

    def _labels(self, key: int) -> tuple[str, ...]:
        """The labels whose single-token terms match the word with LOWER hash ``key`` (cached)."""
        labels = self._words.get(key)
        if labels is None:
            word = self.nlp.vocab.strings[key]
            labels = tuple(label for label, t in self.single
                           if word in t.plain or (t.wild is not None and t.wild.search(word)))
            self._words[key] = labels
        return labels

    def matches(self, doc: Doc) -> list[tuple[str, int, int]]:
        """(label, start, end) of every list's matches, in text order."""
        strings = self.nlp.vocab.strings
        found = {(label, i, i + 1) for i, key in enumerate(doc.to_array(LOWER).tolist()) for label in self._labels(key)}
        found.update((strings[k], s, e) for k, s, e in self.phrases(doc))
        if len(self.matcher):
            found.update((strings[k], s, e) for k, s, e in self.matcher(doc))
        return sorted(found, key=lambda m: (m[1], -m[2], self.rank[m[0]]))

    def signals(self, doc: Doc, found: list[tuple[str, int, int]]) -> tuple[TextSignals, list[tuple[int, str]]]:
        """The text's signals, and (hit index, sentence) of each reason without a polarity cue: those are
        "neutral" until `analyse` asks ``sentence_polarity`` about their sentences, all in one batch."""
        negators = {s for label, s, _ in found if label == "cue:negators"}
        contrast = {i for label, s, e in found if label == "cue:contrast" for i in range(s, e)}
        polar = [(label[4:], s, e) for label, s, e in found if label in ("cue:positive", "cue:negative")]

        def breaks(i: int) -> bool:
            return i in contrast or (doc[i].is_punct and doc[i].text not in "'’-")

        hits: list[ReasonHit] = []
        seen, uncued = set(), []
        for label, start, end in found:
            if not label.startswith("reason:"):
                continue
            code, sent = label[7:], doc[start].sent
            if (code, sent.start) in seen:
                continue
            seen.add((code, sent.start))
            clause = _clause(breaks, start, end, sent)
            polarity = _nearest_cue(polar, negators, clause, start, end)
            if polarity is None:
                uncued.append((len(hits), sent.text.strip()))
            quoted = doc[clause[0] : clause[1]] if clause[1] - clause[0] >= MIN_CLAUSE_TOKENS else sent
            hits.append(ReasonHit(code, polarity or "neutral", _evidence(doc, quoted, start, end)))
        touched: Counter[str] = Counter()
        first: dict[str, int] = {}
        reach: dict[str, int] = {}
        for label, s, e in found:
            if label.startswith("touch:") and s >= reach.get(label, 0):  # overlaps of one touchpoint count once
                touched[label[6:]] += 1
                first.setdefault(label[6:], s)
                reach[label] = e
        touchpoint = min(touched, key=lambda n: (-touched[n], first[n])) if touched else None
        return TextSignals(hits, touchpoint, any(label == "warn" for label, _, _ in found)), uncued


def _clause(breaks: Callable[[int], bool], start: int, end: int, sent: Span) -> tuple[int, int]:
    """Token range of the clause around a term: the sentence cut at punctuation and at contrast words."""
    left, right = start, end
    while left > sent.start and not breaks(left - 1):
        left -= 1
    while right < sent.end and not breaks(right):
        right += 1
    return left, right


def _nearest_cue(
    cues: list[tuple[str, int, int]], negators: set[int], clause: tuple[int, int], start: int, end: int
) -> Polarity | None:
    """Polarity of the closest cue in the clause (ties: the one after the term, as in "X was good")."""
    best: tuple[int, int, str, int] | None = None
    for label, cue_start, cue_end in cues:
        if cue_start < clause[0] or cue_end > clause[1]:
            continue
        gap = max(0, cue_start - end + 1, start - cue_end + 1)
        rank = (gap, 0 if cue_start >= start else 1, label, cue_start)
        if gap <= CUE_WINDOW and (best is None or rank < best):
            best = rank
    if best is None:
        return None
    _, _, label, cue_start = best
    negated = any(i in negators for i in range(max(clause[0], cue_start - NEGATION_WINDOW), cue_start))
    positive = (label == "positive") != negated
    return "positive" if positive else "negative"


def _sign(value: float) -> Polarity:
    if value >= SENTENCE_POLARITY_MIN:
        return "positive"
    if value <= -SENTENCE_POLARITY_MIN:
        return "negative"
    return "neutral"


def _evidence(doc: Doc, sent: Span, start: int, end: int) -> str:
    """The clause (or sentence), cut to a window around the term when long: always a verbatim slice of the text."""
    if len(sent.text) > MAX_EVIDENCE_CHARS:
        sent = doc[max(sent.start, start - EVIDENCE_TOKENS) : min(sent.end, end + EVIDENCE_TOKENS)]
    return sent.text.strip()


@lru_cache(maxsize=32)
def _lists(lang: str, path: Path = DATA) -> _LanguageLists:
    return _LanguageLists(lang, path)


def analyse(
    texts: Sequence[str], langs: Sequence[str], sentence_polarity: SentencePolarity | None = None,
    path: Path = DATA,
) -> list[TextSignals]:
    """Reasons, touchpoint and warnings for a batch; each language's texts go through ``nlp.pipe`` together.
    PATH: the taxonomy (DATA for customers, EMPLOYEE_DATA for employees)."""
    out: list[TextSignals | None] = [None] * len(texts)
    pending: dict[int, list[tuple[int, str]]] = {}
    by_lang: dict[str, list[int]] = {}
    for i, lang in enumerate(langs):
        by_lang.setdefault(lang, []).append(i)
    for lang, rows in by_lang.items():
        lists = _lists(lang, path)
        for i, doc in zip(rows, lists.nlp.pipe(texts[i] for i in rows), strict=True):
            out[i], pending[i] = lists.signals(doc, lists.matches(doc))
    if sentence_polarity is not None:
        sentences = list(dict.fromkeys(sentence for waiting in pending.values() for _, sentence in waiting))
        polarity = dict(zip(sentences, sentence_polarity(sentences), strict=True)) if sentences else {}
        for i, waiting in pending.items():
            signals = out[i]
            assert signals is not None, "every pending text was analysed above"
            hits = signals.reasons
            for k, sentence in waiting:
                hits[k] = replace(hits[k], polarity=_sign(polarity[sentence]))
    return [signals for signals in out if signals is not None]


def find_reasons(text: str, lang: str) -> list[ReasonHit]:
    return analyse([text], [lang])[0].reasons


def touchpoint(text: str, lang: str) -> str | None:
    """The touchpoint most talked about (ties: the first mentioned); None when the text names none."""
    return analyse([text], [lang])[0].touchpoint


def is_active_detractor(text: str, lang: str) -> bool:
    """Whether the text warns others away ("stay away", "finger weg"): the phrase alone, not the score."""
    return analyse([text], [lang])[0].warns_others
