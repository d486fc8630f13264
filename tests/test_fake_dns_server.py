"""The fake DNS server as a network service: lifecycle, query log, dig, TCP, concurrency, fuzz."""

from __future__ import annotations

import contextlib
import errno
import logging
import random
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

import fake_dns.server
from fake_dns import FakeDNS
from tests.fake_dns_helpers import answer_texts, ask, dig, fresh, rcode, txt_values

from .helpers import wait_for


@pytest.fixture
def fake(dns_server):
    """The module's server with example.com published, no faults and an empty query log."""
    return fresh(
        dns_server,
        ("example.com", "MX", "10 mxa.eu.mailgun.org"),
        ("example.com", "TXT", "v=spf1 include:mailgun.org ~all"),
        ("sel._domainkey.example.com", "TXT", "v=DKIM1; p=abc"),
    )


def _wire_query(name: str = "example.com", rtype: str = "MX", qid: int = 0x1234) -> bytes:
    query = dns.message.make_query(name, rtype)
    query.id = qid
    return query.to_wire()


def _tcp_reply(sock: socket.socket) -> dns.message.Message:
    """The next length-prefixed reply on a TCP connection."""
    return dns.query.receive_tcp(sock, time.time() + 5)[0]


# -- lifecycle -----------------------------------------------------------------------------


def test_one_port_serves_both_udp_and_tcp(fake):
    assert fake.port > 0
    assert answer_texts(ask(fake, "example.com", "MX"), "MX") == ["10 mxa.eu.mailgun.org."]
    assert answer_texts(ask(fake, "example.com", "MX", tcp=True), "MX") == [
        "10 mxa.eu.mailgun.org."
    ]


def test_start_twice_is_an_error_and_stop_is_quick_and_idempotent():
    server = FakeDNS().start()
    try:
        with pytest.raises(RuntimeError):
            server.start()
        server.faults.add("*", "delay", delay_ms=5000)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(_wire_query(), server.address)  # a reply pending for 5 s
        idle = socket.create_connection(server.address)  # a silent TCP client
        time.sleep(0.05)
    finally:
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
    server.stop()
    assert server.port > 0 and not server.running
    udp.close()
    idle.close()


def test_busy_port_raises_address_in_use(fake):
    with pytest.raises(OSError) as info:
        FakeDNS(port=fake.port).start()
    assert info.value.errno == errno.EADDRINUSE
    assert f"fake DNS cannot listen on UDP 127.0.0.1:{fake.port}: " in str(info.value)


def test_port_freed_by_stop_can_be_bound_again():
    first = FakeDNS().start()
    port = first.port
    first.stop()
    with FakeDNS(port=port) as second:
        assert second.port == port


# -- query log -----------------------------------------------------------------------------


def test_query_log_records_each_query(fake):
    ask(fake, "Example.com", "MX")
    ask(fake, "missing.example.com", "TXT", tcp=True)
    first, second = fake.queries
    assert first["transport"] == "udp" and second["transport"] == "tcp"
    assert first["name"] == "example.com" and first["type"] == "MX"
    assert first["rcode"] == "NOERROR" and first["answers"] == 1 and first["fault"] is None
    assert second["rcode"] == "NXDOMAIN" and second["answers"] == 0
    assert first["client"].startswith("127.0.0.1:")
    assert first["time"].endswith("Z")
    assert len(fake.queries) == 2
    assert fake.queries.find(name="missing.example.com", transport="tcp") == [second]
    fake.queries.clear()
    assert len(fake.queries) == 0 and list(fake.queries) == []


def test_query_log_is_bounded():
    with FakeDNS(querylog_maxlen=3) as server:
        for i in range(5):
            ask(server, f"n{i}.example.com", "A")
        assert [q["name"] for q in server.queries] == [f"n{i}.example.com" for i in (2, 3, 4)]


# -- dig -----------------------------------------------------------------------------------


def test_dig_reads_txt_and_mx(fake):
    assert '"v=DKIM1; p=abc"' in dig(fake, "+short", "sel._domainkey.example.com", "TXT")
    assert dig(fake, "+short", "example.com", "MX").strip() == "10 mxa.eu.mailgun.org."


