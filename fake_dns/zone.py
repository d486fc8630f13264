"""The record store: names, types, values, TTLs and visible-after times, plus lookup.

Lookup semantics (what the server answers):

- names are case-insensitive and stored without the trailing dot;
- a name "exists" when it holds a visible record or when a visible record sits below it
  (an empty non-terminal, e.g. ``_domainkey.example.com`` when ``sel._domainkey.example.com``
  holds a record; the root, "", is one as soon as the zone holds a visible record, RFC 8020);
- a wildcard ``*.parent`` answers for names below ``parent`` that do not exist, unless a name
  between them exists (RFC 4592 closest-encloser rule);
- a CNAME is followed (for any asked type but CNAME and ANY) while its target exists in the
  zone, up to ``MAX_CNAME_CHAIN`` links; a loop or a longer chain is a SERVFAIL. A target that
  does not exist here ends the chain with NOERROR and the CNAMEs alone, as a real server that
  is authoritative for the owner but not for the target answers: no SOA, which would tell a
  resolver the target has no data (RFC 2308 2.2.1), so it asks for the target itself;
- the "zone apex" used for the SOA of negative answers is the name's last two labels (the
  name itself when it has one or two): ``zone_apex``. So every name has an apex and the server
  is authoritative for everything. The apex answers SOA and NS queries with synthesized
  records. An apex holds its zone's SOA, so it exists: a name that does not exist is no apex,
  and its NXDOMAIN carries its parent's zone's SOA (``enclosing_apex``: ``com`` for a missing
  ``nope.com``, the root for a missing ``nope``; RFC 2308 2.1). There is no public suffix list:
  under ``co.uk`` the apex of ``mail.example.co.uk`` is ``co.uk``. An NS record is data like
  any other: the server never refers a resolver elsewhere (no delegation).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from dnslib import DNSBuffer

from .clock import SystemClock, iso, parse_instant
from .limits import MAX_MESSAGE, MAX_WIRE_NAME
from .rdata import brief, normalize_name, normalize_type, parse_value

# Longest CNAME chain followed before answering SERVFAIL (resolvers use similar limits).
MAX_CNAME_CHAIN = 8
# TTL when the caller gives none: short, so clients re-query a sandbox that changes often.
DEFAULT_TTL = 300
_MAX_TTL = 2**31 - 1
# An answer must fit one DNS message (MAX_MESSAGE, over TCP). The asked name may be longer
# than the records' owner (a wildcard's), up to MAX_WIRE_NAME octets.
# An answer's bytes besides its records: the header (12), the question's type and class (4), an
# EDNS OPT record (11); and each record's besides its data: its owner, a 2-byte pointer to the
# question, then type, class, TTL and data length (10).
_MESSAGE_OVERHEAD = 12 + 4 + 11
_RECORD_OVERHEAD = 2 + 10


@dataclass
class Record:
    """One resource record; ``rdata`` is the dnslib form used on the wire."""

    name: str
    type: str
    value: object
    ttl: int
    visible_after: datetime | None
    rdata: object = field(repr=False, compare=False)

    @cached_property
    def wire_size(self) -> int:
        """Bytes the record takes in an answer (its data uncompressed: at most that)."""
        data = DNSBuffer()
        self.rdata.pack(data)
        return _RECORD_OVERHEAD + len(data.data)

    def visible(self, now: datetime) -> bool:
        """True when the record is published at ``now``."""
        return self.visible_after is None or now >= self.visible_after

    def as_dict(self) -> dict:
        """The record as a plain dict (what ``Zone.records()`` returns)."""
        value = list(self.value) if isinstance(self.value, list) else self.value
        return {
            "name": self.name,
            "type": self.type,
            "value": value,
            "ttl": self.ttl,
            "visible_after": iso(self.visible_after),
        }


@dataclass
class Lookup:
    """The outcome of resolving one question against the zone."""

    rcode: str  # "NOERROR", "NXDOMAIN" or "SERVFAIL"
    answers: list[tuple[str, Record]]  # (owner name as answered, record)
    apex: str | None  # zone apex of the last name looked at, for the SOA; None: not ours
    name: str  # the last name looked at (end of a CNAME chain)


class Zone:
    """A thread-safe set of DNS records. ``clock`` decides what ``visible_after`` means."""

    def __init__(self, clock=None):
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._names: dict[str, list[Record]] = {}

    # -- editing -----------------------------------------------------------------------------

    def add(self, name, type, value, ttl=DEFAULT_TTL, visible_after=None) -> dict:  # noqa: A002
        """Add one record and return it as a dict; an identical name/type/value is replaced.
        The record set it joins takes its TTL: a set has one TTL (RFC 2181 5.2), and a DNS
        UPDATE that adds a record of another TTL sets the whole set's (RFC 2136 3.4.2.2).

        Raises ValueError naming the name, type and value when any of them is invalid, or when
        the record would share its name with a CNAME.
        """
        record = _make_record(name, type, value, ttl, visible_after)
        with self._lock:
            kept = [
                replace(r, ttl=record.ttl) if r.type == record.type else r
                for r in self._names.get(record.name, [])
                if not _same(r, record)
            ]
            _refuse_beside_cname(kept, record)
            _refuse_oversize(kept, record)
            self._names[record.name] = [*kept, record]
        return record.as_dict()

    def set(self, name, type, values, ttl=DEFAULT_TTL, visible_after=None) -> list[dict]:  # noqa: A002
        """Replace every record of ``name`` and ``type`` by ``values`` (a list, or one value).

        For several multi-string TXT records pass a list of lists. An empty list removes.
        All values are validated (a CNAME shares its name with no other record) before anything
        changes.
        """
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
            values = [values]
        new = [_make_record(name, type, v, ttl, visible_after) for v in values]
        key, rtype = normalize_name(name), normalize_type(type)
        with self._lock:
            kept = [r for r in self._names.get(key, []) if r.type != rtype]
            for record in new:
                kept = [r for r in kept if not _same(r, record)]
                _refuse_beside_cname(kept, record)
                _refuse_oversize(kept, record)
                kept.append(record)
            self._store(key, kept)
        return [r.as_dict() for r in new]

    def add_all(self, name, type, values, ttl=DEFAULT_TTL, visible_after=None) -> list[dict]:  # noqa: A002
        """Add several records of ``name`` and ``type`` as add() does, all or none."""
        with self.atomically():
            return [self.add(name, type, value, ttl, visible_after) for value in values]

    @contextmanager
    def atomically(self):
        """Changes made in the block, all or none: an exception raised in it undoes them (and
        goes on); lookups meanwhile wait, so none sees half of them."""
        with self._lock:
            saved = dict(self._names)  # each change stores a new list: a shallow copy keeps all
            try:
                yield self
            except BaseException:
                self._names = saved
                raise

    def remove(self, name, type=None, value=None) -> int:  # noqa: A002
        """Remove the records at ``name`` (only of ``type``, only ``value`` if given).

        Returns how many records were removed. A ``value`` needs its ``type`` (ValueError): a
        value is read as its type writes it, and without one it would remove every record.
        """
        if value is not None and type is None:
            raise ValueError("value: give the record type too, to remove one value")
        key = normalize_name(name)
        rtype = normalize_type(type) if type is not None else None
        norm = parse_value(rtype, value)[0] if (rtype and value is not None) else None
        with self._lock:
            records = self._names.get(key, [])
            kept = [
                r
                for r in records
                if (rtype is not None and r.type != rtype) or (norm is not None and r.value != norm)
            ]
            self._store(key, kept)
            return len(records) - len(kept)

    def clear(self) -> int:
        """Remove every record; return how many there were."""
        with self._lock:
            count = sum(len(v) for v in self._names.values())
            self._names.clear()
            return count

    def records(self, name=None, type=None) -> list[dict]:  # noqa: A002
        """All records as plain dicts (optionally only those of ``name`` and/or ``type``)."""
        key = normalize_name(name) if name is not None else None
        rtype = normalize_type(type) if type is not None else None
        with self._lock:
            return [
                r.as_dict()
                for owner, records in self._names.items()
                if key is None or owner == key
                for r in records
                if rtype is None or r.type == rtype
            ]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._names.values())

    def _store(self, key: str, records: list[Record]) -> None:
        if records:
            self._names[key] = records
        else:
            self._names.pop(key, None)

    # -- lookup ------------------------------------------------------------------------------

    def lookup(self, name: str, qtype: str) -> Lookup:
        """Resolve ``name``/``qtype`` (e.g. "TXT", "ANY") as an authoritative server would."""
        name = name.lower().rstrip(".")
        now = self.clock.now()
        answers: list[tuple[str, Record]] = []
        seen: set[str] = set()
        with self._lock:
            while True:
                records, exists = self._node(name, now)
                if not exists:
                    if answers:  # a CNAME target missing is out of zone: no SOA for it
                        return Lookup("NOERROR", answers, None, name)
                    return Lookup("NXDOMAIN", answers, enclosing_apex(name), name)
                cname = next((r for r in records if r.type == "CNAME"), None)
                if cname is None or qtype in ("CNAME", "ANY"):
                    answers += [(name, r) for r in records if qtype == "ANY" or r.type == qtype]
                    return Lookup("NOERROR", answers, zone_apex(name), name)
                answers.append((name, cname))
                seen.add(name)
                name = cname.value
                if name in seen or len(answers) > MAX_CNAME_CHAIN:
                    return Lookup("SERVFAIL", [], zone_apex(name), name)

    def _visible(self, name: str, now: datetime) -> list[Record]:
        return [r for r in self._names.get(name, ()) if r.visible(now)]

    def _exists(self, name: str, now: datetime) -> bool:
        """True when ``name`` holds a visible record or is an ancestor of one."""
        if self._visible(name, now):
            return True
        suffix = "." + name if name else ""  # every name is below the root
        return any(
            owner.endswith(suffix) and any(r.visible(now) for r in records)
            for owner, records in self._names.items()
        )

    def _node(self, name: str, now: datetime) -> tuple[list[Record], bool]:
        """The records answering for ``name`` (its own or a wildcard's) and whether it exists."""
        if self._exists(name, now):
            return self._visible(name, now), True
        labels = name.split(".")
        for i in range(1, len(labels)):
            parent = ".".join(labels[i:])
            wildcard = self._visible("*." + parent, now)
            if wildcard:
                return wildcard, True
            if self._exists(parent, now):
                break  # closest encloser has no wildcard: the name does not exist
        else:  # the closest encloser is the root (RFC 4592)
            if wildcard := self._visible("*", now):
                return wildcard, True
        return [], False


def zone_apex(name: str) -> str:
    """The apex of the zone ``name`` (a zone key, the root "") is in: its last two labels, the
    name itself when it has one or two. It needs no look at the records: an existing name of
    more labels has its last two existing above it."""
    return ".".join(name.split(".")[-2:])


def enclosing_apex(name: str) -> str:
    """The apex whose SOA an NXDOMAIN for ``name`` carries (RFC 2308 2.1: its zone's). An apex
    holds its zone's SOA and so exists; ``name`` does not, so it is no apex: when zone_apex()
    would be ``name`` itself, the zone is its parent's (``com`` for ``nope.com``, the root for
    ``nope``)."""
    apex = zone_apex(name)
    if apex != name or not name:
        return apex
    return zone_apex(name.partition(".")[2])


def _same(a: Record, b: Record) -> bool:
    return a.type == b.type and a.value == b.value


def _refuse_beside_cname(records: list[Record], record: Record) -> None:
    """RecordError unless `record` may join `records` at its name. A CNAME's name holds no
    other data, not even a second CNAME: a server answers the CNAME whatever type is asked, so
    a record beside one could never be served."""
    alias = next((r for r in records if r.type == "CNAME"), None)
    if alias is not None:
        there, fix = f"is an alias (CNAME to {alias.value})", "remove the CNAME first"
    elif record.type == "CNAME" and records:
        there = f"already holds {', '.join(sorted({r.type for r in records}))} records"
        fix = "remove them first"
    else:
        return
    reason = (
        f"{record.name} {there}, and a CNAME shares its name with no other record "
        f"(RFC 1034 §3.6.2, RFC 2181 §10.1); {fix}"
    )
    raise RecordError(f"{record.name} {record.type} {brief(record.value)}", reason)


def _refuse_oversize(records: list[Record], record: Record) -> None:
    """RecordError unless the answer holding `record` and the others of its type at its name
    fits one DNS message: a larger one could only ever be answered truncated, with nothing.
    The answer is counted as asked with EDNS by the longest name it could answer (a wildcard's:
    any name below it), from each record's own size, so adding to a large set stays cheap."""
    same = [r for r in records if r.type == record.type] + [record]
    question = MAX_WIRE_NAME if record.name.startswith("*.") else len(record.name) + 2
    size = _MESSAGE_OVERHEAD + question + sum(r.wire_size for r in same)
    if size > MAX_MESSAGE:
        reason = (
            f"the {len(same)} {record.type} records at {record.name} would make a {size}-byte "
            f"answer, and a DNS message holds at most {MAX_MESSAGE} bytes; publish fewer or "
            "shorter values"
        )
        raise RecordError(f"{record.name} {record.type} {brief(record.value)}", reason)


class RecordError(ValueError):
    """An invalid record; ``str()`` names the record, ``reason`` only says what is wrong."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason


def _make_record(name, rtype, value, ttl, visible_after) -> Record:
    """Validate every field; errors name the record so the caller can act on them."""
    try:
        key = normalize_name(name)
    except ValueError as exc:
        raise RecordError("", str(exc)) from None
    try:
        rtype = normalize_type(rtype)
    except ValueError as exc:
        raise RecordError(key, str(exc)) from None
    where = f"{key} {rtype} {brief(value)}"
    try:
        norm, rdata = parse_value(rtype, value)
    except ValueError as exc:
        raise RecordError(where, str(exc)) from None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= _MAX_TTL:
        raise RecordError(where, f"ttl must be an integer from 0 to {_MAX_TTL}, got {ttl!r}")
    try:
        after = parse_instant(visible_after, "visible_after")
    except ValueError as exc:
        raise RecordError(where, str(exc)) from None
    return Record(key, rtype, norm, ttl, after, rdata)
