"""`onps deploy`: the nightly flow as a Prefect deployment on the cron schedule of ``[schedule]`` in onps.toml.

Two ways to run it, both needing a Prefect server (``prefect server start``; PREFECT_API_URL pointing at it):
- ``onps deploy --serve`` keeps a process running that registers the deployment and starts each scheduled run
  itself (``Flow.serve``): the simplest setup, one machine.
- ``onps deploy --work-pool NAME`` registers the deployment on a work pool; any number of ``prefect worker start
  --pool NAME`` processes (on machines that have this project installed) pick the runs up.
``concurrency_limit=1`` makes Prefect itself refuse to start a second nightly run while one is going; the
``pipeline`` lease in the store (flows/locks.py) still guards runs started outside Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from config.schema import OnpsConfig
from flows.nightly import nightly

DEPLOYMENT = "onps-nightly"


def nightly_schedule(cfg: OnpsConfig) -> Any:
    """The cron schedule of the config, in its time zone (a Prefect ``Schedule``)."""
    return Cron(cfg.schedule.cron, timezone=cfg.schedule.timezone)


def nightly_parameters(config_path: Path | None, database_url: str | None = None) -> dict[str, Any]:
    """Flow parameters the scheduled runs get: an absolute config path, since a worker runs elsewhere."""
    params: dict[str, Any] = {"config_path": str(config_path.resolve()) if config_path else None}
    if database_url:
        params["database_url"] = database_url
    return params


def nightly_deployment(cfg: OnpsConfig, config_path: Path | None, work_pool: str | None = None,
                       name: str = DEPLOYMENT) -> Any:
    """The deployment object (a ``RunnerDeployment``); nothing is sent to a server until it is applied."""
    return nightly.to_deployment(
        entrypoint_type=EntrypointType.MODULE_PATH,  # flows.nightly.nightly: works wherever the package is installed
        name=name,
        schedules=[nightly_schedule(cfg)],
        parameters=nightly_parameters(config_path),
        concurrency_limit=1,
        description="crawl -> score -> bot verdicts -> campaigns -> estimates -> alerts -> run report",
        tags=["onps", "nightly"],
        work_pool_name=work_pool,
    )


def apply_deployment(deployment: Any) -> str:
    """Register DEPLOYMENT with the server at PREFECT_API_URL; returns its id."""
    return str(deployment.apply())


def serve(cfg: OnpsConfig, config_path: Path | None, name: str = DEPLOYMENT) -> None:
    """Register the deployment and run its scheduled runs from this process until interrupted."""
    nightly.serve(name=name, schedules=[nightly_schedule(cfg)], parameters=nightly_parameters(config_path),
                  global_limit=1, tags=["onps", "nightly"])
