"""The pipeline lease (flows/locks.py) and the run record (flows/report.py), on SQLite and PostgreSQL.

No Prefect here: these are the pieces that keep two overlapping runs apart and say what a run did.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from rich.console import Console

from flows import locks, report
from flows.stages import StageResult


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_second_claim_is_refused_until_release(db_url: str) -> None:
    lease = locks.claim(db_url, "pipeline", locks.holder_id(1))
    with pytest.raises(locks.LockHeld, match="held by .*:1 until"):
        locks.claim(db_url, "pipeline", locks.holder_id(2))
    locks.release(db_url, lease)
    second = locks.claim(db_url, "pipeline", locks.holder_id(2))
    assert second.took_over is None


def test_dead_holder_on_this_host_is_taken_over(db_url: str) -> None:
    import socket

    ghost = f"{socket.gethostname()}:{dead_pid()}:7"
    locks.claim(db_url, "pipeline", ghost)
    lease = locks.claim(db_url, "pipeline", locks.holder_id(8))
    assert lease.took_over == ghost
    assert locks.holder_run_id(lease.took_over) == 7
    with pytest.raises(locks.LockLost):  # the dead run, were it to wake up, may not go on writing
        locks.renew(db_url, locks.Lease("pipeline", ghost, lease.expires_at))


def test_live_holder_elsewhere_waits_for_expiry(db_url: str) -> None:
    other_host = "another-host:1:3"  # a pid on another machine cannot be checked: only the expiry frees it
    locks.claim(db_url, "pipeline", other_host, ttl=timedelta(minutes=5))
    with pytest.raises(locks.LockHeld):
        locks.claim(db_url, "pipeline", locks.holder_id(4))
    locks.claim(db_url, "expired", other_host, ttl=timedelta(seconds=-1))
    assert locks.claim(db_url, "expired", locks.holder_id(4)).took_over == other_host


def test_racing_claims_have_one_winner(db_url: str) -> None:
    winners, refused, barrier = [], [], threading.Barrier(6)

    def contend(i: int) -> None:
        barrier.wait()
        try:
            winners.append(locks.claim(db_url, "race", locks.holder_id(100 + i)))
        except locks.LockHeld:
            refused.append(i)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(refused) == 5


def test_run_record_and_report(db_url: str) -> None:
    first = report.start_run(db_url, "nightly", {"crawl": False})
    assert report.last_completed_start(db_url, ["nightly"]) is None
    report.record_stage(db_url, first, StageResult("score", counts={"scored": 3}, by_source={"s1": {"scored": 3}}))
    report.record_stage(db_url, first, StageResult("bots", status="failed", errors=["OperationalError: gone"]))
    report.finish_run(db_url, first, "failed", notes=["failed with 2 quarantined (score 2)"])
    assert report.last_completed_start(db_url, ["nightly"]) is None  # a failed run does not move the mark
    run = report.load_run(db_url, first)
    assert run["counts"] == {"score": {"scored": 3}, "bots": {}}
    assert run["errors"] == [{"stage": "bots", "error": "OperationalError: gone"}]
    second = report.start_run(db_url, "nightly", {})
    report.finish_run(db_url, second, "completed")
    assert report.last_completed_start(db_url, ["nightly"]) == report.load_run(db_url, second)["started_at"]

    console = Console(record=True, width=120)
    report.print_run(console, run)
    text = console.export_text()
    assert "run 1 (nightly) failed" in text.replace(f"run {first}", "run 1")
    assert "scored 3" in text and "s1" in text and "error in bots: OperationalError: gone" in text
    assert "failed with 2 quarantined (score 2)" in text
    console.print(report.render_runs(report.recent_runs(db_url)))
    assert "completed" in console.export_text()


def test_interrupted_run_is_marked_by_its_successor(db_url: str) -> None:
    dead = report.start_run(db_url, "nightly", {})
    report.mark_interrupted(db_url, dead, by_run=dead + 1)
    run = report.load_run(db_url, dead)
    assert run["status"] == "interrupted" and "resumed by run" in run["report"]["interrupted"]


def test_heartbeat_keeps_the_lease_and_notices_losing_it(db_url: str) -> None:
    import time

    from sqlalchemy import select, update

    from store.engine import session_scope
    from store.schema import FlowLock

    ttl = timedelta(seconds=0.3)
    lease = locks.claim(db_url, "beat", locks.holder_id(5), ttl)
    with locks.Heartbeat(db_url, lease, ttl) as beat:
        time.sleep(0.7)  # longer than the TTL: only the renewals keep it
        with session_scope(db_url) as s:
            assert s.execute(select(FlowLock.expires_at)).scalar_one() > lease.expires_at
        beat.check()
        with session_scope(db_url) as s:  # another run takes the lease over
            s.execute(update(FlowLock).values(holder="another-host:1:6"))
        time.sleep(0.3)
        with pytest.raises(locks.LockLost):
            beat.check()
