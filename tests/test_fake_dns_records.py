"""What the fake DNS server answers for published records, over real UDP and TCP sockets."""

from __future__ import annotations

from datetime import timedelta

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.resolver
import pytest

from fake_dns import FakeDNS, Zone
from fake_dns.rdata import unquoted_txt
from sandbox.engine.verifier import Verifier
from tests.fake_dns_helpers import (
    FakeClock,
    answer_texts,
    ask,
    fresh,
    is_authoritative,
    rcode,
    soa_owner,
    txt_values,
)


@pytest.fixture
def fake(dns_server):
    """The module's server with an empty zone, no faults and an empty query log."""
    return fresh(dns_server)


# -- record types --------------------------------------------------------------------------

RECORD_CASES = [
    ("example.com", "A", "192.0.2.10", "192.0.2.10"),
    ("example.com", "AAAA", "2001:db8::1", "2001:db8::1"),
    ("www.example.com", "CNAME", "target.example.net", "target.example.net."),
    ("example.com", "MX", "10 mxa.eu.mailgun.org", "10 mxa.eu.mailgun.org."),
    ("example.com", "TXT", "v=spf1 include:mailgun.org ~all", '"v=spf1 include:mailgun.org ~all"'),
    ("_imaps._tcp.example.com", "SRV", "0 5 993 imap.example.com", "0 5 993 imap.example.com."),
    ("example.com", "NS", "ns1.example.net", "ns1.example.net."),
    ("example.com", "CAA", '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'),
    # an escaped quote is a quote in the value, and the escape's backslash is not
    ("example.com", "CAA", r'0 iodef "semi;colon \" q"', r'0 iodef "semi;colon \" q"'),
]


@pytest.mark.parametrize(("name", "rtype", "value", "wire_text"), RECORD_CASES)
def test_each_record_type_is_served_as_published(fake, tcp, name, rtype, value, wire_text):
    fake.zone.add(name, rtype, value, ttl=120)
    response = ask(fake, name, rtype, tcp=tcp)
    assert rcode(response) == "NOERROR"
    assert answer_texts(response, rtype) == [wire_text]
    assert response.answer[0].ttl == 120
    assert is_authoritative(response)


def test_the_longest_caa_tag_and_value_taken_are_served(fake):
    tag, value = "t" * 255, "x" * 16_384  # one past either is refused (below)
    fake.zone.add("caa.example.com", "CAA", f'0 {tag} "{value}"')
    response = ask(fake, "caa.example.com", "CAA", tcp=True)  # 16 KiB: over TCP
    assert rcode(response) == "NOERROR"
    (rd,) = response.answer[0]
    assert (rd.tag, rd.value) == (tag.encode(), value.encode())


def test_several_mx_records_are_all_returned(fake, tcp):
    fake.zone.set("example.com", "MX", ["10 mxa.eu.mailgun.org", "20 mxb.eu.mailgun.org"])
    response = ask(fake, "example.com", "MX", tcp=tcp)
    assert answer_texts(response, "MX") == ["10 mxa.eu.mailgun.org.", "20 mxb.eu.mailgun.org."]


def test_long_txt_is_split_into_255_byte_strings_and_joins_back(fake, tcp):
    dkim = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 10
    fake.zone.add("sel._domainkey.example.com", "TXT", dkim)
    response = ask(fake, "sel._domainkey.example.com", "TXT", tcp=tcp)
    (rd,) = response.answer[0]
    assert [len(s) for s in rd.strings][:-1] == [255] * (len(rd.strings) - 1)
    assert txt_values(response) == [dkim]


@pytest.mark.parametrize("char", ["é", "€", "🔑"])  # two, three and four bytes in UTF-8
def test_a_long_txt_value_is_split_between_characters_never_inside_one(fake, tcp, char):
    """Cut every 255 bytes, a string ended inside a character and the next began with the
    rest: each read alone was no UTF-8. Each string now ends where a character does, within
    255 bytes, and the strings joined are the value, as the sandbox's verifier reads them."""
    value = "v=" + char * 200
    fake.zone.add("utf.example.com", "TXT", value)
    response = ask(fake, "utf.example.com", "TXT", tcp=tcp)
    (rd,) = response.answer[0]
    assert len(rd.strings) > 1 and all(len(s) <= 255 for s in rd.strings)
    assert "".join(s.decode("utf-8") for s in rd.strings) == value  # each string alone decodes
    verifier = Verifier(fake.host, fake.port, FakeClock())
    assert verifier.lookup("utf.example.com", "TXT").values == (value,)


