"""Mailgun domains over real HTTP, verified against the real fake DNS server, and the official
Python SDK (pip `mailgun`) run unchanged against the sandbox.

Each test tells a user's story: create a domain, publish (or break) its records, verify, see.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import dns.resolver
import httpx
import pytest
import yaml

from sandbox.client import ControlError
from sandbox.driver import Driver, reach
from sandbox.providers import mailgun_records
from sandbox.providers.mailgun import Mailgun

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
OTHER_KEY = "key-other-account-0000000000000000"
NAME = "mg.example.com"
CREATED_AT = "Thu, 01 Jan 2026 09:00:00 GMT"  # the session's clock starts 2026-01-01T09:00Z
SENDING_KINDS = ("spf", "dkim", "tracking")


@pytest.fixture
def api(urls):
    with httpx.Client(base_url=urls["mailgun"], auth=("api", KEY), timeout=10) as client:
        yield client


@pytest.fixture
def other(urls):
    with httpx.Client(base_url=urls["mailgun"], auth=("api", OTHER_KEY), timeout=10) as client:
        yield client


@pytest.fixture
def resolver(server):
    """A stub resolver asking the sandbox's own DNS server, as any client of it would."""
    if hasattr(server, "served"):  # a `serve --workers N` process
        host, port = server.served.dns
    else:
        host, port = server.sandbox.dns.address
    stub = dns.resolver.Resolver(configure=False)
    stub.nameservers, stub.port, stub.lifetime = [host], int(port), 5
    return stub


