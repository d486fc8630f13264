"""Injected DNS faults, seen by real clients: error codes, timeouts, delays, truncation."""

from __future__ import annotations

import threading
import time

import dns.exception
import dns.flags
import pytest

from fake_dns import Faults
from tests.fake_dns_helpers import answer_texts, ask, dig, fresh, rcode, soa_owner, txt_values

from .helpers import wait_for


@pytest.fixture
def fake(dns_server):
    """The module's server with example.com published, no faults and an empty query log."""
    return fresh(
        dns_server,
        ("example.com", "MX", "10 mxa.eu.mailgun.org"),
        ("example.com", "TXT", "v=spf1 include:mailgun.org ~all"),
        ("_dmarc.example.com", "TXT", "v=DMARC1; p=none"),
    )


@pytest.mark.parametrize(("kind", "expected"), [("servfail", "SERVFAIL"), ("refused", "REFUSED")])
def test_error_faults_answer_their_rcode(fake, tcp, kind, expected):
    fake.faults.add("example.com", kind)
    response = ask(fake, "example.com", "MX", tcp=tcp)
    assert rcode(response) == expected
    assert not response.answer
    assert fake.queries[-1]["fault"] == kind


def test_forced_nxdomain_hides_an_existing_name(fake, tcp):
    """As a name the zone does not hold: under its zone's SOA, never one of its own (an apex
    holds its SOA, so it exists: RFC 2308 2.1); example.com's zone is then com's."""
    fake.zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none")
    fake.faults.add("example.com", "nxdomain")
    fake.faults.add("_dmarc.example.com", "nxdomain")
    response = ask(fake, "example.com", "MX", tcp=tcp)
    assert rcode(response) == "NXDOMAIN"
    assert soa_owner(response) == "com"
    below = ask(fake, "_dmarc.example.com", "TXT", tcp=tcp)
    assert (rcode(below), soa_owner(below)) == ("NXDOMAIN", "example.com")


def test_fault_with_count_applies_to_that_many_queries_then_disappears(fake, tcp):
    fault = fake.faults.add("example.com", "servfail", count=2)
    assert fault["count"] == 2 and fault["id"]
    assert rcode(ask(fake, "example.com", "MX", tcp=tcp)) == "SERVFAIL"
    assert fake.faults.list()[0]["count"] == 1
    assert rcode(ask(fake, "example.com", "MX", tcp=tcp)) == "SERVFAIL"
    assert fake.faults.list() == []
    assert rcode(ask(fake, "example.com", "MX", tcp=tcp)) == "NOERROR"


def test_fault_qtype_filter_leaves_other_types_alone(fake):
    fake.faults.add("*.example.com", "servfail", qtype="TXT", count=2)
    assert answer_texts(ask(fake, "example.com", "MX"), "MX")  # the apex is not below itself
    assert rcode(ask(fake, "_dmarc.example.com", "MX")) == "NOERROR"  # other type: untouched
    assert rcode(ask(fake, "_dmarc.example.com", "TXT")) == "SERVFAIL"
    assert fake.faults.list()[0]["count"] == 1  # non-matching queries did not consume it


def test_a_fault_may_name_any_query_type_a_query_can_have(fake):
    fake.faults.add("example.com", "servfail", qtype="soa")
    fake.faults.add("example.com", "refused", qtype="TYPE65280")
    assert rcode(ask(fake, "example.com", "SOA")) == "SERVFAIL"
    assert [f["qtype"] for f in fake.faults.list()] == ["SOA", "TYPE65280"]


def test_star_matches_every_name(fake):
    fake.faults.add("*", "refused")
    assert rcode(ask(fake, "example.com", "MX")) == "REFUSED"
    assert rcode(ask(fake, "anything.test", "A")) == "REFUSED"


def test_remove_and_clear_end_faults(fake):
    first = fake.faults.add("example.com", "servfail")
    fake.faults.add("_dmarc.example.com", "refused")
    assert fake.faults.remove(first["id"]) is True
    assert fake.faults.remove(first["id"]) is False
    assert rcode(ask(fake, "example.com", "MX")) == "NOERROR"
    assert fake.faults.clear() == 1
    assert rcode(ask(fake, "_dmarc.example.com", "TXT")) == "NOERROR"
    assert fake.faults.list() == []


