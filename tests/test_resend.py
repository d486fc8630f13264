"""Resend domains over real HTTP, verified against the real fake DNS server.

Each test tells a user's story: create a domain, publish (or break) its records, verify, watch
the check land on the sandbox clock, see the domain's status and each record's.
"""

from __future__ import annotations

import re

import httpx
import pytest

from sandbox.client import ControlError, PublishWarning
from sandbox.driver import Driver, reach
from sandbox.engine import store
from sandbox.providers.resend import Resend

from .conftest import WORKERS

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

KEY = "re_test_team_key"
OTHER_KEY = "re_other_team_key"
UNKNOWN_ID = "d91cd9bd-1176-453e-8fc1-35364d380206"
HOUR = 3600
WINDOW = 72 * HOUR  # Resend looks for the records for 72 hours


@pytest.fixture(autouse=True)
def checks_within_the_call(control):
    """These tests are about what a check finds: it lands within the verify call here. The
    default delay (30 seconds of pending) is tested in test_clock_modes.py."""
    control.settings("resend", verify_delay_seconds=0)


@pytest.fixture
def api(urls):
    with httpx.Client(base_url=urls["resend"], headers=_auth(KEY), timeout=10) as client:
        yield client


@pytest.fixture
def other(urls):
    with httpx.Client(base_url=urls["resend"], headers=_auth(OTHER_KEY), timeout=10) as client:
        yield client


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def create(api, name="example.com", **fields) -> dict:
    response = api.post("/domains", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def get(api, domain_id: str) -> dict:
    response = api.get(f"/domains/{domain_id}")
    assert response.status_code == 200, response.text
    return response.json()


def verify(api, domain_id: str) -> None:
    response = api.post(f"/domains/{domain_id}/verify")
    assert response.status_code == 200, response.text
    assert response.json() == {"object": "domain", "id": domain_id}


def statuses(domain: dict) -> dict[str, str]:
    """Each record's status, by `record` word and type (the two SPF records differ by type);
    the three DKIM CNAMEs are in `dkim_statuses`."""
    return {
        f"{r['record']} {r['type']}": r["status"]
        for r in domain["records"]
        if r["record"] != "DKIM"
    }


def dkim_statuses(domain: dict) -> list[str]:
    """The statuses of the three DKIM CNAMEs, in order."""
    return [r["status"] for r in domain["records"] if r["record"] == "DKIM"]


def dkim_names(domain: dict) -> list[str]:
    """The full names of the three DKIM CNAMEs: `<token>._domainkey.<domain>`."""
    return [f"{r['name']}.{domain['name']}" for r in domain["records"] if r["record"] == "DKIM"]


def _check(control, domain_id: str, kind: str) -> dict:
    """The sandbox's verdict on one record, as the control API shows it."""
    records = control.domain("resend", domain_id)["records"]
    return next(r["result"] for r in records if r["kind"] == kind)


def assert_error(response: httpx.Response, status: int, name: str, message: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"statusCode", "message", "name"}, body
    assert body["statusCode"] == status and body["name"] == name and body["message"]
    if message is not None:
        assert message in body["message"], body


# --- create and the records to publish ----------------------------------------------------------


def test_created_at_is_written_as_postgres_writes_it_to_the_microsecond(api, control):
    control.freeze("2026-01-01T09:00:00.250000Z")
    assert create(api)["created_at"] == "2026-01-01 09:00:00.25+00"  # trailing zeros dropped
    control.freeze("2026-01-01T09:00:00.000001Z")
    assert create(api, "other.example.com")["created_at"] == "2026-01-01 09:00:00.000001+00"


def test_created_domain_is_not_started_and_lists_the_records_to_publish(api):
    domain = create(api, region="us-east-1")

    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", domain["id"]
    )
    assert "object" not in domain  # the create answer has none, the get answer has one
    assert domain["name"] == "example.com"
    assert domain["status"] == "not_started"
    assert domain["created_at"] == "2026-01-01 09:00:00+00"
    assert domain["region"] == "us-east-1"
    assert domain["capabilities"] == {"sending": "enabled", "receiving": "disabled"}
    assert domain["open_tracking"] is False and domain["click_tracking"] is False
    mx, spf, *dkim = domain["records"]
    assert mx == {
        "record": "SPF",
        "name": "send",
        "type": "MX",
        "ttl": "Auto",
        "status": "not_started",
        "value": "feedback-smtp.us-east-1.amazonses.com",
        "priority": 10,
    }
    assert spf == {
        "record": "SPF",
        "name": "send",
        "type": "TXT",
        "ttl": "Auto",
        "status": "not_started",
        "value": '"v=spf1 include:amazonses.com ~all"',
    }
    # Amazon SES Easy DKIM, as Resend's API reference shows it: three CNAMEs, one per token
    assert len(dkim) == 3
    tokens = [r["name"].removesuffix("._domainkey") for r in dkim]
    assert len(set(tokens)) == 3
    for record, token in zip(dkim, tokens, strict=True):
        assert re.fullmatch(r"[a-z2-7]{32}", token)
        assert record == {
            "record": "DKIM",
            "name": f"{token}._domainkey",
            "type": "CNAME",
            "ttl": "Auto",
            "status": "not_started",
            "value": f"{token}.dkim.amazonses.com.",
        }


