"""The Monite mailbox-domains flow over real HTTP, verified against the real fake DNS."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx
import pytest

from .helpers import PARTNER_A, VERSION, create, partner_headers, verify

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

PARTNER_B = "0d4c3f5e-2b7a-4c1e-9f3a-6b8d2e1f4a5c"


@pytest.fixture
def monite(urls):
    base = urls["monite"]
    return base, partner_headers(base)


def listed(base, headers, domain_id) -> dict:
    response = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert response.status_code == 200, response.text
    return next(d for d in response.json()["data"] if d["id"] == domain_id)


def validity(domain: dict) -> dict[str, str]:
    """Record validity keyed by purpose or type+value, as a client would read it."""
    records = (
        domain["dns_records"]["sending_dns_records"]
        + domain["dns_records"]["receiving_dns_records"]
    )
    return {
        r.get("record_purpose") or f"{r['record_type']} {r['value']}": r["valid"] for r in records
    }


def check_result(control, domain_id: str, kind: str) -> dict:
    """The sandbox's last check of one record of the domain (outcome, reason, found)."""
    records = control.domain("monite", domain_id)["records"]
    return next(r["result"] for r in records if r["kind"] == kind)


def test_created_domain_lists_records_to_publish_with_unknown_validity(monite):
    base, headers = monite
    domain = create(base, headers)
    assert domain["status"] == "waiting_to_be_verified"
    sending = domain["dns_records"]["sending_dns_records"]
    receiving = domain["dns_records"]["receiving_dns_records"]
    spf = next(r for r in sending if r.get("record_purpose") == "SPF")
    dkim = next(r for r in sending if r.get("record_purpose") == "DKIM")
    assert spf == {
        "is_active": True,
        "name": "mail.example.com",
        "record_purpose": "SPF",
        "record_type": "TXT",
        "valid": "unknown",
        "value": "v=spf1 include:mailgun.org ~all",
        "cached": [],
    }
    assert dkim["name"].endswith("._domainkey.mail.example.com")
    assert dkim["value"].startswith("k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB")
    assert [(r["value"], r["priority"]) for r in receiving] == [
        ("mxa.eu.mailgun.org", "10"),
        ("mxb.eu.mailgun.org", "10"),
    ]
    assert set(validity(domain).values()) == {"unknown"}


def test_whole_flow_from_nothing_published_to_verified(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]

    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    assert set(validity(listed(base, headers, domain_id)).values()) == {"invalid"}

    control.publish("monite", domain_id, omit=["dkim"])
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    states = validity(listed(base, headers, domain_id))
    assert states["SPF"] == "valid"
    assert states["MX mxa.eu.mailgun.org"] == states["MX mxb.eu.mailgun.org"] == "valid"
    assert states["DKIM"] == "invalid"

    control.publish("monite", domain_id)
    assert verify(base, headers, domain_id) == {
        "id": domain_id,
        "domain": "mail.example.com",
        "status": "verified",
    }
    domain = listed(base, headers, domain_id)
    assert domain["status"] == "verified"
    assert set(validity(domain).values()) == {"valid"}
    dkim = next(
        r for r in domain["dns_records"]["sending_dns_records"] if r.get("record_purpose") == "DKIM"
    )
    assert dkim["cached"] == [dkim["value"]]


def test_a_corrupted_dkim_key_is_invalid_with_a_reason(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id, corrupt=["dkim"])
    verify(base, headers, domain_id)
    assert validity(listed(base, headers, domain_id))["DKIM"] == "invalid"
    result = check_result(control, domain_id, "dkim")
    assert result["outcome"] == "invalid"
    assert "does not carry the expected public key" in result["reason"]


def test_two_spf_records_at_one_name_are_invalid_with_a_reason(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id)
    control.add_record("mail.example.com", "TXT", "v=spf1 include:_spf.google.com ~all")
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    assert validity(listed(base, headers, domain_id))["SPF"] == "invalid"
    spf = check_result(control, domain_id, "spf")
    assert spf["outcome"] == "invalid"
    assert "2 SPF records" in spf["reason"]


