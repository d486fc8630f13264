"""FakeDNS: the zone and fault rules served over UDP and TCP on one host and port."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import struct
import threading
import time

from dnslib import (
    CLASS,
    OPCODE,
    QTYPE,
    RCODE,
    DNSBuffer,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
)

from . import answer
from .clock import SystemClock, iso
from .faults import Faults
from .later import Later
from .limits import MAX_LABEL, MAX_NAME
from .querylog import DEFAULT_MAXLEN, QueryLog
from .zone import Zone

log = logging.getLogger("fake_dns")

# How often blocking socket calls wake up to notice stop(): bounds how long stop() takes.
POLL_INTERVAL = 0.2
# A TCP client must send each whole message within this many seconds, or is disconnected,
# so a silent or trickling client cannot hold a thread forever.
TCP_IDLE_TIMEOUT = 3.0
# Concurrent TCP connections served. A newcomer beyond them takes the place of the connection
# that has waited longest on its client, for a message or for the rest of one (RFC 7766, 6.2.3:
# a server may close idle connections when it needs the room); only when the server is busy
# answering on every one is it closed at once. So clients keeping connections open, or sending
# messages a byte at a time, cannot lock every other client out of DNS over TCP.
MAX_TCP_CONNECTIONS = 128
# Delayed UDP replies (a delay fault) waiting at once. A query beyond them is dropped, as a
# congested network loses packets: a burst of delayed queries costs a bounded heap, no thread.
MAX_DELAYED_REPLIES = 1024
# Attempts at finding a port free for both UDP and TCP when port 0 is asked for.
PORT_ATTEMPTS = 20
# Fault kinds answered with an error reply instead of the zone's answer.
_ERROR_FAULTS = ("servfail", "refused", "nxdomain")
# Question types that name no records, answered as BIND 9 answers them (9.11, measured): OPT,
# TKEY and TSIG FORMERR (and the reserved type 0 with them), MAILB and MAILA NOTIMP; a zone
# transfer (IXFR, AXFR) REFUSED, as BIND refuses a transfer its allow-transfer does not permit.
_QTYPE_ERRORS = {
    0: RCODE.FORMERR,
    41: RCODE.FORMERR,
    249: RCODE.FORMERR,
    250: RCODE.FORMERR,
    251: RCODE.REFUSED,
    252: RCODE.REFUSED,
    253: RCODE.NOTIMP,
    254: RCODE.NOTIMP,
}
# Opcodes whose FORMERR echoes the question, when it parsed (BIND 9.18, measured; an IQUERY's
# or a STATUS's FORMERR is a header alone).
_QUESTION_ECHOED = (OPCODE.QUERY, OPCODE.NOTIFY, OPCODE.UPDATE)


class FakeDNS:
    """A DNS server answering from ``zone`` (a Zone) and misbehaving per ``faults`` (Faults).

    Use as a context manager, or call start() and stop(). ``port=0`` picks a port that is free
    for both UDP and TCP; ``dns.port`` tells which one.

    Attributes: ``zone`` (records), ``faults`` (fault rules), ``queries`` (the query log),
    ``clock`` (decides visible_after and log times), ``host`` and ``port``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock=None,
        zone: Zone | None = None,
        faults: Faults | None = None,
        querylog_maxlen: int = DEFAULT_MAXLEN,
    ):
        self.host = host
        self.port = port
        self.clock = clock or (zone.clock if zone is not None else SystemClock())
        self.zone = zone if zone is not None else Zone(clock=self.clock)
        self.faults = faults if faults is not None else Faults()
        self.queries = QueryLog(querylog_maxlen)
        self._stop = threading.Event()
        self._started = False
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        # each open TCP connection: since when it has waited on its client, or None (answering)
        self._conns: dict[socket.socket, float | None] = {}
        self._conns_lock = threading.Lock()
        self._later = Later(MAX_DELAYED_REPLIES)  # delayed UDP replies, sent by one thread

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeDNS:
        """Bind UDP and TCP and serve in background threads; return self.

        Raises OSError (errno EADDRINUSE) when the port is taken, RuntimeError if called twice.
        """
        if self._started:
            state = "stopped (create a new FakeDNS)" if self._stop.is_set() else "started"
            raise RuntimeError(f"FakeDNS already {state}")
        self._udp, self._tcp, self.port = _bind_pair(self.host, self.port)
        self._started = True
        serve = ((self._serve_udp, "udp"), (self._serve_tcp, "tcp"), (self._later.run, "later"))
        for target, name in serve:
            thread = threading.Thread(target=target, name=f"fake-dns-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving: close the sockets and join the threads (well under a second)."""
        if not self._started or self._stop.is_set():
            return
        self._stop.set()
        self._later.close()
        self._wake_listeners()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)  # wakes a connection thread blocked in recv()
        for thread in self._threads:
            thread.join(timeout=2 * POLL_INTERVAL + 0.5)
        deadline = time.monotonic() + 2 * POLL_INTERVAL + 0.5
        while self._conns and time.monotonic() < deadline:  # each thread removes its own
            time.sleep(0.01)
        for sock in (self._udp, self._tcp):
            sock.close()

    def _wake_listeners(self) -> None:
        """Poke both sockets so their loops see the stop flag now, not at the next poll."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        family = self._udp.family
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"", (host, self.port))
        with contextlib.suppress(OSError):
            socket.create_connection((host, self.port), timeout=POLL_INTERVAL).close()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._started and not self._stop.is_set()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        return self.host, self.port

    def resolver(self, timeout: float = 2.0):
        """A dnspython Resolver that asks this server (handy in tests and the verifier)."""
        import dns.resolver

        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [self.host]
        res.port = self.port
        res.lifetime = res.timeout = timeout
        return res

    def __enter__(self) -> FakeDNS:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<FakeDNS {self.host}:{self.port} {state}, {len(self.zone)} records>"

    # -- UDP ---------------------------------------------------------------------------------

    def _serve_udp(self) -> None:
        sock = self._udp
        sock.settimeout(POLL_INTERVAL)
        while not self._stop.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                continue  # e.g. ICMP port unreachable reported on a previous send
            if self._stop.is_set():
                break
            self._udp_packet(data, addr)

    def _udp_packet(self, data: bytes, addr) -> None:
        """Answer one datagram now, or hand its reply to the delayed replies' thread."""
        try:
            delay, finish = self._prepare(data, "udp", addr)
            if not delay:
                self._udp_send(finish(), addr)
            elif not self._later.schedule(delay, lambda: self._udp_send(finish(), addr)):
                finish(dropped=True)  # too many replies waiting: this one is lost
        except Exception:  # never let one packet stop the loop
            log.exception("fake DNS: failed on a UDP packet from %s", addr)

    def _udp_send(self, data: bytes | None, addr) -> None:
        if data is None:
            return
        # OSError: the client went away, or the socket closed during stop()
        with contextlib.suppress(OSError):
            self._udp.sendto(data, addr)

    # -- TCP ---------------------------------------------------------------------------------

    def _serve_tcp(self) -> None:
        sock = self._tcp
        sock.settimeout(POLL_INTERVAL)
        while not self._stop.is_set():
            try:
                conn, addr = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                time.sleep(0.01)  # e.g. EMFILE: back off instead of spinning
                continue
            self._open_connection(conn, addr)

    def _open_connection(self, conn: socket.socket, addr) -> None:
        with self._conns_lock:
            if self._stop.is_set() or (
                len(self._conns) >= MAX_TCP_CONNECTIONS and not self._close_idlest()
            ):
                conn.close()
                return
            self._conns[conn] = None
        thread = threading.Thread(
            target=self._tcp_connection, args=(conn, addr), name="fake-dns-conn", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # no thread to be had now (a process limit): refuse this one
            log.warning("fake DNS: closed a TCP connection from %s: %s", addr, exc)
            with self._conns_lock:
                self._conns.pop(conn, None)
            conn.close()

    def _close_idlest(self) -> bool:
        """Close the connection that has waited longest on its client (its thread then lets go
        of it); False if none waits. Called with the connections' lock held."""
        idle = [(since, conn) for conn, since in self._conns.items() if since is not None]
        if not idle:
            return False
        _, idlest = min(idle, key=lambda pair: pair[0])
        self._conns.pop(idlest)
        _shutdown(idlest)  # wakes its thread in recv(): it ends as at the client's EOF
        return True

    def _mark(self, conn: socket.socket, idle: bool) -> None:
        with self._conns_lock:
            if conn in self._conns:
                self._conns[conn] = time.monotonic() if idle else None

    def _tcp_connection(self, conn: socket.socket, addr) -> None:
        """Serve length-prefixed queries on one connection until EOF, idle timeout or stop."""
        try:
            while not self._stop.is_set():
                deadline = time.monotonic() + TCP_IDLE_TIMEOUT
                self._mark(conn, idle=True)
                head = _recv_exact(conn, 2, deadline)
                if head is None:
                    break
                (length,) = struct.unpack("!H", head)
                # still idle while the rest comes: a message sent a byte at a time held its
                # place however many such connections shut everyone else out
                data = _recv_exact(conn, length, deadline) if length else None
                if data is None:
                    break
                self._mark(conn, idle=False)
                delay, finish = self._prepare(data, "tcp", addr)
                if delay and self._stop.wait(delay):
                    break
                reply = finish()
                if reply is not None:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass  # reset by the client, or shut down by stop()
        except Exception:
            log.exception("fake DNS: failed on a TCP connection from %s", addr)
        finally:
            with self._conns_lock:
                self._conns.pop(conn, None)
            conn.close()

    # -- one query ---------------------------------------------------------------------------

    def _prepare(self, data: bytes, transport: str, addr):
        """Decide what to do with one message: return (delay in seconds, finish).

        ``finish()`` builds the reply bytes (None: send nothing) and logs the query. It is
        separate so a delayed answer reflects the zone at the time it is sent. A delayed query
        that cannot wait is logged as dropped by ``finish(dropped=True)``.
        """
        entry = {
            "time": iso(self.clock.now()),
            "transport": transport,
            "client": _client(addr),
            "name": None,
            "type": None,
            "rcode": None,
            "answers": 0,
            "fault": None,
        }
        query = _parse(data)
        if query is None or query.header.qr or len(query.questions) != 1:
            # formerr() answers no response (QR set): two servers never bounce packets
            reply = answer.formerr(data, _parsed_question(data))
            return 0, lambda: self._finish_raw(entry, reply)
        name, qtype = answer.question_name(query), QTYPE[query.q.qtype]
        entry.update(name=name, type=qtype)
        fault = None
        if query.header.opcode == OPCODE.QUERY and CLASS.get(query.q.qclass) in ("IN", "*"):
            fault = self.faults.take(name, qtype, transport)
        entry["fault"] = fault["kind"] if fault else None
        if fault and fault["kind"] == "drop":
            return 0, lambda: self._finish_raw(entry, None)
        delay = fault["delay_ms"] / 1000 if fault and fault["kind"] == "delay" else 0

        def finish(dropped: bool = False) -> bytes | None:
            if dropped:
                return self._finish_raw(entry, None)
            return self._finish(entry, data, query, name, qtype, fault, transport)

        return delay, finish

    def _finish_raw(self, entry: dict, reply: bytes | None) -> bytes | None:
        entry["rcode"] = "FORMERR" if reply is not None else None
        self.queries.append(entry)
        return reply

    def _finish(self, entry, data, query, name, qtype, fault, transport) -> bytes | None:
        try:
            reply = self._reply(query, name, qtype, fault)
            if transport == "udp" and fault and fault["kind"] == "truncate":
                reply = answer.truncated(reply)
            limit = answer.udp_limit(query) if transport == "udp" else answer.TCP_MAX_SIZE
            wire = answer.pack(reply, limit)
            entry.update(rcode=answer.rcode_name(reply), answers=len(reply.rr))
        except Exception:  # a bug or an unencodable name: answer SERVFAIL, keep serving
            log.exception("fake DNS: failed answering %s %s", name, qtype)
            wire = answer.raw_error(data, RCODE.SERVFAIL)
            entry.update(rcode="SERVFAIL", answers=0)
        self.queries.append(entry)
        return wire

    def _reply(self, query: DNSRecord, name: str, qtype: str, fault) -> DNSRecord:
        edns_error = answer.edns_error(query)
        if edns_error is not None:
            return edns_error
        if query.header.opcode != OPCODE.QUERY:
            return answer.new_reply(query, rcode=RCODE.NOTIMP, aa=False)
        if CLASS.get(query.q.qclass) not in ("IN", "*"):
            return answer.new_reply(query, rcode=RCODE.REFUSED, aa=False)
        if query.q.qtype in _QTYPE_ERRORS:
            return answer.new_reply(query, rcode=_QTYPE_ERRORS[query.q.qtype], aa=False)
        if fault and fault["kind"] in _ERROR_FAULTS:
            return answer.forced(query, fault["kind"], name)
        return answer.answer_from_zone(query, self.zone, name, qtype)


def _parse(data: bytes) -> DNSRecord | None:
    """Parse a message; None when it is malformed in any way."""
    try:
        record = DNSRecord.parse(data)
    except Exception:  # dnslib raises several types on garbage; all mean "malformed"
        return None
    if not all(_writable(question.qname) for question in record.questions) or _bad_opt(record):
        return None
    return record


def _bad_opt(record: DNSRecord) -> bool:
    """An OPT record makes the message malformed (FORMERR, as BIND 9 answers) unless it is the
    only one, in the additional section (RFC 6891 6.1.1), owned by the root (6.1.2)."""
    outside = [rr for rr in record.rr + record.auth if rr.rtype == QTYPE.OPT]
    opts = answer.opt_records(record)
    return bool(outside) or len(opts) > 1 or any(opt.rname.label for opt in opts)


def _parsed_question(data: bytes) -> DNSQuestion | None:
    """The one question of a message that failed to parse further on (a record cut short):
    its FORMERR echoes it, as BIND 9's does. None when the header declares no single question
    or that question does not parse either."""
    try:
        buffer = DNSBuffer(data)
        header = DNSHeader.parse(buffer)
        if header.q != 1 or header.opcode not in _QUESTION_ECHOED:
            return None
        question = DNSQuestion.parse(buffer)
    except Exception:  # garbage: a header-only FORMERR, or nothing
        return None
    return question if _writable(question.qname) else None


def _writable(name: DNSLabel) -> bool:
    """dnslib reads names and labels of any length but cannot write them back into the
    reply's question (found by fuzzing): such names are malformed anyway (RFC 1035: 63, 255
    octets)."""
    return len(name) <= MAX_NAME and all(len(label) <= MAX_LABEL for label in name.label)


def _client(addr) -> str:
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _recv_exact(conn: socket.socket, size: int, deadline: float) -> bytes | None:
    """Read exactly ``size`` bytes before ``deadline``; None on EOF or timeout."""
    chunks, got = [], 0
    while got < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        conn.settimeout(remaining)
        try:
            chunk = conn.recv(size - got)
        except TimeoutError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket, int]:
    """Bind UDP then TCP on the same port; with port 0 retry until a port is free for both."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    attempts = PORT_ATTEMPTS if port == 0 else 1
    for attempt in range(attempts):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            udp.bind((host, port))
        except OSError as exc:
            udp.close()
            raise _cannot_listen(exc, "UDP", host, port) from None
        actual = udp.getsockname()[1]
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # rebind right after a stop
        try:
            tcp.bind((host, actual))
            tcp.listen(128)
        except OSError as exc:
            tcp.close()
            udp.close()
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise _cannot_listen(exc, "TCP", host, actual) from None
            continue
        return udp, tcp, actual
    raise OSError(errno.EADDRINUSE, f"no port free for both UDP and TCP on {host}")


def _cannot_listen(error: OSError, transport: str, host: str, port: int) -> OSError:
    """`error` (its type and errno kept) naming what could not listen where."""
    said = f"fake DNS cannot listen on {transport} {host}:{port}: {error.strerror or error}"
    return type(error)(error.errno, said)
