"""kill -9 of a run leaves no Prefect server behind: the ephemeral server Prefect starts as the run's child used to
stay, listening, after its parent was killed (flows.reaper ends it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for init to reap it."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_ephemeral_server_ends_when_its_run_is_killed() -> None:
    script = ("import sys, time; from flows.orchestrator import configure, watch_ephemeral_server; "
              "configure(sys.argv[1]); watch_ephemeral_server(); "
              "from prefect.server.api.server import SubprocessASGIServer; "
              "print(SubprocessASGIServer().server_process.pid, flush=True); time.sleep(600)")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    run = subprocess.Popen([sys.executable, "-c", script, str(ROOT / "var" / "prefect-tests")], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    server = int(run.stdout.readline())
    assert not gone(server)
    run.kill()  # SIGKILL: nothing in the run can clean up
    run.wait()
    deadline = time.monotonic() + 20
    while not gone(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(server), "the Prefect server outlived the run that started it"
