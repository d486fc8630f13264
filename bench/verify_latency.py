"""Verify latency with every record published: p50 and p99, one call at a time.

    python bench/verify_latency.py [--duration 3]

For each provider a domain is created and all its expected records are published in the fake
DNS. Two calls are timed back to back over one connection from a separate process:
- the provider's own verify call, as its clients send it;
- the control API's verify (POST /_sandbox/domains/{provider}/{id}/verify), which runs the
  provider's verification now, as the dashboard's "verify now" does;
and, without HTTP, the engine's own check of every record of the domain (the sandbox's Verifier
in this process, asking the served fake DNS over UDP), which is the DNS work a verification
costs whatever the provider's call schedules. DNS lookups per call come from the query log.
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx
from _common import Load, figure, percentile, run_load, serving, table, warm_up
from recipes import each_prepared, prepare, providers, send

# The target for verify p50, in milliseconds.
TARGET_P50_MS = 5.0


def lookups(control, call) -> int:
    """How many DNS questions the fake DNS received during `call()`."""
    control.call("DELETE", "/dns/queries")
    call()
    return len(control.queries())


class InProcess:
    """A sandbox served from a thread of this process, so the bench can reach its engine."""

    def __init__(self):
        from sandbox import Sandbox, SandboxServer

        self.server = SandboxServer(Sandbox()).start()
        self.url, self.sandbox = self.server.url, self.server.sandbox

    def control(self):
        from sandbox.client import ControlClient

        return ControlClient(self.url)

    def close(self) -> None:
        self.server.stop()


def engine_check(local: InProcess, cls, recipe, http, duration: float) -> tuple[int, int, Load]:
    """Time the Verifier's check of every record of a published domain, one check at a time.

    Returns (records, DNS lookups per check, figures). The verifier and the fake DNS share this
    process, as they do in `domainsandbox serve`.
    """
    prepared = prepare(http, local, cls, recipe, domains=1)
    domain = local.sandbox.store.get(cls.name, prepared.ids[0])
    verifier = local.sandbox.verifier
    control = local.control()
    try:
        per_call = lookups(control, lambda: verifier.check_all(domain.records))
    finally:
        control.close()
    latencies, errors = [], 0
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        started = time.perf_counter()
        results = verifier.check_all(domain.records)
        latencies.append((time.perf_counter() - started) * 1000)
        errors += not all(r.valid for r in results.values())
    rps = len(latencies) / duration
    load = Load(
        rps, percentile(latencies, 50), percentile(latencies, 99), len(latencies), errors, ""
    )
    return len(domain.records), per_call, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="most seconds of warm-up")
    opts = parser.parse_args(argv)

    rows = []
    local = InProcess()
    with serving() as served, httpx.Client() as http:
        control = served.control()
        for cls, recipe, prepared in each_prepared(http, served, control, domains=1):
            domain_id = prepared.ids[0]
            calls = {}
            if "verify" in recipe.ops:  # SES has no verify call: only the engine's
                calls["provider verify"] = (
                    recipe.ops["verify"].method,
                    prepared.url("verify"),
                    lambda prepared=prepared: send(http, prepared, "verify"),
                )
            calls |= {
                "engine (control verify)": (
                    "POST",
                    f"{served.url}/_sandbox/domains/{cls.name}/{domain_id}/verify",
                    lambda name=cls.name, i=domain_id: control.verify(name, i),
                ),
            }
            for label, (method, url, once) in calls.items():
                per_call = lookups(control, once)
                warm_up(url, method, prepared.headers, max_seconds=opts.warmup)
                load = run_load(
                    url, method, prepared.headers, concurrency=1, duration=opts.duration
                )
                state = control.domain(cls.name, domain_id)["status"]
                rows.append(
                    [cls.name, label, per_call, load.p50_ms, load.p99_ms, load.rps, load.errors]
                    + [state]
                )
                figure(
                    "verify",
                    f"{cls.name} {label} p50",
                    load.p50_ms,
                    "ms",
                    target=TARGET_P50_MS,
                    note=f"p99 {load.p99_ms:.1f} ms, {per_call} DNS lookups per call",
                )
            records, per_call, load = engine_check(local, cls, recipe, http, opts.duration)
            rows.append(
                [cls.name, "engine check (no HTTP)", per_call, load.p50_ms, load.p99_ms, load.rps]
                + [load.errors, f"{records} records"]
            )
            figure(
                "verify",
                f"{cls.name} engine check p50",
                load.p50_ms,
                "ms",
                target=TARGET_P50_MS,
                note=f"p99 {load.p99_ms:.1f} ms, {per_call} DNS lookups per check",
            )
        control.close()
    local.close()

    print(f"Verify latency, all records published, 1 connection, {opts.duration:g} s per row")
    table(
        rows,
        ["provider", "call", "DNS lookups", "p50 ms", "p99 ms", "req/s", "errors", "status after"],
    )
    notes = {cls.name: recipe.notes.get("verify") for cls, recipe in providers()}
    for name, note in notes.items():
        if note:
            print(f"  {name}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