def test_the_dkim_cnames_are_published_in_dns_and_all_three_verify(api, control, resolver):
    domain = create(api)
    control.publish("resend", domain["id"])

    for record in (r for r in domain["records"] if r["record"] == "DKIM"):
        [answer] = resolver.resolve(f"{record['name']}.example.com", "CNAME")
        assert answer.target.to_text() == record["value"]

    verify(api, domain["id"])
    after = get(api, domain["id"])
    assert after["status"] == "verified"
    assert dkim_statuses(after) == ["verified"] * 3


def test_same_seed_same_dkim_tokens(api, control):
    def tokens(seed: int) -> list[str]:
        control.reset(seed=seed)
        return dkim_names(create(api))

    assert tokens(7) == tokens(7)
    assert tokens(7) != tokens(8)


def test_region_return_path_receiving_and_tracking_shape_the_records(api):
    domain = create(
        api,
        "updates.example.org",
        region="eu-west-1",
        custom_return_path="bounces",
        capabilities={"receiving": "enabled"},
        tracking_subdomain="links",
        open_tracking=True,
    )

    assert domain["capabilities"] == {"sending": "enabled", "receiving": "enabled"}
    assert domain["tracking_subdomain"] == "links" and domain["open_tracking"] is True
    records = {(r["record"], r["type"]): r for r in domain["records"]}
    assert records["SPF", "MX"]["name"] == records["SPF", "TXT"]["name"] == "bounces"
    assert records["SPF", "MX"]["value"] == "feedback-smtp.eu-west-1.amazonses.com"
    receiving = records["Receiving", "MX"]
    assert (receiving["name"], receiving["value"]) == (
        "updates.example.org",
        "inbound-mx.resend.com",
    )
    assert receiving["priority"] == 10
    tracking = records["Tracking", "CNAME"]
    assert (tracking["name"], tracking["value"]) == (
        "links.updates.example.org",
        "links1.resend-dns.com",
    )
    caa = records["TrackingCAA", "CAA"]
    assert (caa["name"], caa["value"]) == ("", '0 issue "amazon.com"')


def test_receiving_only_domain_asks_for_the_receiving_mx_alone(api):
    domain = create(api, capabilities={"sending": "disabled", "receiving": "enabled"})

    assert [(r["record"], r["type"]) for r in domain["records"]] == [("Receiving", "MX")]


def test_get_and_list_show_the_domain(api):
    domain = create(api)

    got = get(api, domain["id"])
    assert got == {"object": "domain", **domain}
    listed = api.get("/domains").json()
    assert listed == {
        "object": "list",
        "has_more": False,
        "data": [{k: v for k, v in domain.items() if k != "records"}],
    }


# --- verify: asynchronous, then every status ------------------------------------------------------


def test_verify_answers_at_once_and_the_check_lands_on_the_sandbox_clock(api, control):
    control.settings("resend", verify_delay_seconds=60)
    domain = create(api)
    control.publish("resend", domain["id"])

    verify(api, domain["id"])

    started = get(api, domain["id"])
    assert started["status"] == "pending"
    assert set(statuses(started).values()) == {"pending"}
    assert control.domain("resend", domain["id"])["checks"] == 0  # DNS not asked yet

    control.advance(60)

    landed = get(api, domain["id"])
    assert landed["status"] == "verified"
    assert set(statuses(landed).values()) == {"verified"}
    for kind in ("dkim_1", "dkim_2", "dkim_3"):
        assert _check(control, domain["id"], kind)["outcome"] == "valid"


def test_a_verify_asked_again_never_puts_off_the_check_one_before_it_asked_for(api, control):
    """Verify, 20 s, verify again, 10 s: the first verify's check has landed (the second had
    put it off to 50 s, so a client verifying every 20 s never saw a check land)."""
    control.settings("resend", verify_delay_seconds=30)
    domain = create(api)
    control.publish("resend", domain["id"])
    for seconds in (20, 10):
        verify(api, domain["id"])
        control.advance(seconds)
    assert get(api, domain["id"])["status"] == "verified"
    assert control.domain("resend", domain["id"])["checks"] == 1


def test_published_records_verify_at_the_next_request(api, control):
    domain = create(api)
    control.publish("resend", domain["id"])

    verify(api, domain["id"])

    assert get(api, domain["id"])["status"] == "verified"
    queried = {(q["name"], q["type"]) for q in control.queries()}
    assert ("send.example.com", "MX") in queried
    assert {(name, "CNAME") for name in dkim_names(domain)} <= queried


