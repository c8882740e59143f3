"""FastAPI dependencies: one database session per request, and the API key check.

A key may come as ``X-API-Key`` or ``Authorization: Bearer``; the dashboard carries it in an HttpOnly,
SameSite=Strict cookie (so a foreign page cannot post with it); feeds accept ``?key=`` because feed readers
cannot set headers. The REST API itself takes headers only, so its writes are not open to cross-site requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from store.engine import session_scope
from web.keys import Scope, allows, find_active_key

KEY_COOKIE = "onps_key"

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (onps apikey create).")
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


def db_session(request: Request) -> Iterator[Session]:
    """A unit of work per request: committed at the end, rolled back on error."""
    with session_scope(request.app.state.db_url) as session:
        yield session


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's name (recorded on acknowledgements) and its scope."""

    key_id: int
    name: str
    scope: str


class AuthError(HTTPException):
    """401 (no usable key) or 403 (key too weak); the dashboard turns a 401 into its login page."""


def check_key(session: Session, raw: str | None, needed: Scope) -> Caller:
    if not raw:
        raise AuthError(
            status.HTTP_401_UNAUTHORIZED,
            "an API key is required: send it as X-API-Key or Authorization: Bearer (create one with "
            "`onps apikey create NAME --scope read`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = find_active_key(session, raw)
    if key is None:
        raise AuthError(
            status.HTTP_401_UNAUTHORIZED,
            "this API key is unknown or revoked; ask an admin for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not allows(key.scope, needed):
        raise AuthError(
            status.HTTP_403_FORBIDDEN, f"this key has scope {key.scope!r}; this needs {needed!r} or higher"
        )
    return Caller(key.id, key.name, key.scope)


def require(needed: Scope, *, query: bool = False, cookie: bool = False) -> Callable[..., Caller]:
    """A dependency admitting callers whose key has at least ``needed`` scope.

    ``query`` also accepts ``?key=`` (feeds); ``cookie`` also accepts the dashboard cookie.
    """

    def dependency(
        request: Request,
        header_key: str | None = Depends(api_key_header),
        bearer_key: HTTPAuthorizationCredentials | None = Depends(bearer),
        session: Session = Depends(db_session),
    ) -> Caller:
        raw = header_key or (bearer_key.credentials if bearer_key else None)
        if raw is None and query:
            raw = request.query_params.get("key")
        if raw is None and cookie:
            raw = request.cookies.get(KEY_COOKIE)
        return check_key(session, raw, needed)

    return dependency