def test_dig_tells_nxdomain_from_nodata(fake):
    nxdomain = dig(fake, "missing.example.com", "TXT")
    nodata = dig(fake, "_domainkey.example.com", "TXT")
    assert "status: NXDOMAIN" in nxdomain and "flags: qr aa" in nxdomain
    assert "status: NOERROR" in nodata and "ANSWER: 0" in nodata
    for out in (nxdomain, nodata):
        assert "AUTHORITY SECTION" in out and "SOA" in out


# -- TCP framing ---------------------------------------------------------------------------


def test_tcp_serves_several_queries_on_one_connection(fake):
    with socket.create_connection(fake.address, timeout=2) as sock:
        queries = [_wire_query(qid=i) for i in (1, 2, 3)]
        sock.sendall(b"".join(struct.pack("!H", len(q)) + q for q in queries))
        replies = [_tcp_reply(sock) for _ in queries]
    assert [r.id for r in replies] == [1, 2, 3]
    assert all(rcode(r) == "NOERROR" for r in replies)


def test_tcp_handles_messages_arriving_in_pieces(fake):
    wire = _wire_query(qid=77)
    message = struct.pack("!H", len(wire)) + wire
    with socket.create_connection(fake.address, timeout=2) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (message[:1], message[1:5], message[5:]):
            sock.sendall(piece)
            time.sleep(0.05)
        assert _tcp_reply(sock).id == 77


def test_silent_tcp_client_is_disconnected_after_idle_timeout(fake, monkeypatch):
    monkeypatch.setattr(fake_dns.server, "TCP_IDLE_TIMEOUT", 0.3)
    with socket.create_connection(fake.address, timeout=5) as sock:
        assert sock.recv(10) == b""  # closed by the server (a hang would raise a timeout)


def held_tcp(fake, count: int, monkeypatch) -> list[socket.socket]:
    """`count` TCP connections the server has taken in, each idle (waiting for a message).
    They stay open however long a loaded machine takes to see them all idle: the server closes
    one idle for TCP_IDLE_TIMEOUT (3 s), and the count never came back up."""
    monkeypatch.setattr(fake_dns.server, "TCP_IDLE_TIMEOUT", 60.0)
    held = [socket.create_connection(fake.address, timeout=5) for _ in range(count)]
    wait_for(lambda: len(fake._conns) == count and None not in fake._conns.values())
    return held


def tcp_query(sock: socket.socket, name: str) -> str:
    """Ask over an open TCP connection; the answer's rcode."""
    wire = dns.message.make_query(name, "MX").to_wire()
    sock.sendall(struct.pack("!H", len(wire)) + wire)
    (length,) = struct.unpack("!H", sock.recv(2))
    return dns.rcode.to_text(dns.message.from_wire(sock.recv(length)).rcode())


def test_a_tcp_connection_beyond_the_cap_takes_the_place_of_the_one_idle_longest(fake, monkeypatch):
    monkeypatch.setattr(fake_dns.server, "MAX_TCP_CONNECTIONS", 2)
    held = held_tcp(fake, 2, monkeypatch)
    try:
        with socket.create_connection(fake.address, timeout=5) as extra:
            assert tcp_query(extra, "example.com") == "NOERROR"
        assert held[0].recv(10) == b""  # idle longest: closed to make room
        assert tcp_query(held[1], "example.com") == "NOERROR"
    finally:
        for sock in held:
            sock.close()


def test_many_kept_alive_tcp_connections_do_not_lock_out_a_new_tcp_query(fake, monkeypatch):
    held = held_tcp(fake, fake_dns.server.MAX_TCP_CONNECTIONS, monkeypatch)
    try:
        for sock in held:  # every one busy a moment ago: kept alive, as a client keeps them
            assert tcp_query(sock, "example.com") == "NOERROR"
        assert rcode(ask(fake, "example.com", "MX", tcp=True)) == "NOERROR"
    finally:
        for sock in held:
            sock.close()


