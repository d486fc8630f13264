"""What the benchmark scripts share: starting `domainsandbox serve`, driving load, printing figures.

Load is generated in a separate process: wrk (Debian's package) when it can be found or
installed, else bench/loadgen.py, a small asyncio HTTP/1.1 client. Both report requests per
second and p50/p99 latency the same way, so a ratio is always taken between figures measured by
the same generator in the same run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:  # the scripts run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(ROOT))
# Start-up is measured as a user pays it: with bytecode cached. Under PYTHONDONTWRITEBYTECODE
# (set in some containers) every changed module is compiled again at every start, and pytest
# rewrites a plugin's modules again at every run: that tripled the pytest-start figure here.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# How long `serve` may take to answer before a run is declared failed (it should take ~1 s).
READY_TIMEOUT_SECONDS = 30.0
# wrk's per-request timeout: a verify under heavy concurrency can queue for a while.
WRK_TIMEOUT = "10s"
# Set by run_all.py: each script appends its figures here as JSON lines for the summary.
RESULTS_ENV = "BENCH_RESULTS"


# --- figures -----------------------------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers plus socket errors
    tool: str


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of unsorted values (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("nan")


def figure(
    bench: str,
    name: str,
    value: float,
    unit: str,
    target: float | None = None,
    higher_is_better: bool = False,
    note: str = "",
) -> None:
    """Keep one figure for run_all.py's summary table (no-op when a script runs alone)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    met = None
    if target is not None and value == value:  # nan meets nothing
        met = value >= target if higher_is_better else value <= target
    entry = {"bench": bench, "name": name, "value": value, "unit": unit, "target": target}
    entry |= {"higher_is_better": higher_is_better, "met": met, "note": note}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def table(rows: list[list], header: list[str]) -> None:
    """Print rows as an aligned table: text left, numbers right."""
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        parts = []
        for i, text in enumerate(row):
            numeric = n > 0 and isinstance(rows[n - 1][i], int | float)
            parts.append(text.rjust(widths[i]) if numeric else text.ljust(widths[i]))
        print("  ".join(parts).rstrip())
    sys.stdout.flush()


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


# --- ports and processes -------------------------------------------------------------------------


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (the fake DNS needs both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port found")


def cli(*args: str) -> list[str]:
    """`domainsandbox ARGS` as installed next to this Python, or the module when it is not."""
    script = Path(sys.executable).parent / "domainsandbox"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "sandbox.cli"]
    return [*head, *args]


def serve_command(port: int, dns_port: int, seed: int = 1234, *extra: str) -> list[str]:
    """`domainsandbox serve` on these ports with this seed."""
    ports = ["--port", str(port), "--dns-port", str(dns_port)]
    return cli("serve", *ports, "--seed", str(seed), *extra)


def wait_http(url: str, deadline: float) -> bool:
    """Poll `url` until it answers 200 or the deadline passes."""
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.005)
    return False


class Served:
    """A running `domainsandbox serve` in its own process."""

    def __init__(self, proc: subprocess.Popen, port: int, dns_port: int):
        self.proc, self.port, self.dns_port = proc, port, dns_port
        self.url = f"http://127.0.0.1:{port}"

    def control(self):
        from sandbox.client import ControlClient

        return ControlClient(self.url)

    def rss_mb(self) -> float:
        """Resident memory of the server process, in MB (from /proc)."""
        return rss_mb(self.proc.pid)


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int | str) -> list[str]:
    """/proc/<pid>/stat after the command name (field 3 on: state, ppid, pgrp, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _cpu_of(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime + stime


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in milliseconds."""
    return _cpu_of(stat_fields(pid))


def group_cpu_ms(pgid: int) -> float:
    """CPU time used so far by the live processes of process group `pgid` (a server that
    forks, started with start_new_session), in milliseconds."""
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = stat_fields(proc.name)
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:
            total += _cpu_of(fields)
    return total


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