def create(api, name=NAME, path="/v4/domains", **fields) -> dict:
    response = api.post(path, data={"name": name, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def verify(api, name=NAME, path="/v4/domains/{}/verify") -> dict:
    response = api.put(path.format(name))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Domain DNS records have been updated"
    return body


def get(api, name=NAME, **params) -> dict:
    response = api.get(f"/v4/domains/{name}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def records(envelope: dict) -> dict[str, dict]:
    """The envelope's records by kind: spf, dkim, tracking, mx_mxa, mx_mxb."""
    sending = dict(zip(SENDING_KINDS, envelope["sending_dns_records"], strict=True))
    receiving = {f"mx_{r['value'][:3]}": r for r in envelope["receiving_dns_records"]}
    return sending | receiving


def validity(envelope: dict) -> dict[str, str]:
    return {kind: record["valid"] for kind, record in records(envelope).items()}


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) in (["message"], ["message", "retry-seconds"]), body
    if message is not None:
        assert body["message"] == message
    return body["message"]


# --- the whole flow -------------------------------------------------------------------------


def test_created_domain_is_unverified_and_lists_the_records_to_publish(api):
    created = create(api)

    assert created["message"] == "Domain DNS records have been created"
    domain = created["domain"]
    assert re.fullmatch(r"[0-9a-f]{24}", domain.pop("id"))
    assert domain == {
        "created_at": CREATED_AT,
        "encrypt_incoming_message": False,
        "is_disabled": False,
        "message_ttl": 259200,
        "name": NAME,
        "require_tls": False,
        "skip_verification": False,
        "smtp_login": f"postmaster@{NAME}",
        "spam_action": "disabled",
        "state": "unverified",
        "type": "custom",
        "use_automatic_sender_security": False,
        "web_prefix": "email",
        "web_scheme": "http",
        "wildcard": False,
    }
    found = records(created)
    assert found["spf"] == {
        "is_active": True,
        "name": NAME,
        "record_type": "TXT",
        "valid": "unknown",
        "value": "v=spf1 include:mailgun.org ~all",
        "cached": [],
    }
    assert re.fullmatch(
        r"(pdk1|pdk2|mx|smtp|krs)\._domainkey\.mg\.example\.com", found["dkim"]["name"]
    )
    assert found["dkim"]["value"].startswith("k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ")
    assert (found["tracking"]["name"], found["tracking"]["record_type"]) == (
        f"email.{NAME}",
        "CNAME",
    )
    assert found["tracking"]["value"] == "mailgun.org"
    for host in ("mxa", "mxb"):
        mx = found[f"mx_{host}"]
        assert (mx["record_type"], mx["value"], mx["priority"]) == (
            "MX",
            f"{host}.mailgun.org",
            "10",
        )
        assert (mx["valid"], mx["cached"], mx["is_active"]) == ("unknown", [], True)


def test_create_takes_multipart_forms_and_the_v3_route_the_python_sdk_uses(api):
    multipart = api.post(
        "/v4/domains",
        files={"name": (None, "multi.example.com"), "wildcard": (None, "true")},
    )
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["domain"]["wildcard"] is True

    v3 = create(api, "v3.example.com", path="/v3/domains", dkim_key_size="2048")
    assert v3["message"] == "Domain DNS records have been created"
    assert records(v3)["dkim"]["value"].startswith("k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")
    assert api.get("/v3/domains/v3.example.com").json()["domain"]["state"] == "unverified"


def test_create_settings_are_kept(api):
    created = create(
        api,
        spam_action="tag",
        wildcard="True",
        web_scheme="https",
        web_prefix="track",
        require_tls="1",
        dkim_selector="s1",
        message_ttl="3600",
        smtp_password="secret-pass",
    )

    domain = created["domain"]
    assert (domain["spam_action"], domain["wildcard"], domain["web_scheme"]) == (
        "tag",
        True,
        "https",
    )
    assert (domain["require_tls"], domain["message_ttl"]) == (True, 3600)
    assert "smtp_password" not in domain
    found = records(created)
    assert found["dkim"]["name"] == f"s1._domainkey.{NAME}"
    assert found["tracking"]["name"] == f"track.{NAME}"


def test_dkim_host_name_puts_the_key_at_the_root_domain(api):
    created = create(api, dkim_host_name="example.com", dkim_selector="mg")

    found = records(created)
    assert found["dkim"]["name"] == "mg._domainkey.example.com"
    assert found["spf"]["name"] == NAME
    assert get(api, **{"h:extended": "true"})["domain"]["dkim_host"] == "example.com"


def test_force_root_dkim_host_puts_the_key_at_the_root_domain(api, control):
    created = create(api, force_root_dkim_host="true", dkim_selector="mg")
    assert records(created)["dkim"]["name"] == "mg._domainkey.example.com"
    assert get(api, **{"h:extended": "true"})["domain"]["dkim_host"] == "example.com"
    control.publish("mailgun", NAME)
    assert verify(api)["domain"]["state"] == "active"  # SPF at the domain, DKIM at the root


def test_published_records_verify_the_domain_and_cached_shows_what_dns_holds(
    api, control, resolver
):
    create(api)
    control.publish("mailgun", NAME)

    verified = verify(api)

    assert verified["domain"]["state"] == "active"
    assert set(validity(verified).values()) == {"valid"}
    # every record is really in the sandbox's DNS, and `cached` is what a resolver gets there
    for kind, record in records(verified).items():
        name = record.get("name", NAME)  # MX records go at the domain, which they do not name
        answer = resolver.resolve(name, record["record_type"])
        if record["record_type"] == "TXT":
            held = ["".join(s.decode() for s in r.strings) for r in answer]
        elif record["record_type"] == "MX":
            held = [f"{r.preference} {r.exchange.to_text().rstrip('.')}" for r in answer]
        else:
            held = [r.target.to_text().rstrip(".") for r in answer]
        assert record["value"] in " ".join(held), kind
        assert sorted(record["cached"]) == sorted(held), kind
    assert get(api)["domain"]["state"] == "active"


def test_the_control_api_takes_the_id_mailguns_answers_carry_or_the_name_in_any_case(api, control):
    """Mailgun's API addresses a domain by name, and its answers also carry an `id`: a control
    call (publish, verify, advance_until) takes either, as a client reading them has both."""
    mailgun_id = create(api)["domain"]["id"]
    assert len(control.publish("mailgun", mailgun_id)) >= 4
    assert control.verify("mailgun", NAME.upper())["status"] == "active"
    assert control.domain("mailgun", mailgun_id)["id"] == NAME
    with pytest.raises(ControlError, match="no mailgun domain with id 0123456789abcdef01234567"):
        control.domain("mailgun", "0123456789abcdef01234567")


def test_spf_and_dkim_decide_while_tracking_and_mx_only_report(api, control):
    create(api)
    control.publish("mailgun", NAME, omit=["tracking", "mx_mxa", "mx_mxb"])

    verified = verify(api)

    assert verified["domain"]["state"] == "active"
    assert validity(verified) == {
        "spf": "valid",
        "dkim": "valid",
        "tracking": "invalid",
        "mx_mxa": "invalid",
        "mx_mxb": "invalid",
    }


@pytest.mark.parametrize("kind", ["spf", "dkim"])
@pytest.mark.parametrize("how", ["omit", "corrupt"])
def test_a_missing_or_wrong_spf_or_dkim_keeps_the_domain_unverified(api, control, kind, how):
    create(api)
    control.publish("mailgun", NAME, **{how: [kind]})

    verified = verify(api)

    assert verified["domain"]["state"] == "unverified"
    assert validity(verified) == {
        k: "invalid" if k == kind else "valid" for k in mailgun_records.KINDS
    }
    cached = records(verified)[kind]["cached"]
    if how == "corrupt":
        assert cached and records(verified)[kind]["value"] not in cached
    elif kind == "dkim":
        assert cached == []


def test_a_second_spf_record_at_the_name_is_invalid(api, control):
    create(api)
    control.publish("mailgun", NAME)
    control.add_record(NAME, "TXT", "v=spf1 include:_spf.other-mail.example ~all")

    verified = verify(api)

    assert verified["domain"]["state"] == "unverified"
    spf = records(verified)["spf"]
    assert spf["valid"] == "invalid" and len(spf["cached"]) == 2


def test_servfail_reads_unknown_and_a_recheck_lands_the_result(api, control):
    created = create(api)
    control.publish("mailgun", NAME)
    control.add_fault(records(created)["dkim"]["name"], "servfail")

    verified = verify(api)
    assert verified["domain"]["state"] == "unverified"
    assert records(verified)["dkim"]["valid"] == "unknown"
    assert records(verified)["spf"]["valid"] == "valid"

    control.clear_faults()
    control.advance(299)
    assert get(api)["domain"]["state"] == "unverified"
    control.advance(1)  # the first re-check, 5 minutes after verify
    assert get(api)["domain"]["state"] == "active"


def test_records_still_propagating_verify_on_a_later_recheck(api, control):
    create(api)
    control.publish("mailgun", NAME, visible_after_seconds=600)

    assert verify(api)["domain"]["state"] == "unverified"
    control.advance(600)  # re-checks at 09:05 (nothing yet) and 09:15
    assert get(api)["domain"]["state"] == "unverified"
    control.advance(300)
    assert get(api)["domain"]["state"] == "active"


def test_rechecks_stop_after_the_window_until_verify_is_called_again(api, control):
    control.settings("mailgun", recheck_window_seconds=1800)
    create(api)
    verify(api)
    control.advance(1800)
    control.publish("mailgun", NAME)
    control.advance(7200)
    assert get(api)["domain"]["state"] == "unverified"

    assert verify(api)["domain"]["state"] == "active"


def test_verify_delay_keeps_the_domain_unverified_until_the_check_lands(api, control):
    control.settings("mailgun", verify_delay_seconds=120)
    create(api)
    control.publish("mailgun", NAME)

    pending = verify(api)
    assert pending["domain"]["state"] == "unverified"
    assert set(validity(pending).values()) == {"unknown"}
    control.advance(119)
    assert get(api)["domain"]["state"] == "unverified"
    control.advance(1)
    assert get(api)["domain"]["state"] == "active"


def test_an_active_domain_that_loses_dkim_turns_unverified_on_verify(api, control):
    created = create(api)
    control.publish("mailgun", NAME)
    assert verify(api)["domain"]["state"] == "active"

    control.remove_records(records(created)["dkim"]["name"])
    again = verify(api)

    assert again["domain"]["state"] == "unverified"
    assert records(again)["dkim"]["valid"] == "invalid"


def test_the_v3_verify_and_get_routes_answer_the_same(api, control):
    create(api)
    control.publish("mailgun", NAME)

    verified = verify(api, path="/v3/domains/{}/verify")

    assert verified["domain"]["state"] == "active"
    assert api.get(f"/v3/domains/{NAME}").json() == get(api)


def test_each_state_of_the_kit_is_reached_through_mailguns_own_flows(urls, control):
    with httpx.Client(timeout=10) as http:
        driver = Driver(http, urls["server"], Mailgun)
        for state in Mailgun.kit.states:
            name = reach(driver, control, state, f"{state}.example.com")
            answer = driver.call(Mailgun.kit.get, name)
            assert Mailgun.kit.status(answer.json()) == state


# --- as Mailgun's recorded answers show (mailgun-ruby's vcr_cassettes/domains.yml) ------------


def test_the_ruby_sdks_create_form_with_an_empty_smtp_password_creates_the_domain(api):
    """mailgun-ruby's `create` always sends `smtp_password` (nil: a key without a value), and
    Mailgun creates the domain; an empty password is no password."""
    body = b"name=integration-test.example.com&smtp_password&spam_action=tag&wildcard=false"
    response = api.post(
        "/v4/domains",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["domain"]["spam_action"] == "tag"
    emptied = api.put("/v4/domains/integration-test.example.com", data={"smtp_password": ""})
    assert emptied.status_code == 200, emptied.text
    short = api.post("/v4/domains", data={"name": NAME, "smtp_password": "abcd"})
    assert_error(short, 400, "Password is too short. It must be between 5 and 32 characters.")


def test_a_form_is_read_field_by_field_as_sent(api):
    """Escapes, empty fields between `&`s, and no more than a thousand fields."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = "&name=form%2Dfields%2Eexample.com&&spam_action=disabled&"
    created = api.post("/v4/domains", content=body, headers=form)
    assert created.status_code == 200, created.text
    assert created.json()["domain"]["name"] == "form-fields.example.com"
    crowded = "&".join([f"name={NAME}"] + [f"f{n}=x" for n in range(1000)])
    refused = api.post("/v4/domains", content=crowded, headers=form)
    assert "Maximum number of fields is 1000" in assert_error(refused, 400)
    assert api.get(f"/v4/domains/{NAME}").status_code == 404  # nothing created


def test_empty_ips_and_pool_id_are_taken_as_not_given(api):
    """mailgun.js types `ips` and `pool_id` as `''`: an empty list of IPs, no pool."""
    response = api.post(
        "/v4/domains", files={"name": (None, NAME), "ips": (None, ""), "pool_id": (None, "")}
    )
    assert response.status_code == 200, response.text
    assert "ips" in assert_error(api.post("/v4/domains", data={"name": NAME, "ips": ","}), 400)


@pytest.mark.parametrize("form", ["urlencoded", "multipart"])
def test_ips_may_come_as_one_comma_list_or_as_repeated_fields(api, form):
    """Mailgun documents `ips` as a comma-separated list; the SDKs send a list given to them as
    the field repeated (mailgun.js's multipart form, requests' urlencoded one): both are one
    list of IPs, and a bad address in either is refused in the same words."""

    def post(fields):
        if form == "urlencoded":
            form_type = {"Content-Type": "application/x-www-form-urlencoded"}
            return api.post("/v4/domains", content=urlencode(fields), headers=form_type)
        return api.post("/v4/domains", files=[(key, (None, value)) for key, value in fields])

    comma = post([("name", "comma.example.com"), ("ips", "1.2.3.4,5.6.7.8")])
    assert comma.status_code == 200, comma.text
    repeated = [("name", NAME), ("ips", "1.2.3.4"), ("ips", "5.6.7.8")]
    created = post(repeated)
    assert created.status_code == 200, created.text
    assert created.json()["domain"]["name"] == NAME
    bad = post([("name", "bad.example.com"), ("ips", "1.2.3.4"), ("ips", "300.1.1.1")])
    assert_error(bad, 400, "'ips' parameter must be comma-separated IPv4 addresses")
    # a field that takes one value is still refused given twice
    twice = post([("name", "two.example.com"), ("pool_id", "a"), ("pool_id", "b")])
    assert_error(twice, 400, "'pool_id' parameter is given more than once")


def test_create_answers_the_same_message_on_v3_and_v4(api):
    """The Python SDK creates on /v3/domains; its tests against Mailgun expect v4's words."""
    assert create(api)["message"] == "Domain DNS records have been created"
    v3 = create(api, "v3.example.com", path="/v3/domains")
    assert v3["message"] == "Domain DNS records have been created"


def test_update_says_the_domain_has_been_updated(api):
    create(api)
    for path in (f"/v4/domains/{NAME}", f"/v3/domains/{NAME}"):
        response = api.put(path, data={"spam_action": "block"})
        assert response.status_code == 200, response.text
        assert response.json()["message"] == "Domain has been updated"
        assert response.json()["domain"]["spam_action"] == "block"
        assert len(response.json()["sending_dns_records"]) == 3


def test_receiving_mx_records_carry_no_name(api, control):
    created = create(api)
    control.publish("mailgun", NAME)
    for envelope in (created, verify(api), get(api), api.put(f"/v4/domains/{NAME}").json()):
        for mx in envelope["receiving_dns_records"]:
            assert "name" not in mx, mx
            assert (mx["record_type"], mx["priority"]) == ("MX", "10")
        assert all(r["name"] for r in envelope["sending_dns_records"])


def test_the_dkim_key_is_inactive_until_the_domain_is_verified(api, control):
    def active(envelope: dict) -> dict[str, bool]:
        return {kind: record["is_active"] for kind, record in records(envelope).items()}

    everything_but_dkim = {"spf": True, "tracking": True, "mx_mxa": True, "mx_mxb": True}
    assert active(create(api)) == everything_but_dkim | {"dkim": False}
    assert active(verify(api)) == everything_but_dkim | {"dkim": False}  # nothing published

    control.publish("mailgun", NAME)
    assert active(verify(api)) == everything_but_dkim | {"dkim": True}
    assert active(get(api)) == everything_but_dkim | {"dkim": True}


# --- get, list, update, delete ----------------------------------------------------------------


def test_get_can_leave_out_the_records_or_add_the_extended_fields(api):
    create(api)

    bare = get(api, **{"h:with_dns": "false"})
    assert list(bare) == ["domain"]
    extended = get(api, **{"h:extended": "true"})["domain"]
    assert (extended["dkim_host"], extended["mailfrom_host"]) == (NAME, "")
    assert "dkim_host" not in get(api)["domain"]


@pytest.mark.parametrize(("no", "yes"), [("0", "1"), ("f", "t"), ("False", "TRUE")])
def test_query_booleans_take_the_spellings_forms_take(api, no, yes):
    """Go's strconv.ParseBool reads both; `h:with_dns=0` was a 400 while a form's `0` was not."""
    create(api)
    assert list(get(api, **{"h:with_dns": no})) == ["domain"]
    assert "dkim_host" in get(api, **{"h:extended": yes})["domain"]
    assert api.get("/v4/domains", params={"include_subaccounts": yes}).status_code == 200


def test_list_is_newest_first_paginated_filtered_and_sorted(api, control):
    for name in ("b.example.com", "a.example.com", "c.example.org"):
        create(api, name)
    control.publish("mailgun", "a.example.com")
    verify(api, "a.example.com")

    def names(**params):
        body = api.get("/v4/domains", params=params).json()
        assert all("sending_dns_records" not in item for item in body["items"])
        return body["total_count"], [item["name"] for item in body["items"]]

    assert names() == (3, ["c.example.org", "a.example.com", "b.example.com"])
    assert names(limit=1, skip=1) == (3, ["a.example.com"])
    assert names(sort="name") == (3, ["a.example.com", "b.example.com", "c.example.org"])
    assert names(sort="name:desc")[1][0] == "c.example.org"
    assert names(state="active") == (1, ["a.example.com"])
    assert names(state="unverified")[0] == 2
    assert names(search="example.com")[0] == 2
    assert names(authority="b.example.com") == (1, ["b.example.com"])
    assert api.get("/v3/domains", params={"limit": 2}).json()["total_count"] == 3


def test_list_refuses_values_out_of_range_in_mailguns_shape(api):
    assert "limit" in assert_error(api.get("/v4/domains", params={"limit": 1001}), 400)
    assert "state" in assert_error(api.get("/v4/domains", params={"state": "gone"}), 400)
    assert "sort" in assert_error(api.get("/v4/domains", params={"sort": "age"}), 400)


def test_update_changes_settings_and_a_new_web_prefix_moves_the_tracking_record(api, control):
    create(api)
    control.publish("mailgun", NAME)
    verify(api)

    response = api.put(
        f"/v4/domains/{NAME}",
        data={"spam_action": "block", "web_prefix": "clicks", "wildcard": "true"},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["domain"]["spam_action"], updated["domain"]["wildcard"]) == ("block", True)
    tracking = records(updated)["tracking"]
    assert (tracking["name"], tracking["valid"]) == (f"clicks.{NAME}", "unknown")
    assert updated["domain"]["state"] == "active"  # SPF and DKIM still decide
    assert records(verify(api))["tracking"]["valid"] == "invalid"  # nothing published there yet


def dkim_records(envelope: dict) -> list[tuple[str, str, str]]:
    """(type, name, value) of the envelope's DKIM records: a TXT key, or two CNAMEs."""
    return [
        (r["record_type"], r["name"], r["value"])
        for r in envelope["sending_dns_records"]
        if "._domainkey." in r["name"]
    ]


ASS_TARGET = re.compile(r"pdk([12])\._domainkey\.[0-9a-f]{5}\.dkim1\.mailgun\.com")


def test_automatic_sender_security_asks_for_two_dkim_cnames_and_both_decide(api, control):
    """Mailgun's docs (mg_security): two CNAMEs, pdk1 and pdk2._domainkey.<domain>, delegate
    the DKIM keys to Mailgun in place of the TXT key."""
    created = create(api, use_automatic_sender_security="true")
    (t1, n1, v1), (t2, n2, v2) = dkim_records(created)
    assert (t1, n1, t2, n2) == (
        "CNAME",
        f"pdk1._domainkey.{NAME}",
        "CNAME",
        f"pdk2._domainkey.{NAME}",
    )
    assert ASS_TARGET.fullmatch(v1)[1] == "1" and ASS_TARGET.fullmatch(v2)[1] == "2"
    assert v1.split(".")[2] == v2.split(".")[2]  # one place at Mailgun holds both keys
    control.publish("mailgun", NAME, omit=["dkim_2"])
    assert verify(api)["domain"]["state"] == "unverified"  # the second CNAME decides too
    control.publish("mailgun", NAME)
    verified = verify(api)
    assert verified["domain"]["state"] == "active"
    assert [r["valid"] for r in verified["sending_dns_records"]][:3] == ["valid"] * 3
    answers = dns.resolver.Resolver(configure=False)
    answers.nameservers, answers.port = ["127.0.0.1"], control.health()["dns"]["port"]
    assert answers.resolve(n2, "CNAME")[0].target.to_text() == v2 + "."


def test_changing_automatic_sender_security_swaps_the_dkim_records_and_asks_for_a_new_verification(
    api, control
):
    """On, the CNAMEs take the TXT key's place; off, the domain's own key is back; on again,
    the same CNAMEs: what was published once stays right, so publish never finds a stale
    record of its own in the way."""
    create(api, dkim_selector="s1", dkim_key_size="2048")
    control.publish("mailgun", NAME)
    verify(api)
    key = dkim_records(api.get(f"/v4/domains/{NAME}").json())
    assert [(t, n) for t, n, _ in key] == [("TXT", f"s1._domainkey.{NAME}")]

    changed = api.put(f"/v3/domains/{NAME}", data={"use_automatic_sender_security": "true"})

    assert changed.json()["domain"]["state"] == "unverified"
    cnames = dkim_records(changed.json())
    assert [r[0] for r in cnames] == ["CNAME", "CNAME"]
    assert verify(api)["domain"]["state"] == "unverified"  # the CNAMEs are not published yet
    control.publish("mailgun", NAME)
    assert verify(api)["domain"]["state"] == "active"

    back = api.put(f"/v3/domains/{NAME}", data={"use_automatic_sender_security": "false"})
    assert dkim_records(back.json()) == key  # its own selector and 2048-bit key, not a new one
    assert back.json()["domain"]["state"] == "unverified"
    assert verify(api)["domain"]["state"] == "active"  # the key is still published
    again = api.put(f"/v3/domains/{NAME}", data={"use_automatic_sender_security": "true"})
    assert dkim_records(again.json()) == cnames
    control.publish("mailgun", NAME)
    assert verify(api)["domain"]["state"] == "active"


def test_a_mailgun_domain_without_spf_or_dkim_records_never_verifies(api, control):
    """A loaded world may hold a domain whose records lack them: SPF and DKIM still decide."""
    create(api)
    world = yaml.safe_load(control.export_scenario())
    [domain] = world["domains"]
    domain["records"] = [r for r in domain["records"] if r["kind"] not in ("spf", "dkim")]
    control.load_scenario(yaml.safe_dump(world))
    assert verify(api)["domain"]["state"] == "unverified"


def test_deleted_domain_is_gone(api):
    create(api)

    deleted = api.delete(f"/v3/domains/{NAME}")

    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Domain will be deleted in the background"}
    assert_error(api.get(f"/v4/domains/{NAME}"), 404, "Domain not found")
    assert api.get("/v4/domains").json() == {"total_count": 0, "items": []}
    create(api)  # the name is free again


def test_a_disabled_domain_stays_disabled_and_cannot_be_deleted(api, control):
    create(api)
    world = yaml.safe_load(control.export_scenario())
    world["domains"][0]["status"] = "disabled"
    control.load_scenario(yaml.safe_dump(world))

    listed = api.get("/v4/domains", params={"state": "disabled"}).json()
    assert [(d["name"], d["is_disabled"]) for d in listed["items"]] == [(NAME, True)]
    # Mailgun says why a domain is disabled: code, note, permanently and reason are required
    assert set(listed["items"][0]["disabled"]) == {"code", "note", "permanently", "reason"}
    control.publish("mailgun", NAME)
    assert verify(api)["domain"]["state"] == "disabled"
    assert_error(api.delete(f"/v3/domains/{NAME}"), 400, "A disabled domain cannot be deleted")


def test_a_scenario_says_why_a_domain_is_disabled_and_only_a_disabled_one_says_it(api, control):
    create(api)
    create(api, "other.example.com")
    assert "disabled" not in get(api)["domain"]
    world = yaml.safe_load(control.export_scenario())
    why = {"code": "blacklisted", "note": "n", "permanently": True, "reason": "bad customer"}
    world["domains"][0] |= {"status": "disabled"}
    world["domains"][0]["attrs"]["disabled"] = why
    control.load_scenario(yaml.safe_dump(world))
    assert get(api)["domain"]["disabled"] == why
    assert "disabled" not in get(api, "other.example.com")["domain"]


def test_a_create_never_replaces_a_loaded_domain_whose_id_is_the_name_asked(api, control):
    """A domain's id is its name, unless a scenario written by hand says otherwise: a create of
    a name that is another domain's id replaced that domain, by the id they shared."""
    create(api, "kept.example.com")
    world = yaml.safe_load(control.export_scenario())
    world["domains"][0]["id"] = "taken.example.com"
    control.load_scenario(yaml.safe_dump(world))
    refused = api.post("/v4/domains", data={"name": "taken.example.com"})
    assert_error(refused, 400, "This domain name is already taken")
    assert [d["name"] for d in control.domains("mailgun")] == ["kept.example.com"]


# --- accounts and keys --------------------------------------------------------------------------


def test_another_account_neither_sees_nor_takes_a_domain(api, other):
    create(api)

    assert other.get("/v4/domains").json()["total_count"] == 0
    for response in (
        other.get(f"/v4/domains/{NAME}"),
        other.put(f"/v4/domains/{NAME}", data={"spam_action": "tag"}),
        other.put(f"/v4/domains/{NAME}/verify"),
        other.delete(f"/v3/domains/{NAME}"),
    ):
        assert_error(response, 404, "Domain not found")
    assert_error(
        other.post("/v4/domains", data={"name": NAME}), 400, "This domain name is already taken"
    )
    assert_error(
        api.post("/v4/domains", data={"name": "MG.example.com"}),
        400,
        "This domain name is already taken",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer " + KEY},
        {"Authorization": "Basic bm90IGJhc2U2NA=="},  # "not base64" has no colon
        {"Authorization": "Basic " + "dXNlcjprZXk="},  # user:key, not api:key
        {"Authorization": "Basic YXBpOg=="},  # api: with no key
        {"Authorization": "Basic %%%"},
    ],
    ids=["none", "bearer", "no-colon", "wrong-user", "empty-key", "not-base64"],
)
def test_missing_or_malformed_credentials_are_unauthorized(urls, headers):
    response = httpx.get(urls["mailgun"] + "/v4/domains", headers=headers)
    assert_error(response, 401, "Invalid private key")


def test_once_keys_are_registered_only_those_work(api, other, control):
    control.register_credential("mailgun", KEY)

    assert api.get("/v4/domains").status_code == 200
    assert_error(other.get("/v4/domains"), 401, "Invalid private key")


# --- request errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Missing parameter 'name'"),
        ({"wildcard": "true"}, "Missing parameter 'name'"),
        ({"name": "not a domain"}, "'name' parameter is not a valid domain name"),
        ({"name": "localhost"}, "'name' parameter is not a valid domain name"),
        (
            {"name": NAME, "smtp_password": "abc"},
            "Password is too short. It must be between 5 and 32 characters.",
        ),
        (
            {"name": NAME, "smtp_password": "x" * 33},
            "Password is too long. It must be between 5 and 32 characters.",
        ),
    ],
    ids=["empty", "no-name", "spaces", "one-label", "short-password", "long-password"],
)
def test_bad_create_forms_say_what_is_wrong(api, data, message):
    assert_error(api.post("/v4/domains", data=data), 400, message)
    assert api.get("/v4/domains").json()["total_count"] == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("spam_action", "delete-all"),
        ("wildcard", "maybe"),
        ("dkim_key_size", "4096"),
        ("web_scheme", "ftp"),
        ("dkim_selector", "foo.bar"),
        ("ips", "300.1.1.1"),
        ("message_ttl", "soon"),
    ],
)
def test_bad_create_fields_are_named(api, field, value):
    message = assert_error(api.post("/v4/domains", data={"name": NAME, field: value}), 400)
    assert field in message


