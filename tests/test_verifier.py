"""The validation authority's rules, judged against records served by the real fake DNS."""

from __future__ import annotations

import pytest

from fake_dns import FakeDNS
from sandbox.engine.clock import Clock
from sandbox.engine.records import Outcome, RequiredRecord, Rule
from sandbox.engine.verifier import Verifier

KEY = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1TaNgLlSyQMNWVLNLvyY"


@pytest.fixture(scope="module")
def dns():
    with FakeDNS(port=0) as server:
        yield server


@pytest.fixture
def verifier(dns):
    dns.zone.clear()
    dns.faults.clear()
    return Verifier(dns.host, dns.port, Clock(), timeout=0.5)


SPF = RequiredRecord(
    "spf", "TXT", "example.com", "v=spf1 include:mailgun.org ~all", Rule.SPF, "include:mailgun.org"
)
DKIM = RequiredRecord("dkim", "TXT", "sel._domainkey.example.com", f"k=rsa; p={KEY}", Rule.DKIM)
DMARC = RequiredRecord("dmarc", "TXT", "_dmarc.example.com", "v=DMARC1; p=none;", Rule.DMARC)
MX = RequiredRecord("mx", "MX", "example.com", "mxa.eu.mailgun.org", Rule.MX, priority=10)
TOKEN = RequiredRecord("token", "TXT", "_verify.example.com", "verify-abc123", Rule.TOKEN)
CNAME = RequiredRecord("cname", "CNAME", "email.example.com", "eu.mailgun.org", Rule.CNAME)


def test_token_present_among_other_txt_records_is_valid(dns, verifier):
    dns.zone.set("_verify.example.com", "TXT", ["google-site-verification=x", "verify-abc123"])
    assert verifier.check(TOKEN).outcome is Outcome.VALID


def test_token_absent_among_txt_records_is_invalid(dns, verifier):
    dns.zone.add("_verify.example.com", "TXT", "verify-other")
    result = verifier.check(TOKEN)
    assert result.outcome is Outcome.INVALID
    assert "verify-abc123" in result.reason and result.found == ("verify-other",)


def test_nxdomain_and_nodata_are_not_found(dns, verifier):
    assert verifier.check(TOKEN).outcome is Outcome.NOT_FOUND
    dns.zone.add("_verify.example.com", "A", "192.0.2.10")
    result = verifier.check(TOKEN)
    assert result.outcome is Outcome.NOT_FOUND and "no TXT record" in result.reason


def test_a_name_no_dns_can_hold_is_not_found_not_a_temporary_failure(verifier):
    """A 253-character domain's `_verify.` record is past DNS's 255 octets: it can never be
    published, and was reported as a lookup that failed for now ("try again")."""
    name = "_verify." + ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])
    result = verifier.check(RequiredRecord("token", "TXT", name, "verify-abc123", Rule.TOKEN))
    assert result.outcome is Outcome.NOT_FOUND
    assert result.reason.endswith("cannot exist: A DNS name is > 255 octets long."), result.reason


@pytest.mark.parametrize(
    ("values", "outcome", "reason"),
    [
        (["v=spf1 include:mailgun.org ~all"], Outcome.VALID, None),
        (["v=spf1 ip4:192.0.2.0/24 include:mailgun.org -all", "other"], Outcome.VALID, None),
        (["v=spf1 include:_spf.google.com ~all"], Outcome.INVALID, "lacks include:mailgun.org"),
        (
            ["v=spf1 include:mailgun.org ~all", "v=spf1 include:x.example ~all"],
            Outcome.INVALID,
            "2 SPF records",
        ),
        (["hello"], Outcome.INVALID, "no v=spf1 record"),
    ],
)
def test_spf_rule(dns, verifier, values, outcome, reason):
    dns.zone.set("example.com", "TXT", values)
    result = verifier.check(SPF)
    assert result.outcome is outcome
    assert reason is None and result.reason is None or reason in result.reason


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (f"k=rsa; p={KEY}", Outcome.VALID),
        (f"v=DKIM1; k=rsa; p={KEY}", Outcome.VALID),
        (KEY, Outcome.VALID),
        ("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCother", Outcome.INVALID),
    ],
)
def test_dkim_accepts_the_exact_value_the_p_tag_or_the_bare_key(dns, verifier, value, outcome):
    dns.zone.add("sel._domainkey.example.com", "TXT", value)
    assert verifier.check(DKIM).outcome is outcome


