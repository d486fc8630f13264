"""What many test modules share: running `domainsandbox serve`, waiting on a condition, a
Monite partner, the browser, the bundled scenarios, and every provider through its kit."""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from sandbox.client import ControlClient
from sandbox.providers import PROVIDERS
from sandbox.providers.base import Provider

# --- a real `domainsandbox serve` -----------------------------------------------------------

CLI = [str(Path(sys.executable).parent / "domainsandbox")]
# What stops `serve` gracefully: SIGTERM, Ctrl-C, and the hang-up of a closed terminal.
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
STOP_SIGNAL_NAMES = [signum.name for signum in STOP_SIGNALS]


# Ports a test pins are drawn below the kernel's range of ephemeral ports: a port from that
# range can become any outgoing connection's own between the draw and the test's bind.
_PINNED_PORTS_FROM = 10_000


def free_port() -> int:
    """A port free now on 127.0.0.1 for both TCP and UDP (the fake DNS takes both)."""
    below = _ephemeral_ports_start()
    for _ in range(100):
        port = secrets.choice(range(_PINNED_PORTS_FROM, below))
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port from {_PINNED_PORTS_FROM} to {below - 1}")


def _ephemeral_ports_start() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
    except OSError:
        return 32768  # Linux's default
    return max(int(text.split()[0]), _PINNED_PORTS_FROM + 1000)


def _bindable(port: int) -> bool:
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        try:
            tcp.bind(("127.0.0.1", port))
            udp.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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

    def __init__(
        self,
        *args: str,
        sigint_ignored: bool = False,
        open_files: int | None = None,
        before: tuple[str, ...] = (),
    ):
        """`sigint_ignored`: start it as a shell starts a background job (SIGINT ignored).
        `open_files`: the most files it may open (soft and hard limit, as `ulimit -n`).
        `before`: options given before the command name (`domainsandbox --token T serve`)."""

        def setup() -> None:
            if sigint_ignored:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            if open_files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        self.process = subprocess.Popen(
            [*CLI, *before, "serve", "--port", "0", "--dns-port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
            preexec_fn=setup,
        )
        self.banner, self.banner_lines = [], []  # what it said; the lines as written
        for line in self.process.stdout:  # (a JSON line's message, under --log-format json)
            said = json.loads(line)["message"] if line.startswith("{") else line.rstrip()
            self.banner.append(said)
            self.banner_lines.append(line)
            if said.startswith("Press Ctrl-C"):
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


def control_of(served: Served) -> ControlClient:
    """A control client of a served sandbox."""
    return ControlClient(served.urls["control"].removesuffix("/_sandbox"))


def autosend(served: Served, key: str) -> httpx.Client:
    """An AutoSend client of a served sandbox, with API key `key`."""
    return httpx.Client(
        base_url=served.urls["autosend"], headers={"Authorization": f"Bearer {key}"}, timeout=10
    )


# --- a Monite partner, as the README's walkthrough has it -------------------------------------

VERSION = {"x-monite-version": "2024-05-25"}

PARTNER_A = "eb959578-a74d-4ac3-8b25-bf0910027857"


def partner_headers(base: str, client_id: str = PARTNER_A, grant: str = "client_credentials"):
    body = {"client_id": client_id, "client_secret": "s3cret", "grant_type": grant}
    if grant == "entity_user":
        body["entity_user_id"] = "5b2d6a0e-1c4f-4e7a-8d3b-9a6f2c1e0b7d"
    response = httpx.post(f"{base}/auth/token", json=body, headers=VERSION)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 86400
    return VERSION | {"Authorization": f"Bearer {token['access_token']}"}


def create(base, headers, name="mail.example.com") -> dict:
    response = httpx.post(f"{base}/mailbox_domains", json={"domain": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def verify(base, headers, domain_id) -> dict:
    response = httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- Debian's Chromium, for the browser tests ------------------------------------------------

CHROMIUM = os.environ.get("DOMAINSANDBOX_CHROMIUM", "/usr/bin/chromium")

# Flags for a quiet, offline, containerised run: no sandboxing (root), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WAIT_MS = 10_000  # how long an expectation may wait for the page's next poll


# --- the bundled scenarios ----------------------------------------------------------------------

SCENARIOS = Path(__file__).parent.parent / "scenarios"


FROZEN_AT = "2026-03-01T12:00:00Z"


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


# --- every provider, from its kit (sandbox/providers/kit.py) ----------------------------------

PROVIDER_NAMES = [provider.name for provider in PROVIDERS]
PROVIDERS_BY_NAME = {provider.name: provider for provider in PROVIDERS}


def sesv2_client(url: str, key: str, region: str = "eu-west-1", attempts: int = 3):
    """boto3's sesv2 client, unchanged, against the sandbox's SES API at `url`."""
    import boto3  # only where SES's SDK is driven
    from botocore.config import Config

    return boto3.client(
        "sesv2",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="sandbox-secret",
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
    )


def sample_headers(provider: type[Provider], owner: int = 0) -> dict[str, str]:
    """A well-formed credential of `provider` as headers (not logged in: for Monite the
    client_id stands where a token would, which is enough where the front end answers first)."""
    kit = provider.kit
    return dict(kit.headers) | kit.headers_for(kit.sample_key(owner))


def error_message(name: str, response: httpx.Response) -> str | None:
    """The human sentence of an error, read where the provider's clients read it."""
    body = response.json()
    if name == "control":
        return body["error"]["message"]
    return PROVIDERS_BY_NAME[name].kit.error_message(body)


@contextlib.contextmanager
def stand_in_server(
    status: int,
    body: bytes,
    delay: float = 0.0,
    slow: tuple[str, ...] = (),
    received: list[bytes] | None = None,
):
    """A server on a free port answering every request `status` with the JSON `body`, after
    `delay` seconds (for the methods in `slow` only, if given): it stands in for a server that
    fails, refuses or is slow to answer. Each request's body goes into `received`, if given.
    Yields its URL."""

    class Answer(BaseHTTPRequestHandler):
        def answer(self):
            if received is not None:
                received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if delay and (not slow or self.command in slow):
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_TRACE = answer

        def log_message(self, *args):
            pass

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that gave up on a slow answer leaves a broken pipe: expected

    httpd = Quiet(("127.0.0.1", 0), Answer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
