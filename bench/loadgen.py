"""A small closed-loop HTTP/1.1 load generator, used when wrk is not available.

    python bench/loadgen.py URL [--method GET] [--header "K: V"]... [--body JSON]
                            [--concurrency 8] [--duration 2]

Each of `--concurrency` keep-alive connections sends a request, reads the whole answer, and
repeats until `--duration` is up. `{n}` in the body is replaced by a token unique in the run.
Prints one JSON object: rps, p50_ms, p99_ms, requests, errors (non-2xx answers and failures).
It runs in its own process so that it does not share the server's interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from urllib.parse import urlsplit

# Seconds one request may take before it counts as an error.
REQUEST_TIMEOUT = 10.0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5))) - 1]


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status code."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(opts, head: bytes, counter, deadline: float, out: dict) -> None:
    url = urlsplit(opts.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port or 80)
    try:
        while time.monotonic() < deadline:
            body = None
            if opts.body is not None:
                body = opts.body.replace("{n}", f"g{os.getpid()}n{next(counter)}").encode()
            request = head + (b"Content-Length: %d\r\n\r\n" % len(body) + body if body else b"\r\n")
            started = time.perf_counter()
            try:
                writer.write(request)
                status = await asyncio.wait_for(_read_answer(reader), REQUEST_TIMEOUT)
            except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                out["errors"] += 1
                return
            out["latencies"].append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 400:
                out["errors"] += 1
    finally:
        writer.close()


async def run(opts) -> dict:
    url = urlsplit(opts.url)
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    lines = [f"{opts.method} {target} HTTP/1.1", f"Host: {url.netloc}"] + opts.header
    head = ("\r\n".join(lines) + "\r\n").encode()
    out = {"latencies": [], "errors": 0}
    started = time.monotonic()
    deadline = started + opts.duration
    counter = itertools.count()
    await asyncio.gather(
        *(_connection(opts, head, counter, deadline, out) for _ in range(opts.concurrency)),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - started
    latencies = out["latencies"]
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "requests": len(latencies),
        "errors": out["errors"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--body")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=2.0)
    opts = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(opts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
