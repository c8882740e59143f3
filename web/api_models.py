"""The shapes the REST API returns; they are the OpenAPI schema clients (and schemathesis) check against."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.worklist import Status


class Health(BaseModel):
    status: str
    database: str


class EntityOut(BaseModel):
    id: int
    name: str
    kind: str
    parent: str | None
    aliases: dict[str, Any]
    competitors: list[str]


class EstimateOut(BaseModel):
    id: int
    entity: str
    segment: dict[str, Any] = Field(description="Segment keys; {} is the entity as a whole.")
    segment_key: str
    window_kind: str
    window_start: datetime
    window_end: datetime
    n: float
    nps: float
    low: float = Field(description="Lower end of the 95% interval.")
    high: float = Field(description="Upper end of the 95% interval.")
    promoters: float
    passives: float
    detractors: float
    excluded: dict[str, Any] = Field(description="Counts left out and why (bots, campaigns, repeat voices).")
    method: str = Field(description="Which interval/estimator was used (e.g. wald, dirichlet, pooled).")
    extra: dict[str, Any]


class ScoreOut(BaseModel):
    model_version: str
    score: float
    p_promoter: float
    p_passive: float
    p_detractor: float
    confidence: float
    text_only_score: float | None
    active_detractor: bool
    class_: str = Field(alias="class", description="Most probable class.")

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class ReasonOut(BaseModel):
    code: str
    polarity: str
    evidence: str


class BotOut(BaseModel):
    model_version: str
    p_bot: float
    decision: bool
    evidence: list[str]


class CampaignRef(BaseModel):
    id: int
    kind: str
    status: str


class OrganicOut(BaseModel):
    counted: bool
    excluded: str | None = Field(description="The rule that removed it: bot, campaign, invited or syndicated.")


class CompanyReplyOut(BaseModel):
    text: str = Field(description="The company's own public reply, as the source shows it.")
    time: datetime | None = Field(description="When it was posted (null: the source gives no time).")


class ReviewOut(BaseModel):
    id: int
    url: str
    entity: str | None
    source: str
    title: str | None
    author: str | None = Field(None, description="The name the source shows for the reviewer (display only).")
    text: str
    rating: float | None
    rating_scale: float | None
    rating_0_10: float | None
    language: str | None
    region: str | None
    touchpoint: str | None
    published_at: datetime | None
    score: ScoreOut | None
    reasons: list[ReasonOut]
    bot: BotOut | None
    campaigns: list[CampaignRef] = Field(
        description="Campaigns this review was found in (smear and stuffing members are excluded from the organic "
        "NPS; incident waves are genuine customers and stay in).")
    invited: bool | None = Field(
        None, description="How the review was collected: true = invited or rewarded by the company (kept out of "
        "the organic NPS, counted in the invited NPS), false = on the reviewer's own initiative, null = unknown.")
    channel: str | None = Field(None, description="What says how it was collected (the source, or the reviewer).")
    organic: OrganicOut | None = Field(None, description="Whether the organic NPS counts it (null: not yet estimated).")
    company_reply: CompanyReplyOut | None = Field(
        None, description="The company's public reply to it (null: none): on a worklist item, answered publicly.")


class ReviewPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ReviewOut]


class CampaignOut(BaseModel):
    id: int
    entity: str
    kind: str
    window_start: datetime
    window_end: datetime
    member_documents: list[int]
    member_authors: list[str]
    strength: float
    p_value: float | None
    evidence: dict[str, Any]
    status: str


class AlertOut(BaseModel):
    id: int
    kind: str
    severity: str
    entity: str | None
    window_start: datetime | None
    window_end: datetime | None
    cause_key: str
    title: str
    payload: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class WorklistState(BaseModel):
    status: Status = Field(description="Where following up stands; a review nobody touched yet is open.")
    owner: str | None
    note: str | None
    updated_at: datetime | None
    updated_by: str | None = Field(description="The API key name that made the last change.")


class WorklistItem(ReviewOut):
    dashboard_url: str = Field(description="The review's page on this dashboard.")
    worklist: WorklistState


class ReplyRateOut(BaseModel):
    entity: str
    start: datetime | None = Field(description="Reviews published from this time (null: from the first).")
    end: datetime | None = Field(description="Reviews published before this time (null: to the last).")
    detractors: int = Field(description="Organic reviews the worklist follows up as detractors in the span.")
    replied: int = Field(description="How many of them got the company's public reply.")
    share: float | None = Field(description="replied / detractors (null: no detractors).")
    median_days: float | None = Field(description="Median days from review to reply, over the timed replies.")
    timed: int = Field(description="Replies whose time the source gave (the median's n).")


class WorklistChange(BaseModel):
    """Fields left out stay as they are; an empty owner or note clears it."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    owner: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=5000)


