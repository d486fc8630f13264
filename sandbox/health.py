"""`GET /_sandbox/health`: what a CI job or an orchestrator waits on before its tests start.

It needs no control token and answers at any host name (a service container is reached by its
service's name): it tells nothing but that the sandbox serves, its version and its DNS address.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .core import Sandbox


def health(sandbox: Sandbox) -> tuple[dict, int]:
    """The health answer and its status: 200 when ready (the DNS server answers too), else 503."""
    ready = sandbox.dns.running
    body = {
        "ready": ready,
        "version": __version__,
        "uptime_seconds": round(time.monotonic() - sandbox.started_at, 3),
        "dns": {"host": sandbox.dns.host, "port": sandbox.dns.port},
        "providers": list(sandbox.providers),
    }
    return body, 200 if ready else 503
