"""The organic NPS of groups of documents: organic rules, class-mix correction, interval, plain counts.

Organic (../shared/DESIGN.md) means what people write on their own initiative: bots and campaign members out,
invited reviews (a solicited sample, like a survey) apart, syndicated copies once, one voice per author per
entity per window. `exclusion` is the one statement of that rule: the nightly flow (through the store's
``document_organic`` table), `onps estimate`, the web layer and the demo check all read its verdicts. Every
excluded document is counted under the first rule that removed it, so ``n + sum(excluded)`` accounts for every
input row of a group (undated rows belong to no window; `exclusion` counts them). Invited reviews get their own
estimate beside the organic one (``Estimate.invited``). The class shares come from the scorer's
probabilities, EM-adjusted to the group's own mix (nps.quantify), never from hard thresholds: over the five star
levels where every row of the group carries them (``p_levels``) and the scorer gave its level prior, else over the
three classes (scores stored before levels were kept); ``adjustment`` says which.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from scipy.stats import beta

from nps.classes import DETRACTOR, PASSIVE, PROMOTER
from nps.interval import LEVEL, Interval, nps_interval
from nps.quantify import EM_MIN_PSEUDO_VOICES, EM_PRIOR_WEIGHT, em_level_adjust, em_prior_adjust
from nps.record import audience, content_hash, copy_words, parse_time
from nps.windows import window_spans

PROB_KEYS = ("p_promoter", "p_passive", "p_detractor")
LEVELS_KEY = "p_levels"  # the scorer's five star-level probabilities (stars 1-5), where the row carries them
REASON_FIELD = "reason"  # grouping by reason code puts a document in one group per code it carries
EXCLUSION_ORDER = ("bot", "campaign", "invited", "syndicated", "no_date", "repeat_author")
# Exclusions that depend on the document and its entity's stream alone, not on the window or the group: what the
# store keeps per document (``document_organic``) for the pages that list organic reviews.
DOCUMENT_EXCLUSIONS = ("bot", "campaign", "invited", "syndicated")
_MAP = (f"MAP with a training-mix prior worth {EM_PRIOR_WEIGHT:.0%} of the voices, at least "
        f"{EM_MIN_PSEUDO_VOICES:g}")
ADJUSTED = f"em-prior over the 5 star levels (Saerens et al. 2002; {_MAP})"
ADJUSTED_CLASSES = (f"em-prior over the 3 classes (Saerens et al. 2002; {_MAP}; some scores carry no star "
                    "levels or the scorer gave no level prior)")
UNADJUSTED = "none (the scorer gave no training prior)"


class Thresholds(Protocol):
    """What ``estimate_groups`` needs from ``config.schema.ThresholdsConfig`` (any object with these fields)."""

    dirichlet_below_n: int
    thin_segment_n: int
    copy_min_words: int


class HasInterval(Protocol):
    """Read-only members (properties), so that a narrower field (a stored ``window: str``) still matches."""

    @property
    def nps(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...


class EstimateLike(HasInterval, Protocol):
    """The estimate record as every reader takes it (alerts, survey comparison, benchmark): an ``Estimate`` as
    computed here or a stored ``nps_estimates`` row (``store.queries.StoredEstimate``). ``group`` includes the
    entity; ``window_start`` is None for the all-time estimate."""

    @property
    def group(self) -> dict[str, Any]: ...
    @property
    def window(self) -> str | None: ...
    @property
    def window_start(self) -> datetime | None: ...
    @property
    def window_end(self) -> datetime | None: ...
    @property
    def n(self) -> float: ...
    @property
    def detractors(self) -> float: ...
    @property
    def reasons(self) -> dict[str, dict[str, float]]: ...


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
    invited: Interval | None = None  # the invited reviews of the same group and window, estimated apart
    invited_n: float = 0.0
    audience: str = "customer"  # nps.record.audience of every member: an employee group is an eNPS

    def to_dict(self) -> dict[str, Any]:
        def r(x: float) -> float:
            return round(float(x), 2)

        return {
            "group": self.group,
            "audience": self.audience,
            "metric": "enps" if self.audience == "employee" else "nps",
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
            "invited": None if self.invited is None else {
                "n": r(self.invited_n), "nps": r(self.invited.nps), "low": r(self.invited.low),
                "high": r(self.invited.high), "method": self.invited.method,
            },
        }


def segment_key(group: Mapping[str, Any]) -> str:
    """Canonical ``k=v;k=v`` text of a group (sorted keys): the store's ``segment_key`` and alert causes."""
    return ";".join(f"{k}={'' if v is None else v}" for k, v in sorted(group.items()))


def row_hash(row: Mapping[str, Any]) -> str:
    """The row's stored content hash, else ``nps.record.content_hash`` of its text (the same function)."""
    return str(row.get("content_hash") or content_hash(row.get("text")))