def test_nothing_published_stays_pending_for_72_hours_then_fails(api, control):
    domain = create(api)

    verify(api, domain["id"])
    pending = get(api, domain["id"])
    assert pending["status"] == "pending"
    assert set(statuses(pending).values()) == {"pending"}

    control.advance(WINDOW - 1)
    assert get(api, domain["id"])["status"] == "pending"

    control.advance(1)  # the last check, at the end of the window
    failed = get(api, domain["id"])
    assert failed["status"] == "failed"
    assert set(statuses(failed).values()) == {"failed"}
    assert control.domain("resend", domain["id"])["next_step_at"] is None  # no more checks


def test_records_still_propagating_verify_at_a_later_recheck(api, control):
    domain = create(api)
    control.publish("resend", domain["id"], visible_after_seconds=600)

    verify(api, domain["id"])
    assert get(api, domain["id"])["status"] == "pending"

    control.advance(300)  # the first re-check, 5 minutes on, still sees nothing
    assert get(api, domain["id"])["status"] == "pending"
    control.advance(600)  # the next, 10 minutes after it, sees the records
    assert get(api, domain["id"])["status"] == "verified"
    assert control.domain("resend", domain["id"])["last_checked_at"] == "2026-01-01T09:15:00Z"


SENDING_KINDS = ["spf_mx", "spf", "dkim_1", "dkim_2", "dkim_3"]


@pytest.mark.parametrize("broken", SENDING_KINDS)
def test_each_sending_record_is_needed(api, control, broken):
    """Every DKIM CNAME is needed, as SES decides DKIM on all three."""
    domain = create(api)
    control.publish("resend", domain["id"], corrupt=[broken])

    verify(api, domain["id"])

    after = get(api, domain["id"])
    assert after["status"] == "pending"
    by_kind = dict(zip(SENDING_KINDS, after["records"], strict=True))
    assert {k: r["status"] for k, r in by_kind.items()} == {
        k: "pending" if k == broken else "verified" for k in by_kind
    }
    assert _check(control, domain["id"], broken)["outcome"] == "invalid"


def test_records_added_at_the_dns_as_resend_shows_them_verify(api, control):
    """A user copies each record from Resend's answer to their DNS host: the SPF TXT value in
    its quotes, as a DNS host takes it (the quotes were kept in the record, and SPF failed)."""
    domain = create(api)
    shown = get(api, domain["id"])["records"]
    assert '"v=spf1 include:amazonses.com ~all"' in [r["value"] for r in shown]
    for record in shown:
        value = record["value"]
        if record["type"] == "MX":
            value = f"{record['priority']} {value}"
        control.add_record(f"{record['name']}.example.com", record["type"], value)

    verify(api, domain["id"])

    assert get(api, domain["id"])["status"] == "verified"


def test_a_second_spf_record_keeps_the_domain_pending(api, control):
    domain = create(api)
    control.add_record("send.example.com", "TXT", "v=spf1 include:_spf.google.com ~all")
    with pytest.warns(PublishWarning, match="2 SPF records now"):  # said, and kept
        control.publish("resend", domain["id"])

    verify(api, domain["id"])

    assert get(api, domain["id"])["status"] == "pending"
    assert "2 SPF records" in _check(control, domain["id"], "spf")["reason"]


def test_one_capability_verified_is_partially_verified_then_partially_failed(api, control):
    domain = create(api, capabilities={"receiving": "enabled"})
    control.publish("resend", domain["id"], omit=["receiving_mx"])

    verify(api, domain["id"])

    partial = get(api, domain["id"])
    assert partial["status"] == "partially_verified"
    assert statuses(partial)["Receiving MX"] == "pending"
    assert dkim_statuses(partial) == ["verified"] * 3

    control.advance(WINDOW)
    given_up = get(api, domain["id"])
    assert given_up["status"] == "partially_failed"
    assert statuses(given_up)["Receiving MX"] == "failed"
    assert dkim_statuses(given_up) == ["verified"] * 3


def test_the_receiving_mx_must_be_the_one_mail_goes_to_first(api, control):
    """Resend: the Receiving MX must hold the lowest priority value at the name, else mail does
    not reach Resend. It was valid beside an MX preferred before it."""
    domain = create(api, capabilities={"receiving": "enabled"})
    control.publish("resend", domain["id"])
    control.add_record("example.com", "MX", "5 mx.elsewhere.example")
    verify(api, domain["id"])
    check = _check(control, domain["id"], "receiving_mx")
    assert check["outcome"] == "invalid"
    assert check["reason"] == (
        "MX records at example.com send mail to 5 mx.elsewhere.example before "
        "10 inbound-mx.resend.com: inbound-mx.resend.com must have the lowest preference"
    )
    assert get(api, domain["id"])["status"] == "partially_verified"
    control.remove_records("example.com", "MX", "5 mx.elsewhere.example")
    control.add_record("example.com", "MX", "10 mx.elsewhere.example")  # beside it: shares mail
    control.advance(300)
    assert get(api, domain["id"])["status"] == "verified"


