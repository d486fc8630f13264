"""The Vortex email-domains API over real HTTP, its four checks judged against the fake DNS."""

from __future__ import annotations

import httpx
import pytest
from vortex_sdk import Vortex as VortexSDK
from vortex_sdk import VortexApiError

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

START = "2026-01-01T09:00:00Z"  # the frozen instant of the `control` fixture
SEED = 4242
KEY_A = "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"
KEY_B = "VRTX.OTg3NjU0MzItMTIzNC00NT.secretB2"
ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
OTHER_ACCOUNT = "223e4567-e89b-12d3-a456-426614174000"
NAME = "example.com"
CHECKS = {
    "token": "tokenVerification",
    "dkim": "dkim",
    "spf": "spfCheck",
    "dmarc": "dmarc",
}
STATUS = {
    "token": "tokenVerificationStatus",
    "dkim": "dkimStatus",
    "spf": "spfCheckStatus",
    "dmarc": "dmarcStatus",
}
DOCUMENTED_FIELDS = [
    "id",
    "organizationId",
    "accountId",
    "creatorId",
    "createdAt",
    "modifiedAt",
    "domain",
    "description",
    "verificationToken",
    "tokenVerificationRequestedAt",
    "tokenVerificationCompletedAt",
    "tokenVerificationStatus",
    "tokenVerificationError",
    "tokenVerificationAttempts",
    "dkimTokens",
    "isVerified",
    "dkimStatus",
    "dkimError",
    "dkimAttempts",
    "dkimRequestedAt",
    "dkimCompletedAt",
    "spfCheckStatus",
    "spfCheckError",
    "spfCheckAttempts",
    "spfCheckRequestedAt",
    "spfCheckCompletedAt",
    "dmarcStatus",
    "dmarcError",
    "dmarcAttempts",
    "dmarcRequestedAt",
    "dmarcCompletedAt",
    "isDefault",
    "deactivated",
    "attributes",
]


class Vortex:
    """A tiny client of the four documented operations, as an integration would call them."""

    def __init__(self, base: str, key: str | None = KEY_A, account: str = ACCOUNT):
        self.url = f"{base}/api/v1/accounts/{account}/email-domains"
        self.headers = {"x-api-key": key} if key else {}

    def create(self, domain: str = NAME, **extra) -> httpx.Response:
        return httpx.post(self.url, json={"domain": domain} | extra, headers=self.headers)

    def created(self, domain: str = NAME, **extra) -> dict:
        response = self.create(domain, **extra)
        assert response.status_code == 201, response.text
        return response.json()

    def list(self, **params) -> httpx.Response:
        return httpx.get(self.url, params=params, headers=self.headers)

    def one(self, domain_id: str) -> dict:
        """Read a domain back through list, as a client of the real API must."""
        response = self.list()
        assert response.status_code == 200, response.text
        return next(d for d in response.json() if d["id"] == domain_id)

    def update(self, domain_id: str, body) -> httpx.Response:
        return httpx.patch(f"{self.url}/{domain_id}", json=body, headers=self.headers)

    def check_dkim(self, domain_id: str) -> httpx.Response:
        return httpx.patch(f"{self.url}/{domain_id}/checkDkimStatus", headers=self.headers)

    def checked_dkim(self, domain_id: str) -> dict:
        response = self.check_dkim(domain_id)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def vortex(urls) -> Vortex:
    return Vortex(urls["vortex"])


def statuses(domain: dict) -> dict[str, str]:
    return {kind: domain[field] for kind, field in STATUS.items()}


def attempts(domain: dict) -> dict[str, int]:
    return {kind: domain[f"{prefix}Attempts"] for kind, prefix in CHECKS.items()}


def error_code(domain: dict, kind: str) -> str | None:
    error = domain[f"{CHECKS[kind]}Error"]
    return error and error["code"]


def at(seconds: int) -> str:
    """START plus some seconds, as the API prints it."""
    minutes, secs = divmod(seconds, 60)
    return f"2026-01-01T09:{minutes:02d}:{secs:02d}Z"


# --- the flow -----------------------------------------------------------------------------------