def test_answer_too_big_for_plain_udp_is_truncated_and_resolver_retries_over_tcp(fake):
    big = "x" * 600
    fake.zone.add("big.example.com", "TXT", big)
    plain = ask(fake, "big.example.com", "TXT", edns=False)
    assert plain.flags & dns.flags.TC and not plain.answer
    resolver = fake.resolver()
    resolver.use_edns(False)
    assert [b"".join(r.strings).decode() for r in resolver.resolve("big.example.com", "TXT")] == [
        big
    ]
    assert [q["transport"] for q in fake.queries] == ["udp", "udp", "tcp"]


def test_list_value_stays_several_strings_of_one_txt_record(fake, tcp):
    fake.zone.add("example.com", "TXT", ["v=spf1 ", "include:mailgun.org ~all"])
    response = ask(fake, "example.com", "TXT", tcp=tcp)
    (rd,) = response.answer[0]
    assert rd.strings == (b"v=spf1 ", b"include:mailgun.org ~all")
    assert txt_values(response) == ["v=spf1 include:mailgun.org ~all"]


@pytest.mark.parametrize(
    ("value", "strings", "listed"),
    [
        ('"v=spf1 include:amazonses.com ~all"', [b"v=spf1 include:amazonses.com ~all"], None),
        (' "a" "b c" ', [b"a", b"b c"], ["a", "b c"]),
        ('"say \\"hi\\" \\059"', [b'say "hi" ;'], 'say "hi" ;'),
        ('"' + "k" * 300 + '"', [b"k" * 255, b"k" * 45], "k" * 300),  # one string: split as bare
        ('"a" b', [b'"a" b'], None),  # not all in quotes: as it is
    ],
)
def test_a_txt_value_in_quotes_is_read_as_a_zone_file_writes_strings(fake, value, strings, listed):
    """Providers show TXT values in quotes (Resend's SPF), as DNS hosts take them; the quotes
    are no part of the record. (The control API reads what it is given so; the zone itself
    takes every value literally, as a saved world holds it.)"""
    fake.zone.add("q.example.com", "TXT", unquoted_txt(value))
    (rd,) = ask(fake, "q.example.com", "TXT", tcp=True).answer[0]
    assert list(rd.strings) == strings
    default = strings[0].decode() if len(strings) == 1 else None
    assert fake.zone.records()[0]["value"] == (listed if listed is not None else default)


def test_the_zone_takes_a_txt_value_in_quotes_literally(fake):
    fake.zone.add("lit.example.com", "TXT", '"x"')
    (rd,) = ask(fake, "lit.example.com", "TXT").answer[0]
    assert rd.strings == (b'"x"',)
    with pytest.raises(ValueError, match="is not zone-file strings.*or give it without the quo"):
        unquoted_txt('"\\255"')  # byte 255: no UTF-8 text
    with pytest.raises(ValueError, match=r"ended unexpectedly; or give"):  # one sentence
        unquoted_txt('"\\"')


def test_two_txt_records_at_one_name_are_both_answered(fake):
    fake.zone.add("example.com", "TXT", "v=spf1 include:a.example ~all")
    fake.zone.add("example.com", "TXT", "v=spf1 include:b.example ~all")
    assert len(txt_values(ask(fake, "example.com", "TXT"))) == 2


def test_names_are_case_insensitive_and_trailing_dot_is_optional(fake, tcp):
    fake.zone.add("_DMARC.Example.COM.", "TXT", "v=DMARC1; p=none")
    assert fake.zone.records()[0]["name"] == "_dmarc.example.com"
    for asked in ("_dmarc.example.com", "_DMARC.EXAMPLE.COM.", "_Dmarc.Example.Com"):
        response = ask(fake, asked, "TXT", tcp=tcp)
        assert txt_values(response) == ["v=DMARC1; p=none"]
        assert response.answer[0].name.to_text(omit_final_dot=True) == asked.rstrip(".")
    soa = ask(fake, "EXAMPLE.Com", "SOA", tcp=tcp)  # the synthesized apex: as asked too
    assert [r.name.to_text() for r in soa.answer] == ["EXAMPLE.Com."]


# -- wildcards and negative answers --------------------------------------------------------