@pytest.mark.parametrize(
    "method, path, params, data, message",
    [
        ("GET", "/v4/domains", {"limit": "abc"}, None,
         "'limit' parameter must be an integer from 1 to 1000"),
        ("GET", "/v3/domains", {"limit": "5000"}, None,
         "'limit' parameter must be an integer from 1 to 1000"),
        ("GET", "/v4/domains", {"state": "gone"}, None,
         "'state' parameter must be one of active, unverified, disabled"),
        ("POST", "/v4/domains", None, {"name": NAME, "message_ttl": "forever"},
         "'message_ttl' parameter must be a whole number of seconds from 1 to 2147483647"),
        ("POST", "/v3/domains", None, {"name": NAME, "ips": "not-an-ip"},
         "'ips' parameter must be comma-separated IPv4 addresses"),
        ("POST", "/v4/domains", None, {"name": NAME, "spam_action": "drop"},
         "'spam_action' parameter must be one of disabled, block, tag"),
        ("POST", "/v4/domains", None, {"name": NAME, "wildcard": "maybe"},
         "'wildcard' parameter must be true or false (or 1, 0, t, f: Go's strconv.ParseBool "
         "spellings)"),
        ("GET", f"/v4/domains/{NAME}", {"h:with_dns": "no"}, None,
         "'h:with_dns' parameter must be true or false (or 1, 0, t, f: Go's strconv.ParseBool "
         "spellings)"),
        ("PUT", f"/v4/domains/{NAME}", None, {"message_ttl": "-5"},
         "'message_ttl' parameter must be a whole number of seconds from 1 to 2147483647"),
    ],
    ids=[
        "limit-type", "limit-max", "state", "ttl-type", "ips", "enum", "boolean", "query-boolean",
        "ttl-min",
    ],
)  # fmt: skip
def test_a_bad_parameter_is_said_once_in_plain_words(api, method, path, params, data, message):
    if method == "PUT":
        create(api)
    response = api.request(method, path, params=params, data=data)
    said = assert_error(response, 400, message)
    # Connexion's own wording and the document's patterns stay out of Mailgun's words
    for leak in ("Invalid query parameter", "requestBody", "is not of type", "does not match"):
        assert leak not in said
    assert "\\" not in said and said.count(said.split("'")[1]) == 1