def test_created_domain_has_every_documented_field_in_the_documented_example_state(vortex):
    domain = vortex.created(description="Email domain for Vortex Software")
    assert list(domain) == DOCUMENTED_FIELDS
    assert domain["domain"] == NAME and domain["accountId"] == ACCOUNT
    assert domain["description"] == "Email domain for Vortex Software"
    assert domain["createdAt"] == START and domain["modifiedAt"] is None
    assert len(domain["verificationToken"]) == 44  # SES-style base64 of 32 bytes
    assert list(domain["dkimTokens"]) == ["dkim"]
    # as every example of Vortex's docs: tokens issued, the token check waiting for the provider
    assert statuses(domain) == {
        "token": "waiting_for_provider",
        "dkim": "waiting_for_user",
        "spf": "waiting_for_user",
        "dmarc": "waiting_for_user",
    }
    assert set(attempts(domain).values()) == {0}
    assert domain["isVerified"] is False
    assert domain["isDefault"] is False and domain["deactivated"] is False
    assert domain["attributes"] == {}
    for prefix in CHECKS.values():
        assert domain[f"{prefix}Error"] is None
        assert domain[f"{prefix}RequestedAt"] is None and domain[f"{prefix}CompletedAt"] is None


def test_description_defaults_to_null(vortex):
    assert vortex.created()["description"] is None


def test_whole_flow_publish_then_the_scheduled_recheck_verifies_every_check(vortex, control):
    domain = vortex.created()
    published = control.publish("vortex", domain["id"])
    by_kind = {p["kind"]: p for p in published}
    token = domain["dkimTokens"]["dkim"]
    assert by_kind["token"] == {
        "kind": "token",
        "name": f"_amazonses.{NAME}",
        "type": "TXT",
        "value": domain["verificationToken"],
    }
    assert by_kind["dkim"]["name"] == f"{token}._domainkey.{NAME}"
    assert by_kind["dkim"]["value"] == f"{token}.dkim.amazonses.com"
    assert by_kind["spf"]["value"] == "v=spf1 include:amazonses.com ~all"
    assert by_kind["dmarc"]["name"] == f"_dmarc.{NAME}"

    control.advance(299)
    assert set(attempts(vortex.one(domain["id"])).values()) == {0}  # not re-checked yet

    control.advance(1)
    seen = vortex.one(domain["id"])
    assert set(statuses(seen).values()) == {"verified"}
    assert seen["isVerified"] is True
    assert set(attempts(seen).values()) == {1}
    for prefix in CHECKS.values():
        assert seen[f"{prefix}RequestedAt"] == seen[f"{prefix}CompletedAt"] == at(300)
        assert seen[f"{prefix}Error"] is None
    assert seen["modifiedAt"] == at(300)
    asked = {(q["name"], q["type"]) for q in control.queries()}
    assert (f"_amazonses.{NAME}", "TXT") in asked
    assert (f"{token}._domainkey.{NAME}", "CNAME") in asked

    control.advance(3600)  # verified checks are not re-checked
    assert set(attempts(vortex.one(domain["id"])).values()) == {1}


def test_unpublished_records_wait_for_the_user_each_recheck_counts_then_fail_at_window_end(
    vortex, control
):
    control.settings("vortex", recheck_window_seconds=900)
    domain_id = vortex.created()["id"]

    control.advance(300)
    seen = vortex.one(domain_id)
    assert set(statuses(seen).values()) == {"waiting_for_user"}
    assert {error_code(seen, k) for k in CHECKS} == {"record_not_found"}
    assert seen["tokenVerificationError"]["record"]["name"] == f"_amazonses.{NAME}"
    assert "does not exist" in seen["tokenVerificationError"]["message"]
    assert set(attempts(seen).values()) == {1}

    control.advance(300)
    assert set(attempts(vortex.one(domain_id)).values()) == {2}

    control.advance(300)  # the last check, at the end of the window
    seen = vortex.one(domain_id)
    assert set(statuses(seen).values()) == {"failed"}
    assert set(attempts(seen).values()) == {3}
    assert "stopped re-checking 0.25 hours" in seen["dkimError"]["message"]

    control.advance(3600)
    assert set(attempts(vortex.one(domain_id)).values()) == {3}
    assert control.domain("vortex", domain_id)["next_step_at"] is None


