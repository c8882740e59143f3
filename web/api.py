"""The REST API under /api: read endpoints need a read key, acknowledging an alert a write key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from store.alerts_store import acknowledge
from store.worklist import Status, WorklistError, set_entry
from web import reads
from web.api_models import (
    AlertOut,
    CampaignOut,
    EntityOut,
    EstimateOut,
    MarketOut,
    Problem,
    ReplyRateOut,
    ReviewOut,
    ReviewPage,
    SegmentsOut,
    SurveyCompareOut,
    WorklistChange,
    WorklistItem,
    WorklistState,
)
from web.auth import Caller, db_session, require
from web.export import worklist_csv

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No API key, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The key's scope is too low."},
    422: {"description": "A query parameter is invalid."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such item."}}

_PAIR = r"[^=;]*[^=;\s][^=;]*=[^;]*"
SEGMENT_PATTERN = rf"^(total|{_PAIR}(;{_PAIR})*)?$"

router = APIRouter(prefix="/api", responses=AUTH_RESPONSES)
Reader = Annotated[Caller, Depends(require("read"))]
Writer = Annotated[Caller, Depends(require("write"))]
DB = Annotated[Session, Depends(db_session)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Row id (a 32-bit integer key in the store).")]


def _in_utc_range(value: datetime | None) -> datetime | None:
    """The store keeps UTC: a time whose UTC form falls outside years 1-9999 is a bad parameter (422), not a 500."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("time out of range once converted to UTC") from exc


When = Annotated[datetime | None, AfterValidator(_in_utc_range)]
From = Annotated[When, Query(alias="from", description="Only windows/items ending after this time.")]
To = Annotated[When, Query(alias="to", description="Only windows/items starting before this time.")]


@router.get("/entities", response_model=list[EntityOut], summary="Brands and products, with competitors")
def list_entities(_: Reader, session: DB) -> list[dict[str, Any]]:
    return reads.entities(session)


@router.get("/estimates", response_model=list[EstimateOut], summary="Stored organic NPS estimates")
def list_estimates(
    _: Reader,
    session: DB,
    entity: Annotated[list[str] | None, Query(description="Entity name; repeat for several.")] = None,
    segment: Annotated[
        str | None,
        Query(description="'total' for the entity as a whole, or 'source=x;region=eu'; omit for every segment.",
              pattern=SEGMENT_PATTERN),
    ] = None,
    window: Annotated[reads.WindowKind | None, Query(description="Window kind.")] = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    audience: Annotated[
        Literal["customer", "employee"] | None,
        Query(description="'employee' for the eNPS estimates (employer reviews), 'customer' for the NPS ones; "
                          "omit for both. With segment=total: the entity's total NPS or eNPS."),
    ] = None,
) -> list[dict[str, Any]]:
    try:
        seg = None if segment is None else reads.parse_segment(segment)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return reads.estimates(session, entity=entity, segment=seg, window=window, start=start, end=end, limit=limit,
                           audience=audience)


