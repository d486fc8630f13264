"""AutoSend domains over real HTTP, verified against the real fake DNS server.

Each test tells a user's story: add a domain, publish (or break) its records, verify, see.
"""

from __future__ import annotations

import re

import httpx
import pytest

from sandbox.client import PublishWarning

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

KEY = "as_test_project_key"
OTHER_KEY = "as_other_project_key"
KINDS = ("ownership", "dkim", "mail_from_mx", "mail_from_spf", "dmarc")
FLAG_KINDS = {
    "ownershipVerified": ["ownership"],
    "dkimEnabled": ["dkim"],
    "mailFromEnabled": ["mail_from_mx", "mail_from_spf"],
    "dmarcEnabled": ["dmarc"],
}
UNKNOWN_ID = "60d5ec49f1b2c72d9c8b1111"


@pytest.fixture(autouse=True)
def checks_within_the_call(control):
    """These tests are about what a check finds: it lands within the verify call here. The
    default delay (5 minutes of PENDING) is tested in test_clock_modes.py."""
    control.settings("autosend", verify_delay_seconds=0)


@pytest.fixture
def api(urls):
    with httpx.Client(base_url=urls["autosend"], headers=_auth(KEY), timeout=10) as client:
        yield client


@pytest.fixture
def other(urls):
    with httpx.Client(base_url=urls["autosend"], headers=_auth(OTHER_KEY), timeout=10) as client:
        yield client


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def add(api, name="example.com", **fields) -> dict:
    response = api.post("/domains", json={"domain": name, **fields})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def verify(api, domain_id: str) -> dict:
    response = api.post(f"/domains/{domain_id}/verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["message"] == "Domain verification status updated"
    return body["data"]


def get(api, domain_id: str) -> dict:
    response = api.get(f"/domains/{domain_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def flags(domain: dict) -> dict:
    return {flag: domain[flag] for flag in FLAG_KINDS}


def _check(control, domain_id: str, kind: str) -> dict:
    """The sandbox's verdict on one record, as the control API shows it."""
    records = control.domain("autosend", domain_id)["records"]
    return next(r["result"] for r in records if r["kind"] == kind)


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if field is not None:
        assert body["error"]["details"][0]["field"] == field
        assert body["error"]["details"][0]["message"]


# --- the whole flow -------------------------------------------------------------------------


def test_added_domain_waits_for_configuration_and_lists_the_records_to_publish(api):
    domain = add(api)

    assert re.fullmatch(r"[0-9a-f]{24}", domain["id"])
    assert domain["domainName"] == "example.com"
    assert domain["verificationStatus"] == "PENDING_CONFIGURATION"
    assert flags(domain) == dict.fromkeys(FLAG_KINDS, False)
    assert domain["verificationInProgress"] is False
    assert domain["regionKey"] == "us-east-1"
    assert domain["createdAt"] == domain["lastCheckedAt"] == "2026-01-01T09:00:00.000Z"
    assert "verifiedAt" not in domain
    records = domain["dnsRecords"]
    assert records["ownership"]["name"] == "_autosend-verify.example.com"
    assert re.fullmatch(r"autosend-verify-[0-9a-f]{32}", records["ownership"]["value"])
    assert records["dkim"]["name"] == "autosend._domainkey.example.com"
    assert records["dkim"]["value"].startswith("MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ")
    mx, spf = records["mailFrom"]
    assert (mx["name"], mx["type"], mx["priority"]) == ("asend.example.com", "MX", 10)
    assert mx["value"] == "feedback-smtp.us-east-1.amazonses.com"
    assert (spf["name"], spf["type"]) == ("asend.example.com", "TXT")
    assert spf["value"] == "v=spf1 include:amazonses.com ~all"
    assert records["dmarc"] == {
        "name": "_dmarc.example.com",
        "value": "v=DMARC1; p=none;",
        "type": "TXT",
        "purpose": "DMARC policy",
    }


def test_region_key_picks_the_mail_from_exchange(api):
    domain = add(api, "mail.example.org", regionKey="eu-central-1")

    assert domain["regionKey"] == "eu-central-1"
    mx = domain["dnsRecords"]["mailFrom"][0]
    assert mx["name"] == "asend.mail.example.org"
    assert mx["value"] == "feedback-smtp.eu-central-1.amazonses.com"
    assert domain["dnsRecords"]["dmarc"]["name"] == "_dmarc.mail.example.org"


def test_published_records_verify_the_domain_with_every_flag(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"])

    result = verify(api, domain["id"])

    assert result["verificationStatus"] == "VERIFIED"
    assert result["verificationInProgress"] is True  # this call triggered the check
    assert flags(result) == dict.fromkeys(FLAG_KINDS, True)
    after = result["domain"]
    assert after["verificationStatus"] == "VERIFIED"
    assert after["verificationInProgress"] is False
    assert after["verifiedAt"] == after["lastCheckedAt"] == "2026-01-01T09:00:00.000Z"
    assert get(api, domain["id"]) == after
    listed = api.get("/domains").json()
    assert listed == {"success": True, "data": {"domains": [after]}}


def test_deleted_domain_is_gone(api):
    domain = add(api)

    response = api.delete(f"/domains/{domain['id']}")

    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["message"]
    assert_error(api.get(f"/domains/{domain['id']}"), 404, "NOT_FOUND")
    assert api.get("/domains").json()["data"]["domains"] == []


def test_ownership_and_dkim_verify_while_mail_from_and_dmarc_report_false(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"], omit=["mail_from_mx", "mail_from_spf", "dmarc"])

    result = verify(api, domain["id"])

    assert result["verificationStatus"] == "VERIFIED"
    assert flags(result) == {
        "ownershipVerified": True,
        "dkimEnabled": True,
        "mailFromEnabled": False,
        "dmarcEnabled": False,
    }


@pytest.mark.parametrize("flag", list(FLAG_KINDS))
def test_each_flag_is_reachable_alone(api, control, flag):
    domain = add(api)
    others = [kind for kind in KINDS if kind not in FLAG_KINDS[flag]]
    control.publish("autosend", domain["id"], omit=others)

    result = verify(api, domain["id"])

    assert flags(result) == {name: name == flag for name in FLAG_KINDS}
    assert result["verificationStatus"] == "PENDING"  # VERIFIED needs ownership and DKIM
    assert flags(get(api, domain["id"])) == flags(result)


@pytest.mark.parametrize("kind", ["ownership", "dkim"])
def test_a_corrupted_required_record_keeps_the_domain_pending(api, control, kind):
    domain = add(api)
    control.publish("autosend", domain["id"], corrupt=[kind])

    result = verify(api, domain["id"])

    assert result["verificationStatus"] == "PENDING"
    assert result["ownershipVerified"] is (kind != "ownership")
    assert result["dkimEnabled"] is (kind != "dkim")
    assert "verifiedAt" not in result["domain"]


@pytest.mark.parametrize(
    "form", ["{key}", "p={key}", "v=DKIM1; k=rsa; p={key}"], ids=["bare", "p-tag", "full"]
)
def test_dkim_accepts_the_bare_key_and_the_p_tag_forms(api, control, form):
    domain = add(api)
    dkim = domain["dnsRecords"]["dkim"]
    control.publish("autosend", domain["id"], omit=["dkim"])
    control.add_record(dkim["name"], "TXT", form.format(key=dkim["value"]))

    result = verify(api, domain["id"])

    assert result["dkimEnabled"] is True
    assert result["verificationStatus"] == "VERIFIED"


def test_a_second_spf_record_breaks_mail_from(api, control):
    domain = add(api)
    host = domain["dnsRecords"]["mailFrom"][1]["name"]
    control.add_record(host, "TXT", "v=spf1 include:_spf.google.com ~all")
    with pytest.warns(PublishWarning, match="2 SPF records now"):  # said, and kept
        control.publish("autosend", domain["id"])

    result = verify(api, domain["id"])

    assert result["mailFromEnabled"] is False
    assert result["verificationStatus"] == "VERIFIED"
    spf = _check(control, domain["id"], "mail_from_spf")
    assert spf["outcome"] == "invalid"
    assert "2 SPF records" in spf["reason"]


def test_a_verified_domain_that_loses_dkim_returns_to_pending_on_verify(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"])
    verify(api, domain["id"])
    control.remove_records(domain["dnsRecords"]["dkim"]["name"])

    result = verify(api, domain["id"])

    assert result["verificationStatus"] == "PENDING"
    assert result["dkimEnabled"] is False
    assert "verifiedAt" not in result["domain"]


# --- DNS trouble and time ---------------------------------------------------------------------


def test_servfail_during_a_check_leaves_the_domain_pending_until_a_recheck(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"])
    control.add_fault(domain["dnsRecords"]["ownership"]["name"], "servfail")

    result = verify(api, domain["id"])

    assert result["verificationStatus"] == "PENDING"
    assert result["ownershipVerified"] is False
    assert result["dkimEnabled"] is True
    assert _check(control, domain["id"], "ownership")["outcome"] == "temporary_failure"

    control.clear_faults()
    control.advance(300)  # the first re-check

    after = get(api, domain["id"])
    assert after["verificationStatus"] == "VERIFIED"
    assert after["lastCheckedAt"] == "2026-01-01T09:05:00.000Z"


def test_servfail_keeps_a_flag_already_seen(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"], omit=["dkim"])
    assert verify(api, domain["id"])["ownershipVerified"] is True
    control.add_fault(domain["dnsRecords"]["ownership"]["name"], "servfail")
    control.publish("autosend", domain["id"])

    control.advance(300)

    after = get(api, domain["id"])
    assert _check(control, domain["id"], "ownership")["outcome"] == "temporary_failure"
    assert after["ownershipVerified"] is True
    assert after["verificationStatus"] == "VERIFIED"


def test_records_still_propagating_verify_on_a_later_recheck(api, control):
    domain = add(api)
    control.publish("autosend", domain["id"], visible_after_seconds=600)

    result = verify(api, domain["id"])
    assert result["verificationStatus"] == "PENDING"
    assert flags(result) == dict.fromkeys(FLAG_KINDS, False)

    control.advance(600)  # re-check at 09:05 still sees nothing; the next is at 09:15
    pending = get(api, domain["id"])
    assert pending["verificationStatus"] == "PENDING"
    assert pending["lastCheckedAt"] == "2026-01-01T09:05:00.000Z"

    control.advance(300)
    verified = get(api, domain["id"])
    assert verified["verificationStatus"] == "VERIFIED"
    assert verified["lastCheckedAt"] == verified["verifiedAt"] == "2026-01-01T09:15:00.000Z"


def test_verify_delay_shows_a_check_in_progress_until_the_result_lands(api, control):
    control.settings("autosend", verify_delay_seconds=120)
    domain = add(api)
    control.publish("autosend", domain["id"])

    result = verify(api, domain["id"])
    assert result["verificationStatus"] == "PENDING"
    assert result["domain"]["verificationInProgress"] is True
    assert flags(result) == dict.fromkeys(FLAG_KINDS, False)

    control.advance(60)
    again = verify(api, domain["id"])  # a check under way is not restarted
    assert again["domain"]["verificationInProgress"] is True
    assert get(api, domain["id"])["lastCheckedAt"] == "2026-01-01T09:00:00.000Z"

    control.advance(60)
    landed = get(api, domain["id"])
    assert landed["verificationStatus"] == "VERIFIED"
    assert landed["verificationInProgress"] is False
    assert landed["lastCheckedAt"] == "2026-01-01T09:02:00.000Z"


def test_the_last_recheck_comes_at_the_end_of_the_window(api, control):
    """It came at the last doubled gap inside it (71 h 20 m of 72 h), so records published in
    the window's last 40 minutes were never seen."""
    control.settings("autosend", recheck_window_seconds=1800)
    domain = add(api)
    verify(api, domain["id"])
    control.advance(1200)  # re-checks at 09:05 and 09:15; the next gap would pass 09:30
    control.publish("autosend", domain["id"])
    control.advance(600)
    found = get(api, domain["id"])
    assert (found["verificationStatus"], found["lastCheckedAt"]) == (
        "VERIFIED",
        "2026-01-01T09:30:00.000Z",
    )


def test_rechecks_stop_after_the_window_until_verify_is_called_again(api, control):
    control.settings("autosend", recheck_window_seconds=1800)
    domain = add(api)
    verify(api, domain["id"])
    control.advance(1800)  # re-checks at 09:05, 09:15, and the last one at 09:30, its end
    control.publish("autosend", domain["id"])

    control.advance(7200)

    stale = get(api, domain["id"])
    assert stale["verificationStatus"] == "PENDING"
    assert stale["lastCheckedAt"] == "2026-01-01T09:30:00.000Z"
    assert verify(api, domain["id"])["verificationStatus"] == "VERIFIED"


# --- keys scope domains -------------------------------------------------------------------------


def test_another_key_cannot_see_verify_or_delete_a_domain(api, other):
    domain = add(api)

    assert other.get("/domains").json()["data"]["domains"] == []
    assert_error(other.get(f"/domains/{domain['id']}"), 404, "NOT_FOUND")
    assert_error(other.post(f"/domains/{domain['id']}/verify"), 404, "NOT_FOUND")
    assert_error(other.delete(f"/domains/{domain['id']}"), 404, "NOT_FOUND")
    assert get(api, domain["id"])["verificationStatus"] == "PENDING_CONFIGURATION"


def test_each_project_may_add_the_same_domain_once(api, other):
    add(api)

    # a duplicate is a 400 of the documented list (AutoSend's errors page shows no 409)
    again = api.post("/domains", json={"domain": "EXAMPLE.com"})
    assert_error(again, 400, "VALIDATION_FAILED", field="domain")
    assert again.json()["error"]["details"][0]["message"] == (
        "Domain example.com has already been added to this project"
    )
    assert add(other)["domainName"] == "example.com"


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, says",
    [
        ("https://example.com", "protocol"),
        ("example.com/path", "path"),
        ("example.com/", "slash"),
        (".".join(["a" * 63] * 4) + ".com", "at most 253"),
        ("", "required"),
        ("not a domain", "domain name such as"),
        ("localhost", "domain name such as"),
        ("-bad-.example.com", "domain name such as"),
    ],
    ids=[
        "protocol",
        "path",
        "trailing-slash",
        "too-long",
        "empty",
        "spaces",
        "one-label",
        "hyphen",
    ],
)
def test_malformed_domain_names_are_refused_saying_why(api, name, says):
    response = api.post("/domains", json={"domain": name})

    assert_error(response, 400, "VALIDATION_FAILED", "domain")
    assert says in response.json()["error"]["details"][0]["message"]
    assert api.get("/domains").json()["data"]["domains"] == []


def test_a_name_of_253_characters_is_accepted(api):
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])
    assert len(name) == 253
    assert add(api, name)["domainName"] == name


@pytest.mark.parametrize(
    "body, field",
    [
        ({"domain": "example.com", "regionKey": "mars-north-1"}, "regionKey"),
        ({"domain": "example.com", "color": "blue"}, "color"),
        ({}, "domain"),
        ({"domain": 42}, "domain"),
    ],
    ids=["unknown-region", "unknown-field", "missing-domain", "wrong-type"],
)
def test_bad_add_bodies_name_the_field(api, body, field):
    assert_error(api.post("/domains", json=body), 400, "VALIDATION_FAILED", field)


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"domain": "\xff.com"}'], ids=["empty", "not-json", "utf8"]
)
def test_unreadable_add_bodies_are_validation_errors(api, content):
    response = api.post("/domains", content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "VALIDATION_FAILED")


def test_unknown_query_parameters_are_refused(api):
    assert_error(api.get("/domains", params={"page": 2}), 400, "VALIDATION_FAILED", "page")


def test_each_unknown_query_parameter_is_a_detail_of_its_own(api):
    """Two were one detail, `"field": "page,limit"`, in Connexion's words ("not in spec")."""
    answer = api.get("/domains", params={"page": 2, "limit": 5})
    assert answer.status_code == 400
    assert answer.json()["error"]["details"] == [
        {"field": "page", "message": "unknown query parameter 'page'"},
        {"field": "limit", "message": "unknown query parameter 'limit'"},
    ]


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("DELETE", ""), ("POST", "/verify")])
def test_malformed_and_unknown_ids(api, method, suffix):
    malformed = api.request(method, f"/domains/60D5EC49F1B2C72D9C8B1111{suffix}")
    assert_error(malformed, 400, "VALIDATION_FAILED", "domainId")
    assert_error(api.request(method, f"/domains/{UNKNOWN_ID}{suffix}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("headers", [{}, _auth("sk_live_not_autosend"), {"Authorization": "as_x"}])
@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/domains"),
        ("POST", "/domains"),
        ("GET", f"/domains/{UNKNOWN_ID}"),
        ("DELETE", f"/domains/{UNKNOWN_ID}"),
        ("POST", f"/domains/{UNKNOWN_ID}/verify"),
    ],
)
def test_missing_or_wrong_keys_are_unauthorized(urls, method, path, headers):
    body = {"domain": "example.com"} if path == "/domains" and method == "POST" else None
    response = httpx.request(method, urls["autosend"] + path, headers=headers, json=body)
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": {"message": "Unauthorized", "code": "UNAUTHORIZED"},
    }


