"""Shared helpers for the fake_dns tests: a controllable clock and small query functions."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


class FakeClock:
    """A clock that only moves when told to (the clock protocol is just now())."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2025, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def fresh(server, *records: tuple[str, str, str]):
    """`server` with only `records` (name, type, value) published, no faults, an empty log."""
    server.zone.clear()
    server.faults.clear()
    for name, rtype, value in records:
        server.zone.add(name, rtype, value)
    server.queries.clear()
    return server


def ask(server, name: str, rtype: str = "A", tcp: bool = False, timeout: float = 2.0, edns=True):
    """Send one question to the fake server and return the dnspython response message.

    With ``edns`` the query advertises a 1232-byte UDP payload, as modern clients do.
    """
    if edns:
        query = dns.message.make_query(name, rtype, use_edns=0, payload=1232)
    else:
        query = dns.message.make_query(name, rtype, use_edns=False)
    if tcp:
        return dns.query.tcp(query, server.host, port=server.port, timeout=timeout)
    return dns.query.udp(query, server.host, port=server.port, timeout=timeout)


def rcode(response) -> str:
    return dns.rcode.to_text(response.rcode())


def answer_texts(response, rtype: str) -> list[str]:
    """The presentation values of every answer record of ``rtype``."""
    wanted = dns.rdatatype.from_text(rtype)
    return sorted(
        rd.to_text() for rrset in response.answer if rrset.rdtype == wanted for rd in rrset
    )


def txt_values(response) -> list[str]:
    """TXT answers joined the way verifiers read them: the strings of one record concatenated."""
    return sorted(
        b"".join(rd.strings).decode()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.TXT
        for rd in rrset
    )


def soa_owner(response) -> str | None:
    """Owner name of the SOA in the authority section, or None."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset.name.to_text(omit_final_dot=True)
    return None


def is_authoritative(response) -> bool:
    return bool(response.flags & dns.flags.AA)


def dig(server, *args: str) -> str:
    """Run dig against the fake server; return its stdout."""
    cmd = ["dig", f"@{server.host}", "-p", str(server.port), "+time=2", "+tries=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False).stdout
