"""Fault rules: make chosen queries fail, time out, arrive late or get truncated.

A rule matches by name pattern (an exact name, ``*.suffix`` for any name strictly below
``suffix``, or ``*`` for every name), optionally by query type, and applies to the next
``count`` matching queries (or until removed when ``count`` is None). The first matching rule,
in the order rules were added, wins.
"""

from __future__ import annotations

import re
import threading

from dnslib import QTYPE

from .rdata import normalize_name

# What a rule can do to a query.
KINDS = ("servfail", "refused", "nxdomain", "drop", "delay", "truncate")
# Upper bound on an injected delay, so a typo cannot park a client for hours.
MAX_DELAY_MS = 60_000


class Faults:
    """A thread-safe, ordered list of fault rules."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[dict] = []
        self.added = 0  # rules ever added: the next one is f<added + 1>

    def add(self, name, kind, qtype=None, count=None, delay_ms=None, fault_id=None) -> dict:
        """Add a rule and return it as a dict with an ``id``.

        ``kind`` is one of servfail, refused, nxdomain, drop, delay (needs ``delay_ms``) or
        truncate (UDP only: the client retries over TCP and gets the full answer there).
        ``fault_id``: the id it had in a saved world (``f3``), kept; else the next one.
        """
        rule = _make_rule(name, kind, qtype, count, delay_ms)
        with self._lock:
            taken = {r["id"] for r in self._rules}
            rule["id"], self.added = rule_id("f", "a fault id", fault_id, self.added, taken)
            self._rules.append(rule)
            return dict(rule)

    def numbered(self, added: int) -> None:
        """Go on numbering after ``added`` rules (a saved world's), whatever ids remain."""
        with self._lock:
            self.added = max(self.added, added)

    def list(self) -> list[dict]:
        """The active rules, in matching order."""
        with self._lock:
            return [dict(r) for r in self._rules]

    def remove(self, fault_id: str) -> bool:
        """Remove one rule by id; return whether it existed."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r["id"] != fault_id]
            return len(self._rules) != before

    def clear(self) -> int:
        """Remove every rule; return how many there were."""
        with self._lock:
            count = len(self._rules)
            self._rules = []
            return count

    def reset(self) -> None:
        """Remove every rule and number new ones from f1 again, as a new Faults does."""
        with self._lock:
            self._rules = []
            self.added = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def take(self, name: str, qtype: str, transport: str) -> dict | None:
        """Consume one use of the first rule matching this query and return a copy of it.

        Truncation only exists over UDP, so truncate rules neither match nor count over TCP.
        """
        name = name.lower().rstrip(".")
        with self._lock:
            for rule in self._rules:
                if rule["kind"] == "truncate" and transport != "udp":
                    continue
                if not _matches(rule, name, qtype):
                    continue
                if rule["count"] is not None:
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self._rules.remove(rule)
                return dict(rule)
        return None


def rule_id(prefix: str, what: str, given, added: int, taken: set[str]) -> tuple[str, int]:
    """A new rule's id (`prefix` and a number: f3, h3) and how many ids were given by then:
    `given` (the id it had in a saved world) kept, unless it is malformed (said as `what`) or
    `taken`; else the one after the `added` ever given. The DNS faults' and the sandbox's HTTP
    faults' ids alike."""
    if given is None:
        return f"{prefix}{added + 1}", added + 1
    if not isinstance(given, str) or not re.fullmatch(rf"{prefix}[1-9][0-9]{{0,8}}", given):
        raise ValueError(f"{what} is {prefix} and a number, such as {prefix}3, not {given!r}")
    if given in taken:
        raise ValueError(f"fault id {given} is given twice")
    return given, max(added, int(given[1:]))


def _matches(rule: dict, name: str, qtype: str) -> bool:
    if rule["qtype"] is not None and rule["qtype"] != qtype:
        return False
    pattern = rule["name"]
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


def _make_rule(name, kind, qtype, count, delay_ms) -> dict:
    kind = str(kind).strip().lower()
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r} (one of: {', '.join(KINDS)})")
    pattern = "*" if str(name).strip() == "*" else normalize_name(name)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"fault count must be a positive integer or None, got {count!r}")
    if kind == "delay":
        if delay_ms is None:  # field first, as callers name fields (the CLI: --delay-ms)
            raise ValueError("delay_ms: a delay fault needs one, how many ms late it answers")
        number = isinstance(delay_ms, (int, float)) and not isinstance(delay_ms, bool)
        if not number or not 0 <= delay_ms <= MAX_DELAY_MS:
            raise ValueError(
                f"delay_ms must be a number from 0 to {MAX_DELAY_MS}, got {delay_ms!r}"
            )
    elif delay_ms is not None:
        raise ValueError(f"delay_ms: only a delay fault takes one, not {kind!r}")
    return {
        "id": None,
        "name": pattern,
        "kind": kind,
        "qtype": _query_type(qtype) if qtype is not None else None,
        "count": count,
        "delay_ms": delay_ms,
    }


def _query_type(qtype) -> str:
    """A query type's name (A, SOA, ANY, TYPE65280...), upper-cased; ValueError for one no
    query can have, which would make a rule that never matches."""
    name = str(qtype).strip().upper()
    if name not in QTYPE.reverse and not _NUMBERED_TYPE.fullmatch(name):
        raise ValueError(f"unknown query type {qtype!r} (a DNS type: A, TXT, MX, SOA, ANY...)")
    return name


_NUMBERED_TYPE = re.compile(r"TYPE[0-9]{1,5}")  # RFC 3597's name of a type without a mnemonic