def test_dkim_as_a_cname_to_the_expected_target(dns, verifier):
    record = RequiredRecord(
        "dkim", "CNAME", "tok._domainkey.example.com", "tok.dkim.amazonses.com", Rule.DKIM
    )
    dns.zone.add("tok._domainkey.example.com", "CNAME", "tok.dkim.amazonses.com")
    assert verifier.check(record).outcome is Outcome.VALID


def test_a_long_dkim_key_split_into_strings_is_joined(dns, verifier):
    long_key = KEY * 8  # over 255 bytes: several character-strings on the wire
    record = RequiredRecord("dkim", "TXT", "sel._domainkey.example.com", f"p={long_key}", Rule.DKIM)
    dns.zone.add("sel._domainkey.example.com", "TXT", f"v=DKIM1; p={long_key}")
    assert verifier.check(record).outcome is Outcome.VALID


@pytest.mark.parametrize(
    ("values", "outcome"),
    [
        (["v=DMARC1; p=none;"], Outcome.VALID),
        (["v=DMARC1; p=reject; rua=mailto:d@example.com"], Outcome.VALID),
        (["v=DMARC1; p=bogus"], Outcome.INVALID),
        (["v=DMARC1; rua=mailto:d@example.com"], Outcome.INVALID),
        (["v=DMARC1; p=none", "v=DMARC1; p=reject"], Outcome.INVALID),
    ],
)
def test_dmarc_needs_one_record_with_a_valid_policy(dns, verifier, values, outcome):
    dns.zone.set("_dmarc.example.com", "TXT", values)
    assert verifier.check(DMARC).outcome is outcome


def test_mx_to_the_expected_exchange(dns, verifier):
    dns.zone.set("example.com", "MX", ["10 mxa.eu.mailgun.org", "10 mxb.eu.mailgun.org"])
    assert verifier.check(MX).outcome is Outcome.VALID
    dns.zone.set("example.com", "MX", ["10 mx.other.example"])
    result = verifier.check(MX)
    assert result.outcome is Outcome.INVALID and "mx.other.example" in result.reason


def test_cname_chains_are_followed_to_the_target(dns, verifier):
    dns.zone.add("email.example.com", "CNAME", "hop1.example.net")
    dns.zone.add("hop1.example.net", "CNAME", "eu.mailgun.org")
    assert verifier.check(CNAME).outcome is Outcome.VALID
    dns.zone.set("hop1.example.net", "CNAME", ["elsewhere.example.org"])
    result = verifier.check(CNAME)
    assert result.outcome is Outcome.INVALID and "elsewhere.example.org" in result.reason


def test_a_txt_lookup_through_a_cname_reads_the_target(dns, verifier):
    dns.zone.add("_dmarc.example.com", "CNAME", "_dmarc.shared.example.net")
    dns.zone.add("_dmarc.shared.example.net", "TXT", "v=DMARC1; p=quarantine")
    assert verifier.check(DMARC).outcome is Outcome.VALID


@pytest.mark.parametrize("kind", ["servfail", "refused", "drop"])
def test_dns_failures_are_temporary_not_invalid(dns, verifier, kind):
    dns.zone.add("example.com", "TXT", "v=spf1 include:mailgun.org ~all")
    dns.faults.add("example.com", kind)
    result = verifier.check(SPF)
    assert result.outcome is Outcome.TEMPORARY_FAILURE
    assert "try again later" in result.reason


def test_a_forced_nxdomain_is_not_found(dns, verifier):
    dns.zone.add("example.com", "TXT", "v=spf1 include:mailgun.org ~all")
    dns.faults.add("example.com", "nxdomain", count=1)
    assert verifier.check(SPF).outcome is Outcome.NOT_FOUND
    assert verifier.check(SPF).outcome is Outcome.VALID


def test_truncation_is_retried_over_tcp(dns, verifier):
    dns.zone.add("example.com", "TXT", "v=spf1 include:mailgun.org ~all")
    dns.faults.add("example.com", "truncate", count=1)
    assert verifier.check(SPF).outcome is Outcome.VALID
    assert any(q["transport"] == "tcp" for q in dns.queries)
