"""`GET /_sandbox/health`: what a CI job waits on, open without the control token, under
`serve` and `serve --workers`."""

import subprocess
import time

import httpx
import pytest

from sandbox import __version__
from sandbox.client import ControlClient

from .helpers import CLI, Served

TOKEN = "health-check-token"


@pytest.fixture(scope="module")
def served():
    running = Served("--seed", "7", "--control-token", TOKEN)
    yield running
    running.stop()


def health_of(served: Served, **headers) -> httpx.Response:
    return httpx.get(served.urls["control"] + "/health", headers=headers, timeout=10)


def test_health_says_ready_with_the_version_and_where_dns_listens(served):
    answer = health_of(served)
    assert answer.status_code == 200
    health = answer.json()
    host, port = served.dns
    assert health["ready"] is True
    assert health["dns"] == {"host": host, "port": int(port)}
    assert health["version"] == __version__
    assert set(health["providers"]) == set(served.urls) - {"control", "dashboard"}
    assert health["uptime_seconds"] > 0


def test_health_needs_no_token_where_every_other_control_call_does(served):
    assert health_of(served).status_code == 200
    refused = httpx.get(served.urls["control"] + "/clock", timeout=10)
    assert refused.status_code == 401
    assert health_of(served, authorization="Bearer wrong").status_code == 200


def test_health_answers_at_a_service_name_the_rest_of_the_control_api_refuses(served):
    # A CI service container is reached by its service's name: its health check works as is.
    assert health_of(served, host="sandbox:8080").status_code == 200
    bearer = {"authorization": f"Bearer {TOKEN}", "host": "sandbox:8080"}
    refused = httpx.get(served.urls["control"] + "/clock", headers=bearer, timeout=10)
    assert refused.status_code == 403


def test_uptime_grows(served):
    first = health_of(served).json()["uptime_seconds"]
    time.sleep(0.05)
    assert health_of(served).json()["uptime_seconds"] > first


def test_the_control_client_reads_health_without_a_token(served):
    with ControlClient(served.urls["control"].removesuffix("/_sandbox")) as control:
        assert control.health()["ready"] is True


def test_version_flag_says_the_version_health_says():
    printed = subprocess.run([*CLI, "--version"], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == f"domainsandbox {__version__}"


def test_health_answers_through_every_worker_of_serve_workers():
    workers = Served("--workers", "2", "--control-token", TOKEN)
    try:
        url = workers.urls["control"] + "/health"
        for _ in range(6):  # a new connection each time: the kernel spreads them over workers
            answer = httpx.get(url, headers={"connection": "close"}, timeout=10)
            assert answer.status_code == 200
            assert answer.json()["ready"] is True
            assert answer.json()["dns"]["port"] == int(workers.dns[1])  # the serving process's
    finally:
        workers.stop()
