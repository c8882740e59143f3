"""Alert rules over estimates and campaign findings: what deserves a reputation team's attention.

Rules come from ``config.alerts.rules`` (kind, severity, min_n, factor); a kind with no rule is off. Every alert
carries a ``cause_key`` naming its cause (rule, entity or segment, window, and the reason code or campaign), so a
store that keeps one alert per cause key raises each cause once however often the rules run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from nps.compare import difference
from nps.organic import EstimateLike, segment_key
from nps.record import parse_time
from nps.windows import previous_span


class Rule(Protocol):
    """What a rule needs from ``config.schema.AlertRule`` (read-only, so that its Literal fields match)."""

    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def min_n(self) -> int: ...
    @property
    def factor(self) -> float: ...


@dataclass(frozen=True)
class AlertDraft:
    """An alert before it is stored; ``cause_key`` is its identity."""

    kind: str
    severity: str
    entity: str | None
    window_start: datetime | None
    window_end: datetime | None
    cause_key: str
    title: str
    payload: dict[str, Any] = field(default_factory=dict)


def _rules(rules: Iterable[Rule]) -> dict[str, Rule]:
    return {rule.kind: rule for rule in rules}


def campaign_alerts(findings: Iterable[Mapping[str, Any]], rules: Iterable[Rule]) -> list[AlertDraft]:
    """One alert per detected campaign (smear, stuffing: rule ``campaign``) or incident wave (rule ``incident``).

    A finding is a mapping with ``entity, kind, window_start, window_end, member_ids, strength`` (the
    ``models.campaigns`` CampaignFinding or a stored campaign row); members below ``min_n`` raise nothing.
    """
    by_kind = _rules(rules)
    drafts = []
    for finding in findings:
        rule = by_kind.get("incident" if finding["kind"] == "incident" else "campaign")
        members = len(finding.get("member_ids") or [])
        if rule is None or members < rule.min_n:
            continue
        start, end = parse_time(finding["window_start"]), parse_time(finding["window_end"])
        assert start is not None and end is not None, "a campaign finding spans a window"
        entity = finding.get("entity")
        what = "incident wave" if finding["kind"] == "incident" else f"{finding['kind']} campaign"
        drafts.append(
            AlertDraft(
                kind=rule.kind,
                severity=rule.severity,
                entity=entity,
                window_start=start,
                window_end=end,
                cause_key=f"{rule.kind}:{entity}:{finding['kind']}:{start.isoformat()}",
                title=f"{what} against {entity}: {members} reviews, {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                payload={"members": members, "strength": finding.get("strength"),
                         "p_value": finding.get("p_value"), "campaign_kind": finding["kind"]},
            )
        )
    return drafts


def _latest_pairs(estimates: Sequence[EstimateLike]) -> list[tuple[EstimateLike, EstimateLike]]:
    """(previous, current) for each group whose latest window directly follows another estimated window."""
    series: dict[str, list[tuple[datetime, datetime, str, EstimateLike]]] = defaultdict(list)
    for est in estimates:
        if est.window and est.window_start and est.window_end:
            series[segment_key(_group(est))].append((est.window_start, est.window_end, est.window, est))
    pairs = []
    for items in series.values():
        items.sort(key=lambda item: item[0])
        start, end, window, current = items[-1]
        before = previous_span(start, end, window)
        previous = next((e for s, en, _, e in items[:-1] if (s, en) == before), None)
        if previous is not None:
            pairs.append((previous, current))
    return pairs


def _group(est: EstimateLike) -> dict[str, Any]:
    """An estimate's group with its audience where it is employees' (a computed Estimate keeps the audience
    beside its group, a stored one in its segment): an eNPS series and alert are never an NPS one."""
    who = getattr(est, "audience", None)
    return {**est.group, "audience": who} if who not in (None, "customer") else dict(est.group)


def _metric(est: EstimateLike) -> str:
    return "eNPS" if _group(est).get("audience") == "employee" else "NPS"


def _draft(rule: Rule, current: EstimateLike, cause: str, title: str, payload: dict[str, Any]) -> AlertDraft:
    group = _group(current)
    label = segment_key(group)
    assert current.window_start is not None, "alerts compare dated windows (_latest_pairs)"
    return AlertDraft(
        kind=rule.kind,
        severity=rule.severity,
        entity=current.group.get("entity"),
        window_start=current.window_start,
        window_end=current.window_end,
        cause_key=f"{rule.kind}:{label}:{current.window}:{current.window_start.isoformat()}{cause}",
        title=f"{title} ({label or 'all'}, {current.window} of {current.window_start:%Y-%m-%d})",
        payload={"group": group, **payload},
    )


def estimate_alerts(estimates: Sequence[EstimateLike], rules: Iterable[Rule]) -> list[AlertDraft]:
    """NPS drop, detractor surge and rising reason codes: each group's latest window against the one before.

    - ``nps_drop``: both windows hold at least ``min_n`` voices and the difference interval lies below zero
      (the drop is beyond both estimates' intervals, model error included);
    - ``detractor_surge``: expected detractors grew at least ``factor`` times and number at least ``min_n``;
    - ``reason_rising``: a reason code carried by at least ``min_n`` expected detractors, ``factor`` times as
      many as in the window before.
    """
    by_kind = _rules(rules)
    drafts = []
    for previous, current in _latest_pairs(estimates):
        rule = by_kind.get("nps_drop")
        if rule and min(previous.n, current.n) >= rule.min_n:
            diff = difference(current, previous)
            if diff.high < 0:
                drafts.append(_draft(rule, current, "", f"{_metric(current)} fell {previous.nps:.0f} -> "
                                     f"{current.nps:.0f}",
                                     {"previous": previous.nps, "current": current.nps, "difference": diff.diff,
                                      "difference_low": diff.low, "difference_high": diff.high}))
        rule = by_kind.get("detractor_surge")
        if rule and current.detractors >= rule.min_n and current.detractors >= rule.factor * max(
            previous.detractors, 1.0
        ):
            drafts.append(_draft(rule, current, "", f"detractors surged {previous.detractors:.0f} -> "
                                 f"{current.detractors:.0f}",
                                 {"previous": previous.detractors, "current": current.detractors}))
        rule = by_kind.get("reason_rising")
        if rule:
            for code, counts in current.reasons.items():
                before = previous.reasons.get(code, {}).get("detractors", 0.0)
                now = counts["detractors"]
                if now >= rule.min_n and now >= rule.factor * max(before, 1.0):
                    drafts.append(_draft(rule, current, f":{code}", f"reason '{code}' rising {before:.0f} -> "
                                         f"{now:.0f} detractors", {"reason": code, "previous": before, "current": now}))
    return drafts


def within_horizon(drafts: Iterable[AlertDraft], newest: datetime | None, days: int) -> list[AlertDraft]:
    """The drafts whose window ends at most DAYS before NEWEST (the end of the entity's newest estimated window or
    campaign). The first run on a brand with years of history raises what is happening now, not every incident
    since 2019; a draft with no window (a source that failed) always passes."""
    if newest is None:
        return list(drafts)
    start = newest - timedelta(days=days)
    return [d for d in drafts if d.window_end is None or d.window_end >= start]


def source_alerts(failures: Iterable[Mapping[str, Any]], rules: Iterable[Rule], day: datetime) -> list[AlertDraft]:
    """One operator alert per source whose crawl failed (rule ``source_failed``): a mapping with ``source,
    entity, pages, failed_pages, last_error`` (``crawlers.report.failed_sources``). Its cause is the source and
    the DAY of the run, so a source that stays broken is raised again once a day, not once ever or every run."""
    rule = _rules(rules).get("source_failed")
    if rule is None:
        return []
    return [AlertDraft(
        kind=rule.kind, severity=rule.severity, entity=f.get("entity"), window_start=None, window_end=None,
        cause_key=f"{rule.kind}:{f['source']}:{day:%Y-%m-%d}",
        title=f"source {f['source']} failed: {f['failed_pages']} of {f['pages']} pages, last error {f['last_error']}",
        payload={k: f[k] for k in ("source", "pages", "failed_pages", "last_error")},
    ) for f in failures]
