"""The application factory: the REST API, the alert feeds and the dashboard over one store.

``create_app`` takes the validated config (or, for tests and scripts, a bare database URL with default settings)
and reads everything from the store; it never writes anything except acknowledgements.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from config.schema import DatabaseConfig, OnpsConfig
from store.engine import engine_for
from web import api, dashboard, feeds
from web.api_models import Health

PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
STATIC = Path(__file__).parent / "static"
# scripts stay unrestricted until the charts' inline plotly calls carry nonces; the rest is locked to this origin
CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"


def create_app(cfg_or_db_url: OnpsConfig | str) -> FastAPI:
    config = (cfg_or_db_url if isinstance(cfg_or_db_url, OnpsConfig)
              else OnpsConfig(database=DatabaseConfig(url=cfg_or_db_url)))
    app = FastAPIOffline(  # /docs and /redoc served from the package, not a CDN (the machine is offline)
        title="organic-nps",
        version="0.1.0",
        description=(
            "Organic Net Promoter Score from reviews and forum posts: estimates with 95% intervals, the reviews "
            "behind them, campaigns kept out, and alerts. Every endpoint except /health needs an API key "
            "(`onps apikey create NAME --scope read|write|admin`) as `X-API-Key` or `Authorization: Bearer`."
        ),
    )
    app.state.config = config
    app.state.db_url = config.database.url

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        """Headers every answer carries: no MIME sniffing, no referrer (with its `?key=`) sent to the sites the
        dashboard links to, no framing (clickjacking), no plugins, forms and base URL only to ourselves."""
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.get("/health", response_model=Health, tags=["health"], summary="Liveness and database reachability",
             responses={503: {"model": Health, "description": "The database cannot be reached."}})
    def health() -> JSONResponse:
        try:
            with engine_for(app.state.db_url).connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "degraded", "database": "unreachable"},
                                status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router, tags=["api"])
    app.include_router(feeds.router, tags=["feeds"])
    app.include_router(dashboard.router)

    @app.exception_handler(dashboard.LoginRequired)
    def _login(request: Request, exc: dashboard.LoginRequired) -> RedirectResponse:
        target = f"/login?next={quote(exc.next_url, safe='')}"
        if exc.message:
            target += f"&error={quote(exc.message, safe='')}"
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(dashboard.KeyToCookie)
    def _key_to_cookie(request: Request, exc: dashboard.KeyToCookie) -> RedirectResponse:
        response = RedirectResponse(exc.url, status_code=status.HTTP_303_SEE_OTHER)
        dashboard.set_key_cookie(response, request, exc.key)
        return response

    return app