def test_servfail_is_a_temporary_failure_not_invalid(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id)
    control.add_fault("*._domainkey.mail.example.com", "servfail", qtype="TXT")
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    states = validity(listed(base, headers, domain_id))
    assert states["DKIM"] == "unknown" and states["SPF"] == "valid"
    dkim = check_result(control, domain_id, "dkim")
    assert dkim["outcome"] == "temporary_failure"
    assert "SERVFAIL" in dkim["reason"]

    control.clear_faults()
    assert verify(base, headers, domain_id)["status"] == "verified"


def test_advancing_the_clock_runs_the_scheduled_rechecks(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    verify(base, headers, domain_id)
    control.publish("monite", domain_id)
    before = control.domain("monite", domain_id)
    assert before["status"] == "waiting_to_be_verified"
    assert before["next_step_at"] == "2026-01-01T09:05:00Z"

    control.advance(5 * 60)
    after = control.domain("monite", domain_id)
    assert after["status"] == "verified"
    assert after["checks"] == before["checks"] + 1
    assert after["last_checked_at"] == "2026-01-01T09:05:00Z"
    assert listed(base, headers, domain_id)["status"] == "verified"


def test_rechecks_give_up_after_72_hours(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    verify(base, headers, domain_id)
    control.advance(73 * 3600)
    gave_up = control.domain("monite", domain_id)
    assert gave_up["next_step_at"] is None
    control.publish("monite", domain_id)
    control.advance(3600)
    assert control.domain("monite", domain_id)["status"] == "waiting_to_be_verified"
    fresh = partner_headers(base)  # the first token expired a day into the wait
    assert verify(base, fresh, domain_id)["status"] == "verified"


def test_propagation_delay_hides_records_until_the_clock_passes_it(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id, visible_after_seconds=600)
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    control.advance(601)  # re-checks at 5 min (still hidden) and 15 min run on the way
    assert control.domain("monite", domain_id)["status"] == "waiting_to_be_verified"
    control.advance(15 * 60)
    assert control.domain("monite", domain_id)["status"] == "verified"


def test_verify_delay_setting_lands_the_result_later(monite, control):
    base, headers = monite
    control.settings("monite", verify_delay_seconds=60)
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id)
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    control.advance(60)
    assert listed(base, headers, domain_id)["status"] == "verified"


def test_verify_asked_again_while_its_check_is_pending_does_not_put_the_check_off(monite, control):
    """Each verify scheduled the check verify_delay_seconds after itself: a client asking
    again every few seconds of a running clock never saw the check land."""
    base, headers = monite
    control.settings("monite", verify_delay_seconds=60)
    domain_id = create(base, headers)["id"]
    control.publish("monite", domain_id)
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    control.advance(40)
    assert verify(base, headers, domain_id)["status"] == "waiting_to_be_verified"
    control.advance(20)  # the first verify's check lands when it was to
    assert listed(base, headers, domain_id)["status"] == "verified"
    assert control.domain("monite", domain_id)["checks"] == 1


def test_another_partner_can_neither_see_verify_nor_delete(monite, urls):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    other = partner_headers(base, PARTNER_B)
    assert httpx.get(f"{base}/mailbox_domains", headers=other).json() == {"data": []}
    for method, path in (("POST", f"/{domain_id}/verify"), ("DELETE", f"/{domain_id}")):
        response = httpx.request(method, f"{base}/mailbox_domains{path}", headers=other)
        assert response.status_code == 404
        assert response.json() == {
            "error": {"message": f"Mailbox domain {domain_id} was not found"}
        }
    assert listed(base, headers, domain_id)["status"] == "waiting_to_be_verified"


def test_delete_removes_the_domain(monite):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    response = httpx.delete(f"{base}/mailbox_domains/{domain_id}", headers=headers)
    assert response.status_code == 204 and response.content == b""
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).json() == {"data": []}
    again = httpx.delete(f"{base}/mailbox_domains/{domain_id}", headers=headers)
    assert again.status_code == 404