def is_copy(row: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]], min_words: int) -> bool:
    """Whether ROW repeats one of EARLIER (rows of the same entity with the same content hash) as a copy.

    Equal texts are copies when they are long enough not to be written twice by chance (MIN_WORDS words),
    or come from one author, or appear on two sources. "good app" from two anonymous people on one app store
    is two people: 5.7% of a real bank-app stream was once dropped that way.
    """
    if not earlier:
        return False
    if copy_words(row.get("text")) >= min_words:
        return True
    author, source = row.get("author"), row.get("source")
    return any((author not in (None, "") and e.get("author") == author)
               or (source is not None and e.get("source") is not None and e.get("source") != source)
               for e in earlier)


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
    """The groups ROW belongs to: its audience first (employees and customers never share a group, whatever BY
    says), then its BY values."""
    who = audience(row)
    if REASON_FIELD not in by:
        return [(who, *(row.get(key) for key in by))]
    codes: list[str | None] = [*sorted({code for code, _ in reason_codes(row)})] or [None]
    return [(who, *(code if key == REASON_FIELD else row.get(key) for key in by)) for code in codes]


def _spans(row: Mapping[str, Any], window: str | None) -> list[tuple[datetime | None, datetime | None]]:
    if window is None:
        return [(None, None)]
    when = parse_time(row.get("published_at"))
    return [] if when is None else list(window_spans(when, window))


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


def exclusion(rows: Sequence[Mapping[str, Any]], window: str | None, copy_min_words: int) -> list[str | None]:
    """The organic rule that removes each row (None: kept), before the one-voice rule, which needs groups.

    In order: a bot verdict (``bot``), membership of a smear or stuffing campaign (``campaign``), a review the
    company invited or rewarded (``invited`` True), a copy of an earlier row of the same entity (`is_copy`),
    and, for a windowed estimate, no readable date. Copies are judged in publication order (ties by id) among
    the rows that survive the first three rules, so the kept copy does not depend on input order.
    """
    verdict: list[str | None] = [None] * len(rows)
    never = datetime.max.replace(tzinfo=UTC)
    order = sorted(range(len(rows)), key=lambda i: (parse_time(rows[i].get("published_at")) or never,
                                                    str(rows[i].get("id"))))
    kept: dict[tuple[Any, str], list[Mapping[str, Any]]] = defaultdict(list)
    for i in order:
        row = rows[i]
        if row.get("bot"):
            verdict[i] = "bot"
        elif row.get("campaign"):
            verdict[i] = "campaign"
        elif row.get("invited") is True:
            verdict[i] = "invited"
        elif is_copy(row, kept[(row.get("entity"), row_hash(row))], copy_min_words):
            verdict[i] = "syndicated"
        elif window is not None and parse_time(row.get("published_at")) is None:
            verdict[i] = "no_date"
        if verdict[i] is None or verdict[i] == "no_date":
            kept[(row.get("entity"), row_hash(row))].append(row)
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
    with_invited: bool = True,
) -> list[Estimate]:
    """Organic NPS per group of BY values and WINDOW (None: all time), sorted by group then window.

    ``train_prior`` is the class mix the scorer was calibrated under (None: no class-mix correction, said in
    ``adjustment``), ``level_prior`` its star-level mix (None: EM over the three classes); ``model_se`` (NPS
    points) is the scorer's measured per-group error, added to the interval, for rows that carry no
    ``model_error`` of their own. A group's model error is the mean of its voices' (the errors of one scoring
    path are shared by the whole group, so they add linearly, not in quadrature).
    Thin groups with a parent (the same entity, or everything, in the same window) are pooled towards the
    parent's other voices, so a segment is never its own prior.
    ``with_invited``: each estimate also carries the NPS of the group's invited reviews (`invited_view`), by the
    same rules, in ``invited``.
    """
    priors = _Priors(train_prior, level_prior)
    verdicts = exclusion(rows, window, thresholds.copy_min_words)
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
                parents[((audience(row), *(row.get(k) for k in parent_by)), span)].append(row)

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
            named = dict(zip(by, values[1:], strict=True))
            parent_key = ((values[0], *(named.get(k) for k in parent_by)), (start, end))
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
                group=dict(zip(by, values[1:], strict=True)),
                audience=values[0],
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
    invited = invited_view(rows) if with_invited else []
    if invited:
        apart = {(_sort_key(((e.audience, *e.group.values()), (e.window_start, e.window_end))), e.window): e
                 for e in estimate_groups(invited, by, window, thresholds, train_prior, model_se, level_prior,
                                          with_invited=False)}
        for est in estimates:
            match = apart.get((_sort_key(((est.audience, *est.group.values()), (est.window_start, est.window_end))),
                               est.window))
            if match is not None:
                est.invited = Interval(match.nps, match.low, match.high, match.method)
                est.invited_n = match.n
    return estimates


def campaign_candidates(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows the campaign detector reads: invited reviews are a solicited sample kept apart, and a wave of
    them is the company's invitation e-mails, not a stuffing campaign."""
    return [row for row in rows if row.get("invited") is not True]


def invited_view(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The invited rows as a group of their own: the "invited NPS" is their estimate, by the organic rules
    otherwise (bots, campaigns, copies and repeat authors still out)."""
    return [{**row, "invited": False} for row in rows if row.get("invited") is True]


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