def test_connections_stalled_mid_message_do_not_lock_out_a_new_tcp_query(fake, monkeypatch):
    """Each sent a length and one byte of its message, and then nothing: counted busy, they
    were never closed to make room, and every newcomer was closed at once."""
    monkeypatch.setattr(fake_dns.server, "MAX_TCP_CONNECTIONS", 2)
    held = held_tcp(fake, 2, monkeypatch)
    try:
        for sock in held:
            sock.sendall(b"\x00\x28\x00")  # 40 bytes promised, one sent
        with socket.create_connection(fake.address, timeout=5) as extra:
            assert tcp_query(extra, "example.com") == "NOERROR"
        assert held[0].recv(10) == b""  # waited longest on its client: closed to make room
    finally:
        for sock in held:
            sock.close()


def test_tcp_connections_beyond_the_cap_are_closed_when_none_is_idle(fake, monkeypatch):
    monkeypatch.setattr(fake_dns.server, "MAX_TCP_CONNECTIONS", 2)
    fake.faults.add("slow.example.com", "delay", delay_ms=10_000)
    held = held_tcp(fake, 2, monkeypatch)
    try:
        for sock in held:  # each waits for a delayed answer: busy, not idle
            wire = dns.message.make_query("slow.example.com", "MX").to_wire()
            sock.sendall(struct.pack("!H", len(wire)) + wire)
        wait_for(lambda: None not in fake._conns and set(fake._conns.values()) == {None})
        with socket.create_connection(fake.address, timeout=5) as extra:
            assert extra.recv(10) == b""
    finally:
        fake.faults.clear()
        for sock in held:
            sock.close()


# -- concurrency ---------------------------------------------------------------------------


def test_answers_stay_consistent_while_records_change(fake):
    versions = [["v1 first", "v1 second"], ["v2 first", "v2 second", "v2 third"]]
    allowed = [sorted(v) for v in versions]
    fake.zone.set("spf.example.com", "TXT", versions[0])
    stop = threading.Event()
    errors: list[str] = []
    counts = {"answers": 0}

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            fake.zone.set("spf.example.com", "TXT", versions[i % 2])
            fake.zone.add(f"churn{i % 50}.example.com", "A", "192.0.2.1")
            fake.zone.remove(f"churn{(i + 25) % 50}.example.com")

    def reader(use_tcp: bool):
        while not stop.is_set():
            try:
                response = ask(fake, "spf.example.com", "TXT", tcp=use_tcp)
                values = txt_values(response)
                if values not in allowed:
                    errors.append(f"inconsistent answer {values}")
                counts["answers"] += 1
            except Exception as exc:  # collected, then asserted empty
                errors.append(repr(exc))

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader, args=(i % 2 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:  # enough answers read while the zone churned
        wait_for(lambda: counts["answers"] >= 400 or errors, seconds=30)
    finally:
        stop.set()
    for thread in threads:
        thread.join(timeout=5)
    assert errors == []
    assert counts["answers"] > 50


# -- malformed input -----------------------------------------------------------------------


def _udp_exchange(server, payload: bytes, timeout: float = 1.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, server.address)
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def test_unparsable_query_gets_formerr_echoing_its_id(fake):
    wire = _wire_query(qid=0xBEEF)
    reply = _udp_exchange(fake, wire[:15])  # header intact, question cut short
    assert reply is not None
    message = dns.message.from_wire(reply)
    assert message.id == 0xBEEF and dns.rcode.to_text(message.rcode()) == "FORMERR"
    assert not message.question  # none parsed, none echoed
    assert fake.queries[-1]["rcode"] == "FORMERR"


def test_packet_shorter_than_a_header_is_dropped(fake):
    assert _udp_exchange(fake, b"\x12\x34\x00", timeout=0.2) is None
    assert rcode(ask(fake, "example.com", "MX")) == "NOERROR"


def test_compression_pointer_loop_is_formerr(fake):
    header = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    looping = header + b"\xc0\x0c" + b"\x00\x01\x00\x01"  # the name points at itself
    reply = dns.message.from_wire(_udp_exchange(fake, looping))
    assert reply.id == 0x4242 and dns.rcode.to_text(reply.rcode()) == "FORMERR"


def _exchange(server, wire: bytes, tcp: bool) -> dns.message.Message:
    """Send raw ``wire`` over UDP or TCP; the reply as dnspython reads it."""
    if not tcp:
        return dns.message.from_wire(_udp_exchange(server, wire))
    with socket.create_connection(server.address, timeout=2) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        return _tcp_reply(sock)


def _with_records(
    question_wire: bytes, answer=(), authority=(), additional=(), qid: int = 0x5151
) -> bytes:
    """A query of ``question_wire``'s question with these records in its sections."""
    counts = (len(answer), len(authority), len(additional))
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, *counts)
    return header + question_wire[12:] + b"".join((*answer, *authority, *additional))


