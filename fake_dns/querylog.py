"""A bounded, thread-safe log of the queries the server received."""

from __future__ import annotations

import threading
from collections import deque

# Entries kept before the oldest are dropped: enough for a test run, bounded for a long demo.
DEFAULT_MAXLEN = 10_000


class QueryLog:
    """List-like view of recent queries: dicts with time, transport, client, name, type,
    rcode (None when no answer was sent), answers (answer count) and fault (kind or None)."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN):
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=maxlen)

    def append(self, entry: dict) -> None:
        """Record one query."""
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def list(self) -> list[dict]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def find(self, name=None, type=None, transport=None) -> list[dict]:  # noqa: A002
        """The entries matching every given field (name compared case-insensitively)."""
        want = name.lower().rstrip(".") if name else None
        return [
            e
            for e in self.list()
            if (want is None or e["name"] == want)
            and (type is None or e["type"] == type.upper())
            and (transport is None or e["transport"] == transport)
        ]

    def __iter__(self):
        return iter(self.list())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index):
        return self.list()[index]

    def __repr__(self) -> str:
        return f"QueryLog({len(self)} entries)"