@pytest.mark.parametrize("form", ["urlencoded", "multipart"])
def test_a_form_field_given_twice_is_said_so_not_called_a_bad_value(api, form):
    fields = [("name", "one.example.com"), ("name", "two.example.com")]
    if form == "urlencoded":
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        response = api.post("/v4/domains", content=urlencode(fields), headers=form_type)
    else:
        files = [(name, (None, value)) for name, value in fields]
        response = api.post("/v4/domains", files=files)
    assert_error(response, 400, "'name' parameter is given more than once")
    assert api.get("/v4/domains").json()["total_count"] == 0  # neither name was created
    again = api.get("/v4/domains", params=[("limit", "1"), ("limit", "2")])
    assert_error(again, 400, "'limit' parameter is given more than once")


def test_every_parameter_of_the_document_has_words_for_what_it_takes():
    document = yaml.safe_load((Path(__file__).parent.parent / "openapi/mailgun.yaml").read_text())
    components = document["components"]
    named = {p["name"] for p in components["parameters"].values()}
    for form in ("CreateDomainForm", "UpdateDomainForm"):
        named |= set(components["schemas"][form]["properties"])
    for field in sorted(named - {"smtp_password"}):  # Mailgun's own "Password is too ..."
        mailgun = object.__new__(Mailgun)  # its words need no sandbox
        message = mailgun.validation_error(f"'x' is not valid - '{field}'", field).message
        assert field in message and "'x'" not in message, (field, message)


