"""The sandbox clock: one source of time for timestamps, propagation and scheduled checks.

It runs in real time by default. Tests freeze it, set it, and advance it; the fake DNS server
reads the same clock, so records published "visible after" a delay appear when it says so.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def utc(value: datetime | str) -> datetime:
    """Parse an ISO-8601 string (or take a datetime) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def is_calendar_date(text: str) -> bool:
    """True for a real YYYY-MM-DD date (2024-05-25, not 2024-13-45 nor 20240525)."""
    if not _CALENDAR_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


class Clock:
    """A controllable UTC clock. Real time plus an offset, or frozen at one instant."""

    def __init__(self, start: datetime | str | None = None, frozen: bool = False):
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if start is not None:
            self.set(start)
        if frozen:
            self.freeze()

    @staticmethod
    def _wall() -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._wall() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop time at the current instant."""
        now = self.now()
        with self._lock:
            self._frozen_at = now

    def unfreeze(self) -> None:
        """Let time run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._wall()
                self._frozen_at = None

    def set(self, instant: datetime | str) -> None:
        """Jump to an instant; a frozen clock stays frozen there."""
        instant = utc(instant)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - self._wall()

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, for negative seconds)."""
        self.set(self.now() + timedelta(seconds=seconds))

    def snapshot(self) -> dict:
        return {"now": iso(self.now()), "frozen": self.frozen}


@lru_cache(maxsize=65536)  # answers format the same few instants over and over
def iso(instant: datetime | None, millis: bool = False) -> str | None:
    """RFC 3339 in UTC with a Z suffix; optionally with milliseconds."""
    if instant is None:
        return None
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.removesuffix("+00:00") + "Z"
