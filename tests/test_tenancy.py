"""What tenants leave in the sandbox: credentials never shown, logins and strangers never piling
up, and every acknowledged token working however many logins race."""

from __future__ import annotations

import json
import threading
import uuid

import httpx

from .helpers import VERSION

AUTOSEND_KEY = "as_secret_of_tenant_one"
SCALEWAY_KEY = "7d2f9c4e-1a3b-4c5d-8e6f-0a1b2c3d4e5f"
PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
VORTEX_KEY = "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.tenant-one-secret"


def test_no_credential_shows_in_the_control_api_scenarios_or_state_files(urls, control):
    httpx.post(urls["autosend"] + "/domains", headers={"Authorization": f"Bearer {AUTOSEND_KEY}"},
               json={"domain": "a.tenant.example"})  # fmt: skip
    httpx.post(urls["scaleway"] + "/mailbox/v1alpha1/domains", headers={"X-Auth-Token": SCALEWAY_KEY},
               json={"name": "s.tenant.example", "project_id": PROJECT})  # fmt: skip
    httpx.post(urls["vortex"] + "/api/v1/accounts/acc/email-domains", headers={"x-api-key": VORTEX_KEY},
               json={"domain": "v.tenant.example"})  # fmt: skip
    shown = json.dumps(control.domains()) + control.export_scenario()  # a state file is the export
    assert len(control.domains()) == 3
    for secret in (AUTOSEND_KEY, SCALEWAY_KEY, VORTEX_KEY, "tenant-one-secret"):
        assert secret not in shown
    owners = {d["provider"]: d["owner"] for d in control.domains()}
    assert all(owner.startswith("owner-") for owner in owners.values()), owners


def test_strangers_and_logins_do_not_grow_the_world(urls, control):
    before = control.export_scenario()
    for n in range(200):
        key = str(uuid.UUID(int=n + 1))
        httpx.get(urls["scaleway"] + "/mailbox/v1alpha1/domains", headers={"X-Auth-Token": key})
        httpx.get(urls["autosend"] + "/domains", headers={"Authorization": f"Bearer as_k{n}"})
        body = {"client_id": key, "client_secret": "s", "grant_type": "client_credentials"}
        assert httpx.post(urls["monite"] + "/auth/token", json=body, headers=VERSION).is_success
    after = control.export_scenario()
    # what grew: Monite's count of tokens issued (a number), nothing per key or per login
    assert len(after) - len(before) < 40, after


def test_every_token_acknowledged_during_concurrent_logins_works(urls, control):
    issued, failures = [], []

    def log_in(client: int) -> None:
        body = {
            "client_id": str(uuid.UUID(int=client + 1)),
            "client_secret": "s",
            "grant_type": "client_credentials",
        }
        with httpx.Client(base_url=urls["monite"], headers=VERSION) as http:
            for _ in range(20):
                answer = http.post("/auth/token", json=body)
                if answer.status_code != 200:
                    failures.append(answer.status_code)
                else:
                    issued.append(answer.json()["access_token"])

    threads = [threading.Thread(target=log_in, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == [] and len(issued) == 160 and len(set(issued)) == 160
    with httpx.Client(base_url=urls["monite"]) as http:
        lists = [
            http.get("/mailbox_domains", headers=VERSION | {"Authorization": f"Bearer {token}"})
            for token in issued
        ]
    assert [r.status_code for r in lists] == [200] * 160
