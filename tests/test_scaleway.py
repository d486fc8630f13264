"""Scaleway Mailbox v1alpha1 domains: the official SDK's flow, the lifecycle, records and errors."""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest
from scaleway import Client
from scaleway.mailbox.v1alpha1 import DomainStatus, MailboxV1Alpha1API
from scaleway_core.api import ScalewayException
from scaleway_core.utils import WaitForOptions

from sandbox.client import ControlError, PublishWarning

from .helpers import wait_for

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
OTHER_SECRET = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
OTHER_PROJECT = "7c5a3e1f-9d7b-4f5e-8c3a-1b9d7f5e3c1a"
PATH = "/mailbox/v1alpha1/domains"
# What the tests' seed gives: the first domain's first and last record ids, the second's id.
PINNED_RECORD_IDS = ("37be8857-78d7-4258-89c2-0d9915cb4fc9", "da424dae-69f3-421f-ae95-cbb2b0bd56f8")
PINNED_SECOND_ID = "873e422b-12eb-4911-b5af-0ce7877515d6"

RECORD_KEYS = {
    "domain_validation": "required",
    "mx": "required",
    "spf": "required",
    "dkim": "required",
    "dmarc": "required",
    "imap": "recommended",
    "pop3": "recommended",
    "submission": "recommended",
    "autoconfig": "recommended",
    "autodiscover": "recommended",
    "caldav": "optional",
    "carddav": "optional",
}

# wait_for_domain sleeps real seconds before each poll (at least 1); on an on-poll clock each
# poll moves the sandbox clock to the domain's next step, so a wait costs a second per state.
FAST_WAIT = WaitForOptions(timeout=10, min_delay=1, max_delay=1)
# The default step timings, in seconds on the sandbox clock.
CREATING, VALIDATING, PROVISIONING = 30, 60, 120


def sdk(urls, secret: str = SECRET, bypass: bool = False) -> MailboxV1Alpha1API:
    client = Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=secret,
        default_project_id=PROJECT,
        api_url=urls["scaleway"],
    )
    return MailboxV1Alpha1API(client, bypass_validation=bypass)


@pytest.fixture
def api(urls) -> MailboxV1Alpha1API:
    return sdk(urls)


@pytest.fixture
def http(urls):
    with httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": SECRET}) as client:
        yield client


def create(http, name: str, project: str = PROJECT) -> dict:
    response = http.post(PATH, json={"name": name, "project_id": project})
    assert response.status_code == 200, response.text
    return response.json()


def created(http, control, name: str) -> dict:
    """A domain created and through `creating`: waiting for validation."""
    domain = create(http, name)
    control.advance(CREATING)
    return domain


def validate(http, control, domain_id: str) -> None:
    """validate-records, then the clock through validating (DNS is asked) and provisioning."""
    assert http.post(f"{PATH}/{domain_id}/validate-records").status_code == 200
    control.advance(VALIDATING + PROVISIONING)


# --- the official SDK ------------------------------------------------------------------------


def test_sdk_creates_publishes_validates_waits_until_ready_lists_and_deletes(api, control):
    control.set_clock_mode("on-poll")  # the SDK's waits poll the clock on
    domain = api.create_domain(name="example.com")
    assert domain.status == DomainStatus.CREATING
    assert domain.project_id == PROJECT and domain.mailbox_total_count == 0

    creating = api.get_domain_records(domain_id=domain.id)  # the domain shown `creating`
    assert all(getattr(creating, key) is None for key in RECORD_KEYS)  # "not yet available"
    waiting = api.wait_for_domain(domain_id=domain.id, options=FAST_WAIT)
    assert waiting.status == DomainStatus.WAITING_VALIDATION
    records = api.get_domain_records(domain_id=domain.id)
    for key, level in RECORD_KEYS.items():
        record = getattr(records, key)
        assert record.level == level and record.domain_id == domain.id
        assert record.dns_name and record.dns_value

    control.publish("scaleway", domain.id)
    api.validate_domain_records(domain_id=domain.id)
    ready = api.wait_for_domain(domain_id=domain.id, options=FAST_WAIT)
    assert ready.status == DomainStatus.READY
    records = api.get_domain_records(domain_id=domain.id)
    assert {k: getattr(records, k).status for k in RECORD_KEYS} == dict.fromkeys(
        RECORD_KEYS, "valid"
    )

    for name in ("second.example.net", "third.example.org"):
        api.create_domain(name=name)
    everything = api.list_domains_all(page_size=2)  # three domains: two pages
    assert [d.name for d in everything] == [
        "third.example.org",
        "second.example.net",
        "example.com",
    ]
    assert [d.name for d in api.list_domains_all(statuses=[DomainStatus.READY])] == ["example.com"]
    assert [d.name for d in api.list_domains_all(search="example.n")] == ["second.example.net"]

    deleted = api.delete_domain(domain_id=domain.id)
    assert deleted.status == DomainStatus.DELETING
    assert api.get_domain(domain_id=domain.id).status == DomainStatus.DELETING
    with pytest.raises(ScalewayException) as gone:  # the next poll: deleted
        api.wait_for_domain(domain_id=domain.id, options=FAST_WAIT)
    assert gone.value.status_code == 404


