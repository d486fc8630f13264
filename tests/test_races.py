"""Races, soaked: what concurrent clients do at the same instant must neither lose an
acknowledged change nor make one twice, in one process and across `serve --workers 2`.

Three races run together against a real `domainsandbox serve` for RACE_SECONDS:
- same-name creates: six AutoSend clients add one name at once; exactly one may succeed;
- a delete during a validation: a Scaleway domain is deleted while its validation step is
  still asking DNS (slowed by a delay fault); the acknowledged delete must stand;
- concurrent logins: Monite partners log in from four threads; every token answered must work.
Counted: lost acknowledgements, duplicates and 5xx answers. All must be 0.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import httpx
import pytest

from sandbox.client import ControlClient
from sandbox.driver import at_once

from .helpers import Served, wait_for

RACE_SECONDS = float(os.environ.get("DOMAINSANDBOX_RACE_SECONDS", "8"))
AUTOSEND = {"Authorization": "Bearer as_racing_project"}
SCALEWAY = {"X-Auth-Token": "3c7e9a1b-5d2f-4a6c-8e0b-1f3a5c7e9b2d"}
SCALEWAY_PROJECT = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
MONITE_VERSION = {"x-monite-version": "2024-05-25"}
DOMAINS = "/mailbox/v1alpha1/domains"


class Tally:
    """What went wrong, by kind, across every racing thread."""

    def __init__(self):
        self.lost, self.duplicates, self.server_errors = [], [], []
        self.rounds = {"same-name": 0, "delete-during-validation": 0, "logins": 0}
        self._lock = threading.Lock()

    def answer(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 500:
            with self._lock:
                self.server_errors.append(f"{response.request.method} {response.request.url}")
        return response

    def add(self, kind: str, what: str) -> None:
        with self._lock:
            getattr(self, kind).append(what)


def same_name_creates(urls, tally: Tally, deadline: float) -> None:
    base, n = urls["autosend"], 0
    while time.monotonic() < deadline:
        n += 1
        name = f"race{n}.same-name.example"
        barrier, answers = threading.Barrier(6), []

        def add(name=name, barrier=barrier, answers=answers):
            barrier.wait()
            answers.append(tally.answer(httpx.post(base + "/domains", headers=AUTOSEND,
                                                   json={"domain": name}, timeout=30)))  # fmt: skip

        threads = [threading.Thread(target=add) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        made = [a for a in answers if a.status_code == 200]
        listed = tally.answer(httpx.get(base + "/domains", headers=AUTOSEND, timeout=30))
        named = [d for d in listed.json()["data"]["domains"] if d["domainName"] == name]
        if len(made) != 1 or len(named) != 1:
            tally.add("duplicates", f"{name}: {len(made)} created, {len(named)} listed")
        for domain in named:
            tally.answer(httpx.delete(f"{base}/domains/{domain['id']}", headers=AUTOSEND))
        tally.rounds["same-name"] += 1


def delete_during_validation(urls, control: ControlClient, tally: Tally, deadline: float) -> None:
    base, n = urls["scaleway"], 0
    with httpx.Client(base_url=base, headers=SCALEWAY, timeout=60) as http:
        while time.monotonic() < deadline:
            n += 1
            name = f"race{n}.slow-validation.example"
            created = tally.answer(
                http.post(DOMAINS, json={"name": name, "project_id": SCALEWAY_PROJECT})
            ).json()
            tally.answer(http.get(f"{DOMAINS}/{created['id']}"))  # creating -> waiting
            control.publish("scaleway", created["id"])
            control.add_fault(f"*.{name}", "delay", delay_ms=100)
            control.add_fault(name, "delay", delay_ms=100)
            tally.answer(http.post(f"{DOMAINS}/{created['id']}/validate-records", json={}))
            landing = threading.Thread(  # lands the due validation step: it asks DNS slowly
                target=lambda i=created["id"]: tally.answer(http.get(f"{DOMAINS}/{i}"))
            )
            landing.start()
            wait_for(lambda name=name: [q for q in control.queries(200) if name in q["name"]])
            deleted = tally.answer(http.delete(f"{DOMAINS}/{created['id']}"))
            landing.join()
            after = wait_for(lambda i=created["id"]: _settled(tally, http.get(f"{DOMAINS}/{i}")))
            if deleted.status_code == 200 and after.status_code != 404:
                tally.add("lost", f"{name}: deleted, then {after.json().get('status')}")
            tally.rounds["delete-during-validation"] += 1


def _settled(tally: Tally, answer: httpx.Response) -> httpx.Response | None:
    """The answer once the domain is no longer on its way out (deleting lands on the clock)."""
    tally.answer(answer)
    if answer.status_code == 200 and answer.json()["status"] == "deleting":
        return None
    return answer


def logins(urls, tally: Tally, deadline: float) -> None:
    tokens, lock = [], threading.Lock()

    def log_in(partner: int) -> None:
        body = {
            "client_id": str(uuid.UUID(int=partner + 1)),
            "client_secret": "s",
            "grant_type": "client_credentials",
        }
        with httpx.Client(base_url=urls["monite"], headers=MONITE_VERSION, timeout=30) as http:
            while time.monotonic() < deadline:
                answer = tally.answer(http.post("/auth/token", json=body))
                if answer.status_code == 200:
                    with lock:
                        tokens.append(answer.json()["access_token"])

    threads = [threading.Thread(target=log_in, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with httpx.Client(base_url=urls["monite"], timeout=30) as http:
        for token in tokens:
            used = tally.answer(
                http.get(
                    "/mailbox_domains",
                    headers=MONITE_VERSION | {"Authorization": f"Bearer {token}"},
                )
            )
            if used.status_code != 200:
                tally.add("lost", f"a token answered at login got {used.status_code}")
    tally.rounds["logins"] = len(tokens)


@pytest.mark.slow
@pytest.mark.timeout(RACE_SECONDS + 180)
@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "2 workers"])
def test_racing_clients_lose_no_acknowledgement_and_make_nothing_twice(workers):
    served = Served("--workers", str(workers))
    control = ControlClient(served.urls["control"].removesuffix("/_sandbox"))
    # Scaleway's transient statuses land at the next request: the race is with validation
    # itself, not with how long a domain shows `validating` (30 s and more by default).
    control.update_settings("scaleway", at_once(control.settings("scaleway")))
    tally, deadline = Tally(), time.monotonic() + RACE_SECONDS
    races = [
        threading.Thread(target=same_name_creates, args=(served.urls, tally, deadline)),
        threading.Thread(
            target=delete_during_validation, args=(served.urls, control, tally, deadline)
        ),
        threading.Thread(target=logins, args=(served.urls, tally, deadline)),
    ]
    try:
        for race in races:
            race.start()
        for race in races:
            race.join()
    finally:
        control.close()
        served.stop()

    assert tally.lost == [] and tally.duplicates == [] and tally.server_errors == []
    assert all(tally.rounds.values()), tally.rounds  # each race really ran
