"""`domain_sandbox.assert_called`: did the client make this call, this many times? When not,
the failure lists the calls that were made, grouped by operation with their counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sandbox.logs import status_said

if TYPE_CHECKING:
    from sandbox.client import ControlClient

# The journal's size: every entry it holds.
ALL = 10_000


def check_called(
    control: ControlClient, provider: str, operation: str, times: int | None = None, **filters
) -> list[dict]:
    """The journal's calls of `provider`'s `operation` that match `filters` (those of
    `ControlClient.requests`): AssertionError unless there are `times` of them (at least one
    when `times` is None), listing the calls that were made."""
    __tracebackhide__ = True  # pytest shows the test's line and the message, not these lines
    matching = control.requests(provider, ALL, operation=operation, **filters)
    if len(matching) == times or (times is None and matching):
        return matching
    wanted = "at least once" if times is None else _times(times)
    condition = "".join(f", {k}={v}" for k, v in filters.items())
    lines = [
        f"expected {provider} {operation}{condition} to be called {wanted}; "
        f"it was called {_times(len(matching))}.",
        summary(control.requests(limit=ALL)),
    ]
    raise AssertionError("\n".join(lines))


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def summary(entries: Iterable[dict]) -> str:
    """The calls made, one line per operation: how often, with which statuses and domains."""
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        key = (entry["provider"] or "-", entry["operation"] or f"{entry['method']} {entry['path']}")
        groups.setdefault(key, []).append(entry)
    if not groups:
        return "No provider request was made."
    lines = [f"Calls made ({sum(len(g) for g in groups.values())}):"]
    for (provider, operation), calls in groups.items():
        statuses = Counter(str(status_said(c)) for c in calls)
        codes = ", ".join(f"{code} x{n}" for code, n in statuses.items())
        domains = sorted({c["domain_id"] for c in calls if c["domain_id"]})
        on = f"; domains {', '.join(domains)}" if domains else ""
        lines.append(f"  {provider} {operation}: {_times(len(calls))} ({codes}{on})")
    return "\n".join(lines)
