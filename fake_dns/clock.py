"""The clock protocol: any object with ``now()`` returning an aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Real wall-clock time, in UTC."""

    def now(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        return datetime.now(UTC)


def parse_instant(value: datetime | str | None, what: str = "time") -> datetime | None:
    """Turn an aware datetime or ISO-8601 string into an aware UTC datetime.

    Naive values are taken as UTC, so "2025-01-01T00:00:00" means midnight UTC.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what}: not an ISO-8601 date-time: {value!r}") from None
    if not isinstance(value, datetime):
        raise ValueError(f"{what}: expected a datetime or ISO-8601 string, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """Format an instant as ISO-8601 (UTC, 'Z' suffix), or None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
