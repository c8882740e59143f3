"""The organic NPS of groups of documents: organic rules, class-mix correction, interval, plain counts.

Organic (../shared/DESIGN.md) means: bots and campaign members out, syndicated copies once, one voice per author
per entity per window. Every excluded document is counted under the first rule that removed it, so
``n + sum(excluded)`` accounts for every input row of a group (undated rows belong to no window; `exclusion`
counts them). The class shares come from the scorer's
probabilities, EM-adjusted to the group's own mix (nps.quantify), never from hard thresholds: over the five star
levels where every row of the group carries them (``p_levels``) and the scorer gave its level prior, else over the
three classes (scores stored before levels were kept); ``adjustment`` says which.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import beta

from nps.classes import DETRACTOR, PASSIVE, PROMOTER
from nps.interval import LEVEL, Interval, nps_interval
from nps.quantify import EM_MIN_PSEUDO_VOICES, EM_PRIOR_WEIGHT, em_level_adjust, em_prior_adjust
from nps.windows import parse_time, window_spans

PROB_KEYS = ("p_promoter", "p_passive", "p_detractor")
LEVELS_KEY = "p_levels"  # the scorer's five star-level probabilities (stars 1-5), where the row carries them
REASON_FIELD = "reason"  # grouping by reason code puts a document in one group per code it carries
EXCLUSION_ORDER = ("bot", "campaign", "syndicated", "no_date", "repeat_author")
_MAP = (f"MAP with a training-mix prior worth {EM_PRIOR_WEIGHT:.0%} of the voices, at least "
        f"{EM_MIN_PSEUDO_VOICES:g}")
ADJUSTED = f"em-prior over the 5 star levels (Saerens et al. 2002; {_MAP})"
ADJUSTED_CLASSES = (f"em-prior over the 3 classes (Saerens et al. 2002; {_MAP}; some scores carry no star "
                    "levels or the scorer gave no level prior)")
UNADJUSTED = "none (the scorer gave no training prior)"


class Thresholds:
    """What ``estimate_groups`` needs from ``config.schema.ThresholdsConfig`` (any object with the two fields)."""

    dirichlet_below_n: int
    thin_segment_n: int


@dataclass
class Estimate:
    """One group's organic NPS; ``to_dict`` is the `onps estimate` output line (docs/CONTRACTS.md)."""

    group: dict[str, Any]
    window: str | None
    window_start: datetime | None
    window_end: datetime | None
    n: float
    nps: float
    low: float
    high: float
    promoters: float
    passives: float
    detractors: float
    excluded: dict[str, int]
    method: str
    adjustment: str
    active_detractors: float
    active_share: tuple[float, float, float]  # share of detractors warning others, with its interval
    wom: Interval
    reasons: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def r(x: float) -> float:
            return round(float(x), 2)

        return {
            "group": self.group,
            "window": None
            if self.window is None
            else {
                "kind": self.window,
                "start": self.window_start.isoformat() if self.window_start else None,
                "end": self.window_end.isoformat() if self.window_end else None,
            },
            "n": r(self.n),
            "nps": r(self.nps),
            "low": r(self.low),
            "high": r(self.high),
            "promoters": r(self.promoters),
            "passives": r(self.passives),
            "detractors": r(self.detractors),
            "excluded": dict(self.excluded),
            "method": self.method,
            "adjustment": self.adjustment,
            "detractor_split": {
                "active": r(self.active_detractors),
                "passive": r(self.detractors - self.active_detractors),
                "active_share": r(self.active_share[0]),
                "low": r(self.active_share[1]),
                "high": r(self.active_share[2]),
            },
            "wom": {"index": r(self.wom.nps), "low": r(self.wom.low), "high": r(self.wom.high),
                    "method": self.wom.method},
            "reasons": self.reasons,
        }


def segment_key(group: Mapping[str, Any]) -> str:
    """Canonical ``k=v;k=v`` text of a group (sorted keys): the store's ``segment_key`` and alert causes."""
    return ";".join(f"{k}={'' if v is None else v}" for k, v in sorted(group.items()))


