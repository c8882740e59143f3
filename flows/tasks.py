"""Thin Prefect tasks over flows/stages.py: retries with exponential backoff on transient errors, declared here.

Transient means the store or the network hiccupped (a locked SQLite file, a dropped PostgreSQL connection, a
timeout); a bug or bad data fails at once instead of being retried three times. No task caches or persists its
result: idempotency lives in the store (pending queries and upserts), which outlives any orchestrator state.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import DisconnectionError, OperationalError

from config.schema import OnpsConfig
from flows import stages
from flows.stages import StageResult

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError, DisconnectionError, ConnectionError, TimeoutError, httpx.TransportError,
)


def is_transient(exc: BaseException | None) -> bool:
    return isinstance(exc, TRANSIENT)


def retry_on_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only when the failure was a transient error."""
    return is_transient(state.data if isinstance(state.data, BaseException) else None)


RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),  # 2, 4, 8 s
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_on_transient,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


@task(name="crawl", **RETRIES)
def crawl_task(db_url: str, cfg: OnpsConfig, run_id: int, progress: bool = False) -> StageResult:
    return stages.crawl(db_url, cfg, run_id, progress)


@task(name="plan-scoring", **RETRIES)
def score_plan_task(db_url: str, cfg: OnpsConfig) -> stages.Plan:
    return stages.score_plan(db_url, cfg)


@task(name="score-batch", **RETRIES)
def score_batch_task(db_url: str, cfg: OnpsConfig, ids: list[int]) -> StageResult:
    return stages.score_batch(db_url, cfg, ids)


@task(name="plan-bot-verdicts", **RETRIES)
def judge_plan_task(db_url: str, cfg: OnpsConfig) -> stages.Plan:
    return stages.judge_plan(db_url, cfg)


@task(name="bot-batch", **RETRIES)
def judge_batch_task(db_url: str, cfg: OnpsConfig, ids: list[int]) -> StageResult:
    return stages.judge_batch(db_url, cfg, ids)


@task(name="campaigns", **RETRIES)
def campaigns_task(db_url: str, cfg: OnpsConfig, run_id: int, scope: stages.Scope) -> StageResult:
    return stages.detect_campaigns_stage(db_url, cfg, run_id, scope)


@task(name="estimate", **RETRIES)
def estimate_task(db_url: str, cfg: OnpsConfig, run_id: int, scope: stages.Scope) -> StageResult:
    return stages.estimate_windows(db_url, cfg, run_id, scope)


@task(name="alerts", **RETRIES)
def alerts_task(db_url: str, cfg: OnpsConfig, run_id: int, scope: stages.Scope) -> StageResult:
    return stages.raise_alerts(db_url, cfg, run_id, scope)
