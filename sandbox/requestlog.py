"""The request log: what provider API calls the sandbox received, oldest first, bounded."""

from __future__ import annotations

import threading
from collections import deque

# Enough for a long test session; old entries fall off so a shared sandbox never grows.
MAX_ENTRIES = 10_000


class RequestLog:
    def __init__(self, maxlen: int = MAX_ENTRIES):
        self._entries: deque[dict] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, entry: dict) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq} | entry)

    def entries(self, provider: str | None = None) -> list[dict]:
        with self._lock:
            return [e for e in self._entries if provider is None or e.get("provider") == provider]

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
