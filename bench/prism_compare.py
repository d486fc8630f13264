"""The sandbox side by side with Stoplight Prism mocking the same provider document.

    python bench/prism_compare.py [--duration 3] [--concurrency 8]

For each provider: the same stateless GET (list domains) and the same POST (create a domain,
with a unique name each time) at the same concurrency, from the same load generator, against
`domainsandbox serve` and against `prism mock openapi/<provider>.yaml` (Node.js). Prints both
figures and the ratio sandbox/Prism measured in this run, and the CPU each server spent per
request (read from /proc around each run). On a machine whose cores the load generator shares,
requests/s move from run to run; CPU per request moves much less, and its ratio (Prism's over
the sandbox's) says how many times cheaper each answer of the sandbox is.

Prism answers canned examples from the document: it keeps no state, creates nothing, and asks
no DNS. The sandbox validates each request, stores each created domain with its generated
records and keys, and answers from that state.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

import httpx
from _common import (
    ROOT,
    cpu_ms,
    figure,
    find_prism,
    interleaved,
    prism_mocking,
    ratio,
    run_load,
    serving,
    table,
    warm_up,
)
from recipes import each_prepared

CALLS = ("list", "create")  # each with the method its provider uses (SES lists with a POST)
# At most this many seconds of load on each server before measuring (see _common.warm_up).
WARMUP_SECONDS = 6.0
CAVEAT = "Prism answers canned examples: no state, no records, no DNS"
# Targets against Prism (ratio of requests/s), and the sandbox's p99 at 8 connections.
TARGET_RATIO = {"list": 2.0, "create": 1.5}
TARGET_P99_MS = {"list": 10.0, "create": 35.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--concurrency", default="8", help="comma-separated connections")
    parser.add_argument("--pairs", type=int, default=5, help="paired runs per figure (median)")
    parser.add_argument(
        "--warmup", type=float, default=WARMUP_SECONDS, help="most seconds of warm-up per server"
    )
    opts = parser.parse_args(argv)
    levels = [int(c) for c in opts.concurrency.split(",")]

    prism, why = find_prism()
    if prism is None:
        print(f"skipped: Prism not available ({why})")
        return 0

    rows = []
    with serving() as served, httpx.Client() as http:
        control = served.control()
        for cls, recipe, prepared in each_prepared(http, served, control, domains=3):
            with prism_mocking(prism, ROOT / "openapi" / cls.document) as mock:
                spent = (partial(cpu_ms, served.proc.pid), mock.cpu_ms)
                for op in CALLS:
                    call = recipe.ops[op]
                    method = call.method
                    urls = (prepared.url(op), prepared.url(op, mock.url))
                    for url in urls:
                        warm_up(url, call.method, prepared.headers, call.body, opts.warmup)
                    for level in levels:
                        load = partial(
                            run_load,
                            method=call.method,
                            headers=prepared.headers,
                            body=call.body,
                            concurrency=level,
                            duration=opts.duration,
                        )
                        ours, theirs = interleaved(load, urls, spent, opts.pairs)
                        share = ratio(ours["rps"], theirs["rps"])
                        cheaper = ratio(theirs["cpu_us"], ours["cpu_us"])
                        rows.append(
                            [cls.name, f"{method} {op}", level, ours["rps"], theirs["rps"], share]
                            + [ours["cpu_us"], theirs["cpu_us"], cheaper]
                            + [ours["p50_ms"], theirs["p50_ms"], ours["p99_ms"], theirs["p99_ms"]]
                            + [f"{ours['errors']}/{theirs['errors']}"]
                        )
                        name = f"{cls.name} {method} {op} c={level}"
                        figure(
                            "prism",
                            f"{name}: sandbox/Prism",
                            share,
                            "x",
                            target=TARGET_RATIO[op],
                            higher_is_better=True,
                            note=f"{ours['rps']:,.0f} vs {theirs['rps']:,.0f} req/s",
                        )
                        figure(
                            "prism",
                            f"{name}: CPU per request, Prism/sandbox",
                            cheaper,
                            "x",
                            higher_is_better=True,
                            note=f"{ours['cpu_us']:,.0f} vs {theirs['cpu_us']:,.0f} us",
                        )
                        figure("prism", f"{name}: sandbox p99", ours["p99_ms"], "ms",
                               target=TARGET_P99_MS[op])  # fmt: skip
        control.close()

    print(
        f"Sandbox vs Stoplight Prism, same document, {opts.pairs} interleaved pairs of "
        f"{opts.duration:g} s, medians ({CAVEAT})"
    )
    table(
        rows,
        ["provider", "call", "conns", "sandbox r/s", "prism r/s", "ratio"]
        + ["cpu us/req s", "cpu us/req p", "cpu p/s"]
        + ["p50 ms s", "p50 ms p", "p99 ms s", "p99 ms p", "errors s/p"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
