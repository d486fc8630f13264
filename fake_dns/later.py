"""Delayed replies: one thread runs each when it falls due, and only so many may wait."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time

log = logging.getLogger("fake_dns")


class Later:
    """Actions run at their due time, one after another, by whoever calls run() (one thread).

    At most ``limit`` wait at once, so a burst of delayed queries costs a bounded heap rather
    than a thread each.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._due: list[tuple[float, int, object]] = []  # a heap of (monotonic due, order, action)
        self._order = itertools.count()  # breaks ties, so actions themselves are never compared
        self._cond = threading.Condition()
        self._closed = False

    def schedule(self, delay: float, action) -> bool:
        """Run ``action()`` in ``delay`` seconds; False, and it never runs, when ``limit``
        actions wait already or close() was called."""
        with self._cond:
            if self._closed or len(self._due) >= self.limit:
                return False
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), action))
            self._cond.notify()
            return True

    def close(self) -> None:
        """End run() now; the actions still waiting never run."""
        with self._cond:
            self._closed = True
            self._due.clear()
            self._cond.notify_all()

    def run(self) -> None:
        """Run actions as they fall due until close(); one that raises is logged, not fatal."""
        while (action := self._next()) is not None:
            try:
                action()
            except Exception:
                log.exception("fake DNS: failed sending a delayed reply")

    def _next(self):
        """The next action once it is due; None once closed."""
        with self._cond:
            while not self._closed:
                wait = self._due[0][0] - time.monotonic() if self._due else None
                if wait is not None and wait <= 0:
                    return heapq.heappop(self._due)[2]
                self._cond.wait(wait)
            return None
