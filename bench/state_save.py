"""What `serve --state FILE` costs: the world is saved whole after every change.

    python bench/state_save.py [--domains 40,99] [--saves 30]

Two figures per world size. In-process: one save (the world exported, written as JSON into
SQLite and fsynced), from a demo world of that many domains. Over HTTP: `domainsandbox demo
--domains N` (several hundred changing calls) against `serve` with and without `--state`, and
the ratio; the demo's own calls are the same in both.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, cli, figure, serving, table

from sandbox import Sandbox, scenario
from sandbox.client import ControlClient
from sandbox.durable import Durable


def demo_seconds(url: str, domains: int) -> float:
    started = time.perf_counter()
    command = cli("demo", "--domains", str(domains), "--seed", "0", "--url", url)
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def demo_world(domains: int) -> tuple[float, float, str]:
    """(seconds without --state, seconds with it, the world the demo built, exported)."""
    with serving() as plain:
        without = demo_seconds(plain.url, domains)
    with tempfile.TemporaryDirectory() as where, serving(1234, "--state", f"{where}/s.db") as kept:
        with_state = demo_seconds(kept.url, domains)
        with ControlClient(kept.url) as control:
            world = control.export_scenario()
    return without, with_state, world


def save_ms(world: str, saves: int) -> float:
    sandbox = Sandbox()
    scenario.load_world(sandbox, scenario.parse(world))
    with tempfile.TemporaryDirectory() as where:
        durable = Durable(sandbox, str(Path(where) / "s.db"))
        try:
            started = time.perf_counter()
            for _ in range(saves):
                durable.save()
            return (time.perf_counter() - started) / saves * 1e3
        finally:
            durable.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default="40,99", help="demo world sizes, comma-separated")
    parser.add_argument("--saves", type=int, default=30, help="saves timed per world")
    opts = parser.parse_args(argv)
    rows = []
    for domains in map(int, opts.domains.split(",")):
        without, with_state, world = demo_world(domains)
        one_save = save_ms(world, opts.saves)
        figure("state", f"one save, {domains}-domain world", one_save, "ms")
        figure("state", f"demo of {domains}: with --state / without", with_state / without, "x")
        rows.append([domains, round(one_save, 1), round(without, 2), round(with_state, 2),
                     round(with_state / without, 1)])  # fmt: skip
    print(f"Durable state: one save (mean of {opts.saves}) and `demo` with and without --state")
    table(rows, ["domains", "ms/save", "demo s", "demo s --state", "ratio"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