def test_sdk_validation_with_a_broken_required_record_ends_validation_failed(api, control):
    control.set_clock_mode("on-poll")
    domain = api.create_domain(name="broken.example.com")
    assert (
        api.wait_for_domain(domain_id=domain.id, options=FAST_WAIT).status == "waiting_validation"
    )
    control.publish("scaleway", domain.id, corrupt=["dkim"], omit=["caldav"])
    api.validate_domain_records(domain_id=domain.id)

    failed = api.wait_for_domain(domain_id=domain.id, options=FAST_WAIT)

    assert failed.status == DomainStatus.VALIDATION_FAILED
    records = api.get_domain_records(domain_id=domain.id)
    assert records.dkim.status == "invalid"
    assert "does not carry the expected public key" in records.dkim.error
    assert records.caldav.status == "not_found" and records.caldav.error
    assert records.spf.status == "valid" and records.spf.error is None


def test_sdk_raises_its_exception_with_scaleway_error_bodies(api, urls):
    with pytest.raises(ScalewayException) as missing:
        api.get_domain(domain_id="5b0c2f3e-8a1d-4e6b-9f7c-2d4e6f8a0b1c")
    assert missing.value.status_code == 404
    assert missing.value.response.json() == {
        "type": "not_found",
        "message": "resource is not found",
        "resource": "domain",
        "resource_id": "5b0c2f3e-8a1d-4e6b-9f7c-2d4e6f8a0b1c",
    }

    with pytest.raises(ScalewayException) as bad_name:
        api.create_domain(name="not a domain")
    assert bad_name.value.status_code == 400
    body = bad_name.value.response.json()
    assert body["type"] == "invalid_arguments"
    assert body["details"][0]["argument_name"] == "name"

    domain = api.create_domain(name="taken.example.com")
    with pytest.raises(ScalewayException) as duplicate:
        api.create_domain(name="Taken.Example.com")
    assert duplicate.value.status_code == 409
    # every field the JS SDK's AlreadyExistsError reads; resource_id is the name asked about
    # (docs/scaleway.md, "already_exists names the name")
    assert duplicate.value.response.json() == {
        "type": "already_exists",
        "message": "resource already exists",
        "resource": "domain",
        "resource_id": "taken.example.com",
        "help_message": "a domain named taken.example.com is already registered",
    }

    with pytest.raises(ScalewayException) as foreign:
        sdk(urls, secret=OTHER_SECRET).get_domain(domain_id=domain.id)
    assert foreign.value.status_code == 403
    assert foreign.value.response.json() == {
        "type": "permissions_denied",
        "message": "insufficient permissions",
        "details": [{"resource": "domain", "action": "read"}],
    }

    no_project = sdk(urls)
    no_project.client.default_project_id = None  # the SDK then sends "project_id": null
    with pytest.raises(ScalewayException) as unset:
        no_project.create_domain(name="orphan.example.com")
    [detail] = unset.value.response.json()["details"]
    assert (detail["argument_name"], detail["reason"]) == ("project_id", "required")
    # the client setting, as each of Scaleway's SDKs spells it
    assert "default_project_id in Python, defaultProjectId in JavaScript" in detail["help_message"]

    with pytest.raises(ScalewayException) as denied:
        sdk(urls, secret="not-a-secret-key", bypass=True).list_domains()
    assert denied.value.status_code == 401
    assert denied.value.response.json()["type"] == "denied_authentication"