# --- determinism -------------------------------------------------------------------------------


def _story(api, control, seed: int) -> list[bytes]:
    control.reset(seed=seed)
    control.freeze(at="2026-01-01T09:00:00Z")
    bodies = []
    first = api.post("/domains", json={"domain": "example.com"})
    second = api.post("/domains", json={"domain": "shop.example.net", "regionKey": "ap-south-1"})
    bodies += [first.content, second.content]
    first_id = first.json()["data"]["id"]
    control.publish("autosend", first_id, omit=["dmarc"])
    bodies.append(api.post(f"/domains/{first_id}/verify").content)
    control.advance(90)
    bodies += [api.get("/domains").content, api.get(f"/domains/{first_id}").content]
    return bodies


def test_same_seed_and_calls_give_identical_bodies(api, control):
    once = _story(api, control, 7)
    twice = _story(api, control, 7)
    different = _story(api, control, 8)

    assert once == twice
    assert once[0] != different[0]


# --- rate-limit headers -------------------------------------------------------------------------


def test_every_answer_carries_the_rate_limit_headers_while_limits_are_not_enforced(
    api, urls, control
):
    assert control.rate_limits()["enabled"] is False
    answers = [
        api.get("/domains"),
        api.post("/domains", json={"domain": "https://example.com"}),
        api.get(f"/domains/{UNKNOWN_ID}"),
        api.get("/domains"),
    ]
    assert [a.status_code for a in answers] == [200, 400, 404, 200]  # counted, never refused
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"2"}
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0", "0"]
    # the window of 1 s opened at the frozen instant (2026-01-01T09:00:00Z), as unix seconds
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {"1767258001"}

    control.advance(1)
    fresh = api.get("/domains")
    assert fresh.headers["X-RateLimit-Remaining"] == "1"
    assert fresh.headers["X-RateLimit-Reset"] == "1767258002"
    keyless = httpx.get(f"{urls['autosend']}/domains")
    assert keyless.status_code == 401 and keyless.headers["X-RateLimit-Limit"] == "2"
