"""The dashboard: server-rendered pages (Jinja2) with Plotly charts, behind the same API keys as the API.

A key reaches the dashboard once, through the login form or a ``?key=`` link, and then lives in an HttpOnly,
SameSite=Strict cookie; the page redirects the ``?key=`` away at once so it does not linger in the address bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from config.schema import OnpsConfig
from nps.drivers import reason_changes
from nps.headline import choose_headline, enough_data, window_label
from nps.record import web_url
from nps.windows import previous_span
from store import queries
from store.alerts_store import acknowledge
from store.worklist import STATUSES, WorklistError, set_entry
from web import charts, reads
from web.api import RowId
from web.auth import KEY_COOKIE, AuthError, Caller, check_key, db_session
from web.export import worklist_csv
from web.highlight import highlight
from web.keys import Scope

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["web_url"] = web_url  # every crawled link goes through the one safe-URL rule
COOKIE_MAX_AGE_S = 30 * 24 * 3600
PAGE = 50

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(db_session)]


class LoginRequired(Exception):
    """No usable key for a page: the app answers with a redirect to the login form."""

    def __init__(self, next_url: str, message: str | None = None) -> None:
        self.next_url, self.message = next_url, message


class KeyToCookie(Exception):
    """A valid ``?key=`` arrived: move it into the cookie and redirect to the same page without it."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key


def _path_with_query(request: Request, drop: str | None = None) -> str:
    url = request.url.remove_query_params(drop) if drop else request.url
    return url.path + (f"?{url.query}" if url.query else "")


def page_caller(needed: Scope) -> Any:
    def dependency(request: Request, session: DB) -> Caller:
        query_key = request.query_params.get("key")
        if query_key:
            try:
                check_key(session, query_key, needed)
            except AuthError as exc:
                raise LoginRequired(_path_with_query(request, "key"), str(exc.detail)) from exc
            raise KeyToCookie(_path_with_query(request, "key"), query_key)
        try:
            return check_key(session, request.cookies.get(KEY_COOKIE), needed)
        except AuthError as exc:
            if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                raise LoginRequired(_path_with_query(request)) from exc
            raise

    return dependency


Viewer = Annotated[Caller, Depends(page_caller("read"))]
Editor = Annotated[Caller, Depends(page_caller("write"))]


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot be used to redirect people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or urlsplit(target).netloc:
        return "/"
    return target


def set_key_cookie(response: Response, request: Request, key: str) -> None:
    response.set_cookie(KEY_COOKIE, key, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")


def _render(request: Request, name: str, caller: Caller | None, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"caller": caller, **context})


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(request: Request, next: str = "/", error: str | None = None) -> HTMLResponse:
    return _render(request, "login.html", None, next=safe_next(next), error=error)


@router.post("/login", name="login_submit")
def login_submit(request: Request, session: DB, key: Annotated[str, Form()],
                 next: Annotated[str, Form()] = "/") -> Response:
    try:
        check_key(session, key.strip(), "read")
    except AuthError as exc:
        return _render(request, "login.html", None, next=safe_next(next), error=str(exc.detail))
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    set_key_cookie(response, request, key.strip())
    return response