def test_dkim_host_name_is_the_domain_its_root_or_a_subdomain_and_not_with_force(api):
    elsewhere = api.post("/v4/domains", data={"name": NAME, "dkim_host_name": "other.org"})
    assert "dkim_host_name" in assert_error(elsewhere, 400)
    forced = api.post(
        "/v4/domains",
        data={"name": NAME, "dkim_host_name": "example.com", "force_dkim_authority": "true"},
    )
    assert "force_dkim_authority" in assert_error(forced, 400)


def test_a_json_body_is_refused_in_mailguns_shape(api):
    response = api.post("/v4/domains", json={"name": NAME})
    assert "Content-type" in assert_error(response, 415)


def test_unknown_domains_are_not_found_on_every_route(api):
    for response in (
        api.get("/v4/domains/nothing.example.com"),
        api.get("/v3/domains/nothing.example.com"),
        api.put("/v4/domains/nothing.example.com", data={"wildcard": "true"}),
        api.put("/v3/domains/nothing.example.com"),
        api.put("/v4/domains/nothing.example.com/verify"),
        api.put("/v3/domains/nothing.example.com/verify"),
        api.delete("/v3/domains/nothing.example.com"),
        api.get(f"/v4/domains/{'a' * 300}.com"),  # no domain's name is that long
    ):
        assert_error(response, 404, "Domain not found")


