"""What the request journal costs: noting a request on the hot path, reading the journal back,
and the memory of a full journal whose requests carried large bodies.

    python bench/journal_cost.py [--notes 100000]

Noting keeps references (headers, parsed body, the clock's instant); redaction, cutting bodies
and writing instants happen when the journal is read. The "eager" figure is what noting would
cost if each entry were made presentable at once: the price the lazy journal avoids.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

from _common import figure, table

from sandbox import Sandbox
from sandbox.engine.clock import Clock
from sandbox.requestlog import MAX_ENTRIES, Filters, RequestLog, view

HEADERS = {
    "host": "127.0.0.1:8080",
    "user-agent": "monite-python/0.5",
    "accept": "application/json",
    "content-type": "application/json",
    "content-length": "34",
    "x-monite-version": "2024-05-25",
    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXJ0bmVyIn0.c2lnbmF0dXJl",
}


def entry(n: int, body=None) -> dict:
    return {
        "provider": "monite",
        "operation": "create_domain",
        "method": "POST",
        "path": "/monite/v1/mailbox_domains",
        "query": "",
        "headers": HEADERS,
        "body": {"domain": f"d{n}.example.com"} if body is None else body,
        "status": 201,
        "domain_id": "cdc2d4b3-9ff6-48ce-9ca0-31087ea7cdc5",
        "duration_ms": 0.4,
        "violations": [],
        "aborted": False,
    }


def per_note_us(notes: int, eager: bool) -> float:
    sandbox = Sandbox(seed=1, clock=Clock(start="2026-01-01T00:00:00Z", frozen=True))
    entries = [entry(n) for n in range(notes)]
    started = time.perf_counter()
    for one in entries:
        sandbox.note_request(one)
        if eager:
            view(one)
    return (time.perf_counter() - started) / notes * 1e6


def read_ms(journal: RequestLog) -> tuple[float, float]:
    started = time.perf_counter()
    journal.find()
    read = time.perf_counter() - started
    started = time.perf_counter()
    journal.count(Filters(operation="create_domain"))  # each entry tested
    return read * 1e3, (time.perf_counter() - started) * 1e3


def full_journal_mb(body_bytes: int, entries: int) -> float:
    """The memory a journal of `entries` holds when every request carried `body_bytes`."""
    tracemalloc.start()
    journal = RequestLog()
    clock = Clock(start="2026-01-01T00:00:00Z", frozen=True)
    for n in range(entries):
        journal.add(entry(n, b"x" * body_bytes) | {"at": clock.now()})
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=MAX_ENTRIES, help="a full journal's")
    opts = parser.parse_args(argv)
    lazy, eager = per_note_us(opts.notes, False), per_note_us(opts.notes, True)
    figure("journal", "note one request (journal + report)", lazy, "us")
    figure("journal", "note one request, made presentable at once", eager, "us")
    sandbox = Sandbox(seed=1, clock=Clock(start="2026-01-01T00:00:00Z", frozen=True))
    for n in range(opts.entries):
        sandbox.note_request(entry(n))
    read, count = read_ms(sandbox.requests)
    figure("journal", f"read all {opts.entries:,} entries", read, "ms")
    figure("journal", f"count {opts.entries:,} entries by operation", count, "ms")
    small, large = full_journal_mb(100, opts.entries), full_journal_mb(2**20, opts.entries)
    figure("journal", "full journal, 100-byte bodies", small, "MB")
    figure("journal", "full journal, 1 MiB bodies (each cut to 8 KiB)", large, "MB")
    print(f"Request journal, {opts.notes:,} notes; {opts.entries:,} entries read and weighed")
    table(
        [
            [
                round(lazy, 2),
                round(eager, 2),
                round(read, 1),
                round(count, 1),
                round(small),
                round(large),
            ]
        ],
        ["us/note", "us/note eager", "read ms", "count ms", "MB small", "MB 1MiB bodies"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