def test_a_bad_project_filter_on_a_list_is_said_without_client_advice(http):
    [detail] = http.get(PATH, params={"project_id": "nope"}).json()["details"]
    assert detail["argument_name"] == "project_id"  # a filter: nothing to set on a client
    assert (
        detail["help_message"]
        == "project_id must be a UUID, like 11111111-2222-4333-8444-555555555555"
    )


# --- lifecycle on the sandbox clock ----------------------------------------------------------


def test_each_lifecycle_step_waits_its_configured_time_on_the_sandbox_clock(http, control):
    control.settings(
        "scaleway",
        creating_seconds=30,
        validating_seconds=60,
        provisioning_seconds=120,
        deleting_seconds=10,
    )
    domain = create(http, "slow.example.com")
    url = f"{PATH}/{domain['id']}"

    def status():
        return http.get(url).json()["status"]

    assert status() == "creating"
    control.advance(30)
    assert status() == "waiting_validation"

    control.publish("scaleway", domain["id"])
    assert http.post(f"{url}/validate-records").json() == {}
    assert status() == "validating"
    records = http.get(f"{url}/records").json()
    assert {r["status"] for r in records.values()} == {"validating"}
    again = http.post(f"{url}/validate-records")
    assert again.status_code == 409
    assert again.json()["type"] == "transient_state"
    assert again.json()["current_state"] == "validating"

    control.advance(60)
    assert status() == "provisioning"
    control.advance(120)
    assert status() == "ready"

    assert http.delete(url).json()["status"] == "deleting"
    assert status() == "deleting"
    control.advance(10)
    assert http.get(url).status_code == 404


def test_only_required_records_decide_ready_while_the_others_are_still_reported(http, control):
    domain = created(http, control, "partial.example.com")
    optional = [k for k, level in RECORD_KEYS.items() if level != "required"]
    control.publish("scaleway", domain["id"], omit=optional)

    validate(http, control, domain["id"])

    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "ready"
    records = http.get(f"{PATH}/{domain['id']}/records").json()
    for key in optional:
        assert records[key]["status"] == "not_found"
        assert records[key]["error"]


def test_a_failed_domain_can_be_validated_again_once_its_records_are_fixed(http, control):
    domain = created(http, control, "retry.example.com")
    control.publish("scaleway", domain["id"], omit=["domain_validation"])
    validate(http, control, domain["id"])
    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "validation_failed"

    control.publish("scaleway", domain["id"])
    validate(http, control, domain["id"])

    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "ready"


def test_records_are_handed_out_once_the_domain_is_through_creating(http, control):
    # Scaleway's DomainStatus: `creating`, "validation records not yet available"; recorded
    # from api.scaleway.com, the records' created_at fall between the domain's creation and its
    # move to waiting_validation (terraform-provider-scaleway, internal/services/mailbox/
    # testdata/mailbox-domain-dns-records-exposed.cassette.yaml), and the provider fetches
    # them only once the domain has left `creating`.
    domain = create(http, "early.example.com")
    early = http.get(f"{PATH}/{domain['id']}/records")
    assert (early.status_code, early.json()) == (200, {})
    control.advance(CREATING)
    assert list(http.get(f"{PATH}/{domain['id']}/records").json()) == list(RECORD_KEYS)


def test_records_read_unknown_status_until_the_first_validation(http, control):
    domain = created(http, control, "fresh.example.com")
    records = http.get(f"{PATH}/{domain['id']}/records").json()
    assert list(records) == list(RECORD_KEYS)
    assert {r["status"] for r in records.values()} == {"unknown_status"}
    assert records["mx"] | {"id": None} == {
        "id": None,
        "domain_id": domain["id"],
        "status": "unknown_status",
        "level": "required",
        "dns_type": "mx_dns_type",
        "dns_name": "fresh.example.com.",
        "dns_value": "10 smtp.mailbox.scw.eu.",  # and no "error": Scaleway leaves it out
        "created_at": "2026-01-01T09:00:00Z",
        "updated_at": "2026-01-01T09:00:00Z",
    }


