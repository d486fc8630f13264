"""The gate's verdict on one provider call: counted against its rate limit, and given the HTTP
fault due to it, if any (the state is sandbox.gate's; the verdict is taken where the world is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ProviderError
from .gate import INJECTED_RETRY_AFTER

if TYPE_CHECKING:
    from .core import Sandbox
    from .providers.base import Provider
    from .request import Answer, Request


@dataclass
class Admission:
    """The gate's verdict on one provider call."""

    headers: dict  # rate-limit headers for the answer
    error: ProviderError | None = None  # answer this instead of calling the handler
    latency_ms: int = 0  # wait this long before answering (an injected fault)
    drop: str = ""  # drop the connection so (sandbox.gate's ABORT or RESET; an injected fault)
    after: bool = False  # carry the call out before dropping the connection
    fault: str | None = None  # the id of the injected fault applied (the journal says it)

    def apply(self, answer: Answer) -> None:
        answer.headers.extend((k, str(v)) for k, v in self.headers.items())
        answer.latency_ms, answer.drop = self.latency_ms, self.drop


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
    return Admission(headers, error, fault.latency_ms, fault.drop, fault.after, fault.id)


_FAULT_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}