def test_wrong_records_fail_with_reasons_and_fixing_them_verifies_on_the_next_recheck(
    vortex, control
):
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id, corrupt=["token", "dkim", "spf", "dmarc"])
    control.advance(300)
    seen = vortex.one(domain_id)
    assert set(statuses(seen).values()) == {"failed"}
    assert {error_code(seen, k) for k in CHECKS} == {"record_invalid"}
    assert "include:amazonses.com" in seen["spfCheckError"]["message"]
    assert "p=none, p=quarantine or p=reject" in seen["dmarcError"]["message"]
    assert seen["dkimError"]["found"] == ["wrong-target.wrong-provider.example"]
    assert seen["isVerified"] is False

    control.publish("vortex", domain_id)
    control.advance(300)
    seen = vortex.one(domain_id)
    assert set(statuses(seen).values()) == {"verified"}
    assert set(attempts(seen).values()) == {2}


def test_is_verified_needs_the_token_and_dkim_but_not_spf_or_dmarc(vortex, control):
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id, omit=["spf", "dmarc"])
    control.advance(300)
    seen = vortex.one(domain_id)
    assert statuses(seen) == {
        "token": "verified",
        "dkim": "verified",
        "spf": "waiting_for_user",
        "dmarc": "waiting_for_user",
    }
    assert seen["isVerified"] is True


def test_is_verified_needs_dkim(vortex, control):
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id, omit=["dkim"])
    control.advance(300)
    seen = vortex.one(domain_id)
    assert seen["tokenVerificationStatus"] == "verified"
    assert seen["dkimStatus"] == "waiting_for_user"
    assert seen["isVerified"] is False


def test_servfail_makes_token_and_dkim_provider_failed_and_spf_keeps_its_status(vortex, control):
    domain = vortex.created()
    control.publish("vortex", domain["id"])
    control.add_fault(f"_amazonses.{NAME}", "servfail")
    control.add_fault(f"{domain['dkimTokens']['dkim']}._domainkey.{NAME}", "servfail")
    control.add_fault(NAME, "servfail")
    control.advance(300)
    seen = vortex.one(domain["id"])
    assert statuses(seen) == {
        "token": "provider_failed",
        "dkim": "provider_failed",
        "spf": "waiting_for_user",  # SPF's documented statuses have no provider_failed
        "dmarc": "verified",
    }
    assert {error_code(seen, k) for k in ("token", "dkim", "spf")} == {"dns_temporary_failure"}
    assert "SERVFAIL" in seen["tokenVerificationError"]["message"]
    assert seen["isVerified"] is False

    control.clear_faults()
    control.advance(300)
    seen = vortex.one(domain["id"])
    assert set(statuses(seen).values()) == {"verified"}
    assert attempts(seen) == {"token": 2, "dkim": 2, "spf": 2, "dmarc": 1}


def test_a_dns_timeout_on_check_dkim_status_is_provider_failed(vortex, control):
    control.settings("vortex", check_delay_seconds=0)  # checked within the call
    domain = vortex.created()
    control.publish("vortex", domain["id"])
    control.add_fault(f"{domain['dkimTokens']['dkim']}._domainkey.{NAME}", "drop")
    seen = vortex.checked_dkim(domain["id"])
    assert seen["dkimStatus"] == "provider_failed"
    assert "timed out" in seen["dkimError"]["message"]


# --- checkDkimStatus --------------------------------------------------------------------------


def test_check_dkim_status_checks_now_and_counts_each_attempt(vortex, control):
    control.settings("vortex", check_delay_seconds=0)  # checked within the call
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id)
    seen = vortex.checked_dkim(domain_id)
    assert seen["dkimStatus"] == "verified" and seen["dkimAttempts"] == 1
    assert seen["dkimRequestedAt"] == seen["dkimCompletedAt"] == START
    assert seen["tokenVerificationStatus"] == "waiting_for_provider"  # only DKIM was asked about
    assert seen["isVerified"] is False

    control.advance(60)
    seen = vortex.checked_dkim(domain_id)
    assert seen["dkimAttempts"] == 2 and seen["dkimCompletedAt"] == at(60)