def test_wildcard_answers_names_that_do_not_exist(fake, tcp):
    fake.zone.add("*.example.com", "A", "192.0.2.7")
    fake.zone.add("real.example.com", "TXT", "hello")
    assert answer_texts(ask(fake, "anything.example.com", "A", tcp=tcp), "A") == ["192.0.2.7"]
    deep = ask(fake, "a.b.example.com", "A", tcp=tcp)
    assert answer_texts(deep, "A") == ["192.0.2.7"]
    assert deep.answer[0].name.to_text() == "a.b.example.com."
    # an existing name is not covered by the wildcard: NODATA for A
    exact = ask(fake, "real.example.com", "A", tcp=tcp)
    assert rcode(exact) == "NOERROR" and not exact.answer
    # and names below an existing name are not covered by the wildcard either
    assert rcode(ask(fake, "x.real.example.com", "A", tcp=tcp)) == "NXDOMAIN"


def test_a_wildcard_at_the_root_answers_every_name_no_closer_node_holds(fake, tcp):
    """RFC 4592: `*` covers a name whose closest encloser is the root. It was listed and never
    matched."""
    fake.zone.add("*", "A", "192.0.2.9")
    fake.zone.add("example.com", "TXT", "here")
    assert answer_texts(ask(fake, "anything.at.all", "A", tcp=tcp), "A") == ["192.0.2.9"]
    assert answer_texts(ask(fake, "nosuchtld", "A", tcp=tcp), "A") == ["192.0.2.9"]
    # below a name that exists, the root's wildcard is not the closest encloser's
    assert rcode(ask(fake, "x.example.com", "A", tcp=tcp)) == "NXDOMAIN"


def test_missing_name_is_nxdomain_with_soa_in_authority(fake, tcp):
    fake.zone.add("example.com", "A", "192.0.2.1")
    response = ask(fake, "nope.example.com", "TXT", tcp=tcp)
    assert rcode(response) == "NXDOMAIN"
    assert not response.answer
    assert soa_owner(response) == "example.com"
    assert is_authoritative(response)


def test_existing_name_without_the_type_is_nodata_with_soa(fake, tcp):
    fake.zone.add("example.com", "A", "192.0.2.1")
    response = ask(fake, "example.com", "TXT", tcp=tcp)
    assert rcode(response) == "NOERROR"
    assert not response.answer
    assert soa_owner(response) == "example.com"
    assert is_authoritative(response)


def test_empty_non_terminal_is_nodata_not_nxdomain(fake, tcp):
    fake.zone.add("sel._domainkey.example.com", "TXT", "v=DKIM1; p=abc")
    response = ask(fake, "_domainkey.example.com", "TXT", tcp=tcp)
    assert rcode(response) == "NOERROR"
    assert not response.answer
    assert soa_owner(response) == "example.com"
    assert rcode(ask(fake, "other._domainkey.example.com", "TXT", tcp=tcp)) == "NXDOMAIN"


def test_empty_zone_still_answers_nxdomain_with_soa(fake, tcp):
    response = ask(fake, "www.nothing-here.test", "A", tcp=tcp)
    assert rcode(response) == "NXDOMAIN"
    assert soa_owner(response) == "nothing-here.test"
    assert is_authoritative(response)


@pytest.mark.parametrize(
    ("name", "enclosing"),
    [("nope.com", "com"), ("nope", "."), ("Nope.COM.", "com")],
)
def test_a_missing_name_of_two_labels_or_one_is_nxdomain_under_its_parent_s_soa(
    fake, tcp, name, enclosing
):
    """RFC 2308: an NXDOMAIN's SOA is its zone's. A zone's apex holds that SOA, so it exists:
    a name that does not is no apex, and its SOA was its own (nope.com's was nope.com's)."""
    fake.zone.add("example.com", "A", "192.0.2.1")
    for rtype in ("A", "SOA", "NS"):
        response = ask(fake, name, rtype, tcp=tcp)
        assert rcode(response) == "NXDOMAIN" and not response.answer
        assert soa_owner(response) == enclosing
    existing = ask(fake, "example.com", "TXT", tcp=tcp)  # an apex that exists: NODATA, its own
    assert (rcode(existing), soa_owner(existing)) == ("NOERROR", "example.com")


def test_soa_query_at_the_apex_gets_the_synthesized_soa(fake):
    fake.zone.add("example.com", "A", "192.0.2.1")
    assert answer_texts(ask(fake, "example.com", "SOA"), "SOA")


