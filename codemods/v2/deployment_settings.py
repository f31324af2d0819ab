"""What an Azure ML v2 online deployment needs for a debugging session, whatever writes it.

The numbers are shared by the deployment YAML kind and by ``ManagedOnlineDeployment(...)``
in submission scripts: a request may be paused in the debugger as long as Azure ML allows
(``request_timeout_ms``), the probes wait out the debug timeout and a paused request, and
gunicorn leaves a worker held at a breakpoint alone (``WORKER_TIMEOUT``).
"""

from __future__ import annotations

import math

#: The longest scoring timeout Azure ML accepts for an online deployment (milliseconds).
MAX_REQUEST_TIMEOUT_MS = 180_000
#: Azure ML's defaults where the file sets none (managedOnlineDeployment's reference).
DEFAULT_REQUEST_TIMEOUT_MS = 5000
DEFAULT_PERIOD = 10
DEFAULT_INITIAL_DELAY = 10
DEFAULT_FAILURE_THRESHOLD = 30
#: What the probes cover when the scoring script waits without limit (``--timeout 0``).
UNLIMITED_WAIT_COVERED = 3600
#: gunicorn kills a worker that has not checked in for WORKER_TIMEOUT seconds (azmlinfsrv reads it
#: from the container's environment); a worker stopped at a breakpoint does not check in. An hour.
WORKER_TIMEOUT = 3600
PROBES = ("liveness_probe", "readiness_probe")


def wait_covered(timeout: int) -> int:
    """Seconds of debug wait the settings cover (``--timeout 0`` waits without limit)."""
    return timeout or UNLIMITED_WAIT_COVERED


def initial_delay(timeout: int) -> int:
    """A probe's first check: after the debug wait."""
    return wait_covered(timeout) + DEFAULT_INITIAL_DELAY


def failure_threshold(timeout: int, period: int, request_ms: int = MAX_REQUEST_TIMEOUT_MS) -> int:
    """Failed probes tolerated: as many as cover a paused request and the wait, one more."""
    paused = max(request_ms, MAX_REQUEST_TIMEOUT_MS) // 1000
    return math.ceil(max(paused, wait_covered(timeout)) / period) + 1


def worker_timeout(timeout: int, request_ms: int = MAX_REQUEST_TIMEOUT_MS) -> int:
    """gunicorn's worker timeout: an hour, or the wait and a paused request when longer."""
    return max(WORKER_TIMEOUT, wait_covered(timeout) + max(request_ms, MAX_REQUEST_TIMEOUT_MS) // 1000)
