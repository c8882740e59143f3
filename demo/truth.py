"""The demo's ground truth as data: what the pipeline should recover, and how to read it back.

The truth is computed from the generated documents (never typed in), so it cannot drift from the content:
a brand's true organic NPS comes from its genuine, uninvited opinions' true 0-10 scores, in every format
together, each reviewer shown under a placeholder name counted as the person they are; the invited reviews'
true NPS is kept beside it.
Document ids are the external ids the demo sites serve, unique across all sources.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.schema import DEFAULT_PLACEHOLDERS
from nps.classes import CLASSES, nps_class, nps_from_shares, star_class

if TYPE_CHECKING:
    from demo.model import Doc

PLACEHOLDER_NAMES = {name for names in DEFAULT_PLACEHOLDERS.values() for name in names}


@dataclass
class BrandTruth:
    name: str
    true_nps: float  # from the genuine opinions' true scores: what the organic NPS should recover
    n_genuine: int
    counts: dict[str, int]  # promoter / passive / detractor among the genuine opinions
    by_source: dict[str, dict[str, float]]  # source -> {"nps", "n"} over its genuine opinions
    star_nps_all: float | None  # the star convention over every rated review, fakes included (the naive reading)
    star_nps_genuine: float | None  # the star convention over genuine rated reviews only
    n_bots: int
    n_smear: int
    n_copies: int  # genuine reviews posted again on a second site (not counted twice above)
    invited_nps: float | None = None  # over the reviews the company invited (reported apart, never in true_nps)
    n_invited: int = 0
    n_anonymous: int = 0  # genuine reviewers shown under a placeholder name: each one voice in true_nps


@dataclass
class CampaignTruth:
    entity: str
    kind: str  # "smear"
    window_start: datetime
    window_end: datetime
    member_ids: list[str]
    member_authors: list[str]
    sources: list[str]


@dataclass
class IncidentTruth:
    """A genuine burst of complaints (an outage): real customers, so it must NOT be flagged as a campaign."""

    entity: str
    reason: str
    window_start: datetime
    window_end: datetime
    member_ids: list[str]


@dataclass
class Truth:
    seed: int
    scale: float
    reference: datetime
    brands: dict[str, BrandTruth]
    bot_ids: list[str]
    campaign: CampaignTruth
    incidents: list[IncidentTruth]
    documents: list[dict[str, Any]] = field(default_factory=list)  # id, source, entity, kind, true_score, ...
    _by_id: dict[str, dict[str, Any]] | None = field(default=None, init=False, repr=False, compare=False)

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        data = {k: v for k, v in asdict(self).items() if k != "_by_id"}
        out.write_text(json.dumps(data, default=json_default, ensure_ascii=False, indent=1), encoding="utf-8")
        return out

    def lookup(self, external_id: str) -> dict[str, Any] | None:
        """The truth record of a crawled document, by the external id a spider stored.

        Spiders keep what the site gives, which is the truth's own id; a spider that keeps a review's URL
        instead (it holds the server's port) is matched by the URL's last path segment.
        """
        if self._by_id is None:
            self._by_id = {d["id"]: d for d in self.documents}
        key = str(external_id)
        return self._by_id.get(key) or self._by_id.get(re.split(r"[/#]", key.rstrip("/"))[-1])


def from_docs(docs: Iterable[Doc], seed: int, scale: float, reference: datetime) -> Truth:
    """Derive the truth from generated documents (pure: the same documents give the same truth)."""
    docs = list(docs)
    entities = sorted({d.entity for d in docs if d.entity})
    brands = {name: _brand_truth(name, [d for d in docs if d.entity == name]) for name in entities}
    smear = [d for d in docs if d.kind == "smear"]
    if not smear:
        raise ValueError("the generated content holds no smear campaign; the demo needs one")
    campaign = CampaignTruth(
        entity=smear[0].entity or "",
        kind="smear",
        window_start=min(d.published_at for d in smear),
        window_end=max(d.published_at for d in smear),
        member_ids=[d.id for d in smear],
        member_authors=[d.author.id for d in smear],
        sources=sorted({d.source for d in smear}),
    )
    incidents = []
    for entity in entities:
        members = [d for d in docs if d.incident and d.entity == entity]
        if members:
            incidents.append(IncidentTruth(
                entity=entity,
                reason=Counter(r for d in members for r in d.reasons if r.endswith("-")).most_common(1)[0][0],
                window_start=min(d.published_at for d in members),
                window_end=max(d.published_at for d in members),
                member_ids=[d.id for d in members],
            ))
    documents = [
        {"id": d.id, "source": d.source, "entity": d.entity, "kind": d.kind, "true_score": d.true_score,
         "stars": d.stars, "lang": d.lang, "author": d.author.id, "published_at": d.published_at,
         "reasons": d.reasons, "copy_of": d.copy_of, "invited": d.invited}
        for d in docs
    ]
    return Truth(seed, scale, reference, brands, [d.id for d in docs if d.kind == "bot"], campaign, incidents,
                 documents)


def _brand_truth(name: str, docs: list[Doc]) -> BrandTruth:
    genuine = [d for d in docs if d.kind == "genuine" and d.true_score is not None and d.copy_of is None
               and not d.invited]
    invited = [d.true_score for d in docs if d.invited and d.true_score is not None]
    counts = Counter(nps_class(d.true_score) for d in genuine if d.true_score is not None)
    by_source: dict[str, dict[str, float]] = {}
    for source in sorted({d.source for d in genuine}):
        scores = [d.true_score for d in genuine if d.source == source and d.true_score is not None]
        by_source[source] = {"nps": _nps(nps_class(s) for s in scores), "n": len(scores)}
    rated = [d for d in docs if d.stars is not None]
    return BrandTruth(
        name=name,
        true_nps=_nps(nps_class(d.true_score) for d in genuine if d.true_score is not None),
        n_genuine=len(genuine),
        counts={c: counts.get(c, 0) for c in CLASSES},
        by_source=by_source,
        star_nps_all=_nps(star_class(d.stars) for d in rated if d.stars) if rated else None,
        star_nps_genuine=_nps(star_class(d.stars) for d in rated
                              if d.stars and d.kind == "genuine" and d.copy_of is None and not d.invited)
        if any(d.kind == "genuine" for d in rated) else None,
        n_bots=sum(d.kind == "bot" for d in docs),
        n_smear=sum(d.kind == "smear" for d in docs),
        n_copies=sum(d.copy_of is not None for d in docs),
        invited_nps=_nps(nps_class(score) for score in invited) if invited else None,
        n_invited=len(invited),
        n_anonymous=sum(d.author.name in PLACEHOLDER_NAMES for d in genuine),
    )


def _nps(classes: Iterable[str]) -> float:
    counts = Counter(classes)
    return round(nps_from_shares([counts.get(c, 0) for c in CLASSES]), 2)


def load(path: str | Path) -> Truth:
    """Read a truth.json written by ``Truth.save`` (``onps demo generate`` writes one beside the content)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    raw["reference"] = datetime.fromisoformat(raw["reference"])
    raw["brands"] = {name: BrandTruth(**b) for name, b in raw["brands"].items()}
    camp = raw["campaign"]
    raw["campaign"] = CampaignTruth(**{**camp, "window_start": datetime.fromisoformat(camp["window_start"]),
                                       "window_end": datetime.fromisoformat(camp["window_end"])})
    raw["incidents"] = [
        IncidentTruth(**{**i, "window_start": datetime.fromisoformat(i["window_start"]),
                         "window_end": datetime.fromisoformat(i["window_end"])})
        for i in raw["incidents"]
    ]
    for d in raw["documents"]:
        d["published_at"] = datetime.fromisoformat(d["published_at"])
    return Truth(**raw)


def json_default(value: Any) -> str:
    """Dates as ISO 8601 in the JSON files (json.dumps cannot write a datetime)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