def test_record_names_and_target_hosts_are_fully_qualified_as_scaleway_writes_them(api, control):
    # Scaleway's answers end every dns_name, and the host a CNAME, MX or SRV value points at,
    # with a dot (terraform-provider-scaleway, internal/services/mailbox/testdata/
    # mailbox-domain-basic.cassette.yaml: "dns_name":"_dmarc.<domain>.", "10 smtp.mailbox.scw.eu.");
    # TXT values carry none ("v=DMARC1; p=none").
    domain = api.create_domain(name="dotted.example.com")
    control.advance(CREATING)
    records = api.get_domain_records(domain_id=domain.id)

    assert records.mx.dns_name == "dotted.example.com."
    assert records.mx.dns_value == "10 smtp.mailbox.scw.eu."
    assert records.dmarc.dns_name == "_dmarc.dotted.example.com."
    assert records.imap.dns_value == "0 1 993 imap.mailbox.scw.eu."
    assert records.autoconfig.dns_value == "autoconfig.mailbox.scw.eu."
    for key in RECORD_KEYS:
        record = getattr(records, key)
        assert record.dns_name.endswith(".dotted.example.com.") or record.dns_name == (
            "dotted.example.com."
        )
        assert record.dns_value.endswith(".") == (record.dns_type != "txt_dns_type"), key


# The records Scaleway handed out for a domain, as recorded from api.scaleway.com
# (terraform-provider-scaleway, internal/services/mailbox/testdata/
# mailbox-domain-basic.cassette.yaml), with the domain's name as D.
HANDED_OUT = {
    "domain_validation": ("txt_dns_type", "D.", r"scaleway-mailbox=[0-9a-f-]{36}"),
    "mx": ("mx_dns_type", "D.", r"10 smtp\.mailbox\.scw\.eu\."),
    "spf": ("txt_dns_type", "D.", r"v=spf1 include:spf\.mailbox\.scw\.eu -all"),
    "dkim": ("txt_dns_type", "scw-mbox._domainkey.D.", r"v=DKIM1; h=sha256; k=rsa; p=MII\S+"),
    "dmarc": ("txt_dns_type", "_dmarc.D.", r"v=DMARC1; p=none"),
    "imap": ("srv_dns_type", "_imaps._tcp.D.", r"0 1 993 imap\.mailbox\.scw\.eu\."),
    "pop3": ("srv_dns_type", "_pop3s._tcp.D.", r"0 1 995 pop3\.mailbox\.scw\.eu\."),
    "submission": ("srv_dns_type", "_submissions._tcp.D.", r"0 1 465 smtp\.mailbox\.scw\.eu\."),
    "autoconfig": ("cname_dns_type", "autoconfig.D.", r"autoconfig\.mailbox\.scw\.eu\."),
    "autodiscover": ("cname_dns_type", "autodiscover.D.", r"autodiscover\.mailbox\.scw\.eu\."),
    "caldav": ("srv_dns_type", "_caldavs._tcp.D.", r"0 1 443 caldav\.mailbox\.scw\.eu\."),
    "carddav": ("srv_dns_type", "_carddavs._tcp.D.", r"0 1 443 carddav\.mailbox\.scw\.eu\."),
}


def test_the_records_are_those_scaleway_hands_out(http, control):
    domain = created(http, control, "handed.example.com")
    records = http.get(f"{PATH}/{domain['id']}/records").json()
    assert set(records) == set(HANDED_OUT)
    for kind, (dns_type, name, value) in HANDED_OUT.items():
        record = records[kind]
        assert (record["dns_type"], record["level"]) == (dns_type, RECORD_KEYS[kind]), kind
        assert record["dns_name"] == name.replace("D", "handed.example.com"), kind
        assert re.fullmatch(value, record["dns_value"]), (kind, record["dns_value"])
    # published as handed out, they validate the domain: the token beside SPF at the apex
    control.publish("scaleway", domain["id"])
    validate(http, control, domain["id"])
    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "ready"


def test_a_domain_shows_scaleways_own_service_urls_and_no_organization(api):
    # Every domain the real API answers points at Scaleway's hosts, bare, and names no
    # organization (terraform-provider-scaleway's mailbox cassettes: "organization_id":"",
    # "webmail_url":"https://mailbox.scw.eu", "imap_url":"imap.mailbox.scw.eu", ...).
    created = api.create_domain(name="urls.example.com")
    for domain in (created, api.get_domain(domain_id=created.id), *api.list_domains().domains):
        assert domain.organization_id == ""
        assert domain.webmail_url == "https://mailbox.scw.eu"
        assert domain.imap_url == "imap.mailbox.scw.eu"
        assert domain.pop3_url == "pop3.mailbox.scw.eu"
        assert domain.smtp_url == "smtp.mailbox.scw.eu"