def test_unknown_routes_and_methods_answer_in_mailguns_shape(api):
    assert_error(api.get("/v4/nothing"), 404)
    for path in (f"/v3/domains/{NAME}/tracking", f"/v3/domains/{NAME}/credentials"):
        unserved = api.get(path)  # real routes the sandbox does not serve: no "Domain not found"
        assert_error(unserved, 404, f"404 page not found: domainsandbox does not serve GET {path}")
    response = api.delete(f"/v4/domains/{NAME}")
    assert_error(response, 405)
    assert "GET" in response.headers["allow"]
    # a delete is v3's: the 405 says where it is served (it said "Method Not Allowed" alone)
    assert response.json()["message"].endswith(
        f"; DELETE is served at {urlsplit(str(api.base_url)).path.rstrip('/')}/v3/domains/{NAME}"
    )


def test_the_rate_limit_answers_429_with_retry_after(api, control):
    control.rate_limits(enabled=True)
    try:
        statuses = [api.get("/v4/domains").status_code for _ in range(301)]
    finally:
        control.rate_limits(enabled=False)

    assert statuses[:300] == [200] * 300
    assert statuses[300] == 429
    limited = api.get("/v4/domains")  # limits are off again: this one passes
    assert limited.status_code == 200


def test_a_lower_rate_limit_is_a_setting(api, control):
    """A client's 429 handling is tested in a few calls, not 301 (Mailgun's plans differ)."""
    assert control.settings("mailgun")["rate_limit_per_minute"] == 300
    control.settings("mailgun", rate_limit_per_minute=3)
    control.rate_limits(enabled=True)
    try:
        statuses = [api.get("/v4/domains").status_code for _ in range(4)]
        control.advance(60)  # the minute is over on the sandbox clock: a new window
        after = api.get("/v4/domains").status_code
    finally:
        control.rate_limits(enabled=False)
    assert (statuses, after) == ([200, 200, 200, 429], 200)
    with pytest.raises(ControlError, match="rate_limit_per_minute"):
        control.settings("mailgun", rate_limit_per_minute=0)


def test_the_429_body_and_header(api, control):
    control.rate_limits(enabled=True)
    try:
        for _ in range(300):
            api.get("/v4/domains")
        response = api.get("/v4/domains")
    finally:
        control.rate_limits(enabled=False)
    assert_error(response, 429, "Too Many Requests")
    assert int(response.headers["retry-after"]) == response.json()["retry-seconds"] > 0


def test_same_seed_and_calls_give_identical_bodies(api, control):
    bodies = []
    for _ in range(2):
        control.reset(seed=77)
        control.freeze(at="2026-02-01T00:00:00Z")
        created = api.post("/v4/domains", data={"name": NAME}).content
        control.publish("mailgun", NAME)
        bodies.append((created, api.put(f"/v4/domains/{NAME}/verify").content))
    assert bodies[0] == bodies[1]


# --- regions --------------------------------------------------------------------------------