def test_the_apex_names_the_server_its_soa_names(fake, tcp):
    """A tool that finds the zone by its SOA then asks its NS (RFC 1034 4.2.1) finds one."""
    fake.zone.add("mail.example.com", "TXT", "v=spf1 -all")
    response = ask(fake, "Example.com", "NS", tcp=tcp)
    assert answer_texts(response, "NS") == ["ns.fake-dns.invalid."]
    assert [rrset.name.to_text() for rrset in response.answer] == ["Example.com."]
    below = ask(fake, "mail.example.com", "NS", tcp=tcp)  # not an apex: NODATA, as before
    assert (rcode(below), below.answer, soa_owner(below)) == ("NOERROR", [], "example.com")
    fake.zone.add("example.com", "NS", "ns1.example.net")  # published NS records win
    assert answer_texts(ask(fake, "example.com", "NS", tcp=tcp), "NS") == ["ns1.example.net."]


def test_the_checking_disabled_bit_is_copied_to_the_reply(fake):
    fake.zone.add("example.com", "A", "192.0.2.1")
    query = dns.message.make_query("example.com", "A")
    query.flags |= dns.flags.CD
    response = dns.query.udp(query, fake.host, port=fake.port, timeout=2)
    assert response.flags & dns.flags.CD and not ask(fake, "example.com").flags & dns.flags.CD


def test_resolver_sees_nxdomain_and_no_answer_as_distinct_errors(fake):
    fake.zone.add("example.com", "A", "192.0.2.1")
    resolver = fake.resolver()
    assert [r.to_text() for r in resolver.resolve("example.com", "A")] == ["192.0.2.1"]
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("missing.example.com", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("example.com", "MX")


# -- CNAME ---------------------------------------------------------------------------------


def test_cname_is_followed_to_records_of_the_asked_type(fake, tcp):
    fake.zone.add("sel._domainkey.example.com", "CNAME", "sel.dkim.provider.test")
    fake.zone.add("sel.dkim.provider.test", "TXT", "v=DKIM1; p=xyz")
    response = ask(fake, "sel._domainkey.example.com", "TXT", tcp=tcp)
    assert rcode(response) == "NOERROR"
    assert answer_texts(response, "CNAME") == ["sel.dkim.provider.test."]
    assert txt_values(response) == ["v=DKIM1; p=xyz"]


def test_cname_query_returns_only_the_cname(fake, tcp):
    fake.zone.add("www.example.com", "CNAME", "example.com")
    fake.zone.add("example.com", "A", "192.0.2.1")
    response = ask(fake, "www.example.com", "CNAME", tcp=tcp)
    assert answer_texts(response, "CNAME") == ["example.com."]
    assert answer_texts(response, "A") == []


def test_cname_chain_is_followed_in_full(fake, tcp):
    for i in range(5):
        fake.zone.add(f"c{i}.example.com", "CNAME", f"c{i + 1}.example.com")
    fake.zone.add("c5.example.com", "A", "192.0.2.5")
    response = ask(fake, "c0.example.com", "A", tcp=tcp)
    assert len(answer_texts(response, "CNAME")) == 5
    assert answer_texts(response, "A") == ["192.0.2.5"]


def test_cname_to_a_name_outside_the_zone_returns_the_cname(fake, tcp):
    """The CNAME alone, without an SOA: with one, a resolver would cache that the target has no
    address (RFC 2308 2.2.1) instead of asking for it."""
    fake.zone.add("em.example.com", "CNAME", "u123.wl.sendgrid.net")
    fake.zone.add("dangling.example.com", "CNAME", "nope.example.com")
    for name, target in (("em", "u123.wl.sendgrid.net."), ("dangling", "nope.example.com.")):
        response = ask(fake, f"{name}.example.com", "A", tcp=tcp)
        assert rcode(response) == "NOERROR"
        assert answer_texts(response, "CNAME") == [target]
        assert response.authority == [], response.authority


def test_cname_loop_is_servfail(fake, tcp):
    fake.zone.add("a.example.com", "CNAME", "b.example.com")
    fake.zone.add("b.example.com", "CNAME", "a.example.com")
    assert rcode(ask(fake, "a.example.com", "A", tcp=tcp)) == "SERVFAIL"


def test_cname_chain_longer_than_eight_is_servfail(fake):
    for i in range(9):
        fake.zone.add(f"c{i}.example.com", "CNAME", f"c{i + 1}.example.com")
    fake.zone.add("c9.example.com", "A", "192.0.2.9")
    assert rcode(ask(fake, "c0.example.com", "A")) == "SERVFAIL"
    assert answer_texts(ask(fake, "c1.example.com", "A"), "A") == ["192.0.2.9"]  # 8 links: fine


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (("CNAME", "y.example.com"), ("TXT", "hello")),  # RFC 1034 3.6.2: nothing beside a CNAME
        (("TXT", "hello"), ("CNAME", "y.example.com")),
        (("MX", "10 mx.example.net"), ("CNAME", "y.example.com")),
        (("CNAME", "y.example.com"), ("CNAME", "z.example.com")),  # nor a second CNAME
    ],
)
def test_a_record_beside_a_cname_is_refused_in_either_order(fake, first, then):
    fake.zone.add("x.example.com", *first)
    with pytest.raises(ValueError, match="a CNAME shares its name with no other record") as info:
        fake.zone.add("x.example.com", *then)
    assert str(info.value).startswith(f"x.example.com {then[0]} ")
    assert [(r["type"], r["value"]) for r in fake.zone.records()] == [first]
    if first[0] != then[0]:  # set() replaces records of its own type only
        with pytest.raises(ValueError, match="CNAME"):
            fake.zone.set("x.example.com", *then)
        assert [(r["type"], r["value"]) for r in fake.zone.records()] == [first]


