"""Queries per second of fake_dns against a minimal dnslib server, on loopback.

    python bench/dns_qps.py [--duration 3] [--clients 4]

Each client is a separate process (so clients do not share the servers' GIL) with its own
socket, asking one TXT question in a closed loop (send, wait for the reply, repeat) for
``--duration`` seconds. UDP uses one socket per client; TCP opens a connection per query,
because dnslib's server answers one query per connection. Both servers run in this process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import struct
import sys
import time
from pathlib import Path

from dnslib import QTYPE, RR, TXT, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fake_dns import FakeDNS  # noqa: E402

NAME = "bench.example.com"
VALUE = "v=spf1 include:mailgun.org ~all"
# Seconds a client waits for one reply before counting it as lost.
REPLY_TIMEOUT = 1.0


class FixedTXT(BaseResolver):
    """The baseline: answers every question with one fixed TXT record."""

    def resolve(self, request, handler):
        reply = request.reply()
        reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=300, rdata=TXT(VALUE)))
        return reply


def client(transport: str, port: int, duration: float, results) -> None:
    """Ask the TXT question until ``duration`` is up; report (answered, lost)."""
    wire = DNSRecord.question(NAME, "TXT").pack()
    answered = lost = 0
    deadline = time.monotonic() + duration
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(REPLY_TIMEOUT)
    while time.monotonic() < deadline:
        try:
            if transport == "udp":
                udp.sendto(wire, ("127.0.0.1", port))
                udp.recv(4096)
            else:
                _tcp_query(wire, port)
            answered += 1
        except OSError:
            lost += 1
    udp.close()
    results.put((answered, lost))


def _tcp_query(wire: bytes, port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT) as sock:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        (length,) = struct.unpack("!H", _recv(sock, 2))
        _recv(sock, length)


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data


def measure(transport: str, port: int, duration: float, clients: int) -> tuple[float, int]:
    """Run ``clients`` client processes at once; return (queries per second, lost)."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=client, args=(transport, port, duration, results))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    totals = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    return sum(a for a, _ in totals) / duration, sum(lost for _, lost in totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    opts = parser.parse_args(argv)

    fake = FakeDNS().start()
    fake.zone.add(NAME, "TXT", VALUE)
    quiet = DNSLogger(logf=lambda *_: None)
    base_udp = DNSServer(FixedTXT(), address="127.0.0.1", port=0, logger=quiet)
    base_tcp = DNSServer(FixedTXT(), address="127.0.0.1", port=0, tcp=True, logger=quiet)
    for server in (base_udp, base_tcp):
        server.start_thread()
    ports = {
        "udp": (fake.port, base_udp.server.server_address[1]),
        "tcp": (fake.port, base_tcp.server.server_address[1]),
    }
    rows = []
    try:
        for transport, (fake_port, base_port) in ports.items():
            ours, ours_lost = measure(transport, fake_port, opts.duration, opts.clients)
            base, base_lost = measure(transport, base_port, opts.duration, opts.clients)
            rows.append((transport, ours, base, ours_lost, base_lost))
    finally:
        fake.stop()
        base_udp.stop()
        base_tcp.stop()

    print(f"TXT lookups, {opts.clients} client processes, {opts.duration:g} s each, loopback")
    print(f"{'transport':<14}{'fake_dns q/s':>14}{'dnslib q/s':>12}{'ratio':>8}{'lost':>10}")
    for transport, ours, base, ours_lost, base_lost in rows:
        ratio = ours / base if base else float("nan")
        label = transport + ("" if transport == "udp" else " (1/conn)")
        lost = f"{ours_lost}/{base_lost}"
        print(f"{label:<14}{ours:>14,.0f}{base:>12,.0f}{ratio:>8.2f}{lost:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
