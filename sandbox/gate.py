"""The gate every API request passes before authentication. It lands the steps due on the
sandbox clock (so every answer, provider or control, sees them, frozen clock or not), then, for
provider calls, applies injected HTTP faults and the providers' documented rate limits, both
counted on the sandbox clock and its seeded randomness.

It sits in Connexion's stack after routing, so it knows each request's operationId. `admit`
decides, where the world lives; `ProviderGate` carries the verdict out in the front end.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .providers.base import ProviderError

if TYPE_CHECKING:
    from .core import Sandbox

FAULT_STATUSES = (429, 500, 502, 503, 504)
# The retry hint of an injected 429: short, so clients' retry loops are testable without waiting.
INJECTED_RETRY_AFTER = 1
# An aborted connection: headers promise a body that never comes, then the socket closes.
_ABORT_PROMISED_BYTES = b"1024"


class AbortConnection(Exception):
    """Raised mid-response so the server drops the connection (an injected network failure)."""


@dataclass
class HttpFault:
    id: str
    provider: str
    operation: str | None  # an operationId, or None for every operation
    status: int | None
    latency_ms: int
    abort: bool
    count: int | None  # remaining matches; None = until cleared
    probability: float | None  # drawn from the seeded source; None = always

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class HttpFaults:
    """Fault rules for provider operations: next N calls, or with a seeded probability."""

    def __init__(self, seed: int):
        self._rules: list[HttpFault] = []
        self._lock = threading.Lock()
        self._next = 0
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        # Its own stream from the seed, so faults never shift the ids a test expects.
        self._random = random.Random(f"http-faults-{seed}")

    def add(
        self,
        provider: str,
        operation: str | None = None,
        status: int | None = None,
        latency_ms: int = 0,
        abort: bool = False,
        count: int | None = None,
        probability: float | None = None,
    ) -> dict:
        if status is None and not latency_ms and not abort:
            raise ValueError("a fault needs a status, latency_ms or abort")
        if status is not None and status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        if status is not None and abort:
            raise ValueError("a fault either answers a status or aborts the connection, not both")
        with self._lock:
            self._next += 1
            rule = HttpFault(
                f"h{self._next}", provider, operation, status, latency_ms, abort, count, probability
            )
            self._rules.append(rule)
            return rule.to_dict()

    def list(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def clear(self) -> int:
        with self._lock:
            removed, self._rules = len(self._rules), []
            return removed

    def take(self, provider: str, operation: str | None) -> HttpFault | None:
        """The fault to apply to this call, if any; counts it."""
        with self._lock:
            for rule in self._rules:
                if rule.provider != provider or rule.operation not in (None, operation):
                    continue
                if rule.probability is not None and self._random.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                return rule
        return None


class RateLimits:
    """Fixed windows per (provider, credential) on the sandbox clock; off unless enabled."""

    def __init__(self):
        self.enabled = False
        self._windows: dict[tuple[str, str], tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, provider, credential: str, now: datetime) -> tuple[int, int, datetime] | None:
        """Count one call; returns (limit, remaining, window reset) or None if unlimited."""
        if not self.enabled or provider.rate_limit is None:
            return None
        limit, seconds = provider.rate_limit
        with self._lock:
            key = (provider.name, credential)
            start, used = self._windows.get(key, (now, 0))
            if now >= start + timedelta(seconds=seconds):
                start, used = now, 0
            used += 1
            self._windows[key] = (start, used)
        return limit, limit - used, start + timedelta(seconds=seconds)


@dataclass
class Admission:
    """The gate's verdict on one provider call, decided where the world lives."""

    headers: dict  # rate-limit headers for the answer
    error: ProviderError | None = None  # answer this instead of calling the handler
    latency_ms: int = 0  # wait this long first (an injected fault)
    abort: bool = False  # drop the connection (an injected fault)


def admit(sandbox: Sandbox, path: str, operation_id: str | None, credential: str) -> Admission:
    """Count a provider call against its rate limit and apply the HTTP fault due to it, if any."""
    provider = sandbox.provider_for(path)
    now = sandbox.clock.now()
    limit = sandbox.rate_limits.hit(provider, credential, now)
    headers = provider.rate_limit_headers(*limit) if limit else {}
    if limit and limit[1] < 0:
        retry_after = max(1, math.ceil((limit[2] - now).total_seconds()))
        return Admission(headers, provider.too_many_requests(retry_after))
    fault = sandbox.http_faults.take(provider.name, operation_id)
    if fault is None:
        return Admission(headers)
    if fault.status == 429:
        error = provider.too_many_requests(INJECTED_RETRY_AFTER)
    elif fault.status:
        error = ProviderError(fault.status, _FAULT_MESSAGES[fault.status])
    else:
        error = None
    return Admission(headers, error, fault.latency_ms, fault.abort)


class ProviderGate:
    """Connexion middleware (position BEFORE_SECURITY): due steps, faults and rate limits.

    `world` (sandbox.world) lands the due steps and decides; this applies the verdict.
    """

    def __init__(self, next_app, world, sandbox: Sandbox, render):
        self.next_app, self.world, self.sandbox, self.render = next_app, world, sandbox, render

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.next_app(scope, receive, send)
        path = scope["path"]
        if self.sandbox.provider_for(path) is None:  # control calls: due steps only
            await self.world.land_due_steps()
            return await self.next_app(scope, receive, send)
        verdict = await self.world.admit(path, _operation_id(scope), _credential(scope))
        if verdict.latency_ms:
            await asyncio.sleep(verdict.latency_ms / 1000)
        if verdict.abort:
            start = {"type": "http.response.start", "status": 200}
            await send(start | {"headers": [(b"content-length", _ABORT_PROMISED_BYTES)]})
            raise AbortConnection(f"injected abort on {path}")
        if verdict.error:
            return await self._answer(scope, send, verdict.error, verdict.headers)
        await self.next_app(scope, receive, _adding_headers(send, verdict.headers))

    async def _answer(self, scope, send, error: ProviderError, extra_headers: dict) -> None:
        body, status, headers = self.render(scope["path"], error)
        headers = extra_headers | headers | {"content-type": "application/json"}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})


_FAULT_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}


def _operation_id(scope) -> str | None:
    """The operationId Connexion's router found for this request."""
    return scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")


def _credential(scope) -> str:
    for name, value in scope.get("headers", []):
        if name in (b"authorization", b"x-auth-token", b"x-api-key"):
            return value.decode("latin-1")
    return ""


def _adding_headers(send, headers: dict):
    if not headers:
        return send
    encoded = [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]

    async def send_with_headers(message):
        if message["type"] == "http.response.start":
            message = message | {"headers": list(message.get("headers", [])) + encoded}
        await send(message)

    return send_with_headers