def test_a_check_waiting_for_the_provider_is_a_state_the_client_report_counts(vortex, control):
    """The answer said dkimStatus=waiting_for_provider; the report listed it never reached."""
    control.clear_report()
    domain_id = vortex.created()["id"]
    assert vortex.checked_dkim(domain_id)["dkimStatus"] == "waiting_for_provider"  # 30 s on
    reached = control.report()["providers"]["vortex"]["states_reached"]
    assert "dkimStatus=waiting_for_provider" in reached


def test_check_dkim_status_sees_a_removed_record_and_a_wrong_one(vortex, control):
    control.settings("vortex", check_delay_seconds=0)  # checked within the call
    domain = vortex.created()
    control.publish("vortex", domain["id"])
    control.advance(300)
    assert vortex.one(domain["id"])["isVerified"] is True

    control.remove_records(f"{domain['dkimTokens']['dkim']}._domainkey.{NAME}")
    seen = vortex.checked_dkim(domain["id"])
    assert seen["dkimStatus"] == "waiting_for_user"
    assert error_code(seen, "dkim") == "record_not_found"
    assert seen["isVerified"] is False

    control.publish("vortex", domain["id"], corrupt=["dkim"])
    seen = vortex.checked_dkim(domain["id"])
    assert seen["dkimStatus"] == "failed" and error_code(seen, "dkim") == "record_invalid"
    assert seen["dkimAttempts"] == 3


@pytest.mark.parametrize("delay", [0, 30])
def test_a_verified_domain_whose_dkim_check_fails_is_rechecked_again(vortex, control, delay):
    """The re-checks stop once every check is verified; a checkDkimStatus that then finds DKIM
    broken starts them again, so fixing the record verifies it without another call."""
    control.settings("vortex", check_delay_seconds=delay)
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id)
    control.advance(300 + delay)
    assert vortex.one(domain_id)["isVerified"] is True

    control.publish("vortex", domain_id, corrupt=["dkim"])
    vortex.checked_dkim(domain_id)
    control.advance(delay)
    assert vortex.one(domain_id)["dkimStatus"] == "failed"

    control.publish("vortex", domain_id)
    control.advance(300)
    seen = vortex.one(domain_id)
    assert seen["dkimStatus"] == "verified" and seen["isVerified"] is True
    assert seen["dkimAttempts"] == 3


def test_a_slow_dkim_check_waits_for_the_provider_until_its_result_lands(vortex, control):
    control.settings("vortex", check_delay_seconds=30)
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id)
    seen = vortex.checked_dkim(domain_id)
    assert seen["dkimStatus"] == "waiting_for_provider"
    assert seen["dkimAttempts"] == 1
    assert seen["dkimRequestedAt"] == START and seen["dkimCompletedAt"] is None

    control.advance(30)
    seen = vortex.one(domain_id)
    assert seen["dkimStatus"] == "verified"
    assert seen["dkimRequestedAt"] == START and seen["dkimCompletedAt"] == at(30)


def test_a_verified_domain_stays_verified_while_its_dkim_is_checked_again(vortex, control):
    """Asking again about a verified DKIM does not take verification away meanwhile: the
    answer shows the attempt asked for, and the domain turns only on the result."""
    control.settings("vortex", check_delay_seconds=30)
    domain_id = vortex.created()["id"]
    control.publish("vortex", domain_id)
    control.advance(300)
    verified = vortex.one(domain_id)
    assert verified["isVerified"] is True and verified["dkimStatus"] == "verified"

    control.advance(60)
    control.publish("vortex", domain_id, corrupt=["dkim"])
    seen = vortex.checked_dkim(domain_id)
    assert seen["isVerified"] is True and seen["dkimStatus"] == "verified"
    assert seen["dkimAttempts"] == verified["dkimAttempts"] + 1
    assert seen["dkimRequestedAt"] == seen["modifiedAt"] == at(360)
    assert seen["dkimCompletedAt"] == verified["dkimCompletedAt"]  # the last result's

    control.advance(30)
    seen = vortex.one(domain_id)
    assert seen["isVerified"] is False and seen["dkimStatus"] == "failed"
    assert seen["dkimCompletedAt"] == at(390)


