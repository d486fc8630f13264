"""The sandbox clock: one source of time for timestamps, propagation and scheduled checks.

It runs in real time by default; it can also be frozen, run fast, or move when clients poll
(MODES). Tests set it and advance it; the fake DNS server reads the same clock, so records
published "visible after" a delay appear when it says so.
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
        written = value
        if value[-1:] in ("Z", "z"):  # RFC 3339 5.6: "T" and "Z" may be written in lower case
            value = value[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:  # Python's words alone ("month must be in 1..12") name nothing
            if _LONG_YEAR.match(written):  # 10000-01-01: past what any instant here can be
                raise OutOfRange(_outside(repr(written))) from None
            why = "" if str(exc).startswith("Invalid isoformat") else f" ({exc})"
            if str(exc).startswith("offset must be"):  # Python's words name its timedelta type
                why = " (its UTC offset must be less than 24 hours either way)"
            raise ValueError(f"{written!r} is not an ISO-8601 instant{why}") from None
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
        raise OutOfRange(_outside(iso(instant)))
    return instant


# A year of five digits or more, as an ISO-8601 instant would begin.
_LONG_YEAR = re.compile(r"[+-]?[0-9]{5,}-")


def _outside(said: str) -> str:
    return (
        f"{said} is outside the sandbox clock's range, {iso(EARLIEST)} to {iso(LATEST)} "
        "(four-digit years, with a year to spare for scheduled steps)"
    )


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


# The clock's modes. "frozen" moves only when told; "real" runs with wall time; "fast" runs
# `speed` sandbox seconds per real second (demos); "on-poll" is frozen, and a provider request
# that reads a domain with a step due later moves it to that step (sandbox.clockwork), so a
# client's wait loop sees every state at once, without sleeping, the same on every run.
MODES = ("frozen", "real", "fast", "on-poll")
# A fast clock's default and greatest speed: a minute a second; a year in about half a minute.
DEFAULT_FAST_SPEED = 60
MAX_SPEED = 1_000_000


def check_mode(mode: str, speed: float | None = None) -> float:
    """The speed a clock in `mode` runs at (0 for one that only moves when told), or
    ValueError saying what is wrong with `mode` or `speed`."""
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not a clock mode; use {', '.join(MODES)}")
    if mode != "fast":
        if speed not in (None, 1):
            raise ValueError(f"speed: only a fast clock has a speed to set, not a {mode} one")
        return 1.0 if mode == "real" else 0.0
    speed = DEFAULT_FAST_SPEED if speed is None else speed
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed <= MAX_SPEED:
        raise ValueError(f"speed: a fast clock runs from above 0 to {MAX_SPEED} times real time")
    return float(speed)


class Clock:
    """A controllable UTC clock in one of MODES: it shows an instant, and moves from there at a
    speed (sandbox seconds per real second; 0 while it moves only when told)."""

    def __init__(
        self,
        start: datetime | str | None = None,
        frozen: bool = False,
        mode: str | None = None,
        speed: float | None = None,
    ):
        self._lock = threading.Lock()
        self._mode, self._speed = "frozen", 0.0  # until set_mode below: `start` held exactly
        self._rebase(datetime.now(UTC))  # shows _at at wall time _since
        self._running = ("real", None)  # the mode unfreeze() goes back to: the last running one
        self._froze_on_poll = False  # frozen from on-poll: unfreeze() goes back to on-poll
        if start is not None:
            self.set(start)
        self.set_mode(mode or ("frozen" if frozen else "real"), speed)

    def now(self) -> datetime:
        # What the last change published, read once and without the lock: a request asks the
        # time four to ten times, and a change (under the lock) publishes a whole new reading.
        speed, at, since, offset, real_until = self._reading
        if not speed:
            return at
        wall = datetime.now(UTC)
        if speed == 1 and wall < real_until:  # real time: one addition (most calls)
            return wall + offset
        # a running clock set near the end of its range stops there rather than pass it
        try:
            return min(at + (wall - since) * speed, LATEST)
        except OverflowError:
            return LATEST

    def _rebase(self, instant: datetime) -> None:
        self._at, self._since = instant, datetime.now(UTC)
        # in real time: what to add to the wall clock, and the wall instant the range ends at
        self._offset = self._at - self._since
        try:
            self._real_until = self._since + (LATEST - self._at)
        except OverflowError:
            self._real_until = datetime.max.replace(tzinfo=UTC)
        self._publish()

    def _publish(self) -> None:
        """What `now` reads, as one tuple (set under the lock, after every change)."""
        self._reading = (self._speed, self._at, self._since, self._offset, self._real_until)

    @property
    def frozen(self) -> bool:
        """True while the clock moves only when told (frozen and on-poll)."""
        return not self._speed

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def speed(self) -> float:
        """Sandbox seconds per real second while running; 0 while it moves only when told."""
        return self._speed

    def set_mode(self, mode: str, speed: float | None = None) -> None:
        """Switch to one of MODES from the instant it shows; ValueError for a bad mode or speed."""
        new_speed = check_mode(mode, speed)
        with self._lock:
            self._rebase(self.now())
            # a freeze of an on-poll clock (or a second freeze of it) polls on at unfreeze
            self._froze_on_poll = mode == "frozen" and (
                self._mode == "on-poll" or (self._mode == "frozen" and self._froze_on_poll)
            )
            self._mode, self._speed = mode, new_speed
            self._publish()
            if new_speed:
                self._running = (mode, new_speed)

    def freeze(self) -> None:
        """Stop time at the current instant."""
        self.set_mode("frozen")

    def unfreeze(self) -> None:
        """Let time run again from where it stands, as it last ran (real time, or fast at its
        speed); a running clock runs on. A clock frozen from on-poll polls on again."""
        if self._froze_on_poll:  # (set with each mode: true only while that freeze lasts)
            self.set_mode("on-poll")
        elif self.frozen:
            self.set_mode(*self._running)

    def set(self, instant: datetime | str) -> None:
        """Jump to an instant, in the same mode. OutOfRange past the clock's range."""
        instant = check_instant(utc(instant))
        with self._lock:
            self._rebase(instant)

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, for negative seconds)."""
        self.set(later(self.now(), seconds))

    def saved(self) -> dict:
        """Everything that makes this clock what it is now (its mode, where it stands), for
        `restore` to put back later."""
        with self._lock:
            return {k: v for k, v in vars(self).items() if k != "_lock"}

    def restore(self, saved: dict, instant: bool = True) -> None:
        """Put back the mode (and speed) `saved` held and, unless `instant` is False, where it
        stood: a clock saved frozen shows that instant again, a running one runs on from it as
        if it had run since."""
        if not instant:
            self.set_mode(saved["_mode"], saved["_speed"] or None)
            # and the mode it runs again in, whatever mode it was in before
            self._running, self._froze_on_poll = saved["_running"], saved["_froze_on_poll"]
            return
        with self._lock:
            vars(self).update(saved)

    def snapshot(self) -> dict:
        speed = self._speed if self._mode == "fast" else 1
        now = self.now()  # milliseconds shown when there are any: a clock set to them keeps them
        shown = iso(now, millis=now.microsecond >= 1000)
        return {"now": shown, "frozen": self.frozen, "mode": self._mode, "speed": speed}


@lru_cache(maxsize=65536)  # answers format the same few instants over and over
def iso(instant: datetime | None, millis: bool = False) -> str | None:
    """RFC 3339 in UTC with a Z suffix; optionally with milliseconds."""
    if instant is None:
        return None
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds" if millis else "seconds")
    return text.removesuffix("+00:00") + "Z"


@lru_cache(maxsize=65536)  # a world's export writes the same few instants over and over
def exact_iso(instant: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z suffix, to the microsecond (what state files and scenarios
    keep, so that a world read back is the world written)."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
