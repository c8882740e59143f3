"""How the flows reach Prefect: in process with no server by default, a Prefect server when PREFECT_API_URL is
set; Prefect's own state under var/; quiet logs; the task runner (in process, or Dask workers).

Prefect reads its settings from the environment when it is first imported, so ``configure`` must run before
anything imports ``prefect`` (the `onps` commands import the flows lazily for that reason). Every value is only a
default: a variable the user already set wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

QUIET = {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",  # the ephemeral server's shutdown chatter is not our business
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a loaded 2-core box can take 30 s
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}


def configure(home: str | Path = "var/prefect") -> dict[str, str]:
    """Point Prefect at HOME (its SQLite database when no server is set) and quiet it; returns what was set."""
    chosen = {"PREFECT_HOME": str(Path(home).resolve()), **QUIET}
    if "PREFECT_API_URL" not in os.environ:  # ephemeral: nobody reads the logs there, and it stops before they flush
        chosen["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    applied = {}
    for name, value in chosen.items():
        if name not in os.environ:
            os.environ[name] = value
            applied[name] = value
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return applied


_WATCHED: set[int] = set()  # server processes this process has a watcher for


def watch_ephemeral_server() -> None:
    """Without PREFECT_API_URL, start Prefect's ephemeral server now (the one the flow's client would start on
    its first call: the same instance) and a watcher (``flows.reaper``) that ends it when this process dies, by
    kill -9 included: the server never outlives the run that started it."""
    if os.environ.get("PREFECT_API_URL"):
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
    process = server.server_process
    if process is None or process.pid in _WATCHED:
        return
    subprocess.Popen([sys.executable, "-m", "flows.reaper", str(os.getpid()), str(process.pid)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     env={**os.environ, "PYTHONPATH": os.pathsep.join(
                         filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))})
    _WATCHED.add(process.pid)


def describe() -> str:
    """Where flow runs are recorded, for the report and the docs."""
    url = os.environ.get("PREFECT_API_URL")
    return f"Prefect server at {url}" if url else "Prefect in process (ephemeral, no server)"


# Local Dask workers are processes unless asked otherwise (`onps nightly --dask-threads`, ``run_nightly``'s
# ``dask_processes``): scoring and bot batches are CPU-bound Python, which threads of one process share one GIL for.
DASK_PROCESSES = True


def task_runner(dask_workers: int = 0, dask_address: str | None = None, processes: bool = DASK_PROCESSES) -> Any:
    """In-process threads by default; a local Dask cluster of N workers, or an existing Dask scheduler.

    One thread in process keeps SQLite writes and model memory predictable on a small box; Dask is the way to
    spread scoring and filtering batches when there are cores (or machines) to spread them over. Local workers
    are one process each when PROCESSES (no shared GIL, but each loads its own copy of the models), else threads
    of this process.
    """
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if dask_workers > 0:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1,
                                              "processes": processes, "dashboard_address": None})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=1)