def test_check_dkim_status_accepts_an_empty_json_body(vortex):
    domain_id = vortex.created()["id"]
    response = httpx.patch(
        f"{vortex.url}/{domain_id}/checkDkimStatus", json={}, headers=vortex.headers
    )
    assert response.status_code == 200, response.text


def test_tokens_wait_for_the_provider_until_it_issues_them(vortex, control):
    control.settings("vortex", provider_setup_seconds=60)
    domain = vortex.created()
    assert domain["tokenVerificationStatus"] == domain["dkimStatus"] == "waiting_for_provider"
    assert domain["spfCheckStatus"] == domain["dmarcStatus"] == "waiting_for_user"
    assert domain["verificationToken"] is None and domain["dkimTokens"] is None
    unchanged = vortex.checked_dkim(domain["id"])  # nothing to check yet
    assert unchanged["dkimStatus"] == "waiting_for_provider" and unchanged["dkimAttempts"] == 0

    control.advance(60)
    seen = vortex.one(domain["id"])
    assert seen["tokenVerificationStatus"] == "waiting_for_provider"  # until its first check
    assert seen["dkimStatus"] == "waiting_for_user"
    assert seen["verificationToken"] and seen["dkimTokens"]["dkim"]
    assert seen["modifiedAt"] == at(60)

    control.publish("vortex", domain["id"])
    control.advance(299)  # re-checks start an interval after the tokens were issued
    assert vortex.one(domain["id"])["isVerified"] is False
    control.advance(1)
    assert vortex.one(domain["id"])["isVerified"] is True


# --- update -------------------------------------------------------------------------------------


def test_update_sets_and_clears_the_description_only(vortex, control):
    created = vortex.created(description="old")
    control.advance(90)
    response = vortex.update(created["id"], {"description": "new"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["description"] == "new" and updated["modifiedAt"] == at(90)
    assert {k: v for k, v in updated.items() if k not in ("description", "modifiedAt")} == {
        k: v for k, v in created.items() if k not in ("description", "modifiedAt")
    }

    cleared = vortex.update(created["id"], {"description": None})
    assert cleared.status_code == 200 and cleared.json()["description"] is None
    assert vortex.one(created["id"])["description"] is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "'description' is a required property"),
        ({"description": 3}, "description"),
        ({"description": "x", "domain": "other.com"}, "'domain' was unexpected"),
        ([], "not of type 'object'"),
    ],
)
def test_update_rejects_bodies_without_exactly_a_description(vortex, body, words):
    domain_id = vortex.created(description="kept")["id"]
    response = vortex.update(domain_id, body)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert vortex.one(domain_id)["description"] == "kept"


# --- list ---------------------------------------------------------------------------------------


def test_list_is_a_bare_array_paged_by_start_offset(vortex):
    names = [f"d{i:02d}.example.com" for i in range(25)]
    for name in names:
        vortex.created(name)

    def page(**params) -> list[str]:
        response = vortex.list(**params)
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list)
        return [d["domain"] for d in response.json()]

    assert page() == names[:20]
    assert page(start=0) == names[:20]
    assert page(start=5) == names[5:25]
    assert page(start=20) == names[20:]
    assert page(start=25) == []


@pytest.mark.parametrize(
    "params",
    [
        {"start": -1},
        {"start": "abc"},
        {"limit": 5},
        # Python's int() reads these; Vortex's server (and JSON Schema's integer) does not
        {"start": "\u0661"},  # ARABIC-INDIC DIGIT ONE
        {"start": "1_0"},
        {"start": " 1"},
    ],
)
def test_list_rejects_bad_or_unknown_query_parameters(vortex, params):
    response = vortex.list(**params)
    assert response.status_code == 400
    assert list(params)[0] in response.json()["error"]