@router.post("/logout", name="logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(KEY_COOKIE, path="/")
    return response


def competitor_benchmark(session: Session, entity: dict[str, Any], kind: str, min_n: int) -> list[dict[str, Any]]:
    """The overview's competitor card: the market view's rows (``reads.market``: each competitor's estimate of the
    headline's window and the entity's lead over it where both have enough data) in the configured order."""
    rows = {r["name"]: r for r in reads.market(session, entity["name"], entity["competitors"], kind, min_n)["rows"]}
    return [rows.get(name, {"name": name, "estimate": None, "lead": None}) for name in entity["competitors"]]


def family_rows(session: Session, entity: str, window: Mapping[str, Any] | None, min_n: int
                ) -> list[dict[str, Any]]:
    """One row per source family with an estimate in the headline's window (``reads.family_estimates``), each a
    figure only where it has enough data on its own (``nps.headline.enough_data``): a family of three posts says
    "not enough data" even when the combined figure beside it has plenty."""
    if window is None:
        return []
    return [{"family": row["segment"]["source_family"], "estimate": row, "enough": enough_data(row, min_n)}
            for row in reads.family_estimates(session, entity, window)]


def replies_in(session: Session, entity: str, window: Mapping[str, Any] | None) -> dict[str, Any]:
    """The reply rate (``reads.reply_rate``) over the headline's window; all time when it has none."""
    dated = window is not None and window["window_kind"] != "all"
    start, end = (window["window_start"], window["window_end"]) if dated and window else (None, None)
    return {**reads.reply_rate(session, entity, start, end),
            "label": window_label(window) if dated and window else "all time"}


def default_entity(stored: list[dict[str, Any]], settings: OnpsConfig) -> str | None:
    """The entity the overview opens on: ``[dashboard] home``, else the first configured entity the store
    knows, else the first one stored (entities are registered in config order)."""
    names = {e["name"] for e in stored}
    for name in [settings.dashboard.home, *(e.name for e in settings.entities)]:
        if name in names:
            return name
    return min(stored, key=lambda e: e["id"])["name"] if stored else None


def trend_kind(asked: str, stored: set[str]) -> str:
    """The window kind the trend chart draws: a month or 28-day trend as asked; for a day, a week or all time the
    rolling 28-day series (else the monthly one) when stored, since a weekly line over years is mostly noise and
    the all-time figure is one point."""
    if asked in ("month", "rolling28"):
        return asked
    return next((k for k in ("rolling28", "month") if k in stored), asked if asked != "all" else "week")


def reason_drivers(request: Request, session: Session, entity: str, window: Mapping[str, Any] | None
                   ) -> dict[str, Any]:
    """The reasons behind the headline's window against the window before it (nps.drivers), each with a link to
    the organic reviews of that class citing it in that window; all time when there is no window."""
    dated = window is not None and window["window_kind"] != "all"
    start, end = (window["window_start"], window["window_end"]) if dated and window else (None, None)
    counts, totals = reads.reason_breakdown(session, entity=entity, start=start, end=end)
    previous = previous_totals = None
    if dated and window and start and end:
        before = previous_span(start, end, window["window_kind"])
        previous, previous_totals = reads.reason_breakdown(session, entity=entity, start=before[0], end=before[1])
    changes = reason_changes(counts, totals, previous, previous_totals)
    span = {"from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"} if start and end else {}
    links = {(c.cls, c.code): str(request.url_for("reviews_page")) + "?" + urlencode(
        {"entity": entity, "class": c.cls, "reason": c.code, "organic": "true", **span}) for c in changes}
    label = window_label(window) if dated and window else "all time"
    return {"changes": changes, "links": links, "label": label, "totals": totals, "compared": previous is not None}


@router.get("/", response_class=HTMLResponse, name="overview")
def overview(request: Request, caller: Viewer, session: DB, entity: str | None = None,
             window: reads.WindowKind | None = None) -> HTMLResponse:
    settings: OnpsConfig = request.app.state.config
    window = window or settings.estimate.window
    min_n = settings.dashboard.min_n
    everyone = reads.entities(session)
    if entity not in {e["name"] for e in everyone}:
        entity = default_entity(everyone, settings)
    chosen = next((e for e in everyone if e["name"] == entity), None)
    context: dict[str, Any] = {"entities": everyone, "entity": chosen, "window": window, "min_n": min_n,
                               "windows": ["day", "week", "month", "rolling28", "all"]}
    if chosen is not None:
        shown = [chosen["name"], *chosen["competitors"]]
        ours = reads.latest_estimates(session, [chosen["name"]]).get(chosen["name"], {})
        headline = choose_headline({kind: [row] for kind, row in ours.items()}, window, min_n)
        kind = trend_kind(window, set(ours))
        trend = reads.estimates(session, entity=shown, segment={}, window=kind, limit=100_000)
        pairs, correlations = reads.survey_comparison(session, settings.thresholds, entity=chosen["name"],
                                                      window=window)
        dated = [p for p in pairs if p.window_start is not None]
        survey = [{"window_start": p.window_start, "nps": p.survey.nps, "low": p.survey.low,
                   "high": p.survey.high} for p in dated]
        organic = [{"window_start": p.window_start, "nps": p.organic.nps, "low": p.organic.low,
                    "high": p.organic.high} for p in dated]
        shown_window = headline.shown or headline.latest
        drivers = reason_drivers(request, session, chosen["name"], shown_window)
        # invited reviews (the company asked for them) are estimated apart, never in the organic figure
        invited_segment = {"channel": "invited"}
        invited_latest = reads.latest_estimates(session, [chosen["name"]], invited_segment).get(
            chosen["name"], {}).get(window)
        invited_trend = reads.estimates(session, entity=[chosen["name"]], segment=invited_segment, window=kind,
                                        limit=100_000)
        waiting, worklist = reads.worklist(session, reads.WorklistFilter(entity=chosen["name"],
                                                                         status=("open", "contacted")),
                                           limit=10, offset=0)
        context |= {
            "headline": headline,
            "latest": headline.shown,
            "stored_kinds": sorted(ours),
            "trend_kind": kind,
            "invited": invited_latest if enough_data(invited_latest, min_n) else None,
            "benchmark": competitor_benchmark(session, chosen, window, min_n),
            "trend_chart": charts.nps_trend(
                trend, order=shown, invited=invited_trend, events=queries.stored_campaigns(session, chosen["name"]),
                survey=reads.survey_trend(session, settings.thresholds, chosen["name"], kind)) if trend else None,
            "survey_chart": charts.survey_vs_organic(organic, survey) if survey else None,
            "survey_pairs": [p.to_dict() for p in pairs][-6:],
            "survey_correlation": correlations.get(f"entity={chosen['name']}"),
            "drivers": drivers,
            "reason_chart": charts.reason_breakdown(drivers["changes"], drivers["links"])
            if any(c.count for c in drivers["changes"]) else None,
            "worklist": worklist,
            "worklist_waiting": waiting,
            "families": family_rows(session, chosen["name"], shown_window, min_n),
            "replies": replies_in(session, chosen["name"], shown_window),
        }
    context["alerts"] = reads.alerts(session, limit=30)
    return _render(request, "overview.html", caller, **context)


def segment_keys(settings: OnpsConfig, everyone: list[dict[str, Any]], entity: str | None) -> list[str]:
    """What a segment view can be cut by: the configured ``[estimate] segments`` keys (what the nightly stores),
    and ``product`` where the entity has products (entities whose parent it is)."""
    products = any(e["parent"] == entity for e in everyone)
    return [*settings.estimate.segments, *([reads.PRODUCT] if products else [])]


@router.get("/segments", response_class=HTMLResponse, name="segments_page")
def segments_page(request: Request, caller: Viewer, session: DB, entity: str | None = None,
                  window: reads.WindowKind | None = None, by: str | None = None) -> HTMLResponse:
    """The entity's NPS per region, source, touchpoint, product... (``by``; not ``key``, which every page takes
    as an API key) in the headline's window, each segment a figure only with enough data, and whether it differs
    from the entity as a whole."""
    settings: OnpsConfig = request.app.state.config
    window = window or settings.estimate.window
    everyone = reads.entities(session)
    if entity not in {e["name"] for e in everyone}:
        entity = default_entity(everyone, settings)
    keys = segment_keys(settings, everyone, entity)
    key = by if by in keys else (keys[0] if keys else "")
    view = reads.segments(session, entity, window, key, settings.dashboard.min_n) if entity and key else None
    return _render(request, "segments.html", caller, entities=everyone, entity=entity, window=window, key=key,
                   keys=keys, view=view, windows=["day", "week", "month", "rolling28", "all"])


@router.get("/market", response_class=HTMLResponse, name="market_page")
def market_page(request: Request, caller: Viewer, session: DB, entity: str | None = None,
                window: reads.WindowKind | None = None) -> HTMLResponse:
    """The entity against its configured competitors in the headline's window: ranked by NPS, the lead over
    each with its interval, and the reasons each competitor's detractors and promoters cite more."""
    settings: OnpsConfig = request.app.state.config
    window = window or settings.estimate.window
    everyone = reads.entities(session)
    if entity not in {e["name"] for e in everyone}:
        entity = default_entity(everyone, settings)
    chosen = next((e for e in everyone if e["name"] == entity), None)
    view = (reads.market(session, chosen["name"], chosen["competitors"], window, settings.dashboard.min_n)
            if chosen else None)
    return _render(request, "market.html", caller, entities=everyone, entity=entity, window=window, view=view,
                   windows=["day", "week", "month", "rolling28", "all"])


@router.post("/estimate", name="estimate_now")
def estimate_now(request: Request, caller: Editor, window: Annotated[reads.WindowKind, Form()],
                 entity: Annotated[str, Form()] = "") -> Response:
    """Estimate a window kind that is not stored yet, now (flows.on_demand), instead of waiting for the nightly."""
    from flows.locks import LockHeld
    from flows.on_demand import estimate_on_demand

    same_site(request)
    settings: OnpsConfig = request.app.state.config
    if window != "all":
        try:
            estimate_on_demand(request.app.state.db_url, settings, window)
        except LockHeld as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return RedirectResponse(f"/?{urlencode({'entity': entity, 'window': window})}",
                            status_code=status.HTTP_303_SEE_OTHER)


def same_site(request: Request) -> None:
    """A form post from another site is refused (the key cookie is SameSite=Strict; this is the second lock)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site form post refused")


@router.post("/alerts/{alert_id}/ack", name="ack_alert_page")
def ack_from_page(request: Request, alert_id: RowId, caller: Editor, session: DB) -> Response:
    same_site(request)
    if acknowledge(session, alert_id, caller.name) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert with id {alert_id}")
    back = safe_next(urlsplit(request.headers.get("referer", "/")).path or "/")
    return RedirectResponse(f"{back}#alert-{alert_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/enps", response_class=HTMLResponse, name="enps_page")
def enps_page(request: Request, caller: Viewer, session: DB, window: reads.WindowKind | None = None) -> HTMLResponse:
    """Employees' eNPS per employer, on a page of its own: never a line in a customer chart."""
    window = window or request.app.state.config.estimate.window
    trend = reads.estimates(session, segment={}, window=window, audience="employee", limit=10000)
    totals = {e["entity"]: e for e in reads.estimates(session, segment={}, window="all", audience="employee")}
    employers = sorted({e["entity"] for e in trend} | set(totals))
    latest = {name: [e for e in trend if e["entity"] == name][-1] for name in employers
              if any(e["entity"] == name for e in trend)}
    rows = [{"name": name, "total": totals.get(name), "latest": latest.get(name),
             "reasons": sorted(((latest.get(name) or totals.get(name) or {}).get("extra", {}).get("reasons") or {})
                               .items(), key=lambda kv: -kv[1].get("detractors", 0.0))[:5]}
            for name in employers]
    return _render(request, "enps.html", caller, employers=rows, window=window,
                   windows=["day", "week", "month", "rolling28", "all"],
                   trend_chart=charts.nps_trend(trend, div_id="enps-trend", metric="eNPS") if trend else None)


@router.get("/campaigns", response_class=HTMLResponse, name="campaigns_page")
def campaigns_page(request: Request, caller: Viewer, session: DB, entity: str | None = None) -> HTMLResponse:
    found = reads.campaigns(session, entity=entity)
    members = {c["id"]: reads.campaign_members(session, c) for c in found}
    return _render(request, "campaigns.html", caller, campaigns=found, members=members, entity=entity,
                   timeline=charts.campaign_timeline(found) if found else None)


def _worklist_filter(entity: str | None, status_: str | None) -> reads.WorklistFilter:
    if status_ and status_ not in STATUSES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"status must be one of {', '.join(STATUSES)}")
    return reads.WorklistFilter(entity=entity or None, status=(status_,) if status_ else ())


