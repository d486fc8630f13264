"""The benchmark scripts run end to end with tiny durations and report figures.

Timings are never judged here (the machines are shared and noisy): only that each bench ran and
printed a positive number. One provider (Monite, the reference) keeps it quick; Prism is left
out and nothing is installed; the Python load generator stands in for wrk, so that path is
proven too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Monite only, no Prism, nothing installed, the Python load generator.
QUICK = {
    "BENCH_PROVIDERS": "monite",
    "BENCH_NO_PRISM": "1",
    "BENCH_NO_INSTALL": "1",
    "BENCH_NO_WRK": "1",
}


def test_every_bench_runs_and_prints_positive_figures(tmp_path):
    results = tmp_path / "figures.jsonl"
    env = os.environ | QUICK
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--quick", "--results", str(results)],
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "== summary" in done.stdout
    figures = [json.loads(line) for line in results.read_text().splitlines()]
    positive = {f["bench"] for f in figures if f["value"] > 0}
    assert positive >= {"startup", "http", "verify", "dns", "scale", "wire"}, figures


def test_the_stack_floor_bench_serves_each_layer_and_reports_it(tmp_path):
    """bench/stack_floor.py is not in run_all.py (a full run takes about 18 minutes): run it
    here, small. Each floor server must answer every call 2xx (the canned answers pass
    Connexion's routing, security and validation), and the Connexion floor's CPU per request is
    reported."""
    results = tmp_path / "figures.jsonl"
    env = os.environ | QUICK | {"BENCH_RESULTS": str(results)}
    quick = ["--duration", "0.3", "--rounds", "1", "--warmup", "0"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "stack_floor.py"), *quick],
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    calls = ["list", "create"]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("monite ")]
    assert [row[1] for row in rows] == calls, done.stdout
    assert all(row[-1] == "0/0/0/0" for row in rows), done.stdout  # no side answered an error
    figures = [json.loads(line) for line in results.read_text().splitlines()]
    floors = {f["name"]: f["value"] for f in figures if f["bench"] == "floor"}
    assert set(floors) == {f"monite {op}: Connexion floor, CPU per request" for op in calls}
    assert all(value > 0 for value in floors.values()), floors
