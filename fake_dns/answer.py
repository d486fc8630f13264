"""Turn one parsed query into a reply: zone lookup, injected faults, SOA, EDNS, truncation."""

from __future__ import annotations

import struct

from dnslib import EDNS0, NS, QTYPE, RCODE, RR, SOA, DNSBuffer, DNSHeader, DNSQuestion, DNSRecord

from .limits import MAX_MESSAGE
from .rdata import normalize_name
from .zone import enclosing_apex

# Where the synthesized SOA and NS point; ".invalid" can never be a real host (RFC 2606).
SOA_MNAME = "ns.fake-dns.invalid."
# SOA TTL and minimum, i.e. how long resolvers cache a negative answer: short for a sandbox.
NEGATIVE_TTL = 60
# SOA refresh, retry, expire: not used by anything, only plausible numbers.
SOA_TIMERS = (3600, 600, 86400)
# UDP payload size we advertise and accept through EDNS (the 2020 DNS flag day value).
EDNS_UDP_SIZE = 1232
# UDP payload limit for clients without EDNS (RFC 1035).
PLAIN_UDP_SIZE = 512
# A TCP message carries a 2-byte length.
TCP_MAX_SIZE = MAX_MESSAGE
# The EDNS version we speak, the extended rcode for a higher one (RFC 6891 6.1.3) and the DO
# ("DNSSEC OK") flag of the OPT record's TTL field, echoed back (RFC 3225 3).
EDNS_VERSION = 0
BADVERS = 16
DO_FLAG = 0x8000
# A compression pointer holds a 14-bit offset (RFC 1035 4.1.4): no name written past this can
# be pointed at.
MAX_POINTER = 0x3FFF
# Bytes a label may hold and still name a record of a zone (rdata.normalize_name's labels).
_ZONE_LABEL_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_*")


