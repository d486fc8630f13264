"""Load and soak: concurrent clients running mixed operations on every provider, and readers
of the control API, against a real `domainsandbox serve` for a bounded time.

Checked: no 5xx and no unexpected status; each client's list always shows exactly the domains it
created and has not deleted (nothing lost, nothing twice), and the control API agrees at the end.
The server's memory (RSS) before and after is reported in test-artifacts/soak-<workers>.json and only
loosely bounded; DOMAINSANDBOX_SOAK_SECONDS runs it longer (e.g. 600 for a real soak).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sandbox.client import ControlClient
from sandbox.driver import Driver
from sandbox.providers import PROVIDERS
from sandbox.providers.base import Provider

from .helpers import Served

SOAK_SECONDS = float(os.environ.get("DOMAINSANDBOX_SOAK_SECONDS", "15"))
# Domains a client keeps at most before deleting some: lists stay one page long.
KEEP = 15
# Memory the server may gain over the run before it counts as growing (loose: allocator noise).
RSS_SLACK_BYTES = 150 * 1024 * 1024
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Client:
    """One client of one provider in a loop, driven by the provider's kit: create, read,
    verify, list (and check), delete (where the provider has these calls)."""

    def __init__(self, served: Served, provider: type[Provider], number: int, deadline: float):
        self.provider_class, self.provider, self.kit = provider, provider.name, provider.kit
        self.server_url = served.urls["control"].removesuffix("/_sandbox")
        self.number, self.deadline = number, deadline
        self.alive: list[str] = []
        self.deleted: set[str] = set()  # may still be listed on their way out (Scaleway)
        self.statuses: Counter = Counter()
        self.problems: list[str] = []
        self.http = httpx.Client(timeout=30)
        self.calls = 0

    def setup(self) -> None:
        self.driver = Driver(self.http, self.server_url, self.provider_class, owner=self.number + 1)

    def call(self, op, domain_id: str = "", name: str = "", allowed=()) -> httpx.Response:
        response = self.driver.call(op, domain_id, name)
        self.calls += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 300 and response.status_code not in allowed:
            self.problems.append(f"{op.method} {op.at(domain_id)}: {response.status_code} "
                                 f"{response.text[:200]}")  # fmt: skip
        return response

    def run(self) -> None:
        try:
            i = 0
            while time.monotonic() < self.deadline and not self.problems:
                self.alive.append(self.create(f"c{self.number}-{i}.example.com"))
                self.touch(self.alive[-1])
                if len(self.alive) > KEEP and self.kit.delete:
                    gone = self.alive.pop(0)
                    self.call(self.kit.delete, gone)
                    self.deleted.add(gone)
                self.check_list()
                i += 1
        except Exception as exc:  # a transport failure is a finding too
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    def create(self, name: str) -> str:
        return self.kit.domain_id(self.call(self.kit.create, name=name).json(), name)

    def touch(self, domain_id: str) -> None:
        if self.kit.get:
            self.call(self.kit.get, domain_id)
        if self.kit.verify:  # a provider may refuse a check while a domain is being set up
            self.call(self.kit.verify, domain_id, allowed=(409,))

    def check_list(self) -> None:
        listed = self.driver.list_ids()
        self.calls += 1
        missing = set(self.alive) - set(listed)
        extra = set(listed) - set(self.alive) - self.deleted
        if missing or extra or len(set(listed)) != len(listed):
            self.problems.append(f"list {sorted(listed)} != created {sorted(self.alive)}")


def control_reader(url: str, deadline: float, problems: list[str]) -> None:
    """A dashboard-like reader polling the control API while the clients work."""
    control = ControlClient(url)
    try:
        while time.monotonic() < deadline:
            control.domains()
            control.requests()
            control.clock()
    except Exception as exc:
        problems.append(f"control reader: {type(exc).__name__}: {exc}")
    finally:
        control.close()


@pytest.mark.slow
@pytest.mark.timeout(SOAK_SECONDS + 120)
@pytest.mark.parametrize("workers", [1, 3], ids=["one process", "3 workers"])
def test_concurrent_mixed_clients_lose_nothing_and_never_see_a_5xx(workers):
    served = Served("--workers", str(workers))
    try:
        server_url = served.urls["control"].removesuffix("/_sandbox")
        deadline = time.monotonic() + SOAK_SECONDS
        clients = [
            Client(served, provider, n, deadline)
            for n, provider in enumerate(PROVIDERS + PROVIDERS[: max(2, 6 - len(PROVIDERS))])
        ]
        for client in clients:
            client.setup()
        rss_start = rss_bytes(served.process.pid)
        reader_problems: list[str] = []
        threads = [threading.Thread(target=c.run) for c in clients]
        threads.append(
            threading.Thread(target=control_reader, args=(server_url, deadline, reader_problems))
        )
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SOAK_SECONDS + 60)
        elapsed = time.monotonic() - started
        rss_end = rss_bytes(served.process.pid)

        control = ControlClient(server_url)
        listed = {p.name: [d["id"] for d in control.domains(p.name)] for p in PROVIDERS}
        control.close()
    finally:
        code, _ = served.stop()

    statuses = sum((c.statuses for c in clients), Counter())
    calls = sum(c.calls for c in clients)
    report = {
        "seconds": round(elapsed, 1),
        "clients": len(clients),
        "calls": calls,
        "calls_per_second": round(calls / elapsed),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_rss_mib": {"start": rss_start >> 20, "end": rss_end >> 20},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"soak-{workers}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"soak ({workers} worker(s)):", json.dumps(report))

    assert [p for c in clients for p in c.problems] + reader_problems == []
    assert not any(status >= 500 for status in statuses)
    for provider in listed:
        expected = {d for c in clients if c.provider == provider for d in c.alive}
        deleted = {d for c in clients if c.provider == provider for d in c.deleted}
        assert expected <= set(listed[provider]), provider  # none lost
        assert set(listed[provider]) - expected <= deleted, provider  # none extra
        assert len(set(listed[provider])) == len(listed[provider])  # none twice
    assert calls > 100 * len(clients)  # the load was real
    assert rss_end < rss_start + RSS_SLACK_BYTES
    assert code == 0
