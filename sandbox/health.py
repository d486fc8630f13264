"""`GET /_sandbox/health`: what a CI job or an orchestrator waits on before its tests start.

It needs no control token and answers at any host name (a service container is reached by its
service's name): it tells that the sandbox serves (or the problem keeping it from saving its
world), its version, its uptime, its providers and its DNS address, nothing of the world.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .core import Sandbox


def health(sandbox: Sandbox) -> tuple[dict, int]:
    """The health answer and its status: 200 when ready (the DNS server answers too, and the
    state file, if any, takes saves), else 503 (with the problem, when it is the state file's:
    every change is refused meanwhile, a monitoring probe should see it)."""
    problem = sandbox.save_problem
    ready = sandbox.dns.running and problem is None
    body = {
        "ready": ready,
        "version": __version__,
        "uptime_seconds": round(time.monotonic() - sandbox.started_at, 3),
        "dns": {"host": sandbox.dns.host, "port": sandbox.dns.port},
        "providers": list(sandbox.providers),
    }
    if problem is not None:
        body["problem"] = problem
    return body, 200 if ready else 503
