"""Start-up: from launching `domainsandbox serve` to its first HTTP and first DNS answer, a CLI
command that only talks to a running sandbox (`domainsandbox clock`), and the set-up time of
the pytest `server` fixture. Medians of several runs.

    python bench/startup.py [--runs 5]

The peer, where Prism is available: `prism mock` on the Monite document, launch to first HTTP
answer, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from _common import (
    ROOT,
    cli,
    figure,
    find_prism,
    free_port,
    median,
    prism_command,
    ratio,
    serve_command,
    serving,
    stop,
    stop_group,
    table,
)
from dnslib import DNSRecord

# Targets: `serve` answers HTTP within a second, having used at most half a second of CPU; a
# CLI command that does not serve (every user types them) takes at most a quarter second.
TARGET_READY_SECONDS = 1.0
TARGET_READY_CPU_SECONDS = 0.5
TARGET_CLI_SECONDS = 0.25
# Give up on one launch after this long.
LAUNCH_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.005

# The same fixture as tests/conftest.py's, in a test file of its own.
FIXTURE_TEST = textwrap.dedent(
    """
    import pytest

    from sandbox import Sandbox, SandboxServer
    from sandbox.engine.clock import Clock


    @pytest.fixture(scope="session")
    def server():
        sandbox = Sandbox(seed=4242, clock=Clock(start="2026-01-01T09:00:00Z", frozen=True))
        with SandboxServer(sandbox) as running:
            yield running


    def test_server_answers(server):
        assert server.port
    """
)


def http_ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.TransportError:
        return False


def dns_ready(port: int, query: bytes) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.05)
        try:
            sock.sendto(query, ("127.0.0.1", port))
            return bool(sock.recv(4096))
        except OSError:
            return False


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: less noisy than wall time on a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch_serve() -> tuple[float, float, float]:
    """Seconds from launch to the first HTTP answer and to the first DNS answer; CPU seconds
    the process had used by its first HTTP answer."""
    port, dns_port = free_port(), free_port()
    query = DNSRecord.question("startup.example", "TXT").pack()
    url = f"http://127.0.0.1:{port}/_sandbox/clock"
    started = time.perf_counter()
    proc = subprocess.Popen(
        serve_command(port, dns_port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    http_at = dns_at = None
    cpu = float("nan")
    try:
        while (http_at is None or dns_at is None) and proc.poll() is None:
            if time.perf_counter() - started > LAUNCH_TIMEOUT_SECONDS:
                break
            if http_at is None and http_ready(url):
                http_at = time.perf_counter() - started
                cpu = cpu_seconds(proc.pid)
            if dns_at is None and dns_ready(dns_port, query):
                dns_at = time.perf_counter() - started
            time.sleep(POLL_SECONDS)
    finally:
        stop(proc)
    nan = float("nan")
    return (nan if http_at is None else http_at), (nan if dns_at is None else dns_at), cpu


def cli_command(url: str) -> float:
    """Wall seconds of `domainsandbox clock` against a running sandbox, launch to exit."""
    started = time.perf_counter()
    subprocess.run(
        cli("clock", "--url", url), cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    return time.perf_counter() - started


def launch_prism(prism: str) -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        prism_command(prism, ROOT / "openapi" / "monite.yaml", port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - started < LAUNCH_TIMEOUT_SECONDS and proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
                return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)
    finally:
        stop_group(proc)
    return float("nan")


def fixture_setup(folder: Path) -> tuple[float, float]:
    """(the fixture's set-up seconds as pytest reports them, the whole pytest run's seconds)."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0"]
        + ["--durations-min=0", "--rootdir", str(folder), str(folder / "test_fixture.py")],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    total = time.perf_counter() - started
    match = re.search(r"([\d.]+)s setup\s+\S*test_server_answers", out)
    return (float(match.group(1)) if match else float("nan")), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="launches per figure")
    parser.add_argument("--fixture-runs", type=int, help="pytest runs (default: --runs)")
    opts = parser.parse_args(argv)

    serve = [launch_serve() for _ in range(opts.runs)]
    http_s, dns_s, cpu_s = ([run[i] for run in serve] for i in range(3))
    with serving() as served:
        cli_s = [cli_command(served.url) for _ in range(opts.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_fixture.py").write_text(FIXTURE_TEST)
        runs = opts.runs if opts.fixture_runs is None else opts.fixture_runs
        pytest_runs = [fixture_setup(folder) for _ in range(runs)]
    setup_s, pytest_s = [s for s, _ in pytest_runs], [t for _, t in pytest_runs]

    prism, why = find_prism()
    prism_s = [launch_prism(prism) for _ in range(opts.runs)] if prism else []

    rows = [
        ["serve: launch to first HTTP answer", median(http_s), min(http_s), max(http_s)],
        ["serve: launch to first DNS answer", median(dns_s), min(dns_s), max(dns_s)],
        ["serve: CPU used by its first HTTP answer", *_spread(cpu_s)],
        ["`domainsandbox clock` (does not serve): launch to exit", *_spread(cli_s)],
        ["pytest `server` fixture set-up", median(setup_s), min(setup_s), max(setup_s)],
        ["pytest run of one test with it", median(pytest_s), min(pytest_s), max(pytest_s)],
    ]
    if prism_s:
        rows.append(["prism mock: launch to first HTTP answer", *_spread(prism_s)])
    print(f"Start-up, {opts.runs} runs each (seconds)")
    table([[r[0], *r[1:]] for r in rows], ["what", "median s", "min s", "max s"])
    if prism_s:
        print(f"serve/Prism start-up ratio: {ratio(median(http_s), median(prism_s)):.2f}")
    else:
        print(f"skipped: Prism start-up (Prism not available: {why})")

    figure("startup", "serve ready (HTTP)", median(http_s), "s", target=TARGET_READY_SECONDS)
    figure("startup", "serve ready (DNS)", median(dns_s), "s", target=TARGET_READY_SECONDS)
    figure(
        "startup",
        "serve CPU time to ready",
        median(cpu_s),
        "s",
        target=TARGET_READY_CPU_SECONDS,
        note="user+system CPU; the wall time above also counts waiting for a busy machine",
    )
    figure("startup", "CLI command (domainsandbox clock)", median(cli_s), "s", TARGET_CLI_SECONDS)
    figure("startup", "pytest server fixture set-up", median(setup_s), "s")
    if prism_s:
        figure(
            "startup",
            "serve/Prism start-up time",
            ratio(median(http_s), median(prism_s)),
            "x",
            note=f"Prism {median(prism_s):.2f} s; lower is faster",
        )
    return 0


def _spread(values: list[float]) -> list[float]:
    return [median(values), min(values), max(values)]


if __name__ == "__main__":
    sys.exit(main())