def test_a_record_cut_short_after_the_question_is_formerr_echoing_the_question(fake, tcp):
    """The additional section declares a record that is cut short: BIND 9 answers FORMERR
    with the question echoed (RFC 1035 4.1: the counts say what follows)."""
    wire = _with_records(_wire_query(), additional=[b"\x00\x00\x29"])  # root, then half a type
    reply = _exchange(fake, wire, tcp)
    assert reply.id == 0x5151 and dns.rcode.to_text(reply.rcode()) == "FORMERR"
    assert [q.to_text() for q in reply.question] == ["example.com. IN MX"]
    assert not reply.answer and not reply.authority and reply.edns == -1


# the last: an OPT record (root, type 41, a 1232-byte payload) that the header does not count
@pytest.mark.parametrize(
    "junk", [b"\x00", b"junk after the question", b"\x00\x00\x29\x04\xd0" + bytes(6)]
)
def test_bytes_after_the_sections_the_header_declares_are_ignored_as_bind_answers(fake, tcp, junk):
    """BIND 9 (9.18.49, asked with these packets) answers such a query as if the bytes were
    absent, only logging "message has N byte(s) of trailing garbage": no FORMERR. An OPT the
    counts do not declare is such bytes too, read by neither (the reply has no OPT)."""
    reply = _exchange(fake, _wire_query(qid=0x5151) + junk, tcp)
    assert reply.id == 0x5151 and dns.rcode.to_text(reply.rcode()) == "NOERROR"
    assert answer_texts(reply, "MX") == ["10 mxa.eu.mailgun.org."] and reply.edns == -1


def _mutations(rng: random.Random, count: int) -> list[bytes]:
    """Random bytes and damaged copies of a valid query."""
    base = _wire_query("sel._domainkey.example.com", "TXT")
    header = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    fixed = [
        header + b"\xc0\x0c\x00\x10\x00\x01",  # self-pointing name
        header + b"\x03abc\xc0\x0c\x00\x10\x00\x01",  # pointer back into the header
        struct.pack("!HHHHHH", 8, 0x0100, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF) + base[12:],
        struct.pack("!HHHHHH", 9, 0x0100, 0, 0, 0, 0),  # no question at all
        header + b"\x07exampl.\x03com\x00\x00\x10\x00\x01",  # a dot inside a label
        header + b"\x04caf\xc3\xa9\x00\x00\x10\x00\x01",  # a non-ASCII label
        base[:12] + b"\x3f" + b"a" * 63 + b"\xff" * 20,  # label running off the end
    ]
    packets = list(fixed)
    while len(packets) < count:
        choice = rng.random()
        data = bytearray(base)
        if choice < 0.2:
            packets.append(rng.randbytes(rng.randint(0, 600)))
            continue
        if choice < 0.6:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.8:
            data = data[: rng.randrange(len(data))]
        else:
            data[4:12] = struct.pack("!HHHH", *(rng.choice([0, 1, 2, 0xFFFF]) for _ in range(4)))
        packets.append(bytes(data))
    return packets


def _wait_until_drained(server, quiet: float = 0.3, limit: float = 10.0) -> None:
    """Wait until the query log stops growing, i.e. the server has worked through its backlog."""
    deadline = time.monotonic() + limit
    seen = -1
    while len(server.queries) != seen and time.monotonic() < deadline:
        seen = len(server.queries)
        time.sleep(quiet)