# --- errors, auth and tenants -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (None, "Missing x-api-key header"),
        ("", "Missing x-api-key header"),
        ("sk_live_123", "Invalid API key"),
        ("VRTX.short.secret123", "Invalid UUID in API key"),
    ],
)
def test_missing_or_malformed_api_key_is_401(urls, key, words):
    headers = {} if key is None else {"x-api-key": key}
    response = httpx.get(Vortex(urls["vortex"]).url, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": response.json()["error"]}
    assert words in response.json()["error"]


def test_keys_can_be_made_optional_through_the_settings(urls, control):
    keyless = Vortex(urls["vortex"], key=None)
    assert keyless.create().status_code == 401
    control.settings("vortex", require_api_key=0)
    assert keyless.created()["domain"] == NAME
    assert [d["domain"] for d in keyless.list().json()] == [NAME]


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"json": {}}, 400, "'domain' is a required property"),
        ({"json": {"domain": 5}}, 400, "'domain'"),
        ({"json": {"domain": "a.com", "extra": 1}}, 400, "'extra' was unexpected"),
        ({"json": {"domain": "not a domain"}}, 400, "is not a valid domain name"),
        ({"json": {"domain": "-bad.example.com"}}, 400, "is not a valid domain name"),
        ({"json": {"domain": "a.com", "description": 1}}, 400, "description"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, ""),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}, 400, "UTF-8"),
    ],
)
def test_bad_create_requests_get_clear_errors_in_vortex_shape(vortex, kwargs, status, words):
    headers = vortex.headers | kwargs.pop("headers", {})
    response = httpx.post(vortex.url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str)
    assert words in body["error"]


def test_creating_the_same_domain_twice_in_an_account_is_409(vortex):
    vortex.created()
    response = vortex.create(NAME.upper())
    assert response.status_code == 409
    assert response.json() == {"error": "Email domain example.com already exists for this account"}


def test_unknown_domain_is_404_for_update_and_check(vortex):
    missing = "00000000-0000-4000-8000-000000000000"
    for response in (vortex.update(missing, {"description": "x"}), vortex.check_dkim(missing)):
        assert response.status_code == 404
        assert response.json() == {"error": f"Email domain {missing} not found"}


def test_unknown_method_and_path_answer_in_vortex_shape(vortex):
    domain_id = vortex.created()["id"]
    deleted = httpx.delete(f"{vortex.url}/{domain_id}", headers=vortex.headers)
    assert deleted.status_code == 405 and "error" in deleted.json()
    missing = httpx.get(f"{vortex.url}/{domain_id}/nothing", headers=vortex.headers)
    assert missing.status_code in (404, 405) and "error" in missing.json()


def test_an_over_long_account_id_is_said_cut_short_with_its_limit(urls):
    """A path value was echoed whole (2,000 characters of accountId) where a body's is cut."""
    response = Vortex(urls["vortex"], KEY_A, "a" * 2000).list()
    assert response.status_code == 400
    said = response.json()["error"]
    assert said.endswith("… (2000 characters) is too long (at most 128 characters)")
    assert len(said) < 200


def test_domains_are_scoped_by_key_and_account(urls):
    owner = Vortex(urls["vortex"], KEY_A, ACCOUNT)
    other_key = Vortex(urls["vortex"], KEY_B, ACCOUNT)
    other_account = Vortex(urls["vortex"], KEY_A, OTHER_ACCOUNT)
    mine = owner.created()

    for stranger in (other_key, other_account):
        assert stranger.list().json() == []
        assert stranger.update(mine["id"], {"description": "x"}).status_code == 404
        assert stranger.check_dkim(mine["id"]).status_code == 404

    theirs = other_key.created()  # the same name is free in another tenant
    assert theirs["id"] != mine["id"]
    assert theirs["organizationId"] != mine["organizationId"]
    assert [d["id"] for d in owner.list().json()] == [mine["id"]]
    same_org = other_account.created()
    assert same_org["organizationId"] == mine["organizationId"]  # one key, one organization


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_and_calls_give_byte_identical_bodies(vortex, control):
    def session() -> list[bytes]:
        control.reset(SEED)
        control.freeze(START)
        bodies = []
        first = vortex.create(NAME, description="one")
        second = vortex.create("mail.example.org")
        bodies += [first.content, second.content]
        control.publish("vortex", first.json()["id"], corrupt=["spf"])
        control.advance(300)
        bodies.append(vortex.check_dkim(second.json()["id"]).content)
        bodies.append(vortex.update(first.json()["id"], {"description": None}).content)
        bodies.append(vortex.list().content)
        return bodies

    assert session() == session()