def test_a_cname_is_replaced_by_set_and_the_same_cname_added_again(fake):
    fake.zone.add("x.example.com", "CNAME", "y.example.com")
    fake.zone.add("x.example.com", "CNAME", "y.example.com")  # the same record: replaced
    fake.zone.set("x.example.com", "CNAME", ["z.example.com"])
    with pytest.raises(ValueError, match="alias"):
        fake.zone.set("w.example.com", "CNAME", ["a.example.com", "b.example.com"])
    fake.zone.set("x.example.com", "CNAME", [])
    fake.zone.add("x.example.com", "TXT", "hello")  # the CNAME gone, the name is free
    assert [(r["name"], r["type"], r["value"]) for r in fake.zone.records()] == [
        ("x.example.com", "TXT", "hello")
    ]


def test_add_all_adds_every_value_or_none(fake):
    fake.zone.add_all("x.example.com", "TXT", ["one", "two"])
    with pytest.raises(ValueError, match="alias"):
        fake.zone.add_all("y.example.com", "CNAME", ["a.example.com", "b.example.com"])
    with pytest.raises(ValueError, match="already holds TXT"):
        fake.zone.add_all("x.example.com", "CNAME", ["a.example.com"])
    assert [(r["name"], r["value"]) for r in fake.zone.records()] == [
        ("x.example.com", "one"),
        ("x.example.com", "two"),
    ]


# -- visible_after -------------------------------------------------------------------------


def test_record_is_invisible_until_its_visible_after_time():
    clock = FakeClock()
    with FakeDNS(clock=clock) as fake:
        fake.zone.add("example.com", "A", "192.0.2.1")
        fake.zone.add(
            "_dmarc.example.com",
            "TXT",
            "v=DMARC1; p=none",
            visible_after=clock.now() + timedelta(seconds=60),
        )
        assert rcode(ask(fake, "_dmarc.example.com", "TXT")) == "NXDOMAIN"
        assert rcode(ask(fake, "_dmarc.example.com", "TXT", tcp=True)) == "NXDOMAIN"
        clock.advance(59)
        assert rcode(ask(fake, "_dmarc.example.com", "TXT")) == "NXDOMAIN"
        clock.advance(1)
        assert txt_values(ask(fake, "_dmarc.example.com", "TXT")) == ["v=DMARC1; p=none"]
        assert fake.queries[-1]["time"] == "2025-01-01T00:01:00Z"


def test_visible_after_accepts_iso_strings_and_is_listed_as_iso():
    clock = FakeClock()
    zone = Zone(clock=clock)
    with FakeDNS(zone=zone) as fake:
        zone.add("example.com", "TXT", "later", visible_after="2025-01-01T00:10:00+00:00")
        assert zone.records()[0]["visible_after"] == "2025-01-01T00:10:00Z"
        assert rcode(ask(fake, "example.com", "TXT")) == "NXDOMAIN"
        clock.advance(600)
        assert txt_values(ask(fake, "example.com", "TXT")) == ["later"]


# -- the zone API --------------------------------------------------------------------------


def test_set_replaces_all_records_of_that_name_and_type(fake):
    fake.zone.add("example.com", "MX", "10 old.example.net")
    fake.zone.add("example.com", "TXT", "keep me")
    fake.zone.set("example.com", "MX", ["10 mxa.eu.mailgun.org", "10 mxb.eu.mailgun.org"], ttl=60)
    mx = fake.zone.records(type="MX")
    assert [r["value"] for r in mx] == ["10 mxa.eu.mailgun.org", "10 mxb.eu.mailgun.org"]
    assert {r["ttl"] for r in mx} == {60}
    assert fake.zone.records(type="TXT")[0]["value"] == "keep me"