def test_the_receiving_mx_alone_is_partially_verified_too(api, control):
    domain = create(api, capabilities={"receiving": "enabled"})
    control.publish("resend", domain["id"], omit=["dkim_1", "dkim_2", "dkim_3"])

    verify(api, domain["id"])

    assert get(api, domain["id"])["status"] == "partially_verified"


def test_tracking_cname_is_checked_and_the_caa_decides_nothing(api, control):
    domain = create(api, tracking_subdomain="links")
    control.publish("resend", domain["id"], omit=["tracking", "tracking_caa"])
    verify(api, domain["id"])
    assert get(api, domain["id"])["status"] == "partially_verified"

    control.publish("resend", domain["id"], omit=["tracking_caa"])
    control.advance(300)

    after = get(api, domain["id"])
    assert after["status"] == "verified"
    assert statuses(after)["Tracking CNAME"] == "verified"
    assert statuses(after)["TrackingCAA CAA"] == "pending"


def test_a_verified_domain_that_loses_a_record_is_a_temporary_failure_until_found(api, control):
    domain = create(api)
    control.publish("resend", domain["id"])
    verify(api, domain["id"])
    assert get(api, domain["id"])["status"] == "verified"
    control.remove_records(dkim_names(domain)[1])  # one DKIM CNAME of three

    verify(api, domain["id"])  # any status turns pending first
    assert get(api, domain["id"])["status"] == "temporary_failure"
    assert dkim_statuses(get(api, domain["id"])) == ["verified", "temporary_failure", "verified"]

    control.publish("resend", domain["id"])
    control.advance(300)
    assert get(api, domain["id"])["status"] == "verified"


def test_the_periodic_recheck_of_a_verified_domain_finds_a_lost_record(api, control):
    domain = create(api)
    control.publish("resend", domain["id"])
    verify(api, domain["id"])
    assert get(api, domain["id"])["status"] == "verified"
    control.remove_records("send.example.com", "MX")

    control.advance(24 * HOUR)  # verified domains are re-checked daily
    assert get(api, domain["id"])["status"] == "temporary_failure"

    control.advance(WINDOW)
    assert get(api, domain["id"])["status"] == "failed"


def test_servfail_reads_temporary_failure_on_the_record_and_is_retried(api, control):
    domain = create(api)
    control.publish("resend", domain["id"])
    control.add_fault(dkim_names(domain)[0], "servfail")

    verify(api, domain["id"])

    after = get(api, domain["id"])
    assert after["status"] == "pending"
    assert dkim_statuses(after) == ["temporary_failure", "verified", "verified"]
    assert statuses(after)["SPF MX"] == "verified"

    control.clear_faults()
    control.advance(300)
    assert get(api, domain["id"])["status"] == "verified"


def test_verify_on_a_failed_domain_looks_again(api, control):
    control.settings("resend", recheck_window_seconds=0)
    domain = create(api)
    verify(api, domain["id"])
    assert get(api, domain["id"])["status"] == "failed"
    control.settings("resend", recheck_window_seconds=WINDOW)
    control.publish("resend", domain["id"])

    verify(api, domain["id"])

    assert get(api, domain["id"])["status"] == "verified"


@pytest.mark.parametrize("state", Resend.kit.states)
def test_every_status_is_reached_through_the_kits_own_steps(urls, control, state):
    """The steps scenarios and benchmarks use to reach each status (sandbox.driver)."""
    before = control.settings("resend")
    with httpx.Client() as http:
        driver = Driver(http, urls["server"], Resend)
        domain_id = reach(driver, control, state, f"{state.replace('_', '-')}.example.com")
        answer = driver.call(driver.kit.get, domain_id)
    assert driver.kit.status(answer.json()) == state
    assert control.settings("resend") == before  # put back


# --- update and remove --------------------------------------------------------------------------


def test_update_changes_tracking_and_tls_and_ignores_the_id_in_the_body(api):
    domain = create(api)

    response = api.patch(
        f"/domains/{domain['id']}",
        json={"id": domain["id"], "open_tracking": True, "click_tracking": True, "tls": "enforced"},
    )

    assert response.status_code == 200
    assert response.json() == {"object": "domain", "id": domain["id"]}
    after = get(api, domain["id"])
    assert after["open_tracking"] is True and after["click_tracking"] is True
    assert after["status"] == "not_started"


def test_update_leaves_the_return_path_as_created(api):
    domain = create(api, custom_return_path="bounce")
    response = api.patch(f"/domains/{domain['id']}", json={"custom_return_path": "mail"})
    assert response.status_code == 200  # not a field of UpdateDomainOptions: ignored
    names = {r["name"] for r in get(api, domain["id"])["records"] if r["record"] == "SPF"}
    assert names == {"bounce"}