# --- errors ---------------------------------------------------------------------------------


def test_missing_version_header_is_422_naming_the_header(monite):
    base, headers = monite
    response = httpx.get(
        f"{base}/mailbox_domains", headers={"Authorization": headers["Authorization"]}
    )
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["header", "x-monite-version"]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "No authorization token provided"),
        ("Bearer not-a-token", "The access token is invalid or has expired"),
    ],
)
def test_missing_or_unknown_token_is_401(monite, authorization, message):
    base, _ = monite
    headers = VERSION | ({"Authorization": authorization} if authorization else {})
    response = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": {"message": message}}


def test_entity_user_token_is_forbidden_for_partner_level_domains(urls):
    base = urls["monite"]
    headers = partner_headers(base, grant="entity_user")
    response = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert response.status_code == 403
    assert "partner token" in response.json()["error"]["message"]


def test_expired_token_is_401(monite, control):
    base, headers = monite
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200
    control.advance(86400)
    response = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert response.status_code == 401


def test_a_token_whose_signature_was_changed_is_401_after_the_real_one_was_used(monite):
    base, headers = monite
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200
    payload, _, signature = headers["Authorization"].removeprefix("Bearer ").partition(".")
    forged = f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    response = httpx.get(
        f"{base}/mailbox_domains", headers=headers | {"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": {"message": "The access token is invalid or has expired"}}


def test_unknown_id_is_404_and_malformed_id_is_422(monite):
    base, headers = monite
    unknown = "8a91507e-63b4-4eb6-9354-dc5ec4251815"
    response = httpx.post(f"{base}/mailbox_domains/{unknown}/verify", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"error": {"message": f"Mailbox domain {unknown} was not found"}}
    malformed = httpx.post(f"{base}/mailbox_domains/not-a-uuid/verify", headers=headers)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"][-1] == "domain_id"


def test_a_domain_id_in_upper_case_names_the_same_domain(monite):
    """Monite's document types domain_id `format: uuid`, which FastAPI reads as a UUID: its
    letter case does not matter, and answers carry the id as Monite wrote it."""
    base, headers = monite
    domain_id = create(base, headers)["id"]
    shouted = domain_id.upper()
    verified = httpx.post(f"{base}/mailbox_domains/{shouted}/verify", headers=headers)
    assert verified.status_code == 200, verified.text
    assert verified.json()["id"] == domain_id
    deleted = httpx.delete(f"{base}/mailbox_domains/{shouted}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).json()["data"] == []


@pytest.mark.parametrize(
    "written",
    [
        lambda i: i.replace("-", ""),  # 32 hex digits: the case the audit found 422
        lambda i: i.replace("-", "").upper(),
        lambda i: "{" + i + "}",
        lambda i: "urn:uuid:" + i,
    ],
    ids=["bare", "bare-upper", "braced", "urn"],
)
def test_a_domain_id_in_any_form_pydantic_reads_names_the_same_domain(monite, written):
    """FastAPI reads Monite's `format: uuid` domain_id as pydantic's UUID, which takes 32 hex
    digits (and braces, urn:uuid:) and normalises them: the domain is found, not a 422."""
    base, headers = monite
    domain_id = create(base, headers)["id"]
    target = quote(written(domain_id), safe=":")
    verified = httpx.post(f"{base}/mailbox_domains/{target}/verify", headers=headers)
    assert verified.status_code == 200, verified.text
    assert verified.json()["id"] == domain_id
    unknown = quote(written(str(uuid.UUID(int=1))), safe=":")
    missing = httpx.delete(f"{base}/mailbox_domains/{unknown}", headers=headers)
    assert missing.status_code == 404, missing.text
    deleted = httpx.delete(f"{base}/mailbox_domains/{target}", headers=headers)
    assert deleted.status_code == 204, deleted.text


def test_a_bare_id_a_digit_short_is_refused_in_pydantics_words(monite):
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains/{'a' * 31}/verify", headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0] == {
        "loc": ["path", "domain_id"],
        "msg": "Input should be a valid UUID, invalid length: found 31",
        "type": "uuid_parsing",
        "input": "a" * 31,
        "ctx": {"error": "invalid length: found 31"},
    }


def test_a_value_is_judged_for_each_parameter_even_when_seen_before(monite):
    """A UUID is a good domain id and a bad API version: the verdict on one parameter's value
    is not taken for another's."""
    base, headers = monite
    unknown = "8a91507e-63b4-4eb6-9354-dc5ec4251815"
    verify = f"{base}/mailbox_domains/{unknown}/verify"
    for _ in range(2):  # and the second time, the same verdicts
        assert httpx.post(verify, headers=headers).status_code == 404
        as_version = httpx.post(verify, headers=headers | {"x-monite-version": unknown})
        assert as_version.status_code == 422
        assert as_version.json()["detail"][0]["loc"] == ["header", "x-monite-version"]


def test_duplicate_domain_is_409(monite):
    base, headers = monite
    create(base, headers)
    response = httpx.post(
        f"{base}/mailbox_domains", json={"domain": "MAIL.example.com"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json() == {"error": {"message": "Domain mail.example.com already exists"}}


@pytest.mark.parametrize(
    "name",
    ["-bad.example.com", "bad_.example.com", "localhost", "a..b.com", "x" * 64 + ".com", " a.com"],
)
def test_invalid_hostname_is_422_on_the_domain_field_saying_the_rules(monite, name):
    """In the words of Monite's docs (letters, digits, '.' and '-', labels starting and ending
    with a letter or digit), not a regular expression of the sandbox's own."""
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains", json={"domain": name}, headers=headers)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert (detail["loc"], detail["type"], detail["input"]) == (
        ["body", "domain"],
        "value_error",
        name,
    )
    assert detail["msg"].startswith(f"Value error, {name!r} is not a valid hostname: use letters")
    assert "in two or more labels" in detail["msg"]  # what `localhost` breaks, said


def test_an_unknown_body_field_is_named_as_pydantic_forbids_it(monite):
    """The older guide sent `"provider": "mailgun"`; DomainRequest (additionalProperties:
    false, pydantic's extra="forbid" behind Monite's FastAPI) refuses it by name."""
    base, headers = monite
    response = httpx.post(
        f"{base}/mailbox_domains",
        json={"domain": "mail.example.com", "provider": "mailgun"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "provider"],
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
        ]
    }


def test_a_non_finite_number_is_a_value_error_naming_the_field_in_loc_only(monite):
    base, headers = monite
    response = httpx.post(
        f"{base}/mailbox_domains",
        content=b'{"domain": NaN}',
        headers=headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "domain"],
            "msg": "Value error, NaN is not a JSON number; give a finite number",
            "type": "value_error",
            "ctx": {"error": {}},
        }
    ]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"domain": 42}', b'{"domain": "a.com", "extra": 1}', b"\xff\xfe\xfd", b"[]"],
)
def test_malformed_bodies_are_422_never_500(monite, content):
    base, headers = monite
    response = httpx.post(
        f"{base}/mailbox_domains",
        content=content,
        headers=headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


def test_nothing_stored_is_lost_after_bad_requests(monite):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    httpx.post(
        f"{base}/mailbox_domains",
        content=b"\xff",
        headers=headers | {"Content-Type": "application/json"},
    )
    httpx.post(f"{base}/mailbox_domains", json={"domain": "mail.example.com"}, headers=headers)
    assert listed(base, headers, domain_id)["domain"] == "mail.example.com"


# --- fidelity to Monite's own document (Monite Partner API 2024-05-25) -------------------------


def test_the_domain_comes_back_as_it_was_sent_and_is_compared_in_any_case(monite, control):
    base, headers = monite
    domain = create(base, headers, "domainExample.com")  # as in Monite's guide
    assert domain["domain"] == "domainExample.com"
    spf = domain["dns_records"]["sending_dns_records"][0]
    assert spf["name"] == "domainexample.com"  # DNS names are case-insensitive
    assert listed(base, headers, domain["id"])["domain"] == "domainExample.com"

    duplicate = httpx.post(
        f"{base}/mailbox_domains", json={"domain": "DOMAINEXAMPLE.com"}, headers=headers
    )
    assert duplicate.status_code == 409
    control.publish("monite", domain["id"])
    assert verify(base, headers, domain["id"]) == {
        "id": domain["id"],
        "domain": "domainExample.com",
        "status": "verified",
    }


def test_a_token_request_may_send_a_null_entity_user_id(urls):
    body = {
        "client_id": PARTNER_A,
        "client_secret": "s3cret",
        "grant_type": "client_credentials",
        "entity_user_id": None,  # Monite's document: uuid or null
    }
    response = httpx.post(f"{urls['monite']}/auth/token", json=body, headers=VERSION)
    assert response.status_code == 200, response.text
    refused = httpx.post(
        f"{urls['monite']}/auth/token",
        json=body | {"grant_type": "entity_user"},
        headers=VERSION,
    )
    assert refused.status_code == 422  # an entity_user token still names its user
    assert refused.json()["detail"][0]["loc"] == ["body", "entity_user_id"]


def test_an_entity_user_token_without_its_user_is_told_the_field_is_required(urls):
    """As pydantic says a field missing; it said the whole body "is not valid under any of the
    given schemas" (the document's anyOf, which a `not` guards)."""
    body = {"client_id": PARTNER_A, "client_secret": "s3cret", "grant_type": "entity_user"}
    refused = httpx.post(f"{urls['monite']}/auth/token", json=body, headers=VERSION)
    assert refused.status_code == 422, refused.text
    assert refused.json() == {
        "detail": [{"loc": ["body", "entity_user_id"], "msg": "Field required", "type": "missing"}]
    }


@pytest.mark.parametrize("entity", ["8a91507e-63b4-4eb6-9354-dc5ec4251815", "not-a-uuid"])
def test_mailbox_domain_operations_neither_declare_nor_judge_the_entity_header(monite, entity):
    base, headers = monite
    headers = headers | {"x-monite-entity-id": entity}
    domain = create(base, headers)
    assert verify(base, headers, domain["id"])["status"] == "waiting_to_be_verified"
    listing = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert listing.status_code == 200
    assert listing.headers["x-monite-entity-id"] == entity  # echoed, as Monite's headers page says
    gone = httpx.delete(f"{base}/mailbox_domains/{domain['id']}", headers=headers)
    assert gone.status_code == 204


@pytest.mark.parametrize(
    "version", ["2024-13-45", "2024-02-30", "20240525", "2024-5-25", "2024-05-25" + "9" * 300]
)
def test_a_version_that_is_not_a_real_date_is_422_naming_the_header(monite, version):
    base, headers = monite
    response = httpx.get(f"{base}/mailbox_domains", headers=headers | {"x-monite-version": version})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-monite-version"]
    assert "x-monite-version" not in response.headers  # no version was used


def test_undeclared_query_parameters_are_ignored_as_monites_framework_does(monite):
    base, headers = monite
    domain = create(base, headers)
    listing = httpx.get(f"{base}/mailbox_domains", params={"limit": 5}, headers=headers)
    assert listing.status_code == 200
    assert [d["id"] for d in listing.json()["data"]] == [domain["id"]]
    verified = httpx.post(
        f"{base}/mailbox_domains/{domain['id']}/verify", params={"force": "yes"}, headers=headers
    )
    assert verified.status_code == 200


def test_every_answer_carries_monites_documented_response_headers(monite):
    base, headers = monite
    answers = [
        httpx.get(f"{base}/mailbox_domains", headers=headers),
        httpx.get(f"{base}/mailbox_domains", headers=headers | {"x-monite-version": "2023-09-01"}),
        httpx.post(f"{base}/mailbox_domains", json={"domain": "-bad"}, headers=headers),
        httpx.get(f"{base}/mailbox_domains", headers=VERSION),  # no token: 401
    ]
    assert [a.status_code for a in answers] == [200, 200, 422, 401]
    versions = [a.headers["x-monite-version"] for a in answers]
    assert versions == ["2024-05-25", "2023-09-01", "2024-05-25", "2024-05-25"]
    request_ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(request_ids)) == 4
    assert all(str(uuid.UUID(r)) == r for r in request_ids)
    assert all(float(a.headers["x-process-time"]) >= 0 for a in answers)