@pytest.fixture
def eu(urls):
    """Mailgun's EU API (api.eu.mailgun.net), served under the US one's mount at /eu."""
    with httpx.Client(base_url=urls["mailgun"] + "/eu", auth=("api", KEY), timeout=10) as client:
        yield client


def test_a_domain_created_in_the_eu_asks_for_the_eu_hosts_and_verifies(eu, control):
    created = records(create(eu))
    assert [created[k]["value"] for k in ("mx_mxa", "mx_mxb", "tracking")] == [
        "mxa.eu.mailgun.org",
        "mxb.eu.mailgun.org",
        "eu.mailgun.org",
    ]
    assert created["spf"]["value"] == "v=spf1 include:mailgun.org ~all"  # one include for both

    control.publish("mailgun", NAME)
    checked = verify(eu)
    assert checked["domain"]["state"] == "active"
    assert set(validity(checked).values()) == {"valid"}

    moved = eu.put(f"/v4/domains/{NAME}", data={"web_prefix": "track"}).json()
    assert records(moved)["tracking"] == records(moved)["tracking"] | {
        "name": f"track.{NAME}",
        "value": "eu.mailgun.org",
    }


def test_each_region_knows_only_its_own_domains_and_a_name_is_taken_once(api, eu):
    create(eu)
    create(api, "us.example.com")
    for response in (
        api.get(f"/v4/domains/{NAME}"),
        api.put(f"/v4/domains/{NAME}", data={"spam_action": "tag"}),
        api.put(f"/v4/domains/{NAME}/verify"),
        api.delete(f"/v3/domains/{NAME}"),
        eu.get("/v4/domains/us.example.com"),
    ):
        assert_error(response, 404, "Domain not found")
    assert [d["name"] for d in api.get("/v4/domains").json()["items"]] == ["us.example.com"]
    assert [d["name"] for d in eu.get("/v3/domains").json()["items"]] == [NAME]
    assert_error(
        api.post("/v4/domains", data={"name": NAME}), 400, "This domain name is already taken"
    )

    assert (
        eu.delete(f"/v3/domains/{NAME}").json()["message"]
        == "Domain will be deleted in the background"
    )
    assert eu.get(f"/v4/domains/{NAME}").status_code == 404


def test_a_scenario_keeps_a_domains_region_and_refuses_one_mailgun_has_not(api, eu, control):
    create(eu)
    world = yaml.safe_load(control.export_scenario())
    assert world["domains"][0]["attrs"]["region"] == "eu"
    control.load_scenario(yaml.safe_dump(world))
    assert get(eu)["domain"]["name"] == NAME
    assert api.get(f"/v4/domains/{NAME}").status_code == 404

    world["domains"][0]["attrs"]["region"] = "EU"  # as a person may write it
    control.load_scenario(yaml.safe_dump(world))
    assert get(eu)["domain"]["name"] == NAME
    world["domains"][0]["attrs"]["region"] = "asia"
    with pytest.raises(ControlError, match="attrs: region 'asia': Mailgun's regions are us and eu"):
        control.load_scenario(yaml.safe_dump(world))
    assert get(eu)["domain"]["name"] == NAME  # nothing loaded: the world is as it was


def test_a_misspelt_region_gets_the_region_s_path(urls):
    response = httpx.get(urls["mailgun"] + "/EU/v4/domains", auth=("api", KEY))
    assert_error(response, 404)
    assert response.json()["message"].endswith("; did you mean /mailgun/eu/v4/domains?")
    outside = httpx.get(urls["mailgun"].replace("/mailgun", "/Mailgun") + "/v4/domains")
    assert outside.json()["message"].endswith(
        "mailgun's API is under /mailgun and /mailgun/eu; did you mean /mailgun/v4/domains?"
    )
    root = httpx.get(urls["mailgun"] + "/eu", auth=("api", KEY))  # the mount itself: its root
    assert_error(root, 404, "404 page not found: domainsandbox does not serve GET /")


def test_the_client_report_says_a_call_to_the_wrong_regions_api(api, eu, control):
    """The answer is Mailgun's 404; the report says why: the client's base URL."""
    control.clear_report()  # it describes the whole session: this test's calls only
    create(eu)
    assert_error(api.get(f"/v4/domains/{NAME}"), 404, "Domain not found")
    assert_error(api.get("/v4/domains/nothing.example.com"), 404, "Domain not found")
    (said,) = control.report()["providers"]["mailgun"]["violations"]
    assert (said["operation"], said["status"]) == ("get_domain", 404)
    assert said["reason"] == f"{NAME} is in Mailgun's EU region: its API is /mailgun/eu"


def test_the_eu_document_is_served_with_its_own_base(urls):
    document = httpx.get(urls["mailgun"] + "/eu/openapi.json").json()
    assert [server["url"] for server in document["servers"]] == ["/mailgun/eu"]


# --- the official Python SDK, unchanged --------------------------------------------------------


@pytest.fixture
def sdk(urls):
    from mailgun.client import Client

    with Client(auth=("api", KEY), api_url=urls["mailgun"]) as client:
        yield client