def test_a_dns_server_failure_on_a_required_record_fails_validation_with_the_reason(http, control):
    domain = created(http, control, "flaky.example.com")
    control.publish("scaleway", domain["id"])
    dkim_name = http.get(f"{PATH}/{domain['id']}/records").json()["dkim"]["dns_name"]
    control.add_fault(dkim_name, "servfail")

    validate(http, control, domain["id"])

    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "validation_failed"
    dkim = http.get(f"{PATH}/{domain['id']}/records").json()["dkim"]
    assert dkim["status"] == "invalid" and "SERVFAIL" in dkim["error"]


def test_a_second_spf_record_at_the_domain_fails_validation(http, control):
    domain = created(http, control, "twospf.example.com")
    control.add_record("twospf.example.com", "TXT", "v=spf1 include:_spf.other.example ~all")
    with pytest.warns(PublishWarning, match="2 SPF records now"):  # said, and kept
        control.publish("scaleway", domain["id"])

    validate(http, control, domain["id"])

    spf = http.get(f"{PATH}/{domain['id']}/records").json()["spf"]
    assert spf["status"] == "invalid" and "2 SPF records" in spf["error"]
    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "validation_failed"


def test_a_ready_domain_stays_ready_when_validated_again(http, control):
    domain = created(http, control, "steady.example.com")
    control.publish("scaleway", domain["id"])
    validate(http, control, domain["id"])
    control.remove_records("steady.example.com")

    validate(http, control, domain["id"])
    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "ready"


# --- listing -------------------------------------------------------------------------------


@pytest.fixture
def three_domains(http, control) -> dict[str, dict]:
    """b.example.com, then c.example.com a minute later, then a.example.com; c is validated last."""
    made = {}
    for name in ("b.example.com", "c.example.com", "a.example.com"):
        made[name] = create(http, name, OTHER_PROJECT if name == "a.example.com" else PROJECT)
        control.advance(60)
    validate(http, control, made["c.example.com"]["id"])  # records missing: validation_failed
    return made


@pytest.mark.parametrize(
    ("order_by", "names"),
    [
        ("created_at_desc", "acb"),
        ("created_at_asc", "bca"),
        ("updated_at_desc", "cab"),
        ("updated_at_asc", "bac"),
        ("name_desc", "cba"),
        ("name_asc", "abc"),
        ("mailbox_total_count_desc", "acb"),  # all 0: newest first
        ("mailbox_total_count_asc", "bca"),
    ],
)
def test_list_orders_by_every_documented_value(http, three_domains, order_by, names):
    body = http.get(PATH, params={"order_by": order_by}).json()
    assert [d["name"][0] for d in body["domains"]] == list(names)


def test_list_filters_and_pages_with_a_total_before_paging(http, three_domains):
    page = http.get(PATH, params={"page": 2, "page_size": 2, "order_by": "name_asc"})
    assert "x-total-count" not in page.headers
    assert page.json()["total_count"] == 3
    assert [d["name"] for d in page.json()["domains"]] == ["c.example.com"]
    beyond = http.get(PATH, params={"page": 5, "page_size": 2}).json()
    assert beyond == {"total_count": 3, "domains": []}

    def names(**params):
        return sorted(d["name"] for d in http.get(PATH, params=params).json()["domains"])

    assert names(project_id=OTHER_PROJECT) == ["a.example.com"]
    assert names(statuses=["validation_failed", "ready"]) == ["c.example.com"]
    assert names(statuses=["waiting_validation"], search="B.EXAMPLE") == ["b.example.com"]


def test_list_shows_only_the_callers_domains(http, urls, three_domains):
    with httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": OTHER_SECRET}) as other:
        assert other.get(PATH).json() == {"total_count": 0, "domains": []}


# --- the wire: bodies the SDK sends, errors in Scaleway's shape --------------------------------


