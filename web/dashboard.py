"""The dashboard: server-rendered pages (Jinja2) with Plotly charts, behind the same API keys as the API.

A key reaches the dashboard once, through the login form or a ``?key=`` link, and then lives in an HttpOnly,
SameSite=Strict cookie; the page redirects the ``?key=`` away at once so it does not linger in the address bar.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from nps.compare import difference
from nps.record import web_url
from store.alerts_store import acknowledge
from web import charts, reads
from web.api import RowId
from web.auth import KEY_COOKIE, AuthError, Caller, check_key, db_session
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


def competitor_benchmark(latest: dict[str, Any] | None, trend: list[dict[str, Any]],
                         competitors: list[str]) -> list[dict[str, Any]]:
    """Each competitor's estimate for the same window as the entity's latest, and the entity's lead over it
    (``nps.compare.difference``: entity minus competitor, with its 95% interval)."""
    rows = []
    for name in competitors:
        same = next((e for e in trend if e["entity"] == name and latest is not None
                     and e["window_start"] == latest["window_start"]), None)
        lead = difference(SimpleNamespace(**latest), SimpleNamespace(**same)) if latest and same else None
        rows.append({"name": name, "estimate": same, "lead": lead})
    return rows


@router.get("/", response_class=HTMLResponse, name="overview")
def overview(request: Request, caller: Viewer, session: DB, entity: str | None = None,
             window: reads.WindowKind | None = None) -> HTMLResponse:
    settings = request.app.state.config
    window = window or settings.estimate.window
    everyone = reads.entities(session)
    names = [e["name"] for e in everyone]
    if entity not in names:
        with_estimates = {e["entity"] for e in reads.estimates(session, segment={}, window=window, limit=10000)}
        entity = next((n for n in names if n in with_estimates), names[0] if names else None)
    chosen = next((e for e in everyone if e["name"] == entity), None)
    context: dict[str, Any] = {"entities": everyone, "entity": chosen, "window": window,
                               "windows": ["day", "week", "month", "rolling28", "all"]}
    if chosen is not None:
        shown = [chosen["name"], *chosen["competitors"]]
        trend = reads.estimates(session, entity=shown, segment={}, window=window)
        organic = [e for e in trend if e["entity"] == chosen["name"]]
        pairs, correlations = reads.survey_comparison(session, settings.thresholds, entity=chosen["name"],
                                                      window=window)
        survey = [{"window_start": p.window_start, "nps": p.survey.nps, "low": p.survey.low,
                   "high": p.survey.high} for p in pairs if p.window_start is not None]
        breakdown = reads.reason_breakdown(session, entity=chosen["name"])
        latest = organic[-1] if organic else None
        # invited reviews (the company asked for them) are estimated apart, never in the organic figure
        invited = reads.estimates(session, entity=[chosen["name"]], segment={"channel": "invited"}, window=window)
        benchmark = competitor_benchmark(latest, trend, chosen["competitors"])
        _, worklist = reads.reviews(session, reads.ReviewFilter(entity=chosen["name"], cls="detractor",
                                                                organic=True, min_p_detractor=0.7),
                                    limit=10, offset=0)
        context |= {
            "latest": latest,
            "invited": invited[-1] if invited else None,
            "benchmark": benchmark,
            "trend_chart": charts.nps_trend(trend, order=shown) if trend else None,
            "survey_chart": charts.survey_vs_organic(organic, survey) if survey else None,
            "survey_pairs": [p.to_dict() for p in pairs][-6:],
            "survey_correlation": correlations.get(f"entity={chosen['name']}"),
            "reason_chart": charts.reason_breakdown(breakdown) if any(breakdown.values()) else None,
            "worklist": worklist,
        }
    context["alerts"] = reads.alerts(session, limit=30)
    return _render(request, "overview.html", caller, **context)


@router.post("/alerts/{alert_id}/ack", name="ack_alert_page")
def ack_from_page(request: Request, alert_id: RowId, caller: Editor, session: DB) -> Response:
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site acknowledgement refused")
    if acknowledge(session, alert_id, caller.name) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert with id {alert_id}")
    back = safe_next(urlsplit(request.headers.get("referer", "/")).path or "/")
    return RedirectResponse(f"{back}#alert-{alert_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/enps", response_class=HTMLResponse, name="enps_page")
def enps_page(request: Request, caller: Viewer, session: DB, window: reads.WindowKind | None = None) -> HTMLResponse:
    """Employees' eNPS per employer, on a page of its own: never a line in a customer chart (issue #21)."""
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


@router.get("/reviews", response_class=HTMLResponse, name="reviews_page")
def reviews_page(
    request: Request, caller: Viewer, session: DB, entity: str | None = None,
    cls: Annotated[reads.ReviewClass | None, Query(alias="class")] = None, reason: str | None = None,
    bot: bool | None = None, page: Annotated[int, Query(ge=1, le=2**31 // PAGE)] = 1,
) -> HTMLResponse:
    flt = reads.ReviewFilter(entity=entity, cls=cls, reason=reason, bot=bot)
    total, items = reads.reviews(session, flt, limit=PAGE, offset=(page - 1) * PAGE)
    base = {k: v for k, v in request.query_params.items() if k != "page"}
    query = urlencode(base)
    return _render(request, "reviews.html", caller, items=items, total=total, page=page,
                   pages=max(1, -(-total // PAGE)), query=query, filters=base)


@router.get("/reviews/{review_id}", response_class=HTMLResponse, name="review_page")
def review_page(request: Request, review_id: RowId, caller: Viewer, session: DB) -> HTMLResponse:
    found = reads.review(session, review_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no review with id {review_id}")
    marked = highlight(found["text"], [(r["evidence"], r["polarity"]) for r in found["reasons"]])
    return _render(request, "review.html", caller, review=found, marked_text=marked)