def test_an_update_without_a_body_changes_nothing(api):
    """Resend's document does not require PATCH's body, and `name` is no field of an update:
    a body-less PATCH is an update of nothing, not `Missing "name" field`."""
    domain = create(api, open_tracking=True)

    response = api.patch(f"/domains/{domain['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"object": "domain", "id": domain["id"]}
    after = get(api, domain["id"])
    assert after["open_tracking"] is True and after["status"] == "not_started"


def test_enabling_receiving_on_a_verified_domain_checks_the_new_record(api, control):
    domain = create(api)
    control.publish("resend", domain["id"])
    verify(api, domain["id"])

    api.patch(f"/domains/{domain['id']}", json={"capabilities": {"receiving": "enabled"}})

    after = get(api, domain["id"])
    assert after["capabilities"] == {"sending": "enabled", "receiving": "enabled"}
    assert after["status"] == "partially_verified"
    assert statuses(after)["Receiving MX"] == "pending"
    control.publish("resend", domain["id"])
    control.advance(300)
    assert get(api, domain["id"])["status"] == "verified"


def test_update_adding_a_tracking_subdomain_adds_its_records(api):
    domain = create(api)

    api.patch(f"/domains/{domain['id']}", json={"tracking_subdomain": "t"})

    after = get(api, domain["id"])
    assert after["tracking_subdomain"] == "t"
    assert ("Tracking", "t.example.com") in {(r["record"], r["name"]) for r in after["records"]}


def test_a_tracking_subdomain_on_the_return_paths_label_is_taken_and_publish_says_why_not(
    api, control
):
    """Its CNAME would share links.example.com with the return path's MX and TXT, which DNS
    forbids: taken, as the document allows (and Resend documents no refusal), and `publish`
    says why it cannot publish it, so the domain is not left pending without a word."""
    domain = create(api, custom_return_path="links", tracking_subdomain="links")
    with pytest.raises(ControlError) as refused:
        control.publish("resend", domain["id"])
    said = str(refused.value)
    assert "links.example.com CNAME" in said and "RFC 1034 §3.6.2" in said, said


def test_a_tracking_subdomain_is_changed_but_never_removed_and_the_refusal_says_why(api):
    """Resend's tracking page: once specified, the tracking subdomain "can only be changed ...,
    never removed", to keep the links already sent working. null or "" is refused in those
    words (not as a value of the wrong type), and the domain keeps its subdomain."""
    domain = create(api, tracking_subdomain="links")
    path = f"/domains/{domain['id']}"
    for removal in (None, ""):
        refused = api.patch(path, json={"tracking_subdomain": removal})
        assert_error(refused, 422, "validation_error", "never removed")
        assert "is not of type" not in refused.json()["message"]
    assert get(api, domain["id"])["tracking_subdomain"] == "links"
    assert api.patch(path, json={"tracking_subdomain": "go"}).status_code == 200
    changed = get(api, domain["id"])
    assert changed["tracking_subdomain"] == "go"
    assert ("Tracking", "go.example.com") in {(r["record"], r["name"]) for r in changed["records"]}


def test_removed_domain_is_gone(api):
    domain = create(api)

    response = api.delete(f"/domains/{domain['id']}")

    assert response.status_code == 200
    assert response.json() == {"object": "domain", "id": domain["id"], "deleted": True}
    assert_error(api.get(f"/domains/{domain['id']}"), 404, "not_found", "Domain not found")
    assert api.get("/domains").json()["data"] == []


def test_the_sdks_empty_json_bodies_on_get_delete_and_verify_are_accepted(api):
    domain = create(api)
    path = f"/domains/{domain['id']}"

    assert api.request("GET", path, json={}).status_code == 200
    assert api.request("POST", path + "/verify", json={}).status_code == 200
    assert api.request("GET", "/domains", json={}).status_code == 200
    assert api.request("DELETE", path, json={}).json()["deleted"] is True


# --- list pagination -----------------------------------------------------------------------------


def test_a_long_value_that_is_no_number_is_said_cut_short(api):
    response = api.get("/domains", params={"limit": "x" * 500})
    assert_error(response, 422, "validation_error", "… (500 characters) is not of type 'integer'")
    assert len(response.json()["message"]) < 200


def test_list_is_newest_first_and_pages_with_limit_after_and_before(api):
    ids = [create(api, f"d{n}.example.com")["id"] for n in range(5)]
    newest = ids[::-1]

    def page(**params):
        body = api.get("/domains", params=params).json()
        return [d["id"] for d in body["data"]], body["has_more"]

    assert page() == (newest, False)
    assert page(limit=2) == (newest[:2], True)
    assert page(limit=2, after=newest[1]) == (newest[2:4], True)
    assert page(limit=2, after=newest[3]) == (newest[4:], False)
    assert page(limit=2, before=newest[4]) == (newest[2:4], True)
    assert page(limit=2, before=newest[2]) == (newest[:2], False)
    assert page(limit=5) == (newest, False)


def test_a_cursor_naming_a_deleted_domain_still_marks_the_place(api, other):
    """The usual clean-up loop: list a page, delete it, go on `after` its last domain."""
    for n in range(6):
        create(api, f"c{n}.clean.example.com")
    after = {}
    while True:
        body = api.get("/domains", params={"limit": 2, **after}).json()
        for domain in body["data"]:
            assert api.delete(f"/domains/{domain['id']}").status_code == 200
        if not body["has_more"]:
            break
        after = {"after": body["data"][-1]["id"]}
    assert api.get("/domains").json()["data"] == []
    # another team's domain, deleted or not, is no cursor of this team's
    theirs = create(other, "theirs.example.com")["id"]
    create(api, "mine.example.com")
    assert api.get("/domains", params={"after": theirs}).status_code == 422
    other.delete(f"/domains/{theirs}")
    assert api.get("/domains", params={"before": theirs}).status_code == 422


def test_a_deleted_domains_place_is_kept_through_an_export_and_a_load(api, control):
    """A clean-up loop's cursor names the domain it just deleted: a world exported and loaded
    again (a scenario file, `serve --state`) still knows where that domain stood."""
    ids = [create(api, f"p{n}.example.com")["id"] for n in range(4)]  # newest last
    gone = ids[2]
    assert api.delete(f"/domains/{gone}").status_code == 200

    def older_and_newer() -> tuple[list[str], list[str]]:
        older = api.get("/domains", params={"after": gone}).json()["data"]
        newer = api.get("/domains", params={"before": gone}).json()["data"]
        return [d["id"] for d in older], [d["id"] for d in newer]

    assert older_and_newer() == ([ids[1], ids[0]], [ids[3]])
    world = control.export_scenario()
    control.load_scenario(world)
    assert older_and_newer() == ([ids[1], ids[0]], [ids[3]])
    assert control.export_scenario() == world  # loaded as it was exported
    create(api, "later.example.com")  # a domain created after the load comes after them all
    assert older_and_newer()[0] == [ids[1], ids[0]]
    assert len(older_and_newer()[1]) == 2


@pytest.mark.skipif(WORKERS > 1, reason="lowers the in-process store's bound")
def test_deletions_in_another_provider_never_end_a_cursor_naming_a_deleted_domain(
    api, urls, monkeypatch
):
    """The places of deleted domains were kept up to one bound shared by every provider: many
    AutoSend deletions pushed out Resend's, and a clean-up loop's cursor was suddenly refused.
    Each provider keeps its own most recent (the bound lowered here from 10,000 to 3)."""
    monkeypatch.setattr(store, "REMEMBERED_PLACES", 3)
    ids = [create(api, f"b{n}.example.com")["id"] for n in range(3)]  # newest last
    assert api.delete(f"/domains/{ids[1]}").status_code == 200
    with httpx.Client(base_url=urls["autosend"], headers=_auth("as_test_project_key")) as autosend:
        for n in range(4):  # more than the bound
            made = autosend.post("/domains", json={"domain": f"a{n}.example.com"})
            assert made.status_code == 200, made.text
            assert autosend.delete(f"/domains/{made.json()['data']['id']}").status_code == 200
    after = api.get("/domains", params={"after": ids[1]})
    assert after.status_code == 200, after.text
    assert [d["id"] for d in after.json()["data"]] == [ids[0]]
    for n in range(3):  # Resend's own deletions past the bound do end it
        gone = create(api, f"g{n}.example.com")["id"]
        assert api.delete(f"/domains/{gone}").status_code == 200
    assert api.get("/domains", params={"after": ids[1]}).status_code == 422


@pytest.mark.parametrize("cursor", ["after", "before"])
def test_a_cursor_that_is_no_domain_of_the_team_is_refused_by_name(api, control, cursor):
    """An empty page read as the end of the list: a loop given a mistyped id, or one kept from
    before a reset, stopped early and said nothing. Resend does not document its answer."""
    create(api, "listed.example.com")
    for unknown in (UNKNOWN_ID, "not-an-id"):
        response = api.get("/domains", params={"limit": 10, cursor: unknown})
        assert_error(response, 422, "validation_error", f"The `{cursor}` parameter must be")
        assert repr(unknown) in response.json()["message"]
    violations = control.report()["providers"]["resend"]["violations"]
    assert any(v["field"] == cursor and repr(UNKNOWN_ID) in v["reason"] for v in violations)


@pytest.mark.parametrize(
    "params, field",
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"page": 2}, "page")],
    ids=["zero", "over-100", "unknown"],
)
def test_bad_list_parameters_are_validation_errors(api, params, field):
    assert_error(api.get("/domains", params=params), 422, "validation_error", f"`{field}`")


