"""A lease in the ``flow_locks`` table, so two overlapping runs never work on the same store at once.

Why a table and not a file lock: the store may be PostgreSQL shared by several workers on several machines, and
the lock must live where the data lives. Claiming is an INSERT on the primary key (atomic on SQLite and
PostgreSQL alike); taking over a stale lease is a compare-and-swap UPDATE on the old holder, so two runs racing
for a dead run's lease cannot both win. A lease is stale when it has expired, or when its holder is a process
on this host that no longer exists (a run killed with -9 leaves its row behind; the next run should not have to
wait out the whole lease for it).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from store.clock import utcnow
from store.engine import session_scope
from store.schema import FlowLock

DEFAULT_TTL = timedelta(minutes=30)
PIPELINE = "pipeline"  # the lease every run that writes stage results holds (the nightly, an on-demand estimate)


class LockHeld(RuntimeError):
    """Another live run holds the lease."""

    def __init__(self, name: str, holder: str, expires_at: datetime) -> None:
        super().__init__(
            f"lock {name!r} is held by {holder} until {expires_at:%Y-%m-%d %H:%M:%S} UTC; another run is "
            "working on this store. Wait for it to finish (`onps runs` shows it), or, if that run is gone, wait "
            "for the lease to expire."
        )
        self.name, self.holder, self.expires_at = name, holder, expires_at


class LockLost(RuntimeError):
    """Our lease was taken over (it expired while we were still working); stop before writing more."""


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    expires_at: datetime
    took_over: str | None = None  # the stale holder this lease replaced, if any


def holder_id(run_id: int | str) -> str:
    """host:pid:run, so a later run on the same host can tell a dead holder from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


def holder_run_id(holder: str) -> int | None:
    """The run id inside a holder string, or None for a holder written by something else."""
    tail = holder.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def holder_is_dead(holder: str) -> bool:
    """True only when the holder ran on this host and its process is gone (other hosts: trust the expiry)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(db_url: str, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> Lease:
    """Take the lease NAME for HOLDER, or raise LockHeld naming who has it."""
    expires = utcnow() + ttl
    try:
        with session_scope(db_url) as session:
            session.add(FlowLock(name=name, holder=holder, expires_at=expires))
        return Lease(name, holder, expires)
    except IntegrityError:
        pass  # someone holds it (or held it and died): look at who
    with session_scope(db_url) as session:
        current = session.execute(select(FlowLock).where(FlowLock.name == name)).scalar_one_or_none()
        if current is None:  # released between our insert and our read
            session.add(FlowLock(name=name, holder=holder, expires_at=expires))
            return Lease(name, holder, expires)
        old_holder, old_expiry = current.holder, current.expires_at
        if old_holder == holder:
            current.expires_at = expires
            return Lease(name, holder, expires)
        if old_expiry > utcnow() and not holder_is_dead(old_holder):
            raise LockHeld(name, old_holder, old_expiry)
        swapped = session.execute(  # type: ignore[attr-defined]  # a DML statement's Result is a CursorResult
            update(FlowLock)
            .where(FlowLock.name == name, FlowLock.holder == old_holder)
            .values(holder=holder, expires_at=expires)
            .execution_options(synchronize_session=False)
        ).rowcount
        if swapped != 1:
            raise LockHeld(name, "another run that took over the stale lease first", expires)
        return Lease(name, holder, expires, took_over=old_holder)


def renew(db_url: str, lease: Lease, ttl: timedelta = DEFAULT_TTL) -> Lease:
    """Push the expiry forward; raise LockLost when someone else holds the lease now."""
    expires = utcnow() + ttl
    with session_scope(db_url) as session:
        renewed = session.execute(  # type: ignore[attr-defined]  # a DML statement's Result is a CursorResult
            update(FlowLock)
            .where(FlowLock.name == lease.name, FlowLock.holder == lease.holder)
            .values(expires_at=expires)
            .execution_options(synchronize_session=False)
        ).rowcount
    if renewed != 1:
        raise LockLost(f"lock {lease.name!r} is no longer held by {lease.holder}; stopping this run")
    return Lease(lease.name, lease.holder, expires, lease.took_over)


def release(db_url: str, lease: Lease) -> None:
    """Give the lease back (only ours: a lease taken over by another run is left alone)."""
    with session_scope(db_url) as session:
        session.execute(delete(FlowLock).where(FlowLock.name == lease.name, FlowLock.holder == lease.holder))


@contextmanager
def held(db_url: str, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> Iterator[Lease]:
    """Hold the lease for the block; released on the way out, also on errors."""
    lease = claim(db_url, name, holder, ttl)
    try:
        yield lease
    finally:
        release(db_url, lease)


class Heartbeat:
    """Renews the lease every third of its TTL from a thread, so a long stage never lets it lapse while alive."""

    def __init__(self, db_url: str, lease: Lease, ttl: timedelta = DEFAULT_TTL) -> None:
        self.db_url, self.lease, self.ttl = db_url, lease, ttl
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="onps-lease", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                self.lease = renew(self.db_url, self.lease, self.ttl)
            except LockLost as exc:
                self.lost = str(exc)
                return

    def check(self) -> None:
        if self.lost:
            raise LockLost(self.lost)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