@router.get("/reviews", response_model=ReviewPage, summary="Reviews with score, reasons and bot verdict")
def list_reviews(
    _: Reader,
    session: DB,
    entity: str | None = None,
    source: str | None = None,
    cls: Annotated[reads.ReviewClass | None, Query(alias="class", description="Most probable class.")] = None,
    reason: Annotated[str | None, Query(description="Only reviews with this reason code.")] = None,
    bot: Annotated[bool | None, Query(description="true: only bots; false: no bots.")] = None,
    language: str | None = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    flt = reads.ReviewFilter(entity=entity, source=source, cls=cls, reason=reason, bot=bot, language=language,
                             start=start, end=end)
    total, items = reads.reviews(session, flt, limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/reviews/{review_id}", response_model=ReviewOut, responses=NOT_FOUND, summary="One review in full")
def get_review(review_id: RowId, _: Reader, session: DB) -> dict[str, Any]:
    found = reads.review(session, review_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review with id {review_id}")
    return found


@router.get("/campaigns", response_model=list[CampaignOut], summary="Detected smear/stuffing campaigns")
def list_campaigns(
    _: Reader,
    session: DB,
    entity: str | None = None,
    kind: Annotated[str | None, Query(description="smear, stuffing or incident.")] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
) -> list[dict[str, Any]]:
    return reads.campaigns(session, entity=entity, kind=kind, status=status_)


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(
    _: Reader,
    session: DB,
    entity: str | None = None,
    kind: str | None = None,
    severity: str | None = None,
    acknowledged: Annotated[bool | None, Query(description="Filter on acknowledgement.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return reads.alerts(session, entity=entity, kind=kind, severity=severity, acknowledged=acknowledged,
                        limit=limit)


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, responses=NOT_FOUND,
             summary="Acknowledge an alert (write scope)")
def ack_alert(alert_id: RowId, caller: Writer, session: DB) -> dict[str, Any]:
    if acknowledge(session, alert_id, caller.name) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert with id {alert_id}")
    session.flush()
    found = reads.alert(session, alert_id)
    assert found is not None
    return found


Statuses = Annotated[list[Status] | None, Query(alias="status", description="Only these; repeat for several.")]


def worklist_filter(entity: str | None, statuses: list[str] | None, start: datetime | None,
                    min_p: float) -> reads.WorklistFilter:
    return reads.WorklistFilter(entity=entity, status=tuple(statuses or ()), start=start, min_p=min_p)


MinP = Annotated[float, Query(ge=0, le=1, description="Minimum P(detractor) where the text does not overrule.")]


@router.get("/worklist", response_model=list[WorklistItem],
            summary="Organic detractors to follow up (text and rating together), active detractors first")
def worklist(
    request: Request,
    _: Reader,
    session: DB,
    entity: str | None = None,
    status_: Statuses = None,
    start: From = None,
    min_p: MinP = 0.7,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[dict[str, Any]]:
    items = reads.worklist(session, worklist_filter(entity, status_, start, min_p), limit=limit, offset=offset)[1]
    return [{**item, "dashboard_url": str(request.url_for("review_page", review_id=item["id"]))}
            for item in items]


@router.get("/worklist.csv", response_class=PlainTextResponse, summary="The worklist as CSV (every match)",
            responses={200: {"content": {"text/csv": {}}}})
def worklist_export(_: Reader, session: DB, entity: str | None = None, status_: Statuses = None,
                    start: From = None, min_p: MinP = 0.7) -> Response:
    items = reads.worklist(session, worklist_filter(entity, status_, start, min_p), limit=100_000, offset=0)[1]
    return Response(worklist_csv(items), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="worklist.csv"'})


@router.get("/replies", response_model=ReplyRateOut, responses=NOT_FOUND,
            summary="The loop closed: share of organic detractors the company replied to in public, and how fast")
def replies(
    _: Reader,
    session: DB,
    entity: str,
    start: Annotated[When, Query(alias="from", description="Reviews published from this time.")] = None,
    end: Annotated[When, Query(alias="to", description="Reviews published before this time.")] = None,
    min_p: MinP = 0.7,
) -> dict[str, Any]:
    if entity not in {e["name"] for e in reads.entities(session)}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity named {entity!r}")
    return reads.reply_rate(session, entity, start, end, min_p)


@router.post("/worklist/{review_id}", response_model=WorklistState, responses=NOT_FOUND,
             summary="Set a worklist item's status, owner or note (write scope)")
def worklist_update(review_id: RowId, change: WorklistChange, caller: Writer, session: DB) -> dict[str, Any]:
    try:
        entry = set_entry(session, review_id, by=caller.name, **change.model_dump(exclude_none=True))
    except WorklistError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review with id {review_id}")
    return {"status": entry.status, "owner": entry.owner, "note": entry.note, "updated_at": entry.updated_at,
            "updated_by": entry.updated_by}


@router.get("/surveys/compare", response_model=SurveyCompareOut,
            summary="Survey NPS vs organic NPS per segment and window, with both intervals and the gap")
def survey_compare(
    request: Request,
    _: Reader,
    session: DB,
    entity: str | None = None,
    by: Annotated[str, Query(description="Segment keys besides the entity, comma-separated (e.g. region).",
                             pattern=r"^[\w,]*$")] = "",
    window: Annotated[reads.WindowKind, Query(description="Window kind; 'all' for all time.")] = "all",
) -> dict[str, Any]:
    keys = [k for k in by.split(",") if k]
    pairs, correlations = reads.survey_comparison(session, request.app.state.config.thresholds, entity=entity,
                                                  by=keys, window=window)
    return {"comparisons": [p.to_dict() for p in pairs], "correlations": correlations}


def _known_entity(session: Session, entity: str) -> dict[str, Any]:
    found = next((e for e in reads.entities(session) if e["name"] == entity), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity named {entity!r}")
    return found


ViewWindow = Annotated[reads.WindowKind | None, Query(
    description="Window kind; the newest window of it, or (thin) the longer one the headline falls back to. "
                "Default: [estimate] window.")]


@router.get("/segments", response_model=SegmentsOut, responses=NOT_FOUND,
            summary="NPS per segment (region, source, touchpoint, product...) against the entity total")
def segments(request: Request, _: Reader, session: DB, entity: str,
             by: Annotated[str, Query(description="A configured [estimate] segments key, or 'product' (the "
                                                  "entity's products).")],
             window: ViewWindow = None) -> dict[str, Any]:
    settings = request.app.state.config
    _known_entity(session, entity)
    if by not in [*settings.estimate.segments, reads.PRODUCT]:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"by must be one of {', '.join([*settings.estimate.segments, reads.PRODUCT])}")
    return reads.segments(session, entity, window or settings.estimate.window, by, settings.dashboard.min_n)


@router.get("/market", response_model=MarketOut, responses=NOT_FOUND,
            summary="The entity and its competitors ranked by NPS, with the lead over each and the reasons")
def market(request: Request, _: Reader, session: DB, entity: str, window: ViewWindow = None) -> dict[str, Any]:
    settings = request.app.state.config
    chosen = _known_entity(session, entity)
    return reads.market(session, entity, chosen["competitors"], window or settings.estimate.window,
                        settings.dashboard.min_n)