def test_the_python_sdk_creates_publishes_verifies_lists_and_deletes(sdk, control):
    created = sdk.domains.create(
        data={
            "name": NAME,
            "dkim_key_size": "2048",
            "spam_action": "disabled",
            "wildcard": "false",
            "web_scheme": "https",
        }
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["domain"]["state"] == "unverified"
    assert body["domain"]["web_scheme"] == "https"
    wanted = {(r["record_type"], r["name"], r["value"]) for r in body["sending_dns_records"]}
    assert ("TXT", NAME, "v=spf1 include:mailgun.org ~all") in wanted
    assert [r["priority"] for r in body["receiving_dns_records"]] == ["10", "10"]
    assert body["message"] == "Domain DNS records have been created"  # as the SDK's tests expect

    control.publish("mailgun", NAME)
    verified = sdk.domains.put(domain=NAME, verify=True)
    assert verified.status_code == 200, verified.text
    assert verified.json()["domain"]["state"] == "active"

    read = sdk.domains.get(domain=NAME).json()
    assert read["domain"]["state"] == "active"
    assert {r["valid"] for r in read["sending_dns_records"]} == {"valid"}

    page = sdk.domainlist.get(filters={"limit": 100, "skip": 0}).json()
    assert [d["name"] for d in page["items"]] == [NAME]
    assert sdk.domains.get().json()["total_count"] == 1  # v3 list, as the SDK calls it

    updated = sdk.domains.put(domain=NAME, data={"spam_action": "tag"})
    assert updated.json()["domain"]["spam_action"] == "tag"
    assert updated.json()["message"] == "Domain has been updated"  # as the SDK's tests expect

    assert sdk.domains.delete(domain=NAME).status_code == 200
    missing = sdk.domains.get(domain=NAME)
    assert missing.status_code == 404
    assert missing.json() == {"message": "Domain not found"}


def test_a_fault_on_the_v4_verify_says_the_python_sdk_calls_the_v3_one(
    sdk, control, server, capsys
):
    """The Python SDK verifies through /v3 (verify_domain_v3), so a fault on verify_domain never
    meets it: the control API's answer and `http fault` say so, and name the operation it calls."""
    from sandbox.cli import main

    assert sdk.domains.create(data={"name": NAME}).status_code == 200
    try:
        # (a latency fault: the SDK would retry a 503 after a second's sleep)
        v4 = control.add_http_fault("mailgun", operation="verify_domain", latency_ms=1, count=1)
        assert "verify_domain_v3" in v4["note"] and "Python SDK" in v4["note"]
        sdk.domains.put(domain=NAME, verify=True)
        assert [f["id"] for f in control.http_faults()] == [v4["id"]]  # not met
        v3 = control.add_http_fault("mailgun", operation="verify_domain_v3", latency_ms=1, count=1)
        assert "mailgun.js" in v3["note"] and "verify_domain " in v3["note"] + " "
        sdk.domains.put(domain=NAME, verify=True)
        assert [f["id"] for f in control.http_faults()] == [v4["id"]]  # met, used up
        assert "note" not in control.add_http_fault(
            "mailgun", operation="delete_domain", status=503
        )
        assert all("note" not in f for f in control.http_faults())  # the answer's, not the fault's

        command = ["http", "fault", "mailgun", "--operation", "get_domain", "--status", "503"]
        assert main([*command, "--url", server.url]) == 0
        said = capsys.readouterr().out.splitlines()
        assert said[0].startswith("fault h") and said[0].endswith("on mailgun get_domain: 503")
        assert said[1].startswith("note: ") and "get_domain_v3" in said[1]
    finally:
        control.clear_http_faults()


def test_the_python_sdk_creates_a_domain_with_a_list_of_ips(sdk):
    """Given a list, the SDK (through requests) sends `ips` once for each address."""
    created = sdk.domains.create(data={"name": NAME, "ips": ["1.2.3.4", "5.6.7.8"]})
    assert created.status_code == 200, created.text
    assert created.json()["domain"]["name"] == NAME


def test_the_python_sdk_given_the_eu_base_url_creates_there(urls, control):
    from mailgun.client import Client

    with Client(auth=("api", KEY), api_url=urls["mailgun"] + "/eu") as eu_sdk:
        body = eu_sdk.domains.create(data={"name": NAME}).json()
        assert {r["value"] for r in body["receiving_dns_records"]} == {
            "mxa.eu.mailgun.org",
            "mxb.eu.mailgun.org",
        }
        control.publish("mailgun", NAME)
        assert eu_sdk.domains.put(domain=NAME, verify=True).json()["domain"]["state"] == "active"
        assert eu_sdk.domainlist.get().json()["total_count"] == 1
    with Client(auth=("api", KEY), api_url=urls["mailgun"]) as us_sdk:
        assert us_sdk.domains.get(domain=NAME).status_code == 404  # the wrong region's API


def test_the_python_sdk_sees_an_unverified_domain_and_why(sdk, control):
    sdk.domains.create(data={"name": NAME})
    control.publish("mailgun", NAME, corrupt=["dkim"])

    verified = sdk.domains.put(domain=NAME, verify=True).json()

    assert verified["domain"]["state"] == "unverified"
    dkim = next(r for r in verified["sending_dns_records"] if "_domainkey" in r["name"])
    assert dkim["valid"] == "invalid" and dkim["cached"] and dkim["cached"][0] != dkim["value"]


def test_the_python_sdk_gets_mailguns_errors(sdk, urls):
    from mailgun.client import Client

    assert sdk.domains.create(data={"wildcard": "true"}).json() == {
        "message": "Missing parameter 'name'"
    }
    with Client(auth=("api", ""), api_url=urls["mailgun"]) as anonymous:
        refused = anonymous.domainlist.get()
    assert refused.status_code == 401
    assert refused.json() == {"message": "Invalid private key"}


# The Python SDK's calls and the operationIds they reach, as docs/mailgun.md lists them for
# `domain_sandbox.assert_called("mailgun", ...)`.
SDK_OPERATIONS = {
    "mg.domains.create(data=...)": "create_domain_v3",
    "mg.domains.get(domain=...)": "get_domain_v3",
    "mg.domains.get()": "list_domains_v3",
    "mg.domainlist.get()": "list_domains",
    "mg.domains.put(domain=..., data=...)": "update_domain_v3",
    "mg.domains.put(domain=..., verify=True)": "verify_domain_v3",
    "mg.domains.delete(domain=...)": "delete_domain",
}


def test_the_doc_lists_each_operation_id_with_the_python_sdk_call_that_reaches_it(sdk, control):
    calls = {
        "mg.domains.create(data=...)": lambda: sdk.domains.create(data={"name": NAME}),
        "mg.domains.get(domain=...)": lambda: sdk.domains.get(domain=NAME),
        "mg.domains.get()": lambda: sdk.domains.get(),
        "mg.domainlist.get()": lambda: sdk.domainlist.get(),
        "mg.domains.put(domain=..., data=...)": lambda: sdk.domains.put(
            domain=NAME, data={"spam_action": "tag"}
        ),
        "mg.domains.put(domain=..., verify=True)": lambda: sdk.domains.put(
            domain=NAME, verify=True
        ),
        "mg.domains.delete(domain=...)": lambda: sdk.domains.delete(domain=NAME),
    }
    for call, operation in SDK_OPERATIONS.items():
        assert calls[call]().status_code == 200, call
        assert control.requests("mailgun")[-1]["operation"] == operation, call

    root = Path(__file__).parent.parent
    document = yaml.safe_load((root / "openapi/mailgun.yaml").read_text())
    served = {
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    rows = [
        line for line in (root / "docs/mailgun.md").read_text().splitlines() if line[:3] == "| `"
    ]
    listed = {row.split("`")[1]: row for row in rows}
    assert served <= set(listed), f"not in docs/mailgun.md's table: {served - set(listed)}"
    for call, operation in SDK_OPERATIONS.items():
        assert f"`{call}`" in listed[operation], (operation, call)