# --- the official SDK: its key parser and its base URL ----------------------------------------

SDK_KEYS = [
    "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.s",  # a one-character secret
    "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.",  # an empty secret
    "VRTX.Ej5FZ-ibEtOkVkJmFBdAAA==.secret",  # the key id with its padding
    "VRTX.Ej5FZ+ib/9OkVkJmFBdAAA.secret",  # standard base64 characters
    "vrtx.MTIzZTQ1NjctZTg5Yi0xMm.secret",
    "VRTX.MTIzZTQ1NjctZTg5Yi0xMm",
    "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.a.b",
    "VRTX.short.secret123",
    "VRTX.MTIzZTQ1NjctZTg5Yi0x.secret",  # 12 bytes, not a UUID's 16
    "VRTX.MTIzZTQ1NjctZTg5Yi0xMm!.secret",
    "VRTX..secret",
    "sk_live_123",
]


def sdk_accepts(key: str) -> bool:
    """What the official SDK's key parser (it runs when the SDK signs a user token) says."""
    try:
        VortexSDK(api_key=key).generate_jwt({"id": "user-1", "email": "user@example.com"})
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("key", SDK_KEYS)
def test_a_key_is_accepted_exactly_when_the_official_sdks_parser_accepts_it(urls, key):
    response = Vortex(urls["vortex"], key=key).list()
    if sdk_accepts(key):
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401
        assert response.json()["error"].startswith(("Invalid API key", "Invalid UUID in API key"))


def test_a_refused_key_is_told_why_in_the_sdks_own_words(urls):
    def refusal(key: str) -> str:
        response = Vortex(urls["vortex"], key=key).list()
        assert response.status_code == 401
        return response.json()["error"]

    assert refusal("VRTX.abc") == "Invalid API key format. Expected: VRTX.{encodedId}.{key}"
    assert refusal("KEY.MTIzZTQ1NjctZTg5Yi0xMm.s") == "Invalid API key prefix. Expected: VRTX"
    assert refusal("VRTX.MTIzZTQ1NjctZTg5Yi0x.s").startswith(
        "Invalid UUID in API key: bytes is not a 16-char string"
    )
    assert "base64url form of a 16-byte UUID" in refusal("VRTX..s")
    assert sdk_accepts("VRTX.MTIzZTQ1NjctZTg5Yi0xMm.s")  # the short secret of the issue
    assert Vortex(urls["vortex"], key="VRTX.MTIzZTQ1NjctZTg5Yi0xMm.s").list().status_code == 200


def test_the_sdk_pointed_at_the_sandbox_with_its_api_v1_base_url_works(urls):
    # The SDK's default base URL ends in /api/v1; an integration built on it calls the email
    # domains through the SDK's own request method. Pointed at the sandbox: .../vortex/api/v1.
    sdk = VortexSDK(api_key=KEY_A, base_url=f"{urls['vortex']}/api/v1")
    path = f"/accounts/{ACCOUNT}/email-domains"
    created = sdk._vortex_api_request_sync("POST", path, data={"domain": NAME})
    assert (
        created["domain"] == NAME and created["tokenVerificationStatus"] == "waiting_for_provider"
    )
    assert [d["id"] for d in sdk._vortex_api_request_sync("GET", path)] == [created["id"]]
    with pytest.raises(VortexApiError) as duplicate:
        sdk._vortex_api_request_sync("POST", path, data={"domain": NAME})
    assert duplicate.value.status_code == 409
    assert duplicate.value.message == f"Email domain {NAME} already exists for this account"