def test_a_domain_id_is_found_in_any_letter_case_as_the_uuid_it_is(http, control):
    domain = created(http, control, "case.example.com")
    upper = f"{PATH}/{domain['id'].upper()}"
    assert http.get(upper).json()["id"] == domain["id"]
    assert http.get(f"{upper}/records").status_code == 200
    assert http.post(f"{upper}/validate-records").status_code == 200
    assert http.delete(upper).json()["status"] == "deleting"


def test_get_and_delete_accept_the_sdks_empty_json_body_without_content_type(http):
    domain = create(http, "body.example.com")
    url = f"{PATH}/{domain['id']}"
    assert http.request("GET", url, content=b"{}").status_code == 200
    assert http.request("GET", PATH, content=b"{}").status_code == 200
    assert http.request("GET", f"{url}/records", content=b"{}").status_code == 200
    assert http.request("DELETE", url, content=b"{}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "argument", "reason"),
    [
        (
            "POST",
            PATH,
            {"content": b"{nope", "headers": {"Content-Type": "application/json"}},
            "body",
            "format",
        ),
        (
            "POST",
            PATH,
            {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}},
            "body",
            "format",
        ),
        ("POST", PATH, {"json": {"project_id": PROJECT}}, "name", "required"),
        ("POST", PATH, {"json": {"name": 7, "project_id": PROJECT}}, "name", "format"),
        ("POST", PATH, {"json": {"name": "x.com", "project_id": None}}, "project_id", "required"),
        ("POST", PATH, {"json": {"name": "x.com", "project_id": "p1"}}, "project_id", "format"),
        ("POST", PATH, {"json": {"name": "-x.com", "project_id": PROJECT}}, "name", "format"),
        (
            "POST",
            PATH,
            {"json": {"name": "x.com", "project_id": PROJECT, "region": "fr-par"}},
            "region",
            "constraint",
        ),
        ("GET", PATH, {"params": {"page_size": 0}}, "page_size", "constraint"),
        ("GET", PATH, {"params": {"page": "one"}}, "page", "format"),
        ("GET", PATH, {"params": {"order_by": "size"}}, "order_by", "constraint"),
        ("GET", PATH, {"params": {"statuses": "gone"}}, "statuses", "constraint"),
        ("GET", PATH, {"params": {"region": "fr-par"}}, "region", "constraint"),
        ("GET", f"{PATH}/42", {}, "domain_id", "format"),
    ],
)
def test_bad_input_is_invalid_arguments_naming_the_field(
    http, method, path, kwargs, argument, reason
):
    response = http.request(method, path, **kwargs)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "invalid_arguments" and body["message"] == "invalid argument(s)"
    [detail] = body["details"]
    assert (detail["argument_name"], detail["reason"]) == (argument, reason)
    assert detail["help_message"]


def test_a_request_without_a_secret_key_is_denied_authentication(urls):
    response = httpx.get(urls["scaleway"] + PATH)
    assert response.status_code == 401
    assert response.json() == {
        "type": "denied_authentication",
        "message": "authentication is denied",
        "method": "api_key",
        "reason": "invalid_argument",
    }


def test_unserved_scaleway_paths_answer_not_found_in_scaleway_shape(http):
    response = http.get("/mailbox/v1alpha1/mailboxes")
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"


def test_deleting_a_domain_twice_is_a_transient_state_conflict(http, control):
    control.settings("scaleway", deleting_seconds=30)
    domain = create(http, "twice.example.com")
    http.delete(f"{PATH}/{domain['id']}")
    again = http.delete(f"{PATH}/{domain['id']}")
    assert again.status_code == 409
    assert again.json() == {
        "type": "transient_state",
        "message": "resource is in a transient state",
        "resource": "domain",
        "resource_id": domain["id"],
        "current_state": "deleting",
    }


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_and_calls_give_byte_identical_bodies(http, control):
    def story() -> list[bytes]:
        control.reset(seed=99)
        control.freeze(at="2026-01-01T09:00:00Z")
        bodies = []
        created = http.post(PATH, json={"name": "same.example.com", "project_id": PROJECT})
        domain_id = created.json()["id"]
        bodies.append(created.content)
        control.publish("scaleway", domain_id, corrupt=["spf"])
        bodies.append(http.post(f"{PATH}/{domain_id}/validate-records").content)
        bodies.append(http.get(f"{PATH}/{domain_id}").content)
        bodies.append(http.get(f"{PATH}/{domain_id}/records").content)
        bodies.append(http.get(PATH).content)
        return bodies

    assert story() == story()


