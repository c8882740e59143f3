"""A window kind estimated when someone asks for it, not only by the nightly.

The nightly estimates every kind in ``estimate.windows``; a kind asked for before the next night (the config just
gained it, a `survey compare --window` or a dashboard view of a kind not stored yet) is estimated over the whole
store at once, by the same stage, as a run of its own under the pipeline lease (so it never interleaves with a
nightly) and recorded in `onps runs` as flow ``estimate``.
"""

from __future__ import annotations

from datetime import timedelta

from config.schema import OnpsConfig
from flows import locks, report
from flows.stages import Scope, StageResult, estimate_windows

LEASE_TTL = timedelta(minutes=10)


def estimate_on_demand(db_url: str, cfg: OnpsConfig, kind: str) -> StageResult:
    """Estimate window kind KIND (and all time) for every entity; raises ``locks.LockHeld`` while a run holds the
    store, after recording this one as skipped."""
    run_id = report.start_run(db_url, "estimate", {"window": kind})
    try:
        with locks.held(db_url, locks.PIPELINE, locks.holder_id(run_id), LEASE_TTL):
            result = estimate_windows(db_url, cfg, run_id, Scope(), kinds=[kind])
            report.record_stage(db_url, run_id, result)
    except locks.LockHeld as exc:
        report.finish_run(db_url, run_id, "skipped", notes=[str(exc)])
        raise
    except BaseException as exc:
        report.finish_run(db_url, run_id, "failed", notes=[f"{type(exc).__name__}: {exc}"])
        raise
    report.finish_run(db_url, run_id, "failed" if result.status == "failed" else "completed")
    return result
