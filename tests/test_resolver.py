"""`--resolver HOST:PORT`: the verifier asks another DNS server instead of the built-in one."""

from __future__ import annotations

import httpx
import pytest

from fake_dns import FakeDNS
from sandbox import Sandbox, SandboxServer
from sandbox.core import parse_hostport
from sandbox.engine.clock import Clock

from .helpers import create, partner_headers, verify


def test_parse_hostport_reads_the_usual_forms():
    assert parse_hostport("1.1.1.1:53") == ("1.1.1.1", 53)
    assert parse_hostport("9.9.9.9") == ("9.9.9.9", 53)
    assert parse_hostport("[::1]:5353") == ("::1", 5353)
    assert parse_hostport("[::1]") == ("::1", 53)
    assert parse_hostport("::1") == ("::1", 53)


@pytest.mark.parametrize(
    "value", ["bad:xx", "dns.google", "1.1.1.1:99999", "1.1.1.1:0", "1.1.1.1:", "[::1]x", ""]
)
def test_parse_hostport_refuses_what_no_resolver_can_be_asked_at(value):
    with pytest.raises(ValueError, match="is not a DNS server's address such as 1.1.1.1:53"):
        parse_hostport(value)


def test_verification_uses_the_given_resolver_not_the_built_in_dns():
    with FakeDNS(port=0) as outside:
        sandbox = Sandbox(
            seed=5,
            clock=Clock(start="2026-01-01T00:00:00Z", frozen=True),
            resolver=f"127.0.0.1:{outside.port}",
        )
        with SandboxServer(sandbox) as server:
            base = server.base_urls()["monite"]
            headers = partner_headers(base)
            domain_id = create(base, headers)["id"]

            published = sandbox.publish("monite", domain_id)  # into the built-in DNS only
            assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"

            for entry in published:  # the "real" DNS gets the records: now it verifies
                outside.zone.add(entry["name"], entry["type"], entry["value"])
            assert verify(base, headers, domain_id)["status"] == "verified"
            assert any(q["name"] == "mail.example.com" for q in outside.queries)
            assert httpx.get(server.url + "/_sandbox/clock").status_code == 200