@contextmanager
def serving(seed: int = 1234, *extra: str):
    """Start `domainsandbox serve` (with `extra` arguments) on free ports; stop it on exit."""
    port, dns_port = free_port(), free_port()
    proc = subprocess.Popen(
        serve_command(port, dns_port, seed, *extra),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(proc, port, dns_port)
    try:
        if not wait_http(served.url + "/_sandbox/clock", time.monotonic() + READY_TIMEOUT_SECONDS):
            stop(proc)
            raise RuntimeError(f"`domainsandbox serve` did not start: {proc.stderr.read()[-2000:]}")
        yield served
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Stoplight Prism ----------------------------------------------------------------------------

PRISM_DIR = BENCH / ".prism"  # gitignored; npm installs @stoplight/prism-cli here
PRISM_PACKAGE = "@stoplight/prism-cli"


def find_prism(install: bool = True) -> tuple[str | None, str]:
    """(path of the prism command, why not) - installing it with npm into bench/.prism/ once."""
    if os.environ.get("BENCH_NO_PRISM"):
        return None, "BENCH_NO_PRISM is set"
    prism = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if prism.exists():
        return str(prism), ""
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "Node.js and npm are not installed"
    if not install or os.environ.get("BENCH_NO_INSTALL"):
        return None, f"{PRISM_PACKAGE} is not installed in {PRISM_DIR}"
    print(f"installing {PRISM_PACKAGE} with npm into {PRISM_DIR} ...", flush=True)
    PRISM_DIR.mkdir(exist_ok=True)
    try:
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", PRISM_PACKAGE],
            cwd=PRISM_DIR,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"npm install {PRISM_PACKAGE} failed ({exc})"
    if prism.exists():
        return str(prism), ""
    return None, f"npm install {PRISM_PACKAGE} failed"


def prism_command(prism: str, document: Path, port: int) -> list[str]:
    # Logging off: Prism logs every request at info level, which the sandbox does not do.
    return [prism, "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "error", str(document)]


def wait_tcp_answer(url: str, deadline: float) -> bool:
    """Poll until the server answers anything at all over HTTP."""
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.TransportError:
            time.sleep(0.01)
    return False


@dataclass
class PrismMock:
    """A running `prism mock`: its root URL and its process (the leader of its own group)."""

    url: str
    proc: subprocess.Popen

    def cpu_ms(self) -> float:
        """CPU used so far by Prism's processes, in milliseconds."""
        return group_cpu_ms(self.proc.pid)


@contextmanager
def prism_mocking(prism: str, document: Path):
    """Prism mocking `document` on a free port; yields a PrismMock."""
    port = free_port()
    proc = subprocess.Popen(
        prism_command(prism, document, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Prism's CLI may fork: stop the whole group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_tcp_answer(url + "/", time.monotonic() + 60):
            raise RuntimeError(f"Prism did not start on {document.name}")
        yield PrismMock(url, proc)
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, with its children."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- load ----------------------------------------------------------------------------------------


def find_wrk(install: bool = True) -> str | None:
    """Path of wrk; as root with apt-get, install Debian's package once when it is missing."""
    found = shutil.which("wrk")
    if found or not install or os.environ.get("BENCH_NO_INSTALL"):
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk not found: installing Debian's wrk package ...", flush=True)
        with suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"],
                capture_output=True,
                timeout=180,
                env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
            )
    return shutil.which("wrk")


_WRK = "unset"


def load_tool() -> str:
    """'wrk' or 'loadgen' (the Python fallback), chosen once per process."""
    global _WRK
    if _WRK == "unset":
        _WRK = None if os.environ.get("BENCH_NO_WRK") else find_wrk()
        if _WRK is None:
            print("wrk not available: using bench/loadgen.py (asyncio) as the load generator")
    return "wrk" if _WRK else "loadgen"


def run_load(
    url: str,
    method: str = "GET",
    headers: dict | None = None,
    body: str | None = None,
    concurrency: int = 8,
    duration: float = 2.0,
) -> Load:
    """Drive `url` from a separate process for `duration` seconds with `concurrency` connections.

    `body` may contain `{n}`, replaced in each request by a token unique within the run (so that
    creates do not collide).
    """
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    if load_tool() == "wrk":
        return _wrk(url, method, headers, body, concurrency, duration)
    return _loadgen(url, method, headers, body, concurrency, duration)


def interleaved(load, urls, spent, rounds: int) -> list[dict]:
    """Load each URL in turn, `rounds` times (a, b, c, a, b, c, ...): for each, the medians of
    each figure, so a moment when the machine is busy weighs on every side alike. `load(url)`
    runs one load; `spent`: for each URL, a function giving the CPU milliseconds its server has
    used so far."""
    runs, cpu = [[] for _ in urls], [[] for _ in urls]
    for _ in range(rounds):
        for side, url in enumerate(urls):
            before = spent[side]()
            run = load(url)
            cpu[side].append((spent[side]() - before) * 1000 / max(run.requests, 1))
            runs[side].append(run)
    return [
        {
            "rps": median([r.rps for r in side]),
            "cpu_us": median(cpu_us),
            "p50_ms": median([r.p50_ms for r in side]),
            "p99_ms": median([r.p99_ms for r in side]),
            "errors": sum(r.errors for r in side),
        }
        for side, cpu_us in zip(runs, cpu, strict=True)
    ]


def warm_up(url: str, method="GET", headers=None, body=None, max_seconds: float = 6.0) -> None:
    """Load `url` in short bursts until throughput settles (two bursts within 15%) or time is up.

    Node's JIT needs thousands of calls before Prism runs at full speed; the sandbox's first
    calls of a route are slower too. Measuring before that compares start-up, not serving.
    """
    deadline, last = time.monotonic() + max_seconds, None
    while time.monotonic() < deadline:
        rps = run_load(url, method, headers, body, concurrency=8, duration=0.5).rps
        if last and abs(rps - last) <= 0.15 * max(rps, last):
            return
        last = rps


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrk_script(method: str, path: str, headers: dict, body: str | None) -> str:
    run = f"r{os.getpid() % 10000}x{int(time.time() * 1000) % 100000}"
    header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    head, _, tail = (body or "").partition("{n}")
    return f"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local headers = {{ {header_table} }}
local has_body = {"true" if body is not None else "false"}
local templated = {"true" if body and "{n}" in body else "false"}
function request()
  n = n + 1
  local body = nil
  if has_body then
    body = {_lua_string(head)}
    if templated then
      body = body .. "{run}t" .. tostring(tid) .. "n" .. n .. {_lua_string(tail)}
    end
  end
  return wrk.format({_lua_string(method)}, {_lua_string(path)}, headers, body)
end
"""


def _wrk(url, method, headers, body, concurrency, duration) -> Load:
    parsed = httpx.URL(url)
    path = parsed.raw_path.decode()
    origin = f"{parsed.scheme}://{parsed.host}:{parsed.port}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(method, path, headers, body))
    try:
        threads = max(1, min(2, concurrency))
        seconds = max(1, round(duration))  # wrk takes whole seconds only
        command = [_WRK, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
        command += ["--timeout", WRK_TIMEOUT, "-s", script.name, origin]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script.name)
    if "requests in" not in done.stdout:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else float("nan")


def parse_wrk(out: str) -> Load:
    """Figures from wrk's --latency report."""

    def grab(pattern: str, default="0"):
        match = re.search(pattern, out)
        return match.group(1) if match else default

    requests = int(grab(r"(\d+) requests in"))
    socket_errors = sum(
        int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", grab(r"(Socket.*)", ""))
    )
    non2xx = int(grab(r"Non-2xx or 3xx responses: (\d+)"))
    return Load(
        rps=float(grab(r"Requests/sec:\s+([\d.]+)", "nan")),
        p50_ms=_ms(grab(r"\s50%\s+(\S+)", "nan")),
        p99_ms=_ms(grab(r"\s99%\s+(\S+)", "nan")),
        requests=requests,
        errors=socket_errors + non2xx,
        tool="wrk",
    )


def _loadgen(url, method, headers, body, concurrency, duration) -> Load:
    command = [sys.executable, str(BENCH / "loadgen.py"), url, "--method", method]
    command += ["--concurrency", str(concurrency), "--duration", str(duration)]
    for key, value in headers.items():
        command += ["--header", f"{key}: {value}"]
    if body is not None:
        command += ["--body", body]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    try:
        figures = json.loads(out.stdout)
    except ValueError:
        raise RuntimeError(f"loadgen failed: {out.stderr[-1000:]}") from None
    return Load(**figures, tool="loadgen")


def as_dict(load: Load) -> dict:
    return asdict(load)
