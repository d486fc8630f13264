"""The sandbox side by side with Stoplight Prism mocking the same provider document.

    python bench/prism_compare.py [--duration 3] [--concurrency 8]

For each provider: the same stateless GET (list domains) and the same POST (create a domain,
with a unique name each time) at the same concurrency, from the same load generator, against
`domainsandbox serve` and against `prism mock openapi/<provider>.yaml` (Node.js). Prints both
figures and the ratio sandbox/Prism measured in this run.

Prism answers canned examples from the document: it keeps no state, creates nothing, and asks
no DNS. The sandbox validates each request, stores each created domain with its generated
records and keys, and answers from that state.
"""

from __future__ import annotations

import argparse
import sys

import httpx
from _common import (
    ROOT,
    figure,
    find_prism,
    prism_mocking,
    ratio,
    run_load,
    serving,
    table,
    warm_up,
)
from recipes import each_prepared

CALLS = (("GET", "list"), ("POST", "create"))
# At most this many seconds of load on each server before measuring (see _common.warm_up).
WARMUP_SECONDS = 6.0
CAVEAT = "Prism answers canned examples: no state, no records, no DNS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--concurrency", default="8", help="comma-separated connections")
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
            with prism_mocking(prism, ROOT / "openapi" / cls.document) as prism_url:
                for method, op in CALLS:
                    call = recipe.ops[op]
                    targets = {"sandbox": prepared.url(op), "prism": prepared.url(op, prism_url)}
                    for url in targets.values():
                        warm_up(url, call.method, prepared.headers, call.body, opts.warmup)
                    for level in levels:
                        ours, theirs = (
                            run_load(url, call.method, prepared.headers, call.body, level,
                                     opts.duration)
                            for url in targets.values()
                        )  # fmt: skip
                        share = ratio(ours.rps, theirs.rps)
                        rows.append(
                            [cls.name, f"{method} {op}", level, ours.rps, theirs.rps, share]
                            + [ours.p50_ms, theirs.p50_ms, ours.p99_ms, theirs.p99_ms]
                            + [f"{ours.errors}/{theirs.errors}"]
                        )
                        figure(
                            "prism",
                            f"{cls.name} {method} {op} c={level}: sandbox/Prism",
                            share,
                            "x",
                            target=1.0,
                            higher_is_better=True,
                            note=f"{ours.rps:,.0f} vs {theirs.rps:,.0f} req/s",
                        )
        control.close()

    print(f"Sandbox vs Stoplight Prism, same document, {opts.duration:g} s per figure ({CAVEAT})")
    table(
        rows,
        ["provider", "call", "conns", "sandbox r/s", "prism r/s", "ratio"]
        + ["p50 ms s", "p50 ms p", "p99 ms s", "p99 ms p", "errors s/p"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