def content_hash(row: Mapping[str, Any]) -> str:
    """The row's stored content hash, else a hash of its case- and space-normalised text (syndicated copies)."""
    stored = row.get("content_hash")
    if stored:
        return str(stored)
    text = re.sub(r"\s+", " ", f"{row.get('title') or ''} {row.get('text') or ''}").strip().casefold()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reason_codes(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code, polarity) pairs of a row; reasons may be dicts (nlp ReasonHit as dict) or bare codes."""
    found = []
    for reason in row.get("reasons") or []:
        if isinstance(reason, Mapping):
            found.append((str(reason["code"]), str(reason.get("polarity") or "negative")))
        else:
            found.append((str(getattr(reason, "code", reason)), str(getattr(reason, "polarity", "negative"))))
    return list(dict.fromkeys(found))


def _group_values(row: Mapping[str, Any], by: Sequence[str]) -> list[tuple[Any, ...]]:
    if REASON_FIELD not in by:
        return [tuple(row.get(key) for key in by)]
    codes = sorted({code for code, _ in reason_codes(row)}) or [None]
    return [tuple(code if key == REASON_FIELD else row.get(key) for key in by) for code in codes]


def _spans(row: Mapping[str, Any], window: str | None) -> list[tuple[datetime | None, datetime | None]]:
    if window is None:
        return [(None, None)]
    return list(window_spans(parse_time(row["published_at"]), window))


def _prob_matrix(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """(n, 3) class probabilities of ROWS, each row normalised; a bad row is an error that names it."""
    values = []
    for row in rows:
        try:
            values.append([float(row[key]) for key in PROB_KEYS])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"row {row.get('id')!r} lacks class probabilities {PROB_KEYS}: {exc}") from exc
    return _normalised(rows, np.array(values, dtype=float).reshape(-1, 3), "class probabilities")


def _level_matrix(rows: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
    """(n, 5) star-level probabilities of ROWS, or None when any row has none (a score stored before levels
    were kept): one group is adjusted one way."""
    if any(row.get(LEVELS_KEY) is None for row in rows):
        return None
    try:
        probs = np.array([[float(x) for x in row[LEVELS_KEY]] for row in rows], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{LEVELS_KEY} must be 5 numbers per row (stars 1-5): {exc}") from exc
    if probs.ndim != 2 or probs.shape[1] != 5:
        raise ValueError(f"{LEVELS_KEY} must be 5 numbers per row (stars 1-5), got shape {probs.shape}")
    return _normalised(rows, probs, LEVELS_KEY)


def _normalised(rows: Sequence[Mapping[str, Any]], probs: np.ndarray, what: str) -> np.ndarray:
    bad = (probs < 0).any(axis=1) | ~np.isclose(probs.sum(axis=1), 1.0, atol=1e-3)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"row {rows[first].get('id')!r}: {what} must be >= 0 and sum to 1, got {probs[first]}")
    return probs / probs.sum(axis=1, keepdims=True)


def exclusion(rows: Sequence[Mapping[str, Any]], window: str | None) -> list[str | None]:
    """The organic rule that removes each row (None: kept), before the one-voice rule, which needs groups.

    Syndicated copies: among the rows of one entity that survive the bot and campaign rules, the earliest copy
    of a content hash stays, so the kept copy does not depend on input order.
    """
    verdict: list[str | None] = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].get("published_at") or "~"), str(rows[i].get("id"))))
    seen: set[tuple[Any, str]] = set()
    for i in order:
        row = rows[i]
        if row.get("bot"):
            verdict[i] = "bot"
        elif row.get("campaign"):
            verdict[i] = "campaign"
        elif (row.get("entity"), content_hash(row)) in seen:
            verdict[i] = "syndicated"
        elif window is not None and not row.get("published_at"):
            verdict[i] = "no_date"
        else:
            seen.add((row.get("entity"), content_hash(row)))
    return verdict


@dataclass
class _Voice:
    probs: np.ndarray
    levels: np.ndarray | None
    active: float
    reasons: list[tuple[str, str]]
    model_error: float


def _voices(rows: Iterable[Mapping[str, Any]], model_se: float = 0.0) -> tuple[list[_Voice], int]:
    """One voice per author per entity: the mean of that author's probabilities. Returns voices and repeats.

    A row's ``model_error`` (NPS points) is the scorer's measured group error for the path that scored it
    (text only, or with a rating); rows without one take MODEL_SE."""
    rows = list(rows)
    probs, levels = _prob_matrix(rows), _level_matrix(rows)
    by_author: dict[tuple[Any, Any], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        author = row.get("author")
        if author in (None, ""):
            author = ("anonymous", i)  # no author id: each document is its own voice
        by_author[(row.get("entity"), author)].append(i)
    voices = []
    for members in by_author.values():
        voices.append(
            _Voice(
                probs=probs[members].mean(axis=0),
                levels=None if levels is None else levels[members].mean(axis=0),
                active=sum(float(rows[i].get("active_detractor") or 0.0) for i in members) / len(members),
                reasons=list(dict.fromkeys(c for i in members for c in reason_codes(rows[i]))),
                model_error=float(np.mean([float(rows[i].get("model_error", model_se)) for i in members])),
            )
        )
    return voices, len(rows) - len(voices)


@dataclass(frozen=True)
class _Priors:
    """What the scorer was trained under: its class mix and, where its card gives it, its star-level mix."""

    classes: Sequence[float] | None
    levels: Sequence[float] | None = None


def _shares(voices: Sequence[_Voice], priors: _Priors) -> tuple[np.ndarray, str]:
    """Per-voice class posteriors under the group's own mix (EM over levels where every voice has them, else
    over classes), or as given without a training prior; and the adjustment used."""
    if priors.levels is not None and all(v.levels is not None for v in voices):
        return em_level_adjust(np.array([v.levels for v in voices]), priors.levels).posteriors, ADJUSTED
    probs = np.array([v.probs for v in voices])
    if priors.classes is None:
        return probs, UNADJUSTED
    return em_prior_adjust(probs, priors.classes).posteriors, ADJUSTED_CLASSES


def _active_share(active: float, detractors: float, level: float = LEVEL) -> tuple[float, float, float]:
    """Share of detractors who warn others, with a Jeffreys (Beta(1/2, 1/2) posterior) interval."""
    if detractors <= 0:
        return 0.0, 0.0, 1.0
    tail = (1 - level) / 2
    a, b = active + 0.5, detractors - active + 0.5
    return active / detractors, float(beta.ppf(tail, a, b)), float(beta.ppf(1 - tail, a, b))


def _reason_summary(voices: Sequence[_Voice], posteriors: np.ndarray) -> dict[str, dict[str, float]]:
    """Mentions of each reason code, and the expected number of detractors and promoters mentioning it."""
    summary: dict[str, dict[str, float]] = {}
    for voice, post in zip(voices, posteriors, strict=True):
        for code, polarity in voice.reasons:
            entry = summary.setdefault(code, {"mentions": 0, "negative": 0, "detractors": 0.0, "promoters": 0.0})
            entry["mentions"] += 1
            entry["negative"] += polarity == "negative"
            entry["detractors"] += float(post[DETRACTOR])
            entry["promoters"] += float(post[PROMOTER])
    ranked = sorted(summary.items(), key=lambda kv: -kv[1]["detractors"])
    return {code: {k: round(v, 3) for k, v in entry.items()} for code, entry in ranked}


def estimate_groups(
    rows: Sequence[Mapping[str, Any]],
    by: Sequence[str],
    window: str | None,
    thresholds: Thresholds,
    train_prior: Sequence[float] | None,
    model_se: float = 0.0,
    level_prior: Sequence[float] | None = None,
) -> list[Estimate]:
    """Organic NPS per group of BY values and WINDOW (None: all time), sorted by group then window.

    ``train_prior`` is the class mix the scorer was calibrated under (None: no class-mix correction, said in
    ``adjustment``), ``level_prior`` its star-level mix (None: EM over the three classes); ``model_se`` (NPS
    points) is the scorer's measured per-group error, added to the interval, for rows that carry no
    ``model_error`` of their own. A group's model error is the mean of its voices' (the errors of one scoring
    path are shared by the whole group, so they add linearly, not in quadrature).
    Thin groups with a parent (the same entity, or everything, in the same window) are pooled towards the
    parent's other voices, so a segment is never its own prior.
    """
    priors = _Priors(train_prior, level_prior)
    verdicts = exclusion(rows, window)
    parent_by = ["entity"] if "entity" in by else []
    cells: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
    parents: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
    excluded: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for row, verdict in zip(rows, verdicts, strict=True):
        spans = [(None, None)] if verdict == "no_date" else _spans(row, window)
        for values in _group_values(row, by):
            for span in spans:
                key = (values, span)
                if verdict is None:
                    cells[key].append(row)
                else:
                    excluded[key][verdict] += 1
        if verdict is None and list(by) != parent_by:
            for span in spans:
                parents[(tuple(row.get(k) for k in parent_by), span)].append(row)

    estimates = []
    for key in sorted(set(cells) | set(excluded), key=_sort_key):
        values, (start, end) = key
        members = cells.get(key, [])
        counts = Counter(excluded.get(key, Counter()))
        if not members:
            continue  # everything in this group was excluded: no estimate, the counts are in no group's n
        voices, repeats = _voices(members, model_se)
        group_se = float(np.mean([v.model_error for v in voices]))
        if repeats:
            counts["repeat_author"] += repeats
        post, expected, active, adjustment = _tally(voices, priors)
        parent, wom_parent = None, None
        if len(voices) < thresholds.thin_segment_n:
            parent_key = (tuple(dict(zip(by, values, strict=True)).get(k) for k in parent_by), (start, end))
            inside = {id(r) for r in members}
            siblings = [r for r in parents.get(parent_key, []) if id(r) not in inside]
            if siblings:
                _, parent, sibling_active, _ = _tally(_voices(siblings, model_se)[0], priors)
                wom_parent = _wom_counts(parent, sibling_active)
        limits = thresholds.dirichlet_below_n, thresholds.thin_segment_n
        interval = nps_interval(expected, *limits, parent, group_se)
        wom = nps_interval(_wom_counts(expected, active), *limits, wom_parent, group_se)
        estimates.append(
            Estimate(
                group=dict(zip(by, values, strict=True)),
                window=window,
                window_start=start,
                window_end=end,
                n=float(len(voices)),
                nps=interval.nps,
                low=interval.low,
                high=interval.high,
                promoters=float(expected[PROMOTER]),
                passives=float(expected[PASSIVE]),
                detractors=float(expected[DETRACTOR]),
                excluded={k: counts[k] for k in EXCLUSION_ORDER if counts[k]},
                method=interval.method if group_se <= 0 else f"{interval.method} + model error {group_se:.3g}",
                adjustment=adjustment,
                active_detractors=active,
                active_share=_active_share(active, float(expected[DETRACTOR])),
                wom=wom,
                reasons=_reason_summary(voices, post),
            )
        )
    return estimates


def _tally(voices: Sequence[_Voice], priors: _Priors) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Posteriors, expected class counts, expected active detractors and the adjustment of a set of voices."""
    post, adjustment = _shares(voices, priors)
    active = float(sum(p[DETRACTOR] * v.active for p, v in zip(post, voices, strict=True)))
    return post, post.sum(axis=0), active, adjustment


def _wom_counts(expected: np.ndarray, active: float) -> np.ndarray:
    """Word-of-Mouth counts: promoters, everyone else, active detractors (only those warning others count)."""
    return np.array([expected[PROMOTER], expected[PASSIVE] + expected[DETRACTOR] - active, active])


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    values, (start, _) = key
    return tuple("" if v is None else str(v) for v in values), start.isoformat() if start else ""
