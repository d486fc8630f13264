"""Shared fixtures: one real sandbox (HTTP on a free port + fake DNS) per test session,
reset before each test with a frozen clock, so every test starts from the same world.

With DOMAINSANDBOX_TEST_WORKERS=N (N > 1) the session's sandbox is a `domainsandbox serve
--workers N` process instead: `make test` runs the provider suites that way too, so every
answer is also checked across the worker processes' wire to the world.
"""

from __future__ import annotations

import logging
import os

import dns.resolver
import pytest

from fake_dns import FakeDNS
from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient
from sandbox.engine.clock import Clock

START = "2026-01-01T09:00:00Z"
SEED = 4242

logging.getLogger("connexion").setLevel(logging.ERROR)


WORKERS = int(os.environ.get("DOMAINSANDBOX_TEST_WORKERS") or 1)


class ServedWorkers:
    """A `serve --workers N` process, with the attributes tests use of a SandboxServer."""

    def __init__(self, workers: int):
        from .helpers import Served

        self.served = Served("--workers", str(workers), "--seed", str(SEED))
        self.url = self.served.urls["control"].removesuffix("/_sandbox")
        self.port = int(self.url.rsplit(":", 1)[1])

    def base_urls(self) -> dict[str, str]:
        return {name: url for name, url in self.served.urls.items() if name != "dashboard"}


@pytest.fixture(scope="session")
def server():
    if WORKERS > 1:
        running = ServedWorkers(WORKERS)
        yield running
        assert running.served.stop()[0] == 0
        return
    sandbox = Sandbox(seed=SEED, clock=Clock(start=START, frozen=True))
    with SandboxServer(sandbox) as running:
        yield running


@pytest.fixture
def control(server) -> ControlClient:
    """The control API of a freshly reset sandbox, clock frozen at START."""
    client = ControlClient(server.url)
    client.reset(seed=SEED)  # settings too go back to their defaults
    client.freeze(at=START)
    yield client
    client.close()


@pytest.fixture
def urls(server, control) -> dict[str, str]:
    """Each provider's base URL as its client sets it, plus "control" and "server"."""
    return server.base_urls() | {"server": server.url}


@pytest.fixture
def resolver(server) -> dns.resolver.Resolver:
    """A stub resolver asking the sandbox's DNS server, as any mail system would ask DNS."""
    if hasattr(server, "sandbox"):
        host, port = server.sandbox.dns.host, server.sandbox.dns.port
    else:  # `serve --workers`: the banner's DNS address
        host, port = server.served.dns[0], int(server.served.dns[1])
    stub = dns.resolver.Resolver(configure=False)
    stub.nameservers, stub.port, stub.lifetime = [host], port, 3
    return stub


@pytest.fixture(scope="module")
def dns_server():
    """A fake DNS server of the test module's own (the fake_dns tests)."""
    with FakeDNS() as running:
        yield running


@pytest.fixture(params=["udp", "tcp"])
def tcp(request) -> bool:
    """Run the test over UDP, then over TCP."""
    return request.param == "tcp"