def test_after_and_before_together_are_refused(api):
    response = api.get("/domains", params={"after": UNKNOWN_ID, "before": UNKNOWN_ID})
    assert_error(response, 422, "validation_error", "cannot be used together")


# --- teams --------------------------------------------------------------------------------------


def test_another_team_cannot_see_verify_update_or_remove_a_domain(api, other):
    domain = create(api)
    path = f"/domains/{domain['id']}"

    assert other.get("/domains").json()["data"] == []
    for response in (
        other.get(path),
        other.post(path + "/verify"),
        other.patch(path, json={"open_tracking": True}),
        other.delete(path),
    ):
        assert_error(response, 404, "not_found", "Domain not found")
    assert get(api, domain["id"])["status"] == "not_started"


def test_a_team_adds_a_domain_once(api, other):
    create(api)

    assert_error(
        api.post("/domains", json={"name": "EXAMPLE.com"}),
        403,
        "validation_error",
        "registered already",
    )
    assert create(other)["name"] == "example.com"


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, name, says",
    [
        ({}, 422, "missing_required_field", 'Missing "name" field'),
        (
            {"name": "example.com", "region": "mars-north-1"},
            422,
            "invalid_region",
            "Region must be",
        ),
        ({"name": "not a domain"}, 422, "validation_error", "`name`"),
        ({"name": "localhost"}, 422, "validation_error", "`name`"),
        ({"name": 42}, 422, "validation_error", "`name`"),
        ({"name": "example.com", "tls": "always"}, 422, "validation_error", "`tls`"),
        (
            {"name": "example.com", "custom_return_path": "a.b"},
            422,
            "validation_error",
            "`custom_return_path`",
        ),
        (
            {"name": "example.com", "custom_return_path": "9bounce"},
            422,
            "validation_error",
            "The `custom_return_path` field must start with a letter, end with a letter or "
            "number and hold only letters, numbers and hyphens (at most 63), such as send",
        ),
        (
            {"name": "example.com", "capabilities": {"sending": "disabled"}},
            422,
            "validation_error",
            "At least one capability must be enabled",
        ),
    ],
    ids=[
        "missing-name",
        "region",
        "spaces",
        "one-label",
        "wrong-type",
        "tls",
        "return-path",
        "return-path-digit-first",
        "no-capability",
    ],
)
def test_bad_create_bodies_are_answered_in_resends_words(api, body, status, name, says):
    assert_error(api.post("/domains", json=body), status, name, says)
    assert api.get("/domains").json()["data"] == []


