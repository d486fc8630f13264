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

# The longest delay the sandbox schedules ahead of its clock: every setting and delay the
# control API takes stops at a year (the documents' maximum), a Monite token lives a day.
MAX_DELAY_SECONDS = 365 * 86400
# The instants the clock may show. Every date-time the documents answer is RFC 3339, whose
# years have four digits; the clock stops a year short of the end of year 9999 so that a step
# scheduled a year ahead of it can still be written (and computed: Python's datetime ends there).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - timedelta(seconds=MAX_DELAY_SECONDS)


class OutOfRange(ValueError):
    """An instant the sandbox clock cannot show; the message gives the range."""


def utc(value: datetime | str) -> datetime:
    """Parse an ISO-8601 string (or take a datetime) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past the end of Python's datetime
        raise OutOfRange(
            f"{value.isoformat()} is past the last instant that can be written"
        ) from None


def check_instant(instant: datetime) -> datetime:
    """`instant` if the clock may show it, else OutOfRange saying which instants it may."""
    if not EARLIEST <= instant <= LATEST:
        raise OutOfRange(
            f"{iso(instant)} is outside the sandbox clock's range, {iso(EARLIEST)} to "
            f"{iso(LATEST)} (four-digit years, with a year to spare for scheduled steps)"
        )
    return instant


def later(instant: datetime, seconds: float) -> datetime:
    """`instant` plus `seconds`, or OutOfRange if that leaves the clock's range."""
    try:
        return check_instant(instant + timedelta(seconds=seconds))
    except OverflowError:
        raise OutOfRange(f"{seconds} seconds after {iso(instant)} is past year 9999") from None


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
        if frozen:  # first: a clock frozen after being set would have run a moment past start
            self.freeze()
        if start is not None:
            self.set(start)

    @staticmethod
    def _wall() -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            # a running clock set near the end of its range stops there rather than pass it
            return min(self._wall() + self._offset, LATEST)

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
        """Jump to an instant; a frozen clock stays frozen there. OutOfRange past the range."""
        instant = check_instant(utc(instant))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - self._wall()

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, for negative seconds)."""
        self.set(later(self.now(), seconds))

    def saved(self) -> dict:
        """Everything that makes this clock what it is now (its mode, where it stands), for
        `restore` to put back later."""
        with self._lock:
            return {k: v for k, v in vars(self).items() if k != "_lock"}

    def restore(self, saved: dict) -> None:
        """Put back what `saved` held: a clock saved frozen is frozen at that instant again;
        a running one runs again with its offset from real time."""
        with self._lock:
            vars(self).update(saved)

    def snapshot(self) -> dict:
        return {"now": iso(self.now()), "frozen": self.frozen}


@lru_cache(maxsize=65536)  # answers format the same few instants over and over
def iso(instant: datetime | None, millis: bool = False) -> str | None:
    """RFC 3339 in UTC with a Z suffix; optionally with milliseconds."""
    if instant is None:
        return None
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.removesuffix("+00:00") + "Z"


def exact_iso(instant: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z suffix, to the microsecond (what state files and scenarios
    keep, so that a world read back is the world written)."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
