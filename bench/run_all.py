"""Run every benchmark and print a summary table: `make bench`.

    python bench/run_all.py [--quick] [--only startup,http,...] [--results figures.jsonl]

Each bench runs in its own process, prints its own tables as it goes, and leaves its headline
figures for the summary. Figures come from a shared, noisy machine: compare the ratios measured
within one run, and never turn them into test assertions. `--quick` shrinks every duration to
prove the scripts work (tests/test_bench_smoke.py); its figures mean little.

Environment: BENCH_PROVIDERS=a,b limits the providers; BENCH_NO_INSTALL=1 installs nothing (wrk
missing: the Python load generator; Prism missing: skipped); BENCH_NO_PRISM=1 skips Prism;
BENCH_NO_WRK=1 uses the Python load generator even where wrk is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

from _common import BENCH, RESULTS_ENV, ROOT, figure, table

# (name, script, arguments for `make bench`, arguments for --quick)
BENCHES = [
    ("startup", "startup.py", ["--runs", "3"], ["--runs", "1", "--fixture-runs", "1"]),
    (
        "http",
        "http_load.py",
        ["--duration", "2", "--concurrency", "1,8,32"],
        ["--duration", "0.3", "--concurrency", "8", "--ops", "list,verify"],
    ),
    (
        "prism",
        "prism_compare.py",
        ["--duration", "3"],
        ["--duration", "1", "--warmup", "0", "--pairs", "1"],
    ),
    ("gc", "gc_cost.py", ["--creates", "100000"], ["--creates", "300"]),
    ("journal", "journal_cost.py", ["--notes", "100000"], ["--notes", "500", "--entries", "200"]),
    ("state", "state_save.py", ["--domains", "40,99"], ["--domains", "4", "--saves", "3"]),
    ("verify", "verify_latency.py", ["--duration", "3"], ["--duration", "0.3", "--warmup", "0"]),
    ("dns", "dns_qps.py", ["--duration", "2"], ["--duration", "0.3", "--clients", "2"]),
    (
        "workers",
        "workers.py",
        ["--workers", "1,2,4", "--duration", "2"],
        ["--workers", "1,2", "--duration", "0.3"],
    ),
    ("wire", "wire_cost.py", ["--calls", "20000"], ["--calls", "400"]),
    (
        "scale",
        "scale.py",
        ["--domains", "10000", "--duration", "2"],
        ["--domains", "60", "--duration", "0.3"],
    ),
]
# A bench still running after this many seconds is stopped and reported as failed.
BENCH_TIMEOUT_SECONDS = 900


def run_dns(script: list[str]) -> int:
    """bench/dns_qps.py prints a table of its own: read its figures from it."""
    done = subprocess.run(script, capture_output=True, text=True, timeout=BENCH_TIMEOUT_SECONDS)
    print(done.stdout, end="", flush=True)
    print(done.stderr, end="", file=sys.stderr)
    for line in done.stdout.splitlines():
        match = re.match(r"(udp|tcp)\S*(?: \(1/conn\))?\s+([\d,]+)\s+([\d,]+)\s+([\d.]+|nan)", line)
        if match:
            transport, ours, base, share = match.groups()
            figure(
                "dns",
                f"fake_dns/dnslib {transport.upper()} rate",
                float(share),
                "x",
                target=0.9,
                higher_is_better=True,
                note=f"{ours} vs {base} queries/s",
            )
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny durations: prove it runs")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument("--results", help="keep the figures here (JSON lines)")
    opts = parser.parse_args(argv)
    only = set(filter(None, opts.only.split(",")))

    results = opts.results or tempfile.mkstemp(suffix=".jsonl")[1]
    open(results, "w").close()
    os.environ[RESULTS_ENV] = results
    failed, started = [], time.monotonic()
    for name, script, full, quick in BENCHES:
        if only and name not in only:
            continue
        if name == "prism" and os.environ.get("BENCH_NO_PRISM"):
            print("\n== prism: skipped: BENCH_NO_PRISM is set", flush=True)
            continue
        print(f"\n== {name}: bench/{script}", flush=True)
        command = [sys.executable, str(BENCH / script), *(quick if opts.quick else full)]
        try:
            if name == "dns":
                code = run_dns(command)
            else:
                code = subprocess.run(command, cwd=ROOT, timeout=BENCH_TIMEOUT_SECONDS).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        if code != 0:
            failed.append(f"{name} ({code})")
            print(f"!! {name} failed: {code}", flush=True)

    print(f"\n== summary ({time.monotonic() - started:.0f} s; shared machine: figures are noisy)")
    summarize(results)
    if failed:
        print(f"failed: {', '.join(failed)}")
    if not opts.results:
        os.unlink(results)
    return 1 if failed else 0


def summarize(path: str) -> None:
    import json

    with open(path, encoding="utf-8") as lines:
        entries = [json.loads(line) for line in lines if line.strip()]
    rows = []
    for e in entries:
        target = ""
        if e["target"] is not None:
            target = ("≥ " if e["higher_is_better"] else "≤ ") + f"{e['target']:g} {e['unit']}"
        met = {True: "yes", False: "NO", None: ""}[e["met"]]
        rows.append([e["bench"], e["name"], _value(e), target, met, e["note"]])
    table(rows, ["bench", "figure", "value", "target", "met", "note"])


def _value(entry: dict) -> str:
    value, unit = entry["value"], entry["unit"]
    if value != value:
        return "-"
    if unit in ("x", "s", "ms"):
        return f"{value:.2f} {unit}"
    return f"{value:,.0f} {unit}"


if __name__ == "__main__":
    sys.exit(main())