@router.get("/worklist", response_class=HTMLResponse, name="worklist_page")
def worklist_page(request: Request, caller: Viewer, session: DB, entity: str | None = None,
                  status_: Annotated[str | None, Query(alias="status")] = None,
                  page: Annotated[int, Query(ge=1, le=2**31 // PAGE)] = 1) -> HTMLResponse:
    total, items = reads.worklist(session, _worklist_filter(entity, status_), limit=PAGE, offset=(page - 1) * PAGE)
    base = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return _render(request, "worklist.html", caller, items=items, total=total, page=page,
                   pages=max(1, -(-total // PAGE)), query=urlencode(base), filters=base, statuses=STATUSES,
                   entities=reads.entities(session))


@router.get("/worklist.csv", name="worklist_csv_page")
def worklist_csv_page(caller: Viewer, session: DB, entity: str | None = None,
                      status_: Annotated[str | None, Query(alias="status")] = None) -> Response:
    _, items = reads.worklist(session, _worklist_filter(entity, status_), limit=100_000, offset=0)
    return Response(worklist_csv(items), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="worklist.csv"'})


@router.post("/worklist/{review_id}", name="worklist_update_page")
def worklist_update_page(request: Request, review_id: RowId, caller: Editor, session: DB,
                         status_: Annotated[str, Form(alias="status")], owner: Annotated[str, Form()] = "",
                         note: Annotated[str, Form()] = "") -> Response:
    same_site(request)
    try:
        entry = set_entry(session, review_id, by=caller.name, status=status_, owner=owner, note=note)
    except WorklistError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review with id {review_id}")
    back = urlsplit(request.headers.get("referer", ""))
    target = safe_next(back.path + (f"?{back.query}" if back.query else "")) if back.path else "/worklist"
    return RedirectResponse(f"{target}#item-{review_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/reviews", response_class=HTMLResponse, name="reviews_page")
def reviews_page(
    request: Request, caller: Viewer, session: DB, entity: str | None = None, source: str | None = None,
    cls: Annotated[str | None, Query(alias="class")] = None, reason: str | None = None,
    bot: bool | None = None, rating: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None, end: Annotated[str | None, Query(alias="to")] = None,
    organic: bool = False, page: Annotated[int, Query(ge=1, le=2**31 // PAGE)] = 1,
) -> HTMLResponse:
    """Reviews filtered as a chart's bar or a reader asks: ``from``/``to`` are days (``to`` exclusive, as a
    window's end), ``rating`` the native value (1 for one star). A filter form sends every field, so an empty
    one means "any"."""
    if cls and cls not in ("promoter", "passive", "detractor"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "class must be promoter, passive or detractor")
    try:
        stars = float(rating) if rating else None
        first, last = (datetime.combine(date.fromisoformat(d), time(), UTC) if d else None for d in (start, end))
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "rating must be a number; from and to dates as YYYY-MM-DD") from exc
    # cls is a ReviewClass or empty after the check above, which mypy cannot narrow a str to
    flt = reads.ReviewFilter(entity=entity or None, source=source or None, cls=cls or None,  # type: ignore[arg-type]
                             reason=reason or None, bot=bot, rating=stars, organic=organic, start=first, end=last)
    total, items = reads.reviews(session, flt, limit=PAGE, offset=(page - 1) * PAGE)
    if reason:  # the words that made the reason, marked in each listed text
        for item in items:
            item["marked"] = highlight(item["text"], [(r["evidence"], r["polarity"]) for r in item["reasons"]
                                                      if r["code"] == reason])
    base = {k: v for k, v in request.query_params.items() if k != "page" and v}
    return _render(request, "reviews.html", caller, items=items, total=total, page=page,
                   pages=max(1, -(-total // PAGE)), query=urlencode(base), filters=base,
                   entities=reads.entities(session), sources=reads.source_names(session))


@router.get("/reviews/{review_id}", response_class=HTMLResponse, name="review_page")
def review_page(request: Request, review_id: RowId, caller: Viewer, session: DB) -> HTMLResponse:
    found = reads.review(session, review_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review with id {review_id}")
    marked = highlight(found["text"], [(r["evidence"], r["polarity"]) for r in found["reasons"]])
    return _render(request, "review.html", caller, review=found, marked_text=marked)