# --- the control API's extras ----------------------------------------------------------------


def test_control_verify_now_starts_a_validation_like_validate_records(http, control):
    domain = created(http, control, "nudge.example.com")
    control.publish("scaleway", domain["id"])

    assert control.verify("scaleway", domain["id"])["status"] == "validating"
    control.advance(VALIDATING + PROVISIONING)
    assert http.get(f"{PATH}/{domain['id']}").json()["status"] == "ready"


def test_control_verify_now_is_refused_as_validate_records_is_while_the_domain_is_busy(
    http, control
):
    domain = create(http, "busy.example.com")
    assert domain["status"] == "creating"
    with pytest.raises(ControlError) as refused:
        control.verify("scaleway", domain["id"])
    assert refused.value.status == 409
    said = "scaleway refuses to verify busy.example.com now: domain is creating"
    assert said in str(refused.value)
    assert control.domain("scaleway", domain["id"])["status"] == "creating"  # nothing started
    answer = http.post(f"{PATH}/{domain['id']}/validate-records", json={})
    assert answer.status_code == 409 and answer.json()["current_state"] == "creating"


def test_a_loaded_scenario_keeps_domains_and_the_callers_organization(http, control):
    domain = create(http, "kept.example.com")
    scenario = control.export_scenario()
    control.reset()
    assert http.get(f"{PATH}/{domain['id']}").status_code == 404

    control.load_scenario(scenario)

    again = http.get(f"{PATH}/{domain['id']}").json()
    assert again["project_id"] == domain["project_id"]
    assert again["name"] == "kept.example.com"
    later = create(http, "later.example.com")
    assert [d["name"] for d in http.get(PATH).json()["domains"]] == [
        "later.example.com",
        "kept.example.com",
    ]
    assert later["project_id"] == domain["project_id"]


def test_an_injected_429_answers_scaleways_too_many_requests(api, control):
    control.add_http_fault("scaleway", status=429, operation="list_domains", count=1)
    with pytest.raises(ScalewayException) as limited:
        api.list_domains()
    assert limited.value.status_code == 429
    body = limited.value.response.json()
    assert body["type"] == "too_many_requests" and body["reset_seconds"] >= 1
    assert api.list_domains().total_count == 0


def test_page_size_goes_up_to_1000_as_the_sdks_validation_rules_allow(api, http):
    for i in range(3):
        api.create_domain(name=f"d{i}.example.com")
    assert api.list_domains(page_size=1000).total_count == 3
    assert len(api.list_domains(page_size=1000).domains) == 3
    too_big = http.get(PATH, params={"page_size": 1001})
    assert too_big.status_code == 400
    assert too_big.json()["details"][0]["argument_name"] == "page_size"


def test_the_document_lists_the_429_it_sends_on_every_operation(urls):
    document = httpx.get(f"{urls['scaleway']}/openapi.json").json()
    operations = [
        operation
        for path in document["paths"].values()
        for method, operation in path.items()
        if method in ("get", "post", "delete")
    ]
    assert len(operations) == 6
    assert all("429" in operation["responses"] for operation in operations)
    page_size = next(
        p for p in document["paths"][PATH]["get"]["parameters"] if p["name"] == "page_size"
    )
    assert page_size["schema"]["maximum"] == 1000


@pytest.mark.parametrize(
    "make_it_fail, status",
    [
        (lambda http, control: http.post(PATH, content=b"name=x", headers=_FORM), 415),
        (lambda http, control: _failing_list(http, control, 500), 500),
        (lambda http, control: http.put(PATH), 405),
    ],
    ids=["a body in a media type the document does not take", "a server error", "a method"],
)
def test_every_error_body_carries_a_type(http, control, make_it_fail, status):
    response = make_it_fail(http, control)
    assert response.status_code == status
    body = response.json()
    assert isinstance(body.get("type"), str) and body["type"], body
    assert body["message"]


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _failing_list(http, control, status: int):
    control.add_http_fault("scaleway", operation="list_domains", status=status, count=1)
    return http.get(PATH)


