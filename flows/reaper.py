"""``python -m flows.reaper PARENT CHILD``: end process CHILD once process PARENT is gone.

Prefect starts its ephemeral API server as a child of the flow's process; a flow process killed with -9 cannot
stop it, and the server stayed behind, listening, for as long as anyone looked. The kernel's parent-death signal
cannot be asked for on a process Prefect spawns, so this small watcher (started by
``flows.orchestrator.watch_ephemeral_server``, its parent the flow's process) polls its own parent: when it is
reparented, the flow's process has died, and it ends the server (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import signal
import sys
import time

POLL_S = 0.5
GRACE_S = 5.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now holds the number: not ours to end
        return False
    return True


def watch(parent: int, child: int) -> None:
    while os.getppid() == parent:
        if not alive(child):
            return  # the server ended first (a normal exit): nothing left to do
        time.sleep(POLL_S)
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 0.0)):
        if not alive(child):
            return
        os.kill(child, sig)
        deadline = time.monotonic() + wait
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m flows.reaper PARENT_PID CHILD_PID")
    watch(int(sys.argv[1]), int(sys.argv[2]))
