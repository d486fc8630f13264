"""Ports, seeds, durations and settings: the ranges and forms the sandbox takes them in, checked
where they come in (the CLI's options, the Python API), each refused in one sentence that says
why."""

from __future__ import annotations

import argparse
import math
import re

MAX_PORT = 65535  # 0 asks the system for a free port
MAX_SEED = 2**32 - 1  # the control API's range for seeds
MAX_ADVANCE_SECONDS = 3650 * 86400  # the clock's longest move, 10y (openapi/control.yaml)
MAX_UNTIL_SECONDS = 365 * 86400  # how far `advance --until` looks ahead at most, 365d (same)


def within(value: int, highest: int, what: str) -> int:
    """`value` when it is a whole number from 0 to `highest`; ValueError naming `what` if not."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise ValueError(f"{value!r} is not {what} (0 to {highest})")
    return value


def _option(highest: int, what: str):
    """An argparse type for a whole number from 0 to `highest`."""

    def parse(text: str) -> int:
        try:
            return within(int(text), highest, what)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} (0 to {highest})") from None

    return parse


def is_timing(setting: str) -> bool:
    """True for a provider setting that is a timing, in seconds (its name ends in _seconds);
    False for a switch or a count, which take whole numbers."""
    return setting.endswith("_seconds")


# A year is 365 days: the clock's longest move, 3650 days, is then 10y. Milliseconds are for
# the options that time faults (`--latency-ms 250ms`).
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION_PART = r"(\d+(?:\.\d+)?)\s*(ms|[smhdwy])"
_BARE_NUMBER = r"\s*\d+(?:\.\d+)?\s*"  # a duration without its unit (seconds, or milliseconds)


_SUCH_AS = "30s, 5m, 1h, 3d, 2w, 1y (365 days) or 1h30m"


def seconds_of(text: str, such_as: str = _SUCH_AS) -> float:
    """'90' or '90s', '250ms', '5m', '1h', '3d', '2w', '1y' (365 days), or several, '1h30m' ->
    seconds; ValueError saying what a duration looks like (`such_as`) if `text` is none."""
    if re.fullmatch(_BARE_NUMBER, text):
        text += "s"  # seconds, said so: read below as any other
    if text.strip().startswith("-") and _is_duration(text.strip()[1:]):
        raise ValueError(f"{text!r}: a duration is never negative")
    if not re.fullmatch(rf"\s*(?:{_DURATION_PART}\s*)+", text):
        raise ValueError(f"{text!r} is not a duration such as {such_as}")
    parts = re.findall(_DURATION_PART, text)
    units = [unit for _, unit in parts]
    if units != sorted(set(units), key=_UNITS.get, reverse=True):  # `5m5m`, `30m1h`: a slip
        raise ValueError(f"{text!r}: name each unit once, the largest first, as in 1h30m")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in parts)
    if not math.isfinite(seconds):  # 400 digits: no float holds them (int() of it would raise)
        raise ValueError(_too_long(text))
    return seconds


def _too_long(text: str) -> str:
    return f"{text.strip()[:20]}...: too long by far"


def _is_duration(text: str) -> bool:
    try:
        seconds_of(text)
    except ValueError:
        return False
    return True


def duration_said(seconds: float) -> str:
    """Seconds as a duration the CLI takes back, the largest units first, in days at most (12d
    reads better than 1w5d): 259200 is 3d, 90 is 1m30s, 1.5 is 1s500ms (to the millisecond),
    0 is 0s."""
    millis = round(seconds * 1000)
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        count, millis = divmod(millis, round(_UNITS[unit] * 1000))
        parts += [f"{count}{unit}"] if count else []
    return "".join(parts) or "0s"


def duration(text: str) -> float:
    """An argparse type: `seconds_of`."""
    try:
        return seconds_of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def milliseconds(text: str) -> int:
    """An argparse type: a whole number of milliseconds, for the options named so (`--latency-ms`,
    `--delay-ms`). A bare number is milliseconds, as those options always took it; anything
    else is a duration, as every other time the CLI takes (250ms, 1.5s, 2s)."""
    as_duration = f"{text.strip()}ms" if re.fullmatch(_BARE_NUMBER, text) else text
    try:
        millis = seconds_of(as_duration, such_as="250ms, 1.5s or 700 (a bare number: ms)") * 1000
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not math.isfinite(millis):  # (seconds_of's own is finite: a thousand times may not be)
        raise argparse.ArgumentTypeError(_too_long(text))
    if abs(millis - round(millis)) > 1e-6:  # (1.001s is 1000.9999... ms in floats)
        raise argparse.ArgumentTypeError(f"{text}: give whole milliseconds (250ms, 1.5s)")
    return round(millis)


def ttl(text: str) -> int:
    """An argparse type: a DNS record's TTL, a duration of whole seconds (300, 5m, 1h)."""
    seconds = duration(text)
    if seconds != int(seconds):
        raise argparse.ArgumentTypeError(f"{text}: a TTL is a whole number of seconds")
    return int(seconds)


def timeout(text: str) -> float:
    """An argparse type: a duration above nothing (`contract run --request-timeout`)."""
    seconds = duration(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text} is no time: a request needs more than 0 s")
    return seconds


def until_limit(text: str) -> float:
    """An argparse type: a duration up to MAX_UNTIL_SECONDS (`clock advance --until --limit`)."""
    seconds = duration(text)
    if seconds > MAX_UNTIL_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text} is past the furthest an advance --until looks ahead, "
            f"{MAX_UNTIL_SECONDS // 86400}d"
        )
    return seconds


port = _option(MAX_PORT, "a port number")
seed = _option(MAX_SEED, "a seed")


def plain_number(value: float) -> str:
    """A number of seconds or a speed as a person reads it: 1036800 and 0.000035, where `:g`
    writes 1.0368e+06 and 3.5e-05 (the exponent kept only beyond a millionth or 10^15)."""
    if value and not 1e-6 <= abs(value) < 1e15:
        return f"{value:g}"
    return f"{value:.6f}".rstrip("0").rstrip(".")
