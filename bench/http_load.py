"""HTTP throughput and latency per provider: list, get, create and verify at several concurrencies.

    python bench/http_load.py [--duration 2] [--concurrency 1,8,32] [--ops list,get,verify,create]

`domainsandbox serve` runs in its own process; the load comes from another (wrk, or
bench/loadgen.py when wrk is not available). Before each provider the sandbox is reset and ten
domains are created, the first with every record published, so that verify runs its DNS lookups
against records that are there. Create runs last: it grows the store.
"""

from __future__ import annotations

import argparse
import sys

import httpx
from _common import figure, run_load, serving, table
from recipes import each_prepared, send

OPS = ("list", "get", "verify", "create")
# The concurrency whose figures go into run_all's summary.
SUMMARY_CONCURRENCY = 8
# Seconds of load before measuring, per provider: the first calls of each route are slower.
WARMUP_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated connections")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated operations")
    opts = parser.parse_args(argv)
    levels = [int(c) for c in opts.concurrency.split(",")]
    ops = [op for op in OPS if op in opts.ops.split(",")]

    rows = []
    with serving() as served, httpx.Client() as http:
        control = served.control()
        for cls, recipe, prepared in each_prepared(http, served, control):
            run_load(
                prepared.url("list"),
                headers=prepared.headers,
                duration=min(WARMUP_SECONDS, opts.duration),
            )
            for op in ops:
                if op not in recipe.ops:
                    rows.append([cls.name, op, "-", "n/a", "", "", "", recipe.notes.get(op, "")])
                    continue
                probe = send(http, prepared, op)
                if probe.status_code >= 300:
                    note = f"skipped: answered {probe.status_code} {probe.text[:80]}"
                    rows.append([cls.name, op, "-", "", "", "", "", note])
                    continue
                call = recipe.ops[op]
                for level in levels:
                    load = run_load(
                        prepared.url(op),
                        call.method,
                        prepared.headers,
                        call.body,
                        concurrency=level,
                        duration=opts.duration,
                    )
                    note = recipe.notes.get(op, "") if level == levels[0] else ""
                    rows.append(
                        [cls.name, op, level, load.rps, load.p50_ms, load.p99_ms, load.errors, note]
                    )
                    if level == SUMMARY_CONCURRENCY:
                        figure(
                            "http",
                            f"{cls.name} {op} c={level}",
                            load.rps,
                            "req/s",
                            note=f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms",
                        )
        control.close()

    print(f"HTTP per provider, {opts.duration:g} s per row, load from a separate process")
    table(rows, ["provider", "op", "conns", "req/s", "p50 ms", "p99 ms", "errors", "note"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