def test_drop_makes_the_client_time_out(fake, tcp):
    fake.faults.add("example.com", "drop", count=1)
    with pytest.raises(dns.exception.Timeout):
        ask(fake, "example.com", "MX", tcp=tcp, timeout=0.3)
    assert fake.queries[-1]["fault"] == "drop" and fake.queries[-1]["rcode"] is None
    assert rcode(ask(fake, "example.com", "MX", tcp=tcp)) == "NOERROR"


def test_delay_answers_normally_after_the_delay(fake, tcp):
    fake.faults.add("example.com", "delay", delay_ms=300, count=1)
    started = time.monotonic()
    response = ask(fake, "example.com", "MX", tcp=tcp)
    assert time.monotonic() - started >= 0.8 * 0.3
    assert answer_texts(response, "MX") == ["10 mxa.eu.mailgun.org."]
    assert fake.queries[-1]["fault"] == "delay"


def test_delayed_query_does_not_hold_up_other_clients(fake):
    fake.faults.add("example.com", "delay", delay_ms=1000, count=1)
    results = {}

    def slow_client():
        results["slow"] = ask(fake, "example.com", "MX", timeout=5)

    thread = threading.Thread(target=slow_client)
    thread.start()
    wait_for(lambda: len(fake.faults) == 0, seconds=5)  # the slow query took the delay
    assert txt_values(ask(fake, "_dmarc.example.com", "TXT")) == ["v=DMARC1; p=none"]
    assert thread.is_alive()  # answered while the other query was still being delayed
    thread.join()
    assert answer_texts(results["slow"], "MX")


def test_truncate_sets_tc_over_udp_and_tcp_gets_the_full_answer(fake):
    fake.faults.add("example.com", "truncate", count=1)
    udp = ask(fake, "example.com", "MX")
    assert udp.flags & dns.flags.TC and not udp.answer
    assert fake.faults.list() == []  # consumed by the UDP query
    fake.faults.add("example.com", "truncate")
    tcp = ask(fake, "example.com", "MX", tcp=True)  # truncate never applies over TCP
    assert answer_texts(tcp, "MX") == ["10 mxa.eu.mailgun.org."]
    assert fake.faults.list()[0]["count"] is None


def test_resolver_retries_over_tcp_after_truncation(fake):
    fake.faults.add("example.com", "truncate")
    answers = fake.resolver().resolve("example.com", "MX")
    assert [r.to_text() for r in answers] == ["10 mxa.eu.mailgun.org."]
    assert [(q["transport"], q["fault"]) for q in fake.queries] == [
        ("udp", "truncate"),
        ("tcp", None),
    ]


def test_dig_retries_over_tcp_after_truncation(fake):
    fake.faults.add("example.com", "truncate")
    out = dig(fake, "example.com", "MX")
    assert "Truncated, retrying in TCP mode" in out
    assert "mxa.eu.mailgun.org." in out and "(TCP)" in out
    assert [q["transport"] for q in fake.queries] == ["udp", "tcp"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "example.com", "kind": "explode"}, "unknown fault kind"),
        ({"name": "example.com", "kind": "delay"}, "delay_ms: a delay fault needs one"),
        ({"name": "example.com", "kind": "servfail", "count": 0}, "positive integer"),
        ({"name": "example.com", "kind": "servfail", "delay_ms": 5}, "only a delay fault takes"),
        # a bool is an int to Python: it was stored as `delay_ms: True`
        ({"name": "example.com", "kind": "delay", "delay_ms": True}, "a number from 0 to"),
        ({"name": "bad..name", "kind": "servfail"}, "invalid name"),
        # it made a rule that never matched
        ({"name": "example.com", "kind": "servfail", "qtype": "BOGUS"}, "unknown query type"),
    ],
)
def test_invalid_faults_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Faults().add(**kwargs)
