"""The request journal: what provider API calls the sandbox received, oldest first, bounded.

Each entry keeps references to what the request path already built (the headers dict, the
parsed body, the clock's instant): noting a request costs one small dict. Credentials are
redacted, bodies cut and instants written out only when the journal is read (`view`).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import redaction
from .engine.clock import iso
from .logs import ABORTED, status_said
from .request import compact_json

# Enough for a long test session; old entries fall off so a shared sandbox never grows.
MAX_ENTRIES = 10_000
# A body is kept and shown up to this many bytes (bodies may be 1 MiB: 10,000 of them would not
# fit in memory); a longer one is kept as its first MAX_BODY_BYTES, as text.
MAX_BODY_BYTES = 8 * 1024


@dataclass(frozen=True)
class Filters:
    """Which entries to pick; None matches anything. `status`: a code (404), a class ("4xx")
    or "aborted" (the calls an injected fault dropped, whose status no client read: a code or
    a class never matches them); `since`/`until`: sandbox clock instants, both included."""

    provider: str | None = None
    operation: str | None = None
    status: int | str | None = None
    domain: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def match(self, entry: dict) -> bool:
        return (
            (self.provider is None or entry.get("provider") == self.provider)
            and (self.operation is None or entry.get("operation") == self.operation)
            and (self.domain is None or entry.get("domain_id") == self.domain)
            and (self.status is None or _status_matches(entry, self.status))
            and (self.since is None or entry["at"] >= self.since)
            and (self.until is None or entry["at"] <= self.until)
        )


_EVERY = Filters()


def _status_matches(entry: dict, wanted: int | str) -> bool:
    status = status_said(entry)
    if wanted == ABORTED or status == ABORTED:
        return wanted == status
    if isinstance(wanted, str) and wanted.lower().endswith("xx"):
        return status is not None and str(status)[0] == wanted[0]
    return status == int(wanted)


class RequestLog:
    def __init__(self, maxlen: int = MAX_ENTRIES):
        self._entries: deque[dict] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, entry: dict) -> None:
        """Note one request: `at` (a datetime), provider, operation, method, path, query,
        headers, body, status, domain_id, duration_ms, violations, and `aborted` and `fault`
        where a fault dropped or answered it. Kept as given, by reference, except a body over
        MAX_BODY_BYTES."""
        if "body" in entry:
            entry["body"] = _bounded(entry["body"], entry.get("headers") or {})
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def find(self, filters: Filters = _EVERY, limit: int | None = None) -> list[dict]:
        """The entries `filters` match (the last `limit` of them), oldest first, as shown."""
        picked = self._matching(filters)
        return [view(entry) for entry in (picked[-limit:] if limit else picked)]

    def count(self, filters: Filters = _EVERY) -> int:
        return len(self._matching(filters))

    def _matching(self, filters: Filters) -> list[dict]:
        with self._lock:
            entries = list(self._entries)
        if filters == _EVERY:  # the dashboard's poll: no entry to test
            return entries
        return [entry for entry in entries if filters.match(entry)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reset(self) -> None:
        """As new: no entry, and the next one numbered 1 (a reset world's first request)."""
        with self._lock:
            self._entries.clear()
            self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)


class _Cut(str):
    """The first MAX_BODY_BYTES of a body too long to keep, and its whole size."""

    size: int


def _bounded(body: Any, headers: dict) -> Any:
    """`body` itself (a reference: no copy) unless it is longer than MAX_BODY_BYTES."""
    if body is None:
        return None
    if isinstance(body, bytes | str):
        return _cut(body, len(body))
    length = headers.get("content-length")
    if length is not None and len(length) < _DIGITS:  # the common case, no number parsed
        return body
    if length is not None and _int(length) <= MAX_BODY_BYTES:
        return body  # parsed JSON or a form: its size on the wire, not serialized again
    text = compact_json(body, default=str)  # too long, or sent without a length (chunked)
    if len(text) <= MAX_BODY_BYTES:
        return body
    return _cut(text, _int(length) if length is not None else len(text))


# A content-length with fewer digits than MAX_BODY_BYTES is under it.
_DIGITS = len(str(MAX_BODY_BYTES))


def _cut(text: bytes | str, size: int) -> Any:
    """`text` if it fits, else its first MAX_BODY_BYTES and its size (a _Cut)."""
    if size <= MAX_BODY_BYTES:
        return text
    if isinstance(text, bytes):
        text = text[:MAX_BODY_BYTES].decode("utf-8", "replace")
    cut = _Cut(text[:MAX_BODY_BYTES])
    cut.size = size
    return cut


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


# The order of an entry's fields as shown, after `seq` and `at`.
_SHOWN = ("provider", "operation", "method", "path", "query", "status", "domain_id")


def view(entry: dict) -> dict:
    """An entry as the journal shows it: JSON data, credentials redacted, the body bounded."""
    shown = {"seq": entry["seq"], "at": iso(entry["at"])} | {k: entry.get(k) for k in _SHOWN}
    shown["query"] = redaction.query(shown["query"] or "")
    shown["headers"] = redaction.headers(entry.get("headers") or {})
    shown["body"], shown["body_truncated"] = _shown_body(entry.get("body"))
    shown["duration_ms"] = entry.get("duration_ms")
    shown["violations"] = entry.get("violations", [])
    if entry.get("aborted"):
        shown["aborted"] = True
    if entry.get("fault"):
        shown["fault"] = entry["fault"]
    return shown


def _shown_body(body: Any) -> tuple[Any, bool]:
    if isinstance(body, _Cut):
        return f"{redaction.text(body)}... ({body.size} bytes in all)", True
    if isinstance(body, bytes):  # a refused body (kept as sent), or one of another media type
        body = body.decode("utf-8", "replace")
        try:
            data = json.loads(body)
            compact_json(data)  # a lone surrogate ("\ud800") is no text a JSON answer holds
            return redaction.fields(data), False
        except (ValueError, RecursionError, TypeError):  # not JSON (a form, broken): as text
            pass
    if body is None or isinstance(body, str):
        return body and redaction.text(body), False
    return redaction.fields(_plain(body)), False


def _plain(body: Any) -> Any:
    """JSON data: a form's multi-dict as a dict (a field sent twice as a list)."""
    if hasattr(body, "getlist") and hasattr(body, "keys"):
        return {k: _one_or_all(body.getlist(k)) for k in body}
    return body


def _one_or_all(values: Iterable) -> Any:
    values = list(values)
    return values[0] if len(values) == 1 else values
