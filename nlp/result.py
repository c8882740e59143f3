"""What the understanding stage says about one document (docs/CONTRACTS.md, ``nlp``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Polarity = Literal["positive", "negative", "neutral"]


@dataclass(frozen=True)
class ReasonHit:
    """One reason code found in a text; ``evidence`` is a verbatim substring of the text that shows it."""

    code: str
    polarity: Polarity
    evidence: str


@dataclass(frozen=True)
class Understanding:
    """Language, the derived 0-10 score with its class probabilities, and why.

    ``score`` and the probabilities combine text and native rating (when there is one and ratings are used);
    ``text_only_score`` always comes from the text alone, so both stay available downstream. ``p_levels`` are
    the five star-level probabilities (stars 1-5) the class probabilities collapse, after the rating's evidence:
    the group estimate corrects the class mix over them (nps.quantify); they are stored, not part of `onps
    score`'s output line (None where an understanding was rebuilt from a score stored without them).
    """

    lang: str
    lang_confidence: float
    score: float
    p_promoter: float
    p_passive: float
    p_detractor: float
    confidence: float
    text_only_score: float
    reasons: list[ReasonHit] = field(default_factory=list)
    touchpoint: str | None = None
    active_detractor: bool = False
    model_version: str = ""
    p_levels: tuple[float, ...] | None = None

    def to_json(self) -> dict:
        """The `onps score` output fields (the caller adds the record's ``id``)."""
        return {
            "lang": self.lang,
            "score": round(self.score, 3),
            "p_promoter": round(self.p_promoter, 4),
            "p_passive": round(self.p_passive, 4),
            "p_detractor": round(self.p_detractor, 4),
            "confidence": round(self.confidence, 4),
            "reasons": [asdict(r) for r in self.reasons],
            "text_only_score": round(self.text_only_score, 3),
            "touchpoint": self.touchpoint,
            "active_detractor": self.active_detractor,
            "model_version": self.model_version,
        }
