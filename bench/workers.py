"""HTTP throughput of `serve --workers N` against one process: the same calls, more processes.

    python bench/workers.py [--workers 1,2,4] [--duration 2] [--concurrency 16]

For each worker count a fresh `domainsandbox serve --workers N` is started and each provider is
prepared as in http_load.py (ten domains, the first published); then its list and create calls
run under load from a separate process. Besides req/s it reads, from /proc, the CPU time the
serving process (the world) and the workers spent per request: the world's share is the part
that does not spread over cores, so 1 / (its ms per request) bounds what any number of workers
can reach on a machine with cores to spare. On a machine whose cores are already busy (the
load generator needs one too) the req/s ratios show little.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx
from _common import cpu_ms, figure, run_load, serving, stat_fields, table
from recipes import each_prepared

OPS = ("list", "create")


def workers_of(pid: int) -> list[int]:
    """The worker processes of `serve --workers` (spawned children), from /proc."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            parent = int(stat_fields(proc.name)[1])
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(proc.name))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="connections")
    opts = parser.parse_args(argv)
    counts = [int(n) for n in opts.workers.split(",")]

    rps: dict[tuple[str, str, int], float] = {}
    rows = []
    for workers in counts:
        with serving(1234, "--workers", str(workers)) as served, httpx.Client() as http:
            control = served.control()
            world, front = served.proc.pid, workers_of(served.proc.pid)
            for cls, recipe, prepared in each_prepared(http, served, control):
                for op in OPS:
                    call = recipe.ops[op]
                    before = {pid: cpu_ms(pid) for pid in [world, *front]}
                    load = run_load(
                        prepared.url(op),
                        call.method,
                        prepared.headers,
                        call.body,
                        concurrency=opts.concurrency,
                        duration=opts.duration,
                    )
                    spent = {pid: cpu_ms(pid) - before[pid] for pid in before}
                    per_request = max(load.requests, 1)
                    world_ms = spent.pop(world) / per_request
                    front_ms = sum(spent.values()) / per_request
                    rps[(cls.name, op, workers)] = load.rps
                    rows.append(
                        [
                            cls.name,
                            op,
                            workers,
                            load.rps,
                            load.p50_ms,
                            load.p99_ms,
                            load.errors,
                            world_ms,
                            front_ms if front else "-",
                        ]
                    )
                    if workers == counts[-1] > 1:
                        figure(
                            "workers",
                            f"{cls.name} {op}: world CPU per request, {workers} workers",
                            world_ms,
                            "ms",
                            note=f"ceiling ~{1000 / world_ms:.0f} req/s with cores to spare",
                        )
            control.close()

    base = counts[0]
    for (provider, op, workers), value in rps.items():
        if workers != base and rps.get((provider, op, base)):
            figure(
                "workers",
                f"{provider} {op}: {workers} workers / {base}",
                value / rps[(provider, op, base)],
                "x",
                note=f"{value:.0f} vs {rps[(provider, op, base)]:.0f} req/s",
            )
    print(
        f"serve --workers N, {opts.duration:g} s per row, {opts.concurrency} connections, "
        f"{os.cpu_count()} cores, load from a separate process"
    )
    headers = ["provider", "op", "workers", "req/s", "p50 ms", "p99 ms", "errors"]
    table(rows, [*headers, "world CPU ms/req", "workers CPU ms/req"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