def test_remove_by_type_or_whole_name_returns_count(fake):
    fake.zone.set("example.com", "MX", ["10 a.example.net", "20 b.example.net"])
    fake.zone.add("example.com", "TXT", "x")
    assert fake.zone.remove("example.com", "MX") == 2
    assert fake.zone.remove("example.com") == 1
    assert fake.zone.remove("example.com") == 0
    assert rcode(ask(fake, "example.com", "TXT")) == "NXDOMAIN"


def test_a_value_to_remove_without_its_type_is_refused_and_removes_nothing(fake):
    """It removed every record at the name, of every type, where the control API and the CLI
    refuse it."""
    fake.zone.add("r.example.com", "A", "192.0.2.1")
    fake.zone.add("r.example.com", "TXT", "keep me")
    with pytest.raises(ValueError, match="give the record type too"):
        fake.zone.remove("r.example.com", None, "192.0.2.1")
    assert len(fake.zone.records("r.example.com")) == 2


def test_records_are_plain_dicts(fake):
    fake.zone.add("Example.com.", "mx", "10 MXA.eu.mailgun.org.", ttl=300)
    assert fake.zone.records() == [
        {
            "name": "example.com",
            "type": "MX",
            "value": "10 mxa.eu.mailgun.org",
            "ttl": 300,
            "visible_after": None,
        }
    ]
    fake.zone.clear()
    assert fake.zone.records() == []