def test_a_delete_acknowledged_while_a_validation_asks_dns_is_not_undone(http, urls, control):
    domain = created(http, control, "slowdns.example.com")
    # the check lands on the next request; the delete at once
    control.settings("scaleway", validating_seconds=0, deleting_seconds=0)
    control.publish("scaleway", domain["id"])
    # Every lookup for the domain waits a while: the validation step is still asking DNS when
    # the delete arrives.
    control.add_fault("*.slowdns.example.com", "delay", delay_ms=300)
    control.add_fault("slowdns.example.com", "delay", delay_ms=300)
    assert http.post(f"{PATH}/{domain['id']}/validate-records", json={}).status_code == 200

    landing = {}
    thread = threading.Thread(  # a request that lands the due validation step (off the loop)
        target=lambda: landing.setdefault("answer", http.get(f"{PATH}/{domain['id']}", timeout=60))
    )
    thread.start()
    wait_for(lambda: [q for q in control.queries() if "slowdns.example.com" in q["name"]])
    with httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": SECRET}) as other:
        deleted = other.delete(f"{PATH}/{domain['id']}")
    thread.join()

    assert deleted.status_code == 200 and deleted.json()["status"] == "deleting"
    gone = http.get(f"{PATH}/{domain['id']}", timeout=60)
    assert gone.status_code == 404, gone.text  # not validation_failed: the delete stands


# --- rate limit: the gateway's headers, recorded on every answer of api.scaleway.com -----------


def test_every_answer_carries_the_gateways_rate_limit_headers(http, control):
    assert control.rate_limits()["enabled"] is False
    answers = [
        http.get(PATH),
        http.get(f"{PATH}/00000000-0000-4000-8000-000000000000"),
        http.get(PATH),
    ]
    assert [a.status_code for a in answers] == [200, 404, 200]  # counted, never refused
    assert {a.headers["X-Ratelimit-Limit"] for a in answers} == {"50, 50;w=1"}
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["49", "48", "47"]
    assert {a.headers["X-Ratelimit-Reset"] for a in answers} == {"1"}  # seconds, frozen clock
    control.advance(1)
    assert http.get(PATH).headers["X-Ratelimit-Remaining"] == "49"  # a new window


def test_rate_limits_on_refuse_the_51st_call_of_a_second(http, control):
    control.rate_limits(True)
    try:
        codes = [http.get(PATH).status_code for _ in range(51)]
        refused = http.get(PATH)
    finally:
        control.rate_limits(False)
    assert codes == [200] * 50 + [429]
    assert refused.json()["type"] == "too_many_requests"
    assert refused.json()["reset_seconds"] >= 1


@pytest.mark.timeout(300)
def test_the_docs_timings_example_prints_what_it_shows_with_or_without_the_sdk_example(tmp_path):
    """docs/scaleway.md's Timings transcript goes on from the curl walkthrough; the SDK example
    between them moves the clock with its polls, so a reader who skips it (no SDK installed)
    must see the same times: run the document's steps without its Python block."""
    from . import test_walkthroughs as walkthroughs

    document = "docs/scaleway.md"
    steps = [b for b in walkthroughs.blocks_of(document) if b.language != "python"]
    walkthrough = walkthroughs.Walkthrough(document, tmp_path)
    original = walkthroughs.blocks_of
    walkthroughs.blocks_of = lambda _: steps  # the run reads the blocks through this name
    try:
        walkthrough.run()
    finally:
        walkthroughs.blocks_of = original
        walkthrough.session.close()


def test_record_ids_are_the_draws_they_always_were_whether_first_read_or_exported(http, control):
    # A create reserves its records' ids and makes them when first asked for: the same ids a
    # seed always gave, and the same in a scenario exported before any read of them.
    first = created(http, control, "one.example.com")
    second = created(http, control, "two.example.com")
    world = json.loads(control.export_scenario(format="json"))
    exported = {d["name"]: d["attrs"]["record_ids"] for d in world["domains"]}
    records = http.get(f"{PATH}/{first['id']}/records").json()
    shown = {kind: record["id"] for kind, record in records.items()}
    assert shown == exported["one.example.com"]
    assert (shown["domain_validation"], shown["carddav"]) == PINNED_RECORD_IDS
    assert second["id"] == PINNED_SECOND_ID  # drawn after the first's fifteen
