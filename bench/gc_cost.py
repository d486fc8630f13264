"""The cyclic garbage collector's cost as the store grows: creates through the served app,
in-process (no sockets), with Python's default thresholds and with those `serve` sets.

    python bench/gc_cost.py [--creates 20000]

Each setting runs in a fresh interpreter (gc.freeze cannot be undone). Prints creates/s, the
time the collector took per create, its longest pause and the p99 of one create.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time

from _common import ROOT, figure, percentile, table

SETTINGS = ("default", "serving")
# The serving thresholds' target: no pause that shows in a create's p99 (bench/prism_compare.py
# asks create p99 <= 35 ms at 8 connections).
TARGET_MAX_PAUSE_MS = 35.0


def measure(setting: str, creates: int) -> dict:
    """Run in a child interpreter: drive `creates` AutoSend creates through the ASGI app."""
    from sandbox import Sandbox
    from sandbox.app import build_asgi
    from sandbox.engine.clock import Clock
    from sandbox.server import settle_gc

    app = build_asgi(Sandbox(seed=1, clock=Clock(start="2026-01-01T00:00:00Z", frozen=True)))
    if setting == "serving":
        settle_gc()
    pauses, started = [], [0.0]

    def timed(phase, _info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(timed)
    latencies = asyncio.run(_creates(app, creates))
    gc.callbacks.remove(timed)
    total = sum(latencies)
    return {
        "creates_per_s": creates / total,
        "us_per_create": total / creates * 1e6,
        "gc_us_per_create": sum(pauses) / creates * 1e6,
        "collections": len(pauses),
        "max_pause_ms": max(pauses, default=0.0) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
    }


async def _creates(app, creates: int) -> list[float]:
    headers = [(b"authorization", b"Bearer as_gc_bench"), (b"content-type", b"application/json")]
    latencies = []
    for n in range(creates):
        body = json.dumps({"domain": f"d{n}.gc.example"}).encode()
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/autosend/v1/domains",
            "query_string": b"",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
        answers = []

        async def receive(body=body):
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message, answers=answers):
            answers.append(message)

        started = time.perf_counter()
        await app(scope, receive, send)
        latencies.append(time.perf_counter() - started)
        assert answers[0]["status"] == 200, answers
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=100_000)
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        print(json.dumps(measure(opts.child, opts.creates)))
        return 0

    rows = []
    for setting in SETTINGS:
        child = [sys.executable, __file__, "--child", setting, "--creates", str(opts.creates)]
        out = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append([setting, *result.values()])
        figure("gc", f"{setting}: longest pause", result["max_pause_ms"], "ms",
               target=TARGET_MAX_PAUSE_MS if setting == "serving" else None)  # fmt: skip
        figure("gc", f"{setting}: collector time per create", result["gc_us_per_create"], "us")
    print(f"Garbage collector, {opts.creates:,} AutoSend creates in-process (one store)")
    table(
        rows,
        ["gc", "creates/s", "us/create", "gc us/create", "collections", "max pause ms", "p99 ms"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