@pytest.mark.parametrize(
    ("rtype", "value", "message"),
    [
        ("A", "300.1.1.1", "not an IPv4 address"),
        ("AAAA", "192.0.2.1", "not an IPv6 address"),
        ("AAAA", "fe80::1%eth0", "names an interface of one machine"),  # not int()'s words
        ("MX", "mxa.example.com", "PREFERENCE EXCHANGE"),
        ("MX", "70000 mxa.example.com", "MX preference"),
        ("SRV", "0 5 imap.example.com", "PRIORITY WEIGHT PORT TARGET"),
        ("CAA", "issue letsencrypt.org", "FLAGS TAG"),
        ("CAA", f'0 {"t" * 256} "x"', "its tag is over 255 characters"),
        ("CAA", '0 issue "unterminated', "FLAGS TAG"),  # it was taken with its quote
        ("CAA", '0 issue "a" "b"', "is not one string in quotes"),  # it was taken as a" "b
        ("CAA", f'0 issue "{"x" * 20_000}"', "its value is 20000 bytes: at most 16384"),
        ("CAA", r'0 issue "\255"', "is no UTF-8 text"),
        ("CAA", '0 is-sue "x"', "tag is not alphanumeric"),
        ("CNAME", "bad name.example.com", "invalid target"),
        ("TXT", 42, "TXT value must be"),
        ("XYZ", "1", "unknown type"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message(fake, rtype, value, message):
    with pytest.raises(ValueError, match=message) as info:
        fake.zone.add("www.example.com", rtype, value)
    assert "www.example.com" in str(info.value)
    assert fake.zone.records() == []


def test_a_refused_value_is_echoed_short_with_its_length(fake):
    for rtype, value in (("A", "1" * 5000), ("TXT", "x" * 20_000)):
        with pytest.raises(ValueError) as info:
            fake.zone.add("www.example.com", rtype, value)
        assert len(str(info.value)) < 300
        assert f"… ({len(value)} characters)" in str(info.value)
    assert "at most 16384" in str(info.value)  # the TXT says its limit
    with pytest.raises(ValueError, match=r"… \(100000 characters\): longer than 253") as info:
        fake.zone.add("a" * 100_000, "A", "192.0.2.1")
    assert len(str(info.value)) < 400


def test_invalid_names_are_refused(fake):
    for name in ("", "a..b", "x" * 64 + ".com", "a.*.example.com"):
        with pytest.raises(ValueError, match="invalid name"):
            fake.zone.add(name, "A", "192.0.2.1")


# -- names as the wire spells them -----------------------------------------------------------


def _raw_question(labels: list[bytes], rtype: str = "A") -> dns.message.Message:
    """A query for the name made of exactly these wire labels (dots and any bytes inside)."""
    name = dns.name.Name([*labels, b""])
    return dns.message.make_query(name, rtype, use_edns=0)


def _send(fake, query: dns.message.Message, tcp: bool) -> dns.message.Message:
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, fake.host, port=fake.port, timeout=2)


@pytest.mark.parametrize(
    "labels",
    [
        [b"a.example", b"com"],  # a dot inside a label: a different name (dig 'a\.example.com')
        [b"\xe2\x84\xaaey", b"example", b"com"],  # the Kelvin sign, not an ASCII "k" (RFC 4343)
    ],
    ids=["dot-in-label", "kelvin-sign"],
)
def test_a_name_matches_only_its_own_wire_labels_ascii_case_folded(fake, tcp, labels):
    fake.zone.add("a.example.com", "A", "192.0.2.1")
    fake.zone.add("key.example.com", "A", "192.0.2.2")
    response = _send(fake, _raw_question(labels), tcp)
    assert rcode(response) == "NXDOMAIN" and not response.answer
    assert response.question[0].name.labels == (*labels, b"")


def test_the_answer_echoes_the_asked_name_byte_for_byte(fake, tcp):
    fake.zone.add("*.wild.example.com", "TXT", "wild")
    fake.zone.add("key.example.com", "A", "192.0.2.2")
    for labels, rtype in (
        ([b"caf\xc3\xa9", b"wild", b"example", b"com"], "TXT"),  # é stays é, not xn--9ca
        ([b"a..b", b"wild", b"example", b"com"], "TXT"),  # dots inside a label
        ([b".", b"wild", b"example", b"com"], "TXT"),
        ([b"KeY", b"Example", b"COM"], "A"),  # ASCII case folds, and is echoed as asked
    ):
        response = _send(fake, _raw_question(labels, rtype), tcp)
        assert rcode(response) == "NOERROR", labels
        assert [rrset.name.labels for rrset in response.answer] == [(*labels, b"")]
    assert [q["rcode"] for q in fake.queries] == ["NOERROR"] * 4


def test_the_root_is_an_empty_non_terminal_above_the_zones_records(fake, tcp):
    assert rcode(ask(fake, ".", "NS", tcp=tcp)) == "NXDOMAIN"  # nothing in the zone at all
    fake.zone.add("example.com", "A", "192.0.2.1")
    response = ask(fake, ".", "NS", tcp=tcp)
    assert rcode(response) == "NOERROR" and not response.answer  # NODATA (RFC 8020)
    assert soa_owner(response) == "."


# -- record sets and values the zone refuses or takes ------------------------------------------


def test_a_record_set_too_big_for_one_dns_message_is_refused(fake):
    values = [chr(ord("a") + i) * 3990 for i in range(20)]  # each fine alone, 80 KB together
    with pytest.raises(ValueError, match="a DNS message holds at most 65535 bytes"):
        fake.zone.set("big.example.com", "TXT", values)
    with pytest.raises(ValueError, match="65535 bytes"):
        for value in values:
            fake.zone.add("big.example.com", "TXT", value)
    kept = fake.zone.records("big.example.com")
    assert 0 < len(kept) < 20  # add() took those that fit, one by one
    response = ask(fake, "big.example.com", "TXT", tcp=True)
    assert rcode(response) == "NOERROR" and len(txt_values(response)) == len(kept)


def test_the_largest_record_set_that_fits_is_answered_over_tcp(fake):
    values = [chr(ord("a") + i) * 3990 for i in range(16)]  # a 17th would not fit
    fake.zone.set("*.big.example.com", "TXT", values)
    asked = ".".join(["x" * 63] * 3 + ["x" * 45]) + ".big.example.com"  # 253: the longest name
    response = ask(fake, asked, "TXT", tcp=True)
    assert not response.flags & dns.flags.TC and len(txt_values(response)) == 16


def test_an_answer_too_big_even_for_tcp_is_servfail_not_truncated(fake):
    """A record set that fits alone, reached through a chain of long CNAMEs: no transport
    carries the whole answer, and a TC bit over TCP leaves a client nothing to retry."""
    fake.zone.set("big.example.com", "TXT", [chr(ord("a") + i) * 3990 for i in range(16)])
    target = "big.example.com"
    for n in range(7):
        name = ".".join([f"c{n}" + "x" * 60] * 3 + ["big", "example", "com"])
        fake.zone.add(name, "CNAME", target)
        target = name
    response = ask(fake, target, "TXT", tcp=True)
    assert rcode(response) == "SERVFAIL" and not response.flags & dns.flags.TC
    assert response.answer == []
    assert fake.queries[-1]["rcode"] == "SERVFAIL"


def big_any_name(fake) -> str:
    """A name whose record sets each fit one DNS message, and all together do not: TXT (about
    40 KB), CAA (about 30 KB) and A, in that order."""
    name = "big.example.com"
    fake.zone.set(name, "TXT", [chr(ord("a") + i) * 3990 for i in range(10)])
    fake.zone.set(name, "CAA", [f'0 issue "{c * 10_000}"' for c in "xyz"])
    fake.zone.add(name, "A", "192.0.2.1")
    return name


def test_an_any_answer_too_big_for_one_message_holds_the_whole_record_sets_that_fit(fake):
    """Over UDP, as any answer too large, TC for the client to ask over TCP; over TCP the sets
    that fit, each whole (RFC 8482 4.2 lets ANY answer a subset), never SERVFAIL."""
    name = big_any_name(fake)
    query = dns.message.make_query(name, "ANY", use_edns=0, payload=1232)
    response, over_tcp = dns.query.udp_with_fallback(query, fake.host, port=fake.port, timeout=2)
    assert over_tcp and [q["transport"] for q in fake.queries] == ["udp", "tcp"]
    assert fake.queries[0]["rcode"] == "NOERROR"  # truncated, as any answer too big for UDP
    assert rcode(response) == "NOERROR" and not response.flags & dns.flags.TC
    sets = {dns.rdatatype.to_text(rrset.rdtype): len(rrset) for rrset in response.answer}
    assert sets == {"TXT": 10, "A": 1}  # the CAA set would not fit beside the TXT: left out
    assert fake.queries[-1]["answers"] == 11


@pytest.mark.parametrize("rtype", ["PTR", "ANY"])
def test_names_past_16_kib_of_an_answer_are_never_pointed_at(fake, rtype):
    """A compression pointer holds 14 bits (RFC 1035 4.1.4): dnslib pointed at names it wrote
    past 16,383 bytes anyway, and dig said "Got bad packet: bad label type"."""
    name = "ptrs.example.com"
    fake.zone.set(name, "TXT", [c * 4000 for c in "abcde"])  # ANY: its PTRs start past 16 KiB
    targets = [f"host{i}.sub{i // 2}.example.net" for i in range(900)]  # pairs share a name
    fake.zone.set(name, "PTR", targets)
    response = ask(fake, name, rtype, tcp=True)  # dnspython refuses a pointer out of place
    assert rcode(response) == "NOERROR"
    assert sorted(answer_texts(response, "PTR")) == sorted(f"{t}." for t in targets)


@pytest.mark.parametrize(
    ("name", "rtype", "value"),
    [
        ("evil\n.example.com", "A", "192.0.2.1"),  # "$" matched before the newline
        ("\u212aey.example.com", "A", "192.0.2.1"),  # the Kelvin sign lowercases to "k"
        ("x.example.com", "CNAME", "evil\n.example.com"),
        ("x.example.com", "MX", "١٠ mx.example.com"),  # Arabic-Indic digits: not 10
        ("x.example.com", "SRV", "0 5 ٩٩٣ imap.example.com"),
        ("x.example.com", "CAA", '٠ issue "letsencrypt.org"'),
    ],
)
def test_names_and_numbers_outside_ascii_or_with_a_newline_are_refused(fake, name, rtype, value):
    with pytest.raises(ValueError):
        fake.zone.add(name, rtype, value)
    assert fake.zone.records() == []


def test_an_internationalized_name_is_refused_with_its_ascii_form(fake):
    with pytest.raises(ValueError, match="in DNS it is written 'xn--bcher-kva.example.com'"):
        fake.zone.add("bücher.example.com", "TXT", "x")
    fake.zone.add("xn--bcher-kva.example.com", "TXT", "x")  # as the hint says
    assert [r["name"] for r in fake.zone.records()] == ["xn--bcher-kva.example.com"]
    # an ASCII form that is no DNS name either is not offered (it kept the space)
    with pytest.raises(ValueError, match="label 'bücher_é' may only hold letters") as refused:
        fake.zone.add("bücher_é.exa mple", "TXT", "x")
    assert "xn--" not in str(refused.value)


def test_the_null_mx_is_published_and_served(fake, tcp):
    fake.zone.add("nomail.example.com", "MX", "0 .")
    assert fake.zone.records()[0]["value"] == "0 ."
    response = ask(fake, "nomail.example.com", "MX", tcp=tcp)
    assert answer_texts(response, "MX") == ["0 ."]  # this domain takes no mail (RFC 7505)
