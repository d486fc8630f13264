"""DNS fuzzing: well over 100,000 generated and mutated packets through the fake DNS server's packet
handler, then real queries over UDP and TCP still answer.

What counts toward the 100,000: `test_a_hundred_thousand_mutated_packets...` feeds 100,000 inputs
(seeded, so a failure replays) straight into `FakeDNS._prepare` and the `finish` it returns, the
function the UDP and TCP loops call for every message, in-process so it takes seconds, not
minutes. The Hypothesis tests add a few thousand more, shrunk to a minimal packet on failure.
Every reply is checked: bytes or nothing, within the transport's size limit, a response echoing
the query's id, and parseable by an independent DNS library (dnspython).
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import time

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_dns import FakeDNS

# Inputs of the in-process loop; with the Hypothesis tests the total passes 100,000.
LOOP_INPUTS = 100_000
LOOP_SEED = 20260101
HYPOTHESIS_EXAMPLES = 1500
CORPUS_SIZE = 3000  # well-formed queries the loop mutates (making each afresh costs more)
ADDR = ("192.0.2.1", 53000)  # a client address for the query log; nothing is sent to it
UDP_MAX = 1232  # the largest UDP reply the server ever sends (its EDNS size)
TCP_MAX = 65535

NAMES = [
    "example.com",
    "_dmarc.example.com",
    "sel._domainkey.example.com",
    "www.example.com",
    "big.example.com",
    "missing.example.com",
    "trunc.example.com",
    "fail.example.com",
    "slow.example.com",
    "drop.example.com",
    "gone.example.com",
    ".",
    "a." * 60 + "com",
    r"a\.\.b.wild.example.com",  # dots inside a label, under a wildcard
    r"\..wild.example.com",
    r"caf\195\169.wild.example.com",  # bytes outside ASCII
    r"\226\132\170ey.wild.example.com",  # a Kelvin sign, which Unicode lowercases to "k"
]
TYPES = ["A", "AAAA", "TXT", "MX", "CNAME", "NS", "SOA", "ANY", "CAA", "PTR", "SRV", "TYPE65000"]


@pytest.fixture(scope="module")
def fake():
    """A running fake DNS with records and faults of every kind the handler has a path for."""
    with FakeDNS() as server:
        zone = server.zone
        zone.add("example.com", "MX", "10 mx.example.net")
        zone.add("example.com", "TXT", "v=spf1 include:_spf.example.net ~all")
        zone.add("example.com", "A", "192.0.2.10")
        zone.add("example.com", "AAAA", "2001:db8::10")
        zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none")
        zone.add("sel._domainkey.example.com", "TXT", "v=DKIM1; p=" + "A" * 600)
        zone.add("www.example.com", "CNAME", "example.com")
        zone.add("*.wild.example.com", "TXT", "wild")
        for i in range(60):  # too much for 512 bytes: truncated over plain UDP
            zone.add("big.example.com", "TXT", f"record {i} " + "x" * 40)
        faults = server.faults
        faults.add("trunc.example.com", "truncate")
        faults.add("fail.example.com", "servfail")
        faults.add("slow.example.com", "delay", delay_ms=5)
        faults.add("drop.example.com", "drop")
        faults.add("gone.example.com", "nxdomain")
        yield server


def handle(server: FakeDNS, data: bytes, transport: str) -> bytes | None:
    """What the server's UDP and TCP loops do with one message (less the delay's wait)."""
    _delay, finish = server._prepare(data, transport, ADDR)
    return finish()


def check_reply(query: bytes, reply: bytes | None, transport: str) -> None:
    if reply is None:
        return  # dropped: a response, too short, or a drop fault
    assert isinstance(reply, bytes | bytearray)  # what socket.sendto takes
    assert 12 <= len(reply) <= (UDP_MAX if transport == "udp" else TCP_MAX)
    assert reply[:2] == query[:2], "a reply echoes the query's id"
    assert reply[2] & 0x80, "a reply has the QR bit"
    if (reply[2] >> 3) & 0xF == dns.opcode.QUERY:  # dnspython reads other opcodes its own way
        dns.message.from_wire(bytes(reply), ignore_trailing=True)


# --- packets -------------------------------------------------------------------------------------


def well_formed(rng: random.Random) -> bytes:
    """A query a real client could send: any name and type, EDNS or not, odd flags sometimes."""
    query = dns.message.make_query(
        rng.choice(NAMES),
        rng.choice(TYPES),
        rdclass=rng.choice([dns.rdataclass.IN] * 8 + [dns.rdataclass.CH, dns.rdataclass.ANY]),
        use_edns=rng.choice([False, 0]),
        payload=rng.choice([512, 1232, 4096, 65535]),
        want_dnssec=rng.random() < 0.1,
    )
    query.id = rng.randrange(65536)
    if rng.random() < 0.05:
        query.set_opcode(rng.choice([dns.opcode.NOTIFY, dns.opcode.UPDATE, dns.opcode.STATUS]))
    if rng.random() < 0.05:
        query.flags &= ~dns.flags.RD
    wire = query.to_wire()
    if rng.random() < 0.03:  # two questions in one message
        wire = wire[:4] + struct.pack("!H", 2) + wire[6:] + wire[12:]
    return wire


HANDCRAFTED = [
    b"",
    b"\x00",
    b"\x12\x34" + b"\x00" * 10,  # a header and no question
    b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x10\x00\x01",  # pointer loop
    b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f" + b"a" * 10,  # label runs off the end
    b"\x12\x34\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff",  # counts promising 65535 of everything
    b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01",  # a response
    b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x01a" * 200 + b"\x00\x00\x01\x00\x01",
    b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00\x01\x00\x00\x29",  # cut OPT
    b"\xff" * 512,
]


def mutated(rng: random.Random, corpus: list[bytes]) -> bytes:
    """One input: a well-formed query, broken in one of the ways real garbage is broken."""
    data = bytearray(rng.choice(corpus))
    how = rng.random()
    if how < 0.15 or not data:
        return bytes(data)  # unchanged: the handler's main paths, with faults and truncation
    if how < 0.45:
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how < 0.6:
        data = data[: rng.randrange(len(data) + 1)]
    elif how < 0.7:
        data += rng.randbytes(rng.randint(1, 64))
    elif how < 0.8:
        data[4:12] = struct.pack("!HHHH", *(rng.choice([0, 1, 2, 0xFFFF]) for _ in range(4)))
    elif how < 0.9:
        other = rng.choice(corpus)
        cut = rng.randrange(len(data) + 1)
        data = data[:cut] + other[rng.randrange(len(other) + 1) :]
    else:
        data = bytearray(rng.randbytes(rng.randint(0, 300)))
    return bytes(data)


# --- the tests -----------------------------------------------------------------------------------


@pytest.fixture
def no_errors_logged(caplog):
    """The server logs an error only for a bug it survived; fuzzing must find none."""
    caplog.set_level(logging.ERROR, logger="fake_dns")
    yield
    logged = caplog.get_records("call")  # in teardown, caplog.records holds teardown's only
    assert [r.getMessage() for r in logged if r.name == "fake_dns"] == []


def test_a_hundred_thousand_mutated_packets_get_a_sane_reply_or_none(fake, no_errors_logged):
    rng = random.Random(LOOP_SEED)
    corpus = HANDCRAFTED + [well_formed(rng) for _ in range(CORPUS_SIZE)]
    answered = 0
    for i in range(LOOP_INPUTS):
        data = mutated(rng, corpus)
        transport = "tcp" if i % 10 == 0 else "udp"
        try:
            reply = handle(fake, data, transport)
            check_reply(data, reply, transport)
        except Exception as exc:
            raise AssertionError(f"input {i} ({transport}) {data.hex()}: {exc!r}") from exc
        answered += reply is not None
    assert answered > LOOP_INPUTS // 2  # most inputs reach a reply, not an early drop


@settings(
    max_examples=HYPOTHESIS_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never flakes on a new find
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=700), tcp=st.booleans())
def test_any_bytes_get_a_sane_reply_or_none(fake, no_errors_logged, data, tcp):
    transport = "tcp" if tcp else "udp"
    check_reply(data, handle(fake, data, transport), transport)


@st.composite
def damaged_queries(draw):
    """A well-formed query, then bytes overwritten at chosen offsets and a chosen cut."""
    seed = draw(st.integers(0, 2**32 - 1))
    wire = bytearray(well_formed(random.Random(seed)))
    for offset, value in draw(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)))):
        if offset < len(wire):
            wire[offset] = value
    cut = draw(st.integers(0, len(wire)))
    return bytes(wire[: max(cut, draw(st.integers(0, len(wire))))])


@settings(
    max_examples=HYPOTHESIS_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=damaged_queries(), tcp=st.booleans())
def test_damaged_queries_get_a_sane_reply_or_none(fake, no_errors_logged, data, tcp):
    transport = "tcp" if tcp else "udp"
    check_reply(data, handle(fake, data, transport), transport)


def test_after_the_fuzzing_the_server_still_answers_over_udp_and_tcp(fake):
    rng = random.Random(LOOP_SEED + 1)
    corpus = HANDCRAFTED + [well_formed(rng) for _ in range(50)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # garbage over the wire too
        for i in range(500):
            sock.sendto(mutated(rng, corpus) or b"\x00", fake.address)
            if i % 50 == 0:
                time.sleep(0.005)  # let the server keep up rather than overflow its buffer
    with socket.create_connection(fake.address, timeout=2) as conn:
        packet = mutated(rng, corpus)
        conn.sendall(struct.pack("!H", len(packet)) + packet)

    query = dns.message.make_query("example.com", "MX")
    for attempt in range(5):  # a full UDP buffer may drop a datagram; a live server answers one
        try:
            udp = dns.query.udp(query, fake.host, port=fake.port, timeout=0.5)
            break
        except dns.exception.Timeout:
            if attempt == 4:
                raise
    assert [r.to_text() for r in udp.answer[0]] == ["10 mx.example.net."]
    tcp = dns.query.tcp(query, fake.host, port=fake.port, timeout=2)
    assert [r.to_text() for r in tcp.answer[0]] == ["10 mx.example.net."]
