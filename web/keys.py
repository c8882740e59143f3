"""API keys: made once, shown once, kept only as a SHA-256 hash, scoped feed < read < write < admin.

A ``feed`` key reads the alert feeds and nothing else: the one to paste into a feed reader, where it travels in the
URL (``?key=``) and lands in that reader's and any proxy's logs; it cannot read the API or the dashboard.

A key is a random token; the database holds its hash, so a leaked database does not leak usable keys.
SHA-256 (not a slow password hash) is enough because keys are 256-bit random, not guessable words.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.schema import ApiKey

Scope = Literal["feed", "read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("feed", "read", "write", "admin")
KEY_PREFIX = "onps_"


def hash_key(raw: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def allows(granted: str, needed: Scope) -> bool:
    """Whether a key of scope ``granted`` may do what needs ``needed`` (scopes are ordered)."""
    return granted in SCOPES and SCOPES.index(granted) >= SCOPES.index(needed)


def create_key(session: Session, name: str, scope: Scope) -> tuple[ApiKey, str]:
    """Store a new key and return it with its raw value, which is never stored and cannot be shown again."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, key_hash=hash_key(raw), scope=scope)
    session.add(key)
    session.flush()
    return key, raw


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    """Mark a key revoked (kept for the record); None when no such key exists."""
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def find_active_key(session: Session, raw: str) -> ApiKey | None:
    """The live key a raw value belongs to; revoked and unknown keys give None alike."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw)))
    return key if key is not None and key.revoked_at is None else None