def test_on_poll_two_accounts_holding_one_name_each_see_every_state_of_their_own(urls, control):
    """On-poll, a read of the list showed (and moved the clock for) every account's domains:
    the second account's first read of example.com, which the first account's read had shown,
    moved the clock, and it never saw the provider's first look to come."""
    control.set_clock_mode("on-poll")
    sdk = VortexSDK(api_key=KEY_A, base_url=f"{urls['vortex']}/api/v1")
    paths = [f"/accounts/{account}/email-domains" for account in (ACCOUNT, OTHER_ACCOUNT)]
    ids = []
    for path in paths:
        ids.append(sdk._vortex_api_request_sync("POST", path, data={"domain": NAME})["id"])
        control.publish("vortex", ids[-1])

    def poll(path: str, domain_id: str) -> tuple[str, bool, str]:
        [domain] = [d for d in sdk._vortex_api_request_sync("GET", path) if d["id"] == domain_id]
        return domain["tokenVerificationStatus"], domain["isVerified"], control.clock()["now"]

    first, second = zip(paths, ids, strict=True)
    assert poll(*first) == ("waiting_for_provider", False, START)
    assert poll(*second) == ("waiting_for_provider", False, START)
    assert poll(*first) == ("verified", True, at(300))  # the provider's first look at each
    assert poll(*second) == ("verified", True, at(300))


def test_check_dkim_status_asked_again_while_it_runs_does_not_put_its_result_off(urls, control):
    """A client asking every 20 seconds never saw a result: each call moved the running
    check's landing 30 seconds on (on a running clock, as here step by step)."""
    sdk = VortexSDK(api_key=KEY_A, base_url=f"{urls['vortex']}/api/v1")
    path = f"/accounts/{ACCOUNT}/email-domains"
    domain_id = sdk._vortex_api_request_sync("POST", path, data={"domain": NAME})["id"]
    control.publish("vortex", domain_id)
    seen = []
    for _ in range(3):
        domain = sdk._vortex_api_request_sync("PATCH", f"{path}/{domain_id}/checkDkimStatus")
        seen.append((domain["dkimStatus"], domain["dkimAttempts"], domain["dkimCompletedAt"]))
        control.advance(20)
    assert seen == [
        ("waiting_for_provider", 1, None),
        ("waiting_for_provider", 2, None),  # the check asked for at 09:00:00 still runs
        ("verified", 3, at(30)),  # it landed at 09:00:30; a verified DKIM stays so
    ]


def test_on_poll_a_client_calling_check_dkim_status_until_verified_sees_its_check_land(
    urls, control
):
    """checkDkimStatus answers the domain: a client may wait by calling it again. On-poll, a
    check call moved no clock, and every call put the check off again: `waiting_for_provider`
    for ever."""
    control.set_clock_mode("on-poll")
    sdk = VortexSDK(api_key=KEY_A, base_url=f"{urls['vortex']}/api/v1")
    path = f"/accounts/{ACCOUNT}/email-domains"
    domain_id = sdk._vortex_api_request_sync("POST", path, data={"domain": NAME})["id"]
    control.publish("vortex", domain_id)

    def check() -> tuple[str, int, str]:
        domain = sdk._vortex_api_request_sync("PATCH", f"{path}/{domain_id}/checkDkimStatus")
        return domain["dkimStatus"], domain["dkimAttempts"], control.clock()["now"]

    assert check() == ("waiting_for_provider", 1, START)
    assert check() == ("verified", 2, at(30))  # the first check landed; a verified DKIM stays


def test_on_poll_a_client_paging_through_the_list_reads_it_at_one_instant(urls, control):
    """Reading the page at start=20 moved the clock, every domain shown by the first page."""
    control.set_clock_mode("on-poll")
    sdk = VortexSDK(api_key=KEY_A, base_url=f"{urls['vortex']}/api/v1")
    path = f"/accounts/{ACCOUNT}/email-domains"
    for n in range(21):
        sdk._vortex_api_request_sync("POST", path, data={"domain": f"d{n}.example.com"})
    pages = [sdk._vortex_api_request_sync("GET", path, params={"start": s}) for s in (0, 20)]
    assert [len(page) for page in pages] == [20, 1]
    assert {d["tokenVerificationStatus"] for page in pages for d in page} == {
        "waiting_for_provider"
    }
    assert control.clock()["now"] == START
    sdk._vortex_api_request_sync("GET", path)  # the first page again: the provider's first look
    assert control.clock()["now"] == at(300)