def test_fuzzed_packets_never_crash_the_server(fake, caplog):
    caplog.set_level(logging.ERROR, logger="fake_dns")
    rng = random.Random(1234)
    packets = _mutations(rng, 5000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for i, packet in enumerate(packets):
            sock.sendto(packet, fake.address)
            if i % 50 == 0:
                time.sleep(0.002)  # let the server keep up instead of overflowing its buffer
    for start in range(0, 300, 30):
        # The server hangs up on an empty message; whether that reaches us before the rest of
        # the batch is sent depends on timing, so a reset only ends the batch.
        with (
            socket.create_connection(fake.address, timeout=2) as conn,
            contextlib.suppress(ConnectionResetError, BrokenPipeError),
        ):
            for packet in packets[start : start + 30]:
                conn.sendall(struct.pack("!H", len(packet)) + packet)
            conn.sendall(b"\xff\xff" + b"\x00" * 10)  # a length it will never get
    _wait_until_drained(fake)  # a full UDP buffer drops new datagrams, ours included
    assert answer_texts(ask(fake, "example.com", "MX"), "MX") == ["10 mxa.eu.mailgun.org."]
    assert rcode(ask(fake, "example.com", "MX", tcp=True)) == "NOERROR"
    assert any(q["rcode"] == "FORMERR" for q in fake.queries)
    assert [r.getMessage() for r in caplog.records if r.name == "fake_dns"] == []


# -- what is not a query -------------------------------------------------------------------


def _response_wire(qid: int) -> bytes:
    """A well-formed response (QR set) with one question, as another server would send."""
    response = dns.message.make_response(dns.message.make_query("example.com", "MX"))
    response.id = qid
    return response.to_wire()


def test_a_response_is_dropped_over_udp_so_two_servers_cannot_bounce_packets(fake):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(_response_wire(qid=1), fake.address)
        sock.sendto(_wire_query(qid=2), fake.address)
        first = dns.message.from_wire(sock.recv(65535))
    assert first.id == 2  # the response got nothing back; the query after it its answer


def test_a_response_is_dropped_over_tcp(fake):
    with socket.create_connection(fake.address, timeout=2) as sock:
        for wire in (_response_wire(qid=1), _wire_query(qid=2)):
            sock.sendall(struct.pack("!H", len(wire)) + wire)
        assert _tcp_reply(sock).id == 2


# -- delayed replies -----------------------------------------------------------------------


def _send_queries(server, count: int, name: str = "example.com") -> socket.socket:
    """`count` queries sent over UDP from one socket (returned, open), paced so none is lost."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        sock.sendto(_wire_query(name, qid=i), server.address)
        if i % 20 == 0:
            time.sleep(0.002)
    return sock


def test_a_burst_of_delayed_queries_starts_no_thread_per_query():
    with FakeDNS() as server:
        server.zone.add("example.com", "MX", "10 mx.example.net")
        threads_before = threading.active_count()
        server.faults.add("example.com", "delay", delay_ms=30_000, count=300)
        with _send_queries(server, 300):
            wait_for(lambda: len(server.faults) == 0)  # every query read and waiting
            assert threading.active_count() <= threads_before


def test_delayed_queries_beyond_the_cap_are_dropped_as_a_lossy_network_would(monkeypatch):
    monkeypatch.setattr(fake_dns.server, "MAX_DELAYED_REPLIES", 5)
    with FakeDNS() as server:
        server.zone.add("example.com", "MX", "10 mx.example.net")
        server.faults.add("example.com", "delay", delay_ms=30_000, count=8)
        with _send_queries(server, 8):
            wait_for(lambda: len(server.faults) == 0)  # all 8 read: 5 wait, 3 are lost
            wait_for(lambda: len(server.queries) == 3)
        assert [(q["fault"], q["rcode"]) for q in server.queries] == [("delay", None)] * 3


def test_no_thread_to_be_had_never_stops_the_listeners(monkeypatch):
    with FakeDNS() as server:
        server.zone.add("example.com", "MX", "10 mx.example.net")
        server.faults.add("example.com", "delay", delay_ms=10, count=1)

        def no_thread(self):
            raise RuntimeError("can't start new thread")

        with monkeypatch.context() as patch:
            patch.setattr(threading.Thread, "start", no_thread)
            with _send_queries(server, 1):
                wait_for(lambda: len(server.faults) == 0)  # the delayed query was read
            with socket.create_connection(server.address, timeout=2) as refused:
                assert refused.recv(10) == b""  # closed: no thread could serve it
        assert rcode(ask(server, "example.com", "MX")) == "NOERROR"
        assert rcode(ask(server, "example.com", "MX", tcp=True)) == "NOERROR"


# -- EDNS and the types that name no records -----------------------------------------------


def test_an_edns_version_above_0_gets_badvers_and_our_version(fake, tcp):
    query = dns.message.make_query("example.com", "MX", use_edns=1)
    send = dns.query.tcp if tcp else dns.query.udp
    response = send(query, fake.host, port=fake.port, timeout=2)
    assert response.rcode() == dns.rcode.BADVERS and response.edns == 0  # RFC 6891 6.1.3
    assert not response.answer
    assert fake.queries[-1]["rcode"] == "BADVERS"


def _opt(owner: bytes = b"\x00") -> bytes:
    """An OPT record (a 1232-byte payload, EDNS 0, no options) owned by ``owner`` (wire)."""
    return owner + struct.pack("!HHIH", 41, 1232, 0, 0)


@pytest.mark.parametrize(
    "sections",
    [
        {"additional": [_opt(), _opt()]},  # RFC 6891 6.1.1: one at most
        {"additional": [_opt(b"\x03foo\x00")]},  # 6.1.2: owned by the root
        {"answer": [_opt()]},  # 6.1.1: in the additional section
        {"authority": [_opt()]},
    ],
    ids=["two", "not-the-root-s", "in-the-answer", "in-the-authority"],
)
def test_a_query_with_a_misplaced_opt_record_is_formerr_as_bind_answers(fake, tcp, sections):
    reply = _exchange(fake, _with_records(_wire_query(), **sections), tcp)
    assert reply.id == 0x5151 and dns.rcode.to_text(reply.rcode()) == "FORMERR"
    assert [q.to_text() for q in reply.question] == ["example.com. IN MX"]
    assert not reply.answer and reply.edns == -1  # BIND 9: no OPT, none having been accepted


def test_the_do_bit_is_copied_into_the_reply(fake, tcp):
    query = dns.message.make_query("example.com", "MX", want_dnssec=True)
    send = dns.query.tcp if tcp else dns.query.udp
    assert send(query, fake.host, port=fake.port, timeout=2).ednsflags & dns.flags.DO
    plain = dns.message.make_query("example.com", "MX", use_edns=0)
    assert not send(plain, fake.host, port=fake.port, timeout=2).ednsflags & dns.flags.DO


@pytest.mark.parametrize(
    ("qtype", "expected"),
    [
        (0, "FORMERR"),
        (41, "FORMERR"),  # OPT
        (253, "NOTIMP"),  # MAILB
        (254, "NOTIMP"),  # MAILA
        (251, "REFUSED"),  # IXFR
        (252, "REFUSED"),  # AXFR
    ],
)
def test_types_that_name_no_records_get_bind_s_error(fake, tcp, qtype, expected):
    header = struct.pack("!HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
    wire = header + b"\x07example\x03com\x00" + struct.pack("!HH", qtype, 1)
    if tcp:
        with socket.create_connection(fake.address, timeout=2) as sock:
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            reply = _tcp_reply(sock)
    else:
        reply = dns.message.from_wire(_udp_exchange(fake, wire))
    assert reply.id == 0x5151 and dns.rcode.to_text(reply.rcode()) == expected
    assert not reply.answer and not reply.authority


def test_a_record_set_has_one_ttl_the_one_last_added(fake):
    """Two MX records added with TTLs 300 and 60 were answered as one set of two TTLs, which no
    real zone serves (RFC 2181 5.2); an UPDATE gives the whole set the new one (RFC 2136)."""
    fake.zone.add("ttl.example.com", "MX", "10 mxa.eu.mailgun.org")
    fake.zone.add("ttl.example.com", "TXT", "v=spf1 -all", ttl=3600)
    fake.zone.add("ttl.example.com", "MX", "10 mxb.eu.mailgun.org", ttl=60)
    for tcp in (False, True):
        [mx] = ask(fake, "ttl.example.com", "MX", tcp=tcp).answer
        assert (len(mx), mx.ttl) == (2, 60)
    here = [r for r in fake.zone.records() if r["name"] == "ttl.example.com"]
    records = {(r["type"], r["value"]): r["ttl"] for r in here}
    assert records == {
        ("MX", "10 mxa.eu.mailgun.org"): 60,
        ("MX", "10 mxb.eu.mailgun.org"): 60,
        ("TXT", "v=spf1 -all"): 3600,  # another set at the name keeps its own
    }