def test_unknown_body_fields_are_ignored(api):
    assert create(api, color="blue")["name"] == "example.com"


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"name": "\xff.com"}'], ids=["not-json", "utf8"]
)
def test_unreadable_bodies_are_validation_errors(api, content):
    response = api.post("/domains", content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "validation_error")


def test_update_refusing_every_capability(api):
    domain = create(api)
    response = api.patch(f"/domains/{domain['id']}", json={"capabilities": {"sending": "disabled"}})
    assert_error(response, 422, "validation_error", "At least one capability must be enabled")
    assert get(api, domain["id"])["capabilities"]["sending"] == "enabled"


@pytest.mark.parametrize(
    "method, suffix", [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/verify")]
)
def test_malformed_and_unknown_ids(api, method, suffix):
    body = {"open_tracking": True} if method == "PATCH" else None
    malformed = api.request(method, f"/domains/not-a-uuid{suffix}", json=body)
    assert_error(malformed, 422, "invalid_parameter", "`domain_id`")
    unknown = api.request(method, f"/domains/{UNKNOWN_ID}{suffix}", json=body)
    assert_error(unknown, 404, "not_found", "Domain not found")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/domains"),
        ("POST", "/domains"),
        ("GET", f"/domains/{UNKNOWN_ID}"),
        ("PATCH", f"/domains/{UNKNOWN_ID}"),
        ("DELETE", f"/domains/{UNKNOWN_ID}"),
        ("POST", f"/domains/{UNKNOWN_ID}/verify"),
    ],
)
def test_missing_and_invalid_keys(urls, method, path):
    body = {"name": "example.com"} if method in ("POST", "PATCH") and "verify" not in path else None
    url = urls["resend"] + path
    missing = httpx.request(method, url, json=body)
    assert_error(missing, 401, "missing_api_key", "Missing API key in the authorization header.")
    for key in ("sk_live_not_resend", "re_"):
        invalid = httpx.request(method, url, json=body, headers=_auth(key))
        assert_error(invalid, 403, "invalid_api_key", "API key is invalid.")


def test_registered_keys_only_once_some_are_registered(urls, control):
    control.register_credential("resend", KEY)
    url = urls["resend"] + "/domains"

    assert httpx.get(url, headers=_auth(KEY)).status_code == 200
    assert_error(httpx.get(url, headers=_auth(OTHER_KEY)), 403, "invalid_api_key")
    control.revoke_credential("resend", KEY)
    assert_error(httpx.get(url, headers=_auth(KEY)), 403, "invalid_api_key")


