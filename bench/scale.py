"""Scale: many domains loaded across providers; list-page and verify latency, resident memory.

    python bench/scale.py [--domains 10000] [--duration 3]

The domains are created through each provider's own create call (one client thread per
provider), split evenly. In each provider a "small" owner holds 25 of them and a "big" owner the
rest, so the list figures show both the store's size (the small owner's list still filters every
domain) and a large answer (the big owner's first page, or whole list where the API has no
pages). The small owner's first domain has every record published; its verify is timed. Resident
memory is the served process's VmRSS before and after loading.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import httpx
from _common import figure, run_load, serving, table
from recipes import Prepared, create, prepare, providers

SMALL_OWNER_DOMAINS = 25
# The targets with 10,000 domains loaded.
TARGET_LIST_P50_MS = 10.0
TARGET_RSS_MB = 200.0


def load_domains(served, cls, recipe, count: int, small_count: int, out: dict) -> None:
    """Create the small owner's domains (first one published), then the big owner's."""
    with httpx.Client() as http:
        small = prepare(http, served, cls, recipe, domains=small_count, owner=1)
        big_headers = recipe.login(http, served.url, 2)
        for i in range(count - small_count):
            create(http, small.base, recipe, big_headers, f"{cls.name[:3]}o2d{i}")
        big = Prepared(recipe, small.base, big_headers, small.ids)
    out[cls.name] = (small, big)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=10_000, help="domains in all")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    opts = parser.parse_args(argv)

    known = providers()
    per_provider = opts.domains // max(1, len(known))
    small_count = min(SMALL_OWNER_DOMAINS, per_provider // 2)

    rows = []
    with serving() as served, httpx.Client() as http:
        rss_before = served.rss_mb()
        loaded: dict = {}
        started = time.perf_counter()
        threads = [
            threading.Thread(
                target=load_domains,
                args=(served, cls, recipe, per_provider, small_count, loaded),
            )
            for cls, recipe in known
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_seconds = time.perf_counter() - started
        total = per_provider * len(loaded)
        rss_after = served.rss_mb()

        for cls, _ in known:
            if cls.name not in loaded:
                rows.append([cls.name, "load failed (see the error above)", "", "", "", ""])
                continue
            small, big = loaded[cls.name]
            calls = {
                f"list, owner of {small_count}": (small, "list"),
                f"list, owner of {per_provider - small_count}": (big, "list"),
                "verify (records published)": (small, "verify"),
            }
            for label, (who, op) in calls.items():
                if op not in who.recipe.ops:  # SES has no verify call
                    continue
                call = who.recipe.ops[op]
                size = len(http.request(call.method, who.url(op), headers=who.headers).content)
                load = run_load(who.url(op), call.method, who.headers, call.body, 1, opts.duration)
                rows.append([cls.name, label, size, load.p50_ms, load.p99_ms, load.errors])
                if op == "list" and who is small:
                    figure(
                        "scale",
                        f"{cls.name} list page p50, {total:,} domains",
                        load.p50_ms,
                        "ms",
                        target=TARGET_LIST_P50_MS,
                        note=f"owner of {small_count}; p99 {load.p99_ms:.1f} ms",
                    )
                elif op == "list":
                    figure(
                        "scale",
                        f"{cls.name} big owner's list p50",
                        load.p50_ms,
                        "ms",
                        note=f"{size:,} bytes per answer",
                    )
                else:
                    figure("scale", f"{cls.name} verify p50, {total:,} domains", load.p50_ms, "ms")

    print(
        f"Scale: {total:,} domains ({per_provider:,} per provider) loaded through the APIs in "
        f"{load_seconds:.1f} s ({total / load_seconds:,.0f} creates/s); 1 connection, "
        f"{opts.duration:g} s per row"
    )
    table(rows, ["provider", "call", "bytes", "p50 ms", "p99 ms", "errors"])
    print(f"resident memory of the served process: {rss_before:.0f} MB empty, {rss_after:.0f} MB")
    figure("scale", f"resident memory, {total:,} domains", rss_after, "MB", target=TARGET_RSS_MB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