def test_request_ids_are_drawn_from_the_seed(urls, control):
    def request_ids() -> list[str]:
        base = urls["monite"]
        headers = partner_headers(base)
        return [
            httpx.get(f"{base}/mailbox_domains", headers=headers).headers["x-request-id"]
            for _ in range(3)
        ]

    first = request_ids()
    control.reset(seed=4242)  # the seed the `control` fixture starts from
    assert request_ids() == first
    control.reset(seed=7)
    assert request_ids() != first


def test_a_revoked_token_is_401_from_then_on(monite, urls):
    base, headers = monite
    token = headers["Authorization"].removeprefix("Bearer ")
    body = {"client_id": PARTNER_A, "client_secret": "s3cret", "token": token}
    revoked = httpx.post(f"{base}/auth/revoke", json=body, headers=headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"message": "Token revoked"}
    after = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert after.status_code == 401
    assert after.json() == {"error": {"message": "The access token is invalid or has expired"}}


def test_revoke_needs_a_live_bearer_as_monites_document_declares_and_judges_the_client(monite):
    base, headers = monite
    token = headers["Authorization"].removeprefix("Bearer ")
    body = {"client_id": PARTNER_B, "client_secret": "s3cret", "token": token}
    not_theirs = httpx.post(f"{base}/auth/revoke", json=body, headers=headers)
    assert not_theirs.status_code == 401
    assert not_theirs.json() == {"error": {"message": "The token was not issued to this client_id"}}
    for bearer in ({}, {"Authorization": "Bearer not-a-token"}):
        refused = httpx.post(f"{base}/auth/revoke", json=body, headers=VERSION | bearer)
        assert refused.status_code == 401
    unknown = body | {"client_id": PARTNER_A, "token": "never-issued"}
    assert httpx.post(f"{base}/auth/revoke", json=unknown, headers=headers).status_code == 200
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200


