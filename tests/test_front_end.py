"""The HTTP front end as clients meet it: where handlers run, what a request carries to them."""

from __future__ import annotations

import threading

import httpx

from .test_monite import create, partner_headers
from .test_serve import wait_for


def test_a_verify_waiting_on_slow_dns_does_not_hold_up_other_requests(urls, control):
    base = urls["monite"]
    headers = partner_headers(base)
    domain = create(base, headers, "slow.example.com")
    # Every lookup for the domain goes unanswered: the verifier waits for its timeout on each.
    control.add_fault("slow.example.com", "drop")
    control.add_fault("*.slow.example.com", "drop")
    verify = {}

    def verify_in_background():
        url = f"{base}/mailbox_domains/{domain['id']}/verify"
        verify["response"] = httpx.post(url, headers=headers, timeout=60)

    verifying = threading.Thread(target=verify_in_background)
    verifying.start()
    wait_for(lambda: [q for q in control.queries() if "slow.example.com" in q["name"]])

    # Reads and writes of the same tenant, and of the control API, answer meanwhile.
    listing = httpx.get(f"{base}/mailbox_domains", headers=headers, timeout=60)
    other = create(base, headers, "quick.example.com")
    clock = control.clock()
    still_verifying = verifying.is_alive()

    verifying.join()
    assert listing.status_code == 200 and other["domain"] == "quick.example.com"
    assert clock["frozen"] is True
    assert still_verifying, "the verify ended before the other requests were answered"
    assert verify["response"].status_code == 200
    assert verify["response"].json()["status"] == "waiting_to_be_verified"