def test_wrong_method_and_unknown_path(api):
    wrong = api.put(f"/domains/{UNKNOWN_ID}", json={})
    assert_error(wrong, 405, "method_not_allowed", "Method is not allowed for the requested path.")
    assert wrong.headers["allow"] == "GET, PATCH, DELETE"
    assert_error(
        api.get("/nothing-here"), 404, "not_found", "The requested endpoint does not exist."
    )


def test_a_real_endpoint_the_sandbox_does_not_serve_is_resends_unknown_endpoint(api):
    claim = api.post("/domains/claim", json={"name": "example.com"})  # not /domains/{domain_id}
    assert_error(claim, 404, "not_found", "The requested endpoint does not exist.")
    assert "allow" not in claim.headers


@pytest.mark.parametrize("status, name", [(500, "application_error"), (503, "application_error")])
def test_injected_faults_use_resends_error_shape(api, control, status, name):
    """A 503 was `service_unavailable`, a name the SDKs' error types do not have: the Node SDK
    calls any unexpected failure `application_error` (its union of names holds no other)."""
    control.add_http_fault("resend", operation="list_domains", status=status, count=1)
    assert_error(api.get("/domains"), status, name)
    assert api.get("/domains").status_code == 200


# --- rate limit ---------------------------------------------------------------------------------


def test_every_answer_carries_the_rate_limit_headers_while_limits_are_not_enforced(
    api, urls, control
):
    assert control.rate_limits()["enabled"] is False
    answers = [api.get("/domains"), api.get(f"/domains/{UNKNOWN_ID}"), api.get("/domains")]

    assert [a.status_code for a in answers] == [200, 404, 200]  # counted, never refused
    assert {a.headers["ratelimit-limit"] for a in answers} == {"2"}
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert {a.headers["ratelimit-reset"] for a in answers} == {"1"}  # seconds to the window's end
    keyless = httpx.get(urls["resend"] + "/domains")
    assert keyless.status_code == 401 and keyless.headers["ratelimit-limit"] == "2"


def test_the_third_call_in_a_second_is_refused_once_limits_are_on(api, control):
    control.rate_limits(True)
    try:
        answers = [api.get("/domains") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert_error(answers[2], 429, "rate_limit_exceeded", "Too many requests")
        assert answers[2].headers["retry-after"] == "1"
        assert answers[2].headers["ratelimit-remaining"] == "0"
        control.advance(1)
        assert api.get("/domains").status_code == 200
    finally:
        control.rate_limits(False)


def test_every_answer_says_how_long_to_wait_in_retry_after(api, urls, control):
    """Resend's rate-limit page lists `retry-after` beside the `ratelimit-*` headers as what
    "describe[s] your current rate limit following every request": 0 while the window has calls
    left, the seconds to its end once none remain; a 429 carries it once."""
    answers = [api.get("/domains"), api.get(f"/domains/{UNKNOWN_ID}"), api.get("/domains")]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert [a.headers["retry-after"] for a in answers] == ["0", "1", "1"]
    keyless = httpx.get(urls["resend"] + "/domains")
    assert keyless.status_code == 401 and keyless.headers["retry-after"] == "0"  # its own window

    control.advance(1)
    control.rate_limits(True)
    try:
        limited = [api.get("/domains") for _ in range(3)][2]
        assert limited.status_code == 429
        assert limited.headers.get_list("retry-after") == ["1"]
    finally:
        control.rate_limits(False)


def test_the_rate_limit_is_a_setting(api, control):
    control.settings("resend", rate_limit_per_second=5)
    control.rate_limits(True)
    try:
        answers = [api.get("/domains") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[0].headers["ratelimit-limit"] == "5"
        assert control.rate_limits()["quotas"]["resend"]["requests"] == 5
    finally:
        control.rate_limits(False)


# --- determinism --------------------------------------------------------------------------------


def _story(api, control, seed: int) -> list[bytes]:
    control.reset(seed=seed)
    control.freeze(at="2026-01-01T09:00:00Z")
    first = api.post("/domains", json={"name": "example.com"})
    second = api.post("/domains", json={"name": "shop.example.net", "region": "sa-east-1"})
    first_id = first.json()["id"]
    control.publish("resend", first_id, omit=["dkim_2"])
    api.post(f"/domains/{first_id}/verify")
    control.advance(90)
    return [
        first.content,
        second.content,
        api.get("/domains").content,
        api.get(f"/domains/{first_id}").content,
    ]


def test_same_seed_and_calls_give_identical_bodies(api, control):
    once = _story(api, control, 7)
    twice = _story(api, control, 7)
    different = _story(api, control, 8)

    assert once == twice
    assert once[0] != different[0]