class SideOut(BaseModel):
    n: float
    nps: float
    low: float
    high: float


class ComparisonOut(BaseModel):
    group: dict[str, Any]
    window_start: datetime | None = Field(description="None when comparing all time.")
    survey: SideOut
    organic: SideOut
    difference: float = Field(description="Survey NPS minus organic NPS, in points.")
    difference_low: float
    difference_high: float
    significant: bool = Field(description="Whether the 95% interval of the difference excludes 0.")
    gap_reasons: list[str] = Field(description="Reason codes most likely behind the gap.")


class CorrelationOut(BaseModel):
    r: float
    p: float
    windows: int


class SurveyCompareOut(BaseModel):
    comparisons: list[ComparisonOut]
    correlations: dict[str, CorrelationOut] = Field(description="Per segment, over paired windows (>= 3).")


class FigureOut(BaseModel):
    n: float
    nps: float
    low: float = Field(description="Lower end of the 95% interval.")
    high: float = Field(description="Upper end of the 95% interval.")
    method: str
    enough: bool = Field(description="n reaches [dashboard] min_n: shown as a figure, else 'not enough data'.")


class DifferenceOut(BaseModel):
    diff: float = Field(description="Points, with its 95% interval below (nps.compare.difference).")
    low: float
    high: float
    significant: bool = Field(description="Whether the 95% interval excludes 0.")


class ViewWindowOut(BaseModel):
    kind: str
    start: datetime
    end: datetime
    label: str
    note: str = Field(description="Which window is shown and why (nps.headline: a thin window falls back).")


class SegmentOut(BaseModel):
    value: str = Field(description="The segment's value (a region, a source, a product's name...).")
    estimate: FigureOut
    difference: DifferenceOut | None = Field(description="Segment minus the entity total; only where both have "
                                                         "enough data.")


class SegmentsOut(BaseModel):
    entity: str
    key: str = Field(description="The segment key the entity is cut by.")
    min_n: int
    window: ViewWindowOut | None = Field(description="None: no estimate of this kind stored for the entity.")
    total: FigureOut | None
    segments: list[SegmentOut] = Field(description="Enough data by NPS first, then the thin ones by n.")


class ReasonGapOut(BaseModel):
    code: str
    share: float = Field(description="Percent of the competitor's detractors (promoters) citing the reason.")
    entity_share: float | None = Field(description="The same share among the entity's.")
    points: float | None = Field(description="share - entity_share.")
    count: float = Field(description="Expected detractors (promoters) of the competitor citing it.")


class ReasonGapsOut(BaseModel):
    lower: list[ReasonGapOut] = Field(description="Reasons the competitor's detractors cite more.")
    higher: list[ReasonGapOut] = Field(description="Reasons the competitor's promoters cite more.")


class MarketRowOut(BaseModel):
    name: str
    is_entity: bool
    rank: int | None = Field(None, description="By NPS among those with enough data.")
    estimate: FigureOut | None = Field(description="None: no estimate for this window.")
    lead: DifferenceOut | None = Field(description="Entity minus this competitor; only where both have enough.")
    reasons: ReasonGapsOut | None


class MarketOut(BaseModel):
    entity: str
    min_n: int
    window: ViewWindowOut | None
    rows: list[MarketRowOut]


class Problem(BaseModel):
    detail: str
