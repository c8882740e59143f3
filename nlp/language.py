"""Language identification with lingua, restricted to the configured languages.

A declared page language is only a hint: it decides when the text itself says too little (a few words) or is
split between two languages; a text that clearly reads as another language wins. Mixed or unknown text without a
usable hint is ``"und"`` with a low confidence rather than a silent guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from config.schema import ModelsConfig

DEFAULT_LANGUAGES: tuple[str, ...] = tuple(ModelsConfig().languages)
UNDETERMINED = "und"
MIN_CONFIDENCE = 0.5  # below this the top language is not trusted on its own
MIXED_SHARE = 0.7  # when the main language covers less of the text than this, the text is mixed
SHORT_WORDS = 3  # texts with fewer words lean on the hint
HINT_CONFIDENCE = 0.5  # what a hint alone is worth when the text says little
SENTENCE_END = ".!?;:\n"
MAX_CHARS = 1000  # language id reads the start of a text: enough to decide, and it keeps lingua fast
PLAIN_CONFIDENCE = 0.95  # above this no second language is looked for


def normalise(code: str | None) -> str | None:
    """'de-DE', 'en_US', 'EN' -> 'de', 'en'; None for nothing usable."""
    if not code:
        return None
    head = code.strip().lower().replace("_", "-").split("-")[0]
    return head if len(head) == 2 and head.isalpha() else None


@lru_cache(maxsize=8)
def detector(languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> LanguageDetector:
    """Build once per language set: building loads lingua's models, which is slow."""
    try:
        chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    except AttributeError as exc:
        raise ValueError(f"unknown language code in models.languages: {exc}; use ISO 639-1 codes") from exc
    if len(chosen) < 2:
        chosen.append(Language.ENGLISH if Language.ENGLISH not in chosen else Language.GERMAN)
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def identify(
    text: str, hint: str | None = None, languages: Iterable[str] = DEFAULT_LANGUAGES
) -> tuple[str, float]:
    """(ISO 639-1 code or "und", confidence 0-1) for ``text``, using ``hint`` where the text is ambiguous."""
    return identify_many([text], [hint], languages)[0]


def identify_many(
    texts: Sequence[str], hints: Sequence[str | None] | None = None, languages: Iterable[str] = DEFAULT_LANGUAGES
) -> list[tuple[str, float]]:
    """`identify` for a batch, using lingua's parallel calls (the per-text path is the same)."""
    allowed = tuple(languages)
    hints = list(hints) if hints is not None else [None] * len(texts)
    stripped = [t.strip()[:MAX_CHARS] for t in texts]
    lingua = detector(allowed)
    values = lingua.compute_language_confidence_values_in_parallel(stripped)
    # Splitting into languages is the slow call: only for texts whose language is not already plain.
    unsure = [i for i, v in enumerate(values) if v and v[0].value < PLAIN_CONFIDENCE]
    found = lingua.detect_multiple_languages_in_parallel_of([stripped[i] for i in unsure])
    parts: list[list] = [[] for _ in stripped]
    for i, sections in zip(unsure, found, strict=True):
        parts[i] = sections
    out = []
    for text, hint, ranked_values, sections in zip(stripped, hints, values, parts, strict=True):
        ranked = [(v.language.iso_code_639_1.name.lower(), v.value) for v in ranked_values]
        shares: dict[str, int] = {}
        for section in sections:
            if _whole_sentences(text, section.start_index, section.end_index):
                code = section.language.iso_code_639_1.name.lower()
                shares[code] = shares.get(code, 0) + section.end_index - section.start_index
        out.append(_decide(text, normalise(hint) if normalise(hint) in allowed else None, ranked, shares))
    return out


def _whole_sentences(text: str, start: int, end: int) -> bool:
    """lingua also splits inside a sentence on a loan word; only whole sentences make a text mixed."""
    before, inside = text[:start].rstrip(), text[start:end].rstrip()
    return (not before or before[-1] in SENTENCE_END) and (end >= len(text) or inside[-1:] in SENTENCE_END)


def _decide(text: str, hint: str | None, ranked: list[tuple[str, float]], shares: dict[str, int]) -> tuple[str, float]:
    if not ranked or not any(ch.isalpha() for ch in text):
        return (hint, HINT_CONFIDENCE) if hint else (UNDETERMINED, 0.0)
    top, top_p = ranked[0]
    by_code = dict(ranked)
    short = len(text.split()) < SHORT_WORDS
    total = sum(shares.values()) or 1
    main_share = max(shares.values(), default=total) / total
    mixed = not short and main_share < MIXED_SHARE
    if hint and (short or top_p < MIN_CONFIDENCE or (mixed and hint in shares)):
        return hint, round(max(by_code.get(hint, 0.0), HINT_CONFIDENCE), 3)
    if mixed or top_p < MIN_CONFIDENCE:
        return UNDETERMINED, round(min(top_p, main_share) * 0.5, 3)
    return top, round(top_p, 3)
