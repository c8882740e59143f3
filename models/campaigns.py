"""Campaign detection over one entity's review stream: smear (negative) and stuffing (positive) bursts against
the entity's own baseline, told apart from genuine incident waves.

For each night and each window ending that night (`campaign_windows` days), three one-sided tests per polarity:
- volume: the window's count of negative (or positive) reviews against a negative-binomial fitted to the
  entity's own previous `campaign_history_days` (overdispersion from the history's day-to-day variance, so a
  lumpy stream is not surprised by its usual lumps);
- suspects: the same test on the count of suspect reviews only (P(bot) >= `campaign_suspect_p_bot`, a
  near-duplicate of an earlier review by another author in the last days, or a new or one-review account), which
  lets a small coordinated push stand out inside a dense organic stream;
- share: the negative (positive) share of the window against a beta-binomial from the history, with the
  history's weight capped because shares drift; with no history, negatives are compared with a stated cold-start
  prior (`campaign_cold_start_prior`).
p-values are Bonferroni-corrected over all tests of the night and compared with `thresholds.campaign_p_value`;
the excess over the expectation must reach `thresholds.min_campaign_size`. Overlapping detections merge. Every
number the detector tunes is a field of `[thresholds]` (config.schema.ThresholdsConfig), its default and meaning
written there only.

Kind: a burst whose members are more suspect than the entity's usual reviewers (bot share, near-duplicates
across authors, new accounts) or write more scripted text than they do is a campaign (smear or stuffing). Scripted
= short and unspecific (no number or name) AND repeating a whole sentence another author wrote in the last days:
farms that vary their wording still draw from one bank of sentences, while people in a real wave describe their
own case. The baseline ends a longest window before the burst, so its own first days are never "usual". A
negative burst from established accounts with diverse, specific wording and low P(bot) is an "incident": a real
event the reputation team should hear about, but whose reviews stay in the organic NPS. A positive organic wave
is not reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from models.features import account_is_new, rating_0_10
from models.similarity import near_duplicate_pairs
from models.text_signals import is_generic, specifics, words
from models.verdicts import CampaignFinding, CampaignKind
from nps.record import parse_time

if TYPE_CHECKING:
    from config.schema import ThresholdsConfig

POLARITIES = ("negative", "positive")
_SENTENCE = re.compile(r"[.!?\n]+")


@dataclass
class _Review:
    id: str
    author: str | None
    day: date
    text: str
    negative: bool
    positive: bool
    p_bot: float | None
    new_account: bool | None
    coordinated: bool = False
    echo: bool = False
    generic: bool = False
    suspect: bool = False  # P(bot) >= campaign_suspect_p_bot, coordinated or a new account (set by _reviews)

    @property
    def scripted(self) -> bool:
        """Short and unspecific, and repeating a whole sentence another author just wrote: a sentence bank."""
        return self.generic and self.echo


@dataclass
class _Detection:
    polarity: str
    test: str
    start: date
    end: date
    observed: float
    expected: float
    p_value: float


def _polarity(record: Mapping[str, Any]) -> tuple[bool, bool] | None:
    """(negative, positive) from class probabilities when present, else from the 0-10 rating (NPS bands)."""
    if record.get("p_detractor") is not None and record.get("p_promoter") is not None:
        return float(record["p_detractor"]) >= 0.5, float(record["p_promoter"]) >= 0.5
    rating = rating_0_10(record)
    if rating is None:
        return None
    return rating <= 6.0, rating >= 9.0


def _reviews(stream: Sequence[Mapping[str, Any]], until: date | None, thresholds: ThresholdsConfig) -> list[_Review]:
    out = []
    for record in stream:
        moment, polarity = parse_time(record.get("published_at")), _polarity(record)
        if moment is None or polarity is None or (until and moment.date() > until):
            continue
        p_bot = record.get("p_bot")
        out.append(
            _Review(
                str(record.get("id")),
                str(record["author"]) if record.get("author") else None,
                moment.date(),
                str(record.get("text") or ""),
                polarity[0],
                polarity[1],
                float(p_bot) if p_bot is not None else None,
                account_is_new(record),
            )
        )
    out.sort(key=lambda r: r.day)
    # A review is coordinated when an EARLIER review by another author, within a few days, nearly duplicates it:
    # only the past is used, so a nightly run and a replay agree.
    for i, j in near_duplicate_pairs([r.text for r in out], [r.author for r in out]):
        first, second = (i, j) if (out[i].day, i) <= (out[j].day, j) else (j, i)
        if (out[second].day - out[first].day).days <= thresholds.campaign_coordination_days:
            out[second].coordinated = True
    echoed = echoes([r.text for r in out], [r.author for r in out], [r.day for r in out], thresholds)
    unspecific, suspect_p_bot = thresholds.campaign_unspecific_words, thresholds.campaign_suspect_p_bot
    for r, echo in zip(out, echoed, strict=True):
        r.echo = echo
        r.generic = is_generic(r.text) or (specifics(r.text) == 0 and len(words(r.text)) <= unspecific)
        r.suspect = bool((r.p_bot or 0.0) >= suspect_p_bot or r.coordinated or r.new_account)
    return out


def echoes(
    texts: Sequence[str], authors: Sequence[str | None], days: Sequence[date], thresholds: ThresholdsConfig,
) -> list[bool]:
    """Per review (in time order): does it repeat a whole sentence of `campaign_echo_min_words`+ words that
    ANOTHER author wrote in the previous `campaign_coordination_days` days? Farms that vary their wording draw
    sentences from one bank."""
    min_words, days_apart = thresholds.campaign_echo_min_words, thresholds.campaign_coordination_days
    keep = thresholds.campaign_echo_keep
    seen: dict[str, list[tuple[date, str | None]]] = {}
    out = []
    for text, author, day in zip(texts, authors, days, strict=True):
        keys = {" ".join(ws) for s in _SENTENCE.split(text) if len(ws := words(s)) >= min_words}
        out.append(
            any(
                other != author and (day - then).days <= days_apart
                for key in keys
                for then, other in seen.get(key, ())
            )
        )
        for key in keys:
            recent = [(t, a) for t, a in seen.get(key, ()) if (day - t).days <= days_apart]
            seen[key] = [*recent[-keep:], (day, author)]
    return out


def _nb_tail(observed: np.ndarray, total: np.ndarray, squares: np.ndarray, length: np.ndarray, window: int):
    """P(count >= observed) over `window` days under a negative binomial fitted to each daily history.

    `total`, `squares`, `length`: the history's sum, sum of squares and number of days, one per tested window.
    """
    mean = (total + 0.5) / (length + 1.0)  # Gamma(0.5, 1) prior keeps an empty history finite
    var = np.where(length > 1, squares / np.maximum(length, 1) - (total / np.maximum(length, 1)) ** 2, mean)
    expected = mean * window
    over = var > mean
    size = np.where(over, mean**2 / np.where(over, var - mean, 1.0) * window, 1.0)
    p = np.where(
        over,
        stats.nbinom.sf(observed - 1, size, size / (size + expected)),
        stats.poisson.sf(observed - 1, expected),
    )
    return p, expected


def _share_tail(
    hits: np.ndarray, total: np.ndarray, hist_hits: np.ndarray, hist_total: np.ndarray, cold: bool,
    thresholds: ThresholdsConfig,
):
    """P(share >= observed) under a beta-binomial from the (capped) history, or the cold-start prior."""
    weight = np.minimum(1.0, thresholds.campaign_share_history_cap / np.maximum(hist_total, 1.0))
    known = hist_total >= thresholds.campaign_min_share_history
    prior_a, prior_b = thresholds.campaign_cold_start_prior
    a = np.where(known, hist_hits * weight + 1.0, prior_a)
    b = np.where(known, (hist_total - hist_hits) * weight + 1.0, prior_b)
    p = stats.betabinom.sf(hits - 1, total.astype(int), a, b)
    usable = known | cold
    return np.where(usable, p, 1.0), np.where(usable, total * a / (a + b), np.inf)


def _scan(
    reviews: list[_Review], days: list[date], only: date | None, thresholds: ThresholdsConfig,
) -> list[_Detection]:
    first = days[0]
    n_days = (days[-1] - first).days + 1
    daily = {p: np.zeros(n_days) for p in ("all", *POLARITIES, *(f"{p}_suspect" for p in POLARITIES))}
    for r in reviews:
        d = (r.day - first).days
        daily["all"][d] += 1
        for polarity, flag in zip(POLARITIES, (r.negative, r.positive), strict=True):
            if flag:
                daily[polarity][d] += 1
                daily[f"{polarity}_suspect"][d] += r.suspect
    cum = {k: np.concatenate([[0.0], np.cumsum(v)]) for k, v in daily.items()}
    sq = {k: np.concatenate([[0.0], np.cumsum(v**2)]) for k, v in daily.items()}
    windows = thresholds.campaign_windows
    tests = len(windows) * 3 * len(POLARITIES)
    alpha, min_size = thresholds.campaign_p_value, thresholds.min_campaign_size
    found = []
    for w in windows:
        ends = np.array([(only - first).days] if only else range(n_days))
        ends = ends[ends - w + 1 >= 0]
        start = ends - w + 1
        h0 = np.maximum(0, start - thresholds.campaign_history_days)
        length = (start - h0).astype(float)
        enough = start >= thresholds.campaign_min_history_days

        def window_sum(series: str, s=start, e=ends) -> np.ndarray:
            return cum[series][e + 1] - cum[series][s]

        def history(series: str, s=start, h=h0) -> tuple[np.ndarray, np.ndarray]:
            return cum[series][s] - cum[series][h], sq[series][s] - sq[series][h]

        for polarity in POLARITIES:
            results = []
            for test, series in (("volume", polarity), ("suspects", f"{polarity}_suspect")):
                observed = window_sum(series)
                total, squares = history(series)
                rough = (total + 0.5) / (length + 1.0) * w
                pick = enough & (observed - rough >= min_size)
                if pick.any():
                    p, expected = _nb_tail(observed[pick], total[pick], squares[pick], length[pick], w)
                    results.append((test, np.flatnonzero(pick), observed[pick], expected, p))
            hits, total = window_sum(polarity), window_sum("all")
            hist_hits, _ = history(polarity)
            hist_total, _ = history("all")
            pick = hits >= min_size
            if pick.any():
                p, expected = _share_tail(
                    hits[pick], total[pick], hist_hits[pick], hist_total[pick], cold=polarity == "negative",
                    thresholds=thresholds,
                )
                results.append(("share", np.flatnonzero(pick), hits[pick], expected, p))
            for test, rows, observed, expected, p in results:
                p_adj = np.minimum(1.0, p * tests)
                for k in np.flatnonzero((p_adj < alpha) & (observed - expected >= min_size)):
                    i = rows[k]
                    found.append(
                        _Detection(
                            polarity,
                            test,
                            first + timedelta(days=int(start[i])),
                            first + timedelta(days=int(ends[i])),
                            float(observed[k]),
                            float(expected[k]),
                            float(p_adj[k]),
                        )
                    )
    return found


def _merge(detections: list[_Detection]) -> list[tuple[_Detection, date]]:
    """Overlapping or adjacent detections of one polarity -> (strongest detection, first night it fired)."""
    groups: list[list[_Detection]] = []
    for det in sorted(detections, key=lambda d: (d.polarity, d.start, d.end)):
        last = groups[-1] if groups else None
        if last and last[0].polarity == det.polarity and det.start <= max(d.end for d in last) + timedelta(days=1):
            last.append(det)
        else:
            groups.append([det])
    return [(min(g, key=lambda d: (d.p_value, (d.end - d.start).days)), min(d.end for d in g)) for g in groups]


def _share(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _finding(
    det: _Detection, first_night: date, reviews: list[_Review], thresholds: ThresholdsConfig,
) -> CampaignFinding | None:
    flag = (lambda r: r.negative) if det.polarity == "negative" else (lambda r: r.positive)
    window = [r for r in reviews if det.start <= r.day <= det.end and flag(r)]
    # The baseline ends a full longest window before this one, so a burst's own first days never count as usual.
    before = det.start - timedelta(days=max(thresholds.campaign_windows))
    usual = [r for r in reviews if before - timedelta(days=thresholds.campaign_history_days) <= r.day < before]
    history = [r for r in usual if flag(r)]
    members = [r for r in window if r.suspect] if det.test == "suspects" else window
    suspicion = float(np.mean([r.suspect for r in window])) if window else 0.0
    baseline = float(np.mean([r.suspect for r in history])) if history else None
    coordinated = float(np.mean([r.coordinated for r in window])) if window else 0.0
    lift = suspicion - (baseline if baseline is not None else 0.0)
    # Scripted wording is compared with ALL the entity's earlier reviews: how its reviewers usually write.
    scripted = float(np.mean([r.scripted for r in window])) if window else 0.0
    usual_scripted = float(np.mean([r.scripted for r in usual])) if usual else 0.0
    campaign = (
        det.test == "suspects"
        or lift >= thresholds.campaign_lift
        or coordinated >= thresholds.campaign_coordinated_share
        or scripted - usual_scripted >= thresholds.campaign_scripted_lift
    )
    if not campaign and det.polarity == "positive":
        return None
    kind: CampaignKind = ("smear" if det.polarity == "negative" else "stuffing") if campaign else "incident"
    p_bots = [r.p_bot for r in window if r.p_bot is not None]
    bots = [p >= thresholds.campaign_suspect_p_bot for p in p_bots]
    evidence: dict[str, Any] = {
        "test": det.test,
        "observed": det.observed,
        "expected": round(det.expected, 2),
        "window_reviews": len(window),
        "suspect_share": round(suspicion, 3),
        "baseline_suspect_share": round(baseline, 3) if baseline is not None else None,
        "coordinated_share": round(coordinated, 3),
        "bot_share": round(float(np.mean(bots)), 3) if bots else None,
        "mean_p_bot": round(float(np.mean(p_bots)), 3) if p_bots else None,
        "new_account_share": _share([r.new_account for r in window]),
        "generic_share": round(float(np.mean([r.generic for r in window])), 3) if window else 0.0,
        "echo_share": round(float(np.mean([r.echo for r in window])), 3) if window else 0.0,
        "scripted_share": round(scripted, 3),
        "baseline_scripted_share": round(usual_scripted, 3),
        "specific_share": round(float(np.mean([specifics(r.text) > 0 for r in window])), 3) if window else 0.0,
        "distinct_authors": len({r.author for r in window if r.author}),
        "first_detected": first_night.isoformat(),
    }
    evidence["summary"] = _summary(kind, det, evidence, thresholds.campaign_scripted_lift)
    strength = (det.observed - det.expected) / math.sqrt(det.expected + 1.0)
    return CampaignFinding(
        kind=kind,
        window_start=datetime.combine(det.start, time.min, UTC),
        window_end=datetime.combine(det.end, time.max, UTC),
        member_ids=[r.id for r in members],
        member_authors=sorted({r.author for r in members if r.author}),
        strength=round(float(strength), 3),
        p_value=det.p_value,
        evidence=evidence,
    )


def _summary(kind: str, det: _Detection, ev: Mapping[str, Any], scripted_lift: float) -> str:
    what = {"volume": "reviews", "suspects": "suspect reviews", "share": "reviews (share test)"}[det.test]
    days = (det.end - det.start).days + 1
    head = f"{det.polarity} {what}: {det.observed:.0f} in {days} day(s) against {det.expected:.1f} expected"
    if kind == "incident":
        return head + "; members look organic (established accounts, diverse wording): likely a real incident"
    parts = [f"{ev['suspect_share']:.0%} suspect vs {ev['baseline_suspect_share'] or 0:.0%} usually"]
    if ev["coordinated_share"]:
        parts.append(f"{ev['coordinated_share']:.0%} near-duplicates of other authors")
    if ev["scripted_share"] - ev["baseline_scripted_share"] >= scripted_lift:
        parts.append(
            f"{ev['scripted_share']:.0%} short unspecific reviews repeating other authors' sentences vs "
            f"{ev['baseline_scripted_share']:.0%} usually"
        )
    if ev["new_account_share"]:
        parts.append(f"{ev['new_account_share']:.0%} new or one-review accounts")
    return head + "; " + ", ".join(parts)


def detect_campaigns(
    stream: Sequence[Mapping[str, Any]], thresholds: ThresholdsConfig, now: datetime | date | None = None
) -> list[CampaignFinding]:
    """Campaigns and incident waves in ONE entity's stream (see the module docstring).

    `now` set: the nightly view, only windows ending on that day, records after it ignored. `now` None: every
    night of the stream is tested (a backfill); each night still sees only its past, and a finding's
    `evidence["first_detected"]` is the first night it would have fired.
    """
    until = now.date() if isinstance(now, datetime) else now
    reviews = _reviews(stream, until, thresholds)
    if not reviews:
        return []
    days = [reviews[0].day, until or reviews[-1].day]
    if days[1] < days[0]:
        return []
    detections = _scan(reviews, days, until, thresholds)
    findings = [_finding(det, first, reviews, thresholds) for det, first in _merge(detections)]
    return [f for f in findings if f is not None]