# --- 422s in pydantic v2's words (FastAPI behind Monite; checked against pydantic 2.14) ---------


def refusal(response: httpx.Response) -> dict:
    """The one item of a 422's FastAPI `detail`, the body holding nothing else."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert list(body) == ["detail"] and len(body["detail"]) == 1, body
    return body["detail"][0]


def test_a_missing_body_field_is_pydantics_missing(monite):
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains", json={}, headers=headers)
    assert refusal(response) == {
        "loc": ["body", "domain"],
        "msg": "Field required",
        "type": "missing",
    }


def test_a_wrong_json_type_is_pydantics_string_type(monite):
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains", json={"domain": 5}, headers=headers)
    assert refusal(response) == {
        "loc": ["body", "domain"],
        "msg": "Input should be a valid string",
        "type": "string_type",
        "input": 5,
    }


def test_a_number_past_a_float_has_no_input_rather_than_a_null(monite):
    """1e999999 is read as infinity, which JSON cannot write: `"input": null` stood in for it."""
    base, headers = monite
    content = b'{"domain": 1e999999}'
    headers = headers | {"Content-Type": "application/json"}
    response = httpx.post(f"{base}/mailbox_domains", content=content, headers=headers)
    assert refusal(response) == {
        "loc": ["body", "domain"],
        "msg": "Input should be a valid string",
        "type": "string_type",
    }


def test_a_value_not_in_an_enum_is_pydantics_enum(urls):
    body = {"client_id": PARTNER_A, "client_secret": "s3cret", "grant_type": "password"}
    response = httpx.post(f"{urls['monite']}/auth/token", json=body, headers=VERSION)
    expected = "'client_credentials' or 'entity_user'"
    assert refusal(response) == {
        "loc": ["body", "grant_type"],
        "msg": f"Input should be {expected}",
        "type": "enum",
        "input": "password",
        "ctx": {"expected": expected},
    }


def test_a_string_too_long_or_too_short_is_pydantics_string_too_long_or_short(monite):
    base, headers = monite
    long = httpx.post(f"{base}/mailbox_domains", json={"domain": "a" * 254}, headers=headers)
    # (no `input`: the sandbox's check shows a long value cut short)
    assert refusal(long) == {
        "loc": ["body", "domain"],
        "msg": "String should have at most 253 characters",
        "type": "string_too_long",
        "ctx": {"max_length": 253},
    }
    short = httpx.post(f"{base}/mailbox_domains", json={"domain": ""}, headers=headers)
    assert refusal(short) == {
        "loc": ["body", "domain"],
        "msg": "String should have at least 1 character",
        "type": "string_too_short",
        "input": "",
        "ctx": {"min_length": 1},
    }


@pytest.mark.parametrize(
    ("domain_id", "why"),
    [
        ("not-a-uuid", "invalid character: found `n` at 0"),
        ("abc", "invalid length: found 3"),
        (
            "8a91507e-63b4-4eb6-9354-dc5ec425181",
            "invalid group length in group 4: expected 12, found 11",
        ),
        ("8a91507e-63b4-4eb6-9354", "invalid group count: expected 5, found 4"),
    ],
)
def test_a_bad_uuid_in_the_path_is_pydantics_uuid_parsing(monite, domain_id, why):
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers)
    assert refusal(response) == {
        "loc": ["path", "domain_id"],
        "msg": f"Input should be a valid UUID, {why}",
        "type": "uuid_parsing",
        "input": domain_id,
        "ctx": {"error": why},
    }


def test_a_path_id_too_long_to_quote_is_still_uuid_parsing_by_its_length(monite):
    """A 5,000-character id was a `value_error` ("Value error, Invalid path parameter ..."),
    where a shorter bad id is `uuid_parsing`: two types for one mistake."""
    base, headers = monite
    response = httpx.post(f"{base}/mailbox_domains/{'a' * 5000}/verify", headers=headers)
    assert refusal(response) == {
        "loc": ["path", "domain_id"],
        "msg": "Input should be a valid UUID, invalid length: found 5000",
        "type": "uuid_parsing",
        "ctx": {"error": "invalid length: found 5000"},
    }


def test_a_missing_version_header_is_fastapis_missing_header(monite):
    base, headers = monite
    response = httpx.get(
        f"{base}/mailbox_domains", headers={"Authorization": headers["Authorization"]}
    )
    assert refusal(response) == {
        "loc": ["header", "x-monite-version"],
        "msg": "Field required",
        "type": "missing",
        "input": None,
    }


@pytest.mark.parametrize(
    ("version", "type_", "msg"),
    [
        (
            "2024-13-45",
            "date_from_datetime_parsing",
            "Input should be a valid date or datetime, month value is outside expected range of 1-12",
        ),
        (
            "2024-5-25",
            "date_from_datetime_parsing",
            "Input should be a valid date or datetime, input is too short",
        ),
        (
            "20240525",
            "date_from_datetime_inexact",
            "Datetimes provided to dates should have zero time - e.g. be exact dates",
        ),
    ],
)
def test_an_invalid_version_header_is_pydantics_date_error(monite, version, type_, msg):
    base, headers = monite
    response = httpx.get(f"{base}/mailbox_domains", headers=headers | {"x-monite-version": version})
    detail = refusal(response)
    assert (detail["loc"], detail["type"], detail["msg"], detail["input"]) == (
        ["header", "x-monite-version"],
        type_,
        msg,
        version,
    )
