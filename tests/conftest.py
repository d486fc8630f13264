"""Shared fixtures: one real sandbox (HTTP on a free port + fake DNS) per test session,
reset before each test with a frozen clock, so every test starts from the same world."""

from __future__ import annotations

import logging

import pytest

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient
from sandbox.engine.clock import Clock

START = "2026-01-01T09:00:00Z"
SEED = 4242

logging.getLogger("connexion").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def server():
    sandbox = Sandbox(seed=SEED, clock=Clock(start=START, frozen=True))
    with SandboxServer(sandbox) as running:
        yield running


@pytest.fixture
def control(server) -> ControlClient:
    """The control API of a freshly reset sandbox, clock frozen at START."""
    client = ControlClient(server.url)
    client.reset(seed=SEED)
    client.freeze(at=START)
    for provider, defaults in {
        name: p.settings_defaults for name, p in server.sandbox.providers.items()
    }.items():
        server.sandbox.update_settings(provider, dict(defaults))
    yield client
    client.close()


@pytest.fixture
def urls(server, control) -> dict[str, str]:
    """Each provider's base URL as its client sets it, plus "control" and "server"."""
    return server.base_urls() | {"server": server.url}
