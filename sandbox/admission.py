"""The gate's verdict on one provider call: counted against its rate limit, and given the HTTP
fault due to it, if any (the state is sandbox.gate's; the verdict is taken where the world is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ProviderError
from .gate import INJECTED_RETRY_AFTER, HttpFault

if TYPE_CHECKING:
    from .core import Sandbox
    from .providers.base import Provider
    from .request import Answer, Request


@dataclass
class Admission:
    """The gate's verdict on one provider call."""

    headers: dict  # rate-limit headers for the answer
    error: ProviderError | None = None  # answer this instead of calling the handler
    fault: HttpFault | None = None  # the injected fault applied: its latency, its drop, its id

    @property
    def drops_the_call(self) -> bool:
        """The connection is dropped before the call is carried out: the handler never runs."""
        return self.fault is not None and bool(self.fault.drop) and not self.fault.after

    def apply(self, answer: Answer) -> None:
        # a header the answer sets itself (a 429's Retry-After) is its own, never said twice
        own = {name.lower() for name, _ in answer.headers}
        answer.headers.extend((k, str(v)) for k, v in self.headers.items() if k.lower() not in own)
        if self.fault is not None:
            answer.latency_ms, answer.drop = self.fault.latency_ms, self.fault.drop


def admit(sandbox: Sandbox, provider: Provider, request: Request) -> Admission:
    """Count a provider call against its rate limit and apply the HTTP fault due to it, if any."""
    now, limit, headers = sandbox.clock.now(), None, {}
    if sandbox.rate_limits.counts(provider):  # only then: a key can cost a token's lookup
        credential = provider.rate_limit_key(request)
        limit = sandbox.rate_limits.hit(provider, credential, now)
        headers = provider.rate_limit_headers(*limit)
        if limit[1] < 0 and sandbox.rate_limits.enabled:
            retry_after = sandbox.rate_limits.retry_after(provider, credential, now)
            return Admission(headers, provider.too_many_requests(retry_after))
    # a fault is for an operation's calls: a path the API does not serve is not one (a mistyped
    # URL must not use up a fault another client's test waits for)
    fault = (
        sandbox.http_faults.take(provider.name, request.operation) if request.operation else None
    )
    if fault is None:
        return Admission(headers)
    if fault.status == 429:
        error = provider.too_many_requests(INJECTED_RETRY_AFTER)
        if limit:  # the headers agree with the 429: nothing remains in this window
            headers = provider.rate_limit_headers(limit[0], 0, limit[2])
    elif fault.status:
        error = ProviderError(fault.status, _FAULT_MESSAGES[fault.status])
    else:
        error = None
    return Admission(headers, error, fault)


_FAULT_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}
