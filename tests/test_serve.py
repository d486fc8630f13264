"""`domainsandbox serve` as a user runs it: a real process, real ports, Ctrl-C to stop."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.client import ControlClient

CLI = [str(Path(sys.executable).parent / "domainsandbox")]
FROZEN_AT = "2026-03-01T12:00:00Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # the command name is in parentheses and may hold spaces: the fields after it count
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                children.append(int(stat.parent.name))
    return sorted(children)


def cmdline_of(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


class Served:
    """A `domainsandbox serve` process whose banner has been read."""

    def __init__(self, *args: str, sigint_ignored: bool = False, open_files: int | None = None):
        """`sigint_ignored`: start it as a shell starts a background job (SIGINT ignored).
        `open_files`: the most files it may open (soft and hard limit, as `ulimit -n`)."""

        def setup() -> None:
            if sigint_ignored:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            if open_files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", "0", "--dns-port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
            preexec_fn=setup,
        )
        self.banner = []
        for line in self.process.stdout:
            self.banner.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(self.banner)
        assert "control" in text, text + self.process.stderr.read()
        self.urls = dict(re.findall(r"^\s+(\w+)\s+(http://\S+)$", text, re.M))
        self.dns = re.search(r"DNS\s+([\d.]+):(\d+)", text).groups()

    def worker_pids(self) -> list[int]:
        """The worker processes `serve --workers` started, read from /proc."""
        return [pid for pid in children_of(self.process.pid) if b"spawn_main" in cmdline_of(pid)]

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=15)
        return self.process.returncode, out


def wait_for(condition, seconds: float = 20.0):
    """Poll `condition` until it returns something true (returned), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {condition}")


def serve_refused(*args: str, env: dict | None = None, timeout: float = 30):
    """Run `domainsandbox serve ARGS` where it must refuse to start: its status and output."""
    command = [*CLI, "serve", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def run_monite_story(urls: dict[str, str]) -> list[bytes]:
    """The same calls, in the same order; returns every response body."""
    control = ControlClient(urls["control"].removesuffix("/_sandbox"))
    control.freeze(at=FROZEN_AT)
    base, version = urls["monite"], {"x-monite-version": "2024-05-25"}
    bodies = []
    token = httpx.post(
        f"{base}/auth/token",
        json={
            "client_id": "eb959578-a74d-4ac3-8b25-bf0910027857",
            "client_secret": "s",
            "grant_type": "client_credentials",
        },
        headers=version,
    )
    bodies.append(token.content)
    headers = version | {"Authorization": "Bearer " + token.json()["access_token"]}
    created = httpx.post(
        f"{base}/mailbox_domains", json={"domain": "det.example.com"}, headers=headers
    )
    bodies.append(created.content)
    domain_id = created.json()["id"]
    control.publish("monite", domain_id, omit=["dkim"])
    bodies.append(httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers).content)
    control.publish("monite", domain_id)
    control.advance(300)
    bodies.append(httpx.get(f"{base}/mailbox_domains", headers=headers).content)
    control.close()
    return bodies


def test_serve_prints_every_base_url_and_the_dns_address_and_stops_on_ctrl_c():
    served = Served("--seed", "7")
    try:
        assert set(served.urls) >= {"monite", "control"}
        assert served.urls["monite"].endswith("/monite/v1")
        host, port = served.dns
        dig = subprocess.run(
            ["dig", f"@{host}", "-p", port, "+short", "+time=2", "+tries=1", "example.com", "TXT"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert dig.returncode == 0  # the DNS server answers (empty: nothing published yet)
        assert httpx.get(served.urls["control"] + "/clock").status_code == 200
    finally:
        code, out = served.stop()
    assert code == 0
    assert "stopped" in out


def test_same_seed_same_calls_give_byte_identical_bodies_across_two_runs():
    runs = []
    for _ in range(2):
        served = Served("--seed", "99")
        try:
            runs.append(run_monite_story(served.urls))
        finally:
            served.stop()
    assert runs[0] == runs[1]
    assert b"verified" in runs[0][-1]


def test_a_different_seed_gives_different_ids():
    bodies = []
    for seed in ("1", "2"):
        served = Served("--seed", seed)
        try:
            bodies.append(run_monite_story(served.urls)[1])
        finally:
            served.stop()
    assert bodies[0] != bodies[1]


@pytest.mark.parametrize("which", ["--port", "--dns-port"])
def test_a_port_in_use_gets_a_clear_message_and_exit_code_2(which):
    with socket.socket() as busy_tcp, socket.socket(type=socket.SOCK_DGRAM) as busy_udp:
        busy_tcp.bind(("127.0.0.1", 0))
        busy_tcp.listen()
        port = busy_tcp.getsockname()[1]
        with contextlib.suppress(OSError):
            busy_udp.bind(("127.0.0.1", port))
        other = "--dns-port" if which == "--port" else "--port"
        result = serve_refused(which, str(port), other, "0")
    assert result.returncode == 2
    assert f"port {port} is already in use" in result.stderr