def raw_error(data: bytes, rcode: int) -> bytes | None:
    """A header-only reply echoing the id of ``data``; None when ``data`` is not a query.

    Used when the packet cannot be parsed (FORMERR) and as a last resort (SERVFAIL).
    """
    if len(data) < 12 or data[2] & 0x80:  # too short for a header, or already a response
        return None
    flags = 0x8000 | ((data[2] & 0x79) << 8) | rcode  # QR, copied opcode and RD, rcode
    return data[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


def formerr(data: bytes, question: DNSQuestion | None) -> bytes | None:
    """FORMERR to a message that did not parse whole: raw_error()'s header, with ``question``
    (the part of the message that did parse, if given) echoed, as BIND 9 answers; None when
    ``data`` is not a query."""
    reply = raw_error(data, RCODE.FORMERR)
    if reply is None or question is None:
        return reply
    buffer = DNSBuffer()
    question.pack(buffer)
    return reply[:4] + struct.pack("!H", 1) + reply[6:] + bytes(buffer.data)


def udp_limit(query: DNSRecord) -> int:
    """The largest UDP reply this client accepts."""
    for rr in query.ar:
        if rr.rtype == QTYPE.OPT:
            return max(PLAIN_UDP_SIZE, min(rr.rclass, EDNS_UDP_SIZE))
    return PLAIN_UDP_SIZE


def opt_records(query: DNSRecord) -> list[RR]:
    """The query's EDNS OPT records (one at most: the server refuses a query of more)."""
    return [rr for rr in query.ar if rr.rtype == QTYPE.OPT]


def new_reply(query: DNSRecord, rcode: int = 0, aa: bool = True) -> DNSRecord:
    """An empty reply to ``query`` (question echoed, EDNS answered in kind). An rcode over 15
    is an extended one: its upper bits travel in the OPT record (RFC 6891 6.1.3)."""
    header = query.header
    reply = DNSRecord(
        DNSHeader(
            id=header.id,
            qr=1,
            aa=int(aa),
            rd=header.rd,
            ra=header.rd,  # we answer every name fully, like a resolver would
            cd=header.cd,  # copied, as a DNSSEC-aware server does (RFC 4035 3.1.6)
            opcode=header.opcode,
            rcode=rcode & 0xF,
        ),
        q=query.q,
    )
    opts = opt_records(query)
    if opts:
        flags = "do" if opts[0].ttl & DO_FLAG else ""
        reply.add_ar(EDNS0(udp_len=EDNS_UDP_SIZE, ext_rcode=rcode >> 4, flags=flags))
    return reply


def edns_error(query: DNSRecord) -> DNSRecord | None:
    """The error reply the query's EDNS version calls for, or None when it is fine. (A message
    whose OPT records break RFC 6891's rules does not parse: server._bad_opt.)"""
    opts = opt_records(query)
    if opts and (opts[0].ttl >> 16) & 0xFF > EDNS_VERSION:
        return new_reply(query, rcode=BADVERS, aa=False)  # the reply's OPT says our version
    return None


def rcode_name(reply: DNSRecord) -> str:
    """The reply's rcode, extended by its OPT record, as text (for the query log)."""
    opts = opt_records(reply)
    code = reply.header.rcode | ((opts[0].ttl >> 24) << 4 if opts else 0)
    return "BADVERS" if code == BADVERS else RCODE.get(code)


def soa_rr(apex: str) -> RR:
    """A synthesized SOA for ``apex``: the authority of every negative answer."""
    try:
        apex = normalize_name(apex) if apex else ""
    except ValueError:
        apex = ""  # a name no zone can hold (odd bytes, empty labels): the root speaks for it
    owner = apex + "." if apex else "."
    rname = f"hostmaster.{apex}." if apex else "hostmaster.invalid."
    times = (1, *SOA_TIMERS, NEGATIVE_TTL)
    return RR(owner, QTYPE.SOA, ttl=NEGATIVE_TTL, rdata=SOA(SOA_MNAME, rname, times))


def answer_from_zone(query: DNSRecord, zone, name: str, qtype: str) -> DNSRecord:
    """The authoritative answer for the question, from the zone's current records."""
    found = zone.lookup(name, qtype)
    reply = new_reply(query, rcode=getattr(RCODE, found.rcode), aa=found.rcode != "SERVFAIL")
    for owner, record in found.answers:
        rtype = getattr(QTYPE, record.type)
        # The asked name answers in the question's own bytes and case, as real servers do; a
        # CNAME's target is a name the zone holds.
        rname = query.q.qname if owner == name else owner + "."
        reply.add_answer(RR(rname, rtype, ttl=record.ttl, rdata=record.rdata))
    if found.rcode == "SERVFAIL":
        return reply
    positive = any(qtype in ("ANY", record.type) for _, record in found.answers)
    at_apex = found.name == found.apex and found.rcode == "NOERROR"
    synthesized = ("SOA", "NS") if found.apex else ("SOA",)  # the root has no name server here
    if not positive and qtype in synthesized and at_apex:
        # the synthesized zone apex answers SOA and NS queries
        apex = soa_rr(found.apex) if qtype == "SOA" else ns_rr(found.apex)
        if found.name == name:
            apex.rname = query.q.qname  # asked directly: in the question's own bytes and case
        reply.add_answer(apex)
    elif not positive and found.apex is not None:
        reply.add_auth(soa_rr(found.apex))
    return reply


def ns_rr(apex: str) -> RR:
    """A synthesized NS for ``apex``: the name server its SOA names."""
    return RR(soa_rr(apex).rname, QTYPE.NS, ttl=NEGATIVE_TTL, rdata=NS(SOA_MNAME))


def forced(query: DNSRecord, kind: str, name: str) -> DNSRecord:
    """The reply an error fault dictates (servfail, refused, nxdomain)."""
    if kind == "nxdomain":
        reply = new_reply(query, rcode=RCODE.NXDOMAIN)
        reply.add_auth(soa_rr(enclosing_apex(name)))  # as a name the zone does not hold
        return reply
    rcode = RCODE.SERVFAIL if kind == "servfail" else RCODE.REFUSED
    return new_reply(query, rcode=rcode, aa=False)


def truncated(reply: DNSRecord) -> DNSRecord:
    """``reply`` with TC set and no records, telling the client to retry over TCP."""
    reply.header.tc = 1
    reply.rr = []
    reply.auth = []
    return reply


class _Buffer(DNSBuffer):
    """dnslib's buffer, compressing names only against those a pointer reaches: dnslib also
    points at names it wrote past 16 KiB, and the pointer's 14 bits then land elsewhere (dig:
    "Got bad packet: bad label type")."""

    def encode_name(self, name) -> None:
        super().encode_name(name)
        if self.offset <= MAX_POINTER:
            return
        # what this name added is last (each earlier call left none past the pointer's reach)
        beyond = []
        for labels in reversed(self.names):
            if self.names[labels] <= MAX_POINTER:
                break
            beyond.append(labels)
        for labels in beyond:
            del self.names[labels]


def wire(reply: DNSRecord) -> bytes:
    """``reply.pack()``, with names compressed only where a pointer reaches (_Buffer)."""
    reply.set_header_qa()
    buffer = _Buffer()
    reply.header.pack(buffer)
    for section in (reply.questions, reply.rr, reply.auth, reply.ar):
        for item in section:
            item.pack(buffer)
    return bytes(buffer.data)


def pack(reply: DNSRecord, limit: int) -> bytes:
    """Wire bytes of ``reply``, truncated (TC) when they exceed ``limit`` bytes. Past what even
    TCP carries, an ANY answer keeps the record sets that fit (RFC 8482 4.2 lets it answer a
    subset); any other is SERVFAIL (a CNAME chain leading to a record set that fits alone),
    since no retry could get the whole answer."""
    data = wire(reply)
    if len(data) <= limit:
        return data
    if limit < TCP_MAX_SIZE:
        return wire(truncated(reply))
    if reply.q.qtype == QTYPE.ANY and (subset := any_subset(reply, limit)) is not None:
        return subset
    return wire(too_big(reply))


def any_subset(reply: DNSRecord, limit: int) -> bytes | None:
    """Wire bytes of ``reply`` holding, of its answer's record sets in order, each whole set
    that still fits ``limit`` bytes (a set cut short would read as the whole one); None when
    not one fits. ``reply.rr`` is left as answered."""
    kept: list[RR] = []
    for rrset in _record_sets(reply.rr):
        reply.rr = kept + rrset
        if len(wire(reply)) <= limit:
            kept = reply.rr
    reply.rr = kept
    return wire(reply) if kept else None


def _record_sets(records: list[RR]) -> list[list[RR]]:
    """``records`` grouped by owner and type, in the order each set first appears."""
    sets: dict[tuple, list[RR]] = {}
    for rr in records:
        sets.setdefault((str(rr.rname).lower(), rr.rtype), []).append(rr)
    return list(sets.values())


def too_big(reply: DNSRecord) -> DNSRecord:
    """``reply`` as a SERVFAIL with no records."""
    reply.header.rcode = RCODE.SERVFAIL
    reply.header.aa = 0
    reply.rr, reply.auth, reply.ar = [], [], []
    return reply


def question_name(query: DNSRecord) -> str:
    """The asked name as the zone's key, from its wire labels: ASCII letters lowercased (DNS
    folds case in ASCII only, RFC 4343) and any byte no zone name holds written \\DDD (RFC 1035
    5.1), so "a.b" or "café" as one label matches no record (a wildcard may cover it). The root
    is ""."""
    return ".".join(_key_label(label) for label in query.q.qname.label)


def _key_label(label: bytes) -> str:
    return "".join(chr(b) if b in _ZONE_LABEL_BYTES else f"\\{b:03d}" for b in label.lower())
