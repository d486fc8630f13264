"""The shared state of the gate every provider call passes: injected HTTP faults (drawn from
the sandbox's seeded randomness) and the providers' documented rate limits (counted on the
sandbox clock, with a real-time promise to refused clients). What a call gets from them is
decided in sandbox.admission, where the world lives.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from fake_dns.faults import rule_id

from .request import ABORT, RESET

FAULT_STATUSES = (429, 500, 502, 503, 504)
# The retry hint of an injected 429: short, so clients' retry loops are testable without waiting.
INJECTED_RETRY_AFTER = 1

# How a fault may drop a connection, each a field of the fault (one at most): an abort sends a
# 200 head promising a body that never comes, a reset closes the connection with a TCP reset
# before any answer (what clients retry); `_after`: the call is carried out first.
DROPS = ("abort", "abort_after", "reset", "reset_after")


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
    # carry the call out, then drop the connection: the change is made, its answer lost
    abort_after: bool = False
    reset: bool = False  # reset the connection before any answer, the call not made
    reset_after: bool = False  # carry the call out, then reset the connection

    def to_dict(self) -> dict:
        said = dict(self.__dict__)
        for name in DROPS[1:]:  # said only when asked, as the worlds before them were written
            if not said[name]:
                del said[name]
        return said

    @property
    def drop(self) -> str:
        """How the fault drops the connection (ABORT or RESET), or "" if it does not."""
        if self.abort or self.abort_after:
            return ABORT
        return RESET if self.reset or self.reset_after else ""

    @property
    def after(self) -> bool:
        """Whether the call is carried out before the connection drops."""
        return self.abort_after or self.reset_after


class HttpFaults:
    """Fault rules for provider operations: next N calls, or with a seeded probability."""

    def __init__(self, seed: int):
        self._rules: list[HttpFault] = []
        self._lock = threading.Lock()
        self.added = 0  # rules ever added: the next one is h<added + 1>
        # Times a call changed the faults (a draw, a count used), ever: a call that changes
        # nothing else still owes the state file a save (sandbox.durable).
        self.used = 0
        self.reseed(seed)

    def reseed(self, seed: int, drawn: int = 0) -> None:
        """Its own stream from the seed, so faults never shift the ids a test expects, past the
        `drawn` draws already made (a restored world's faults go on as they would have)."""
        self._random = random.Random(f"http-faults-{seed}")
        for _ in range(drawn):
            self._random.random()
        self.drawn = drawn

    def add(
        self,
        provider: str,
        operation: str | None = None,
        status: int | None = None,
        latency_ms: int = 0,
        abort: bool = False,
        count: int | None = None,
        probability: float | None = None,
        abort_after: bool = False,
        reset: bool = False,
        reset_after: bool = False,
        fault_id: str | None = None,
    ) -> dict:
        """Add a rule; returns it as a dict with its `id`. `fault_id`: the id it had in a
        saved world (`h3`), kept; else the next one."""
        asked = (abort, abort_after, reset, reset_after)
        drops = [name for name, on in zip(DROPS, asked, strict=True) if on]
        if status is None and not latency_ms and not drops:
            raise ValueError(
                "a fault needs a status, latency_ms, abort, abort_after, reset or reset_after"
            )
        if status is not None and status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        if status is not None and drops:
            raise ValueError("a fault either answers a status or drops the connection, not both")
        if len(drops) > 1:
            raise ValueError(
                f"a fault drops the connection one way: give one of {', '.join(drops)}"
            )
        if probability is not None and not 0 <= probability <= 1:  # NaN too: it fired always
            raise ValueError(f"probability must be a number from 0 to 1, not {probability}")
        with self._lock:
            taken = {r.id for r in self._rules}
            fault_id, self.added = rule_id("h", "an HTTP fault id", fault_id, self.added, taken)
            rule = HttpFault(
                fault_id,
                provider,
                operation,
                status,
                latency_ms,
                abort,
                count,
                probability,
                abort_after,
                reset,
                reset_after,
            )
            self._rules.append(rule)
            return rule.to_dict()

    def numbered(self, added: int) -> None:
        """Go on numbering after `added` rules (a saved world's), whatever ids remain."""
        with self._lock:
            self.added = max(self.added, added)

    def list(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def remove(self, fault_id: str) -> bool:
        """Remove one rule by id; return whether it was there."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != fault_id]
            return len(self._rules) != before

    def clear(self) -> int:
        with self._lock:
            removed, self._rules = len(self._rules), []
            return removed

    def reset(self, seed: int) -> None:
        """As new: no rule, ids from h1 again, the seeded stream from its start."""
        with self._lock:
            self._rules, self.added = [], 0
        self.reseed(seed)

    def take(self, provider: str, operation: str | None) -> HttpFault | None:
        """The fault to apply to this call, if any; counts it."""
        with self._lock:
            for rule in self._rules:
                if rule.provider != provider or rule.operation not in (None, operation):
                    continue
                if rule.probability is not None:
                    self.drawn += 1
                    self.used += 1
                    if self._random.random() >= rule.probability:
                        continue
                if rule.count is not None:
                    self.used += 1
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                return rule
        return None


class RateLimits:
    """Fixed windows per (provider, credential); enforced only when enabled, counted regardless
    for providers that announce their quota on every answer.

    A window opens on the sandbox clock and ends when its length has passed there, so a test
    that advances the clock gets a fresh window, deterministically. It also ends once a refused
    client has waited, in real time, the Retry-After it was told: a client that honours
    Retry-After gets through whatever the sandbox clock does (frozen, on-poll, fast), and until
    a client is refused nothing depends on how fast the machine runs.
    """

    # Windows kept before the ended ones are dropped: counting every answer (not only while
    # enforced) must not let a long-running sandbox grow with each credential it ever saw.
    MAX_WINDOWS = 10_000

    def __init__(self):
        self.enabled = False
        # (used, window end on the sandbox clock, time.monotonic() promised to a refused client)
        self._windows: dict[tuple[str, str], tuple[int, datetime, float | None]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def __len__(self) -> int:
        """How many windows are kept."""
        return len(self._windows)

    def counts(self, provider) -> bool:
        """Whether a call of `provider` is counted: its quota enforced, or announced on every
        answer."""
        # the switches first: Mailgun's and Resend's quotas are read from their settings
        return (self.enabled or provider.rate_limit_headers_always) and (
            provider.rate_limit is not None
        )

    def hit(self, provider, credential: str, now: datetime) -> tuple[int, int, datetime] | None:
        """Count one call; returns (limit, remaining, window reset), or None when neither
        enforced nor announced."""
        if not self.counts(provider):
            return None
        limit, seconds = provider.rate_limit
        with self._lock:
            key = (provider.name, credential)
            used, ends, promised = self._windows.get(key, (0, now, None))
            if now >= ends or (promised is not None and time.monotonic() >= promised):
                used, ends, promised = 0, now + timedelta(seconds=seconds), None
            self._windows[key] = (used + 1, ends, promised)
            if len(self._windows) > self.MAX_WINDOWS:
                self._windows = {k: w for k, w in self._windows.items() if now < w[1]}
        return limit, limit - used - 1, ends

    def retry_after(self, provider, credential: str, now: datetime) -> int:
        """Whole seconds a refused client is told to wait, kept as a promise: the window ends
        for it after that long in real time, if the sandbox clock has not ended it before."""
        with self._lock:
            key = (provider.name, credential)
            used, ends, promised = self._windows[key]
            wait = max(1, math.ceil((ends - now).total_seconds()))
            if promised is not None:  # told already: the earlier promise stands
                wait = max(1, min(wait, math.ceil(promised - time.monotonic())))
            self._windows[key] = (used, ends, min(promised or math.inf, time.monotonic() + wait))
        return wait
