"""Load and soak: concurrent clients running mixed operations on all four providers, and readers
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

from .helpers import Served

SOAK_SECONDS = float(os.environ.get("DOMAINSANDBOX_SOAK_SECONDS", "15"))
# Domains a client keeps at most before deleting some: lists stay one page long.
KEEP = 15
# Memory the server may gain over the run before it counts as growing (loose: allocator noise).
RSS_SLACK_BYTES = 150 * 1024 * 1024
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

MONITE_PARTNER = "eb959578-a74d-4ac3-8b25-bf0910027857"
MONITE_VERSION = {"x-monite-version": "2024-05-25"}
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Client:
    """One provider client in a loop: create, read, verify, list (and check), delete."""

    provider = ""

    def __init__(self, served: Served, number: int, deadline: float):
        self.urls, self.number, self.deadline = served.urls, number, deadline
        self.alive: list[str] = []
        self.statuses: Counter = Counter()
        self.problems: list[str] = []
        self.http = httpx.Client(timeout=30)
        self.calls = 0

    def call(self, method: str, url: str, expect: int, **kwargs) -> httpx.Response:
        response = self.http.request(method, url, **kwargs)
        self.calls += 1
        self.statuses[response.status_code] += 1
        if response.status_code != expect:
            self.problems.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    def run(self) -> None:
        try:
            i = 0
            while time.monotonic() < self.deadline and not self.problems:
                self.alive.append(self.create(f"c{self.number}-{i}.example.com"))
                self.touch(self.alive[-1])
                if len(self.alive) > KEEP and self.can_delete:
                    self.delete(self.alive.pop(0))
                listed = self.list()
                if sorted(listed) != sorted(self.alive):
                    self.problems.append(f"list {sorted(listed)} != created {sorted(self.alive)}")
                i += 1
        except Exception as exc:  # a transport failure is a finding too
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    can_delete = True


class AutoSend(Client):
    provider = "autosend"

    def setup(self):
        self.base = self.urls["autosend"]
        self.http.headers["Authorization"] = f"Bearer as_soak_{self.number}"

    def create(self, name):
        return self.call("POST", f"{self.base}/domains", 200, json={"domain": name}).json()["data"][
            "id"
        ]

    def touch(self, domain_id):
        self.call("GET", f"{self.base}/domains/{domain_id}", 200)
        self.call("POST", f"{self.base}/domains/{domain_id}/verify", 200)

    def delete(self, domain_id):
        self.call("DELETE", f"{self.base}/domains/{domain_id}", 200)

    def list(self):
        body = self.call("GET", f"{self.base}/domains", 200).json()
        return [d["id"] for d in body["data"]["domains"]]


class Monite(Client):
    provider = "monite"

    def setup(self):
        self.base = self.urls["monite"]
        body = {
            "client_id": MONITE_PARTNER,
            "client_secret": "s",
            "grant_type": "client_credentials",
        }
        self.http.headers.update(MONITE_VERSION)
        token = self.call("POST", f"{self.base}/auth/token", 200, json=body).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def create(self, name):
        return self.call("POST", f"{self.base}/mailbox_domains", 201, json={"domain": name}).json()[
            "id"
        ]

    def touch(self, domain_id):
        self.call("POST", f"{self.base}/mailbox_domains/{domain_id}/verify", 200)

    def delete(self, domain_id):
        self.call("DELETE", f"{self.base}/mailbox_domains/{domain_id}", 204)

    def list(self):
        return [
            d["id"] for d in self.call("GET", f"{self.base}/mailbox_domains", 200).json()["data"]
        ]


class Scaleway(Client):
    provider = "scaleway"

    def setup(self):
        self.base = self.urls["scaleway"] + "/mailbox/v1alpha1/domains"
        self.http.headers["X-Auth-Token"] = f"00000000-0000-4000-8000-{self.number:012d}"

    def create(self, name):
        body = {"name": name, "project_id": SCALEWAY_PROJECT}
        return self.call("POST", self.base, 200, json=body).json()["id"]

    def touch(self, domain_id):
        self.call("GET", f"{self.base}/{domain_id}", 200)
        self.call("GET", f"{self.base}/{domain_id}/records", 200)

    def delete(self, domain_id):
        self.call("DELETE", f"{self.base}/{domain_id}", 200)

    def list(self):
        body = self.call("GET", self.base, 200, params={"page_size": 100}).json()
        # a deleted domain shows `deleting` until its step lands: it is on its way out
        return [d["id"] for d in body["domains"] if d["status"] != "deleting"]


class Vortex(Client):
    provider = "vortex"
    can_delete = False  # Vortex documents no delete: its list only grows

    def setup(self):
        self.base = f"{self.urls['vortex']}/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains"
        self.http.headers["x-api-key"] = f"VRTX.MTIzZTQ1NjctZTg5Yi0xMm.soaksecret{self.number}"

    def create(self, name):
        return self.call("POST", self.base, 201, json={"domain": name}).json()["id"]

    def touch(self, domain_id):
        self.call("PATCH", f"{self.base}/{domain_id}", 200, json={"description": "soaked"})
        self.call("PATCH", f"{self.base}/{domain_id}/checkDkimStatus", 200)

    def list(self):
        ids, start = [], 0
        while page := self.call("GET", self.base, 200, params={"start": start}).json():
            ids += [d["id"] for d in page]
            start += len(page)
        return ids


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


@pytest.mark.timeout(SOAK_SECONDS + 120)
@pytest.mark.parametrize("workers", [1, 3], ids=["one process", "3 workers"])
def test_concurrent_mixed_clients_lose_nothing_and_never_see_a_5xx(workers):
    served = Served("--workers", str(workers))
    try:
        server_url = served.urls["control"].removesuffix("/_sandbox")
        deadline = time.monotonic() + SOAK_SECONDS
        clients = [
            kind(served, n, deadline)
            for n, kind in enumerate([AutoSend, Monite, Scaleway, Vortex, AutoSend, Scaleway])
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
        listed = {
            p: [d["id"] for d in control.domains(p)] for p in ("autosend", "monite", "vortex")
        }
        scaleway = [d for d in control.domains("scaleway") if d["status"] != "deleting"]
        listed["scaleway"] = [d["id"] for d in scaleway]
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
        expected = [d for c in clients if c.provider == provider for d in c.alive]
        assert sorted(listed[provider]) == sorted(expected), provider  # none lost, none extra
        assert len(set(listed[provider])) == len(listed[provider])  # none twice
    assert calls > 100 * len(clients)  # the load was real
    assert rss_end < rss_start + RSS_SLACK_BYTES
    assert code == 0
