"""The request journal: what each client sent and was answered, to assert on, over real HTTP
(control API, ControlClient, CLI), with credentials redacted and memory bounded."""

from __future__ import annotations

import json

import httpx
import pytest

from contracts.called import check_called
from sandbox.cli import main
from sandbox.client import ControlError
from sandbox.driver import Driver
from sandbox.engine.clock import utc
from sandbox.requestlog import MAX_BODY_BYTES, RequestLog, view

from .helpers import PROVIDERS_BY_NAME, create, partner_headers, verify

JSON = "application/json"
MONITE_VERSION = {"x-monite-version": "2024-05-25"}

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers


@pytest.fixture
def monite_story(urls, control):
    """A Monite partner logs in, creates a domain and verifies it: the created domain."""
    base = urls["monite"]
    headers = partner_headers(base)
    domain = create(base, headers, "mail.journal.example.com")
    verify(base, headers, domain["id"])
    return domain


def test_each_request_is_kept_with_what_the_client_sent_and_what_it_got(monite_story, control):
    token, created, verified = control.requests("monite")
    assert [e["operation"] for e in (token, created, verified)] == [
        "create_token",
        "create_domain",
        "verify_domain",
    ]
    assert created["method"] == "POST" and created["path"] == "/monite/v1/mailbox_domains"
    assert created["body"] == {"domain": "mail.journal.example.com"}
    assert created["headers"]["x-monite-version"] == "2024-05-25"
    assert created["headers"]["authorization"] == "Bearer [redacted]"
    assert (created["status"], verified["status"]) == (201, 200)
    assert created["domain_id"] == verified["domain_id"] == monite_story["id"]
    assert token["domain_id"] is None  # a login touches no domain
    assert token["body"]["client_secret"] == "[redacted]"
    assert token["body"]["client_id"] == "eb959578-a74d-4ac3-8b25-bf0910027857"
    assert all(e["duration_ms"] >= 0 and e["at"] == "2026-01-01T09:00:00Z" for e in (token,))


def test_a_request_held_up_by_an_injected_latency_is_kept_with_the_time_it_took(urls, control):
    control.add_http_fault("autosend", latency_ms=400, count=1)
    headers = {"Authorization": "Bearer as_journal"}
    assert httpx.get(f"{urls['autosend']}/domains", headers=headers).status_code == 200
    [held] = control.requests("autosend")
    assert held["duration_ms"] >= 400


def test_filters_pick_by_provider_operation_status_domain_and_time(urls, control, monite_story):
    base = urls["monite"]
    control.advance(60)
    missing = httpx.get(f"{base}/mailbox_domains")  # no credential
    assert missing.status_code == 401
    domain = monite_story["id"]
    assert len(control.requests(operation="verify_domain")) == 1
    assert [e["operation"] for e in control.requests(domain=domain)] == [
        "create_domain",
        "verify_domain",
    ]
    assert control.count_requests(status="2xx") == 3
    assert control.count_requests(status=missing.status_code) == 1
    assert control.count_requests(since="2026-01-01T09:01:00Z") == 1
    assert control.count_requests(until=utc("2026-01-01T09:00:30Z")) == 3  # a datetime too
    assert control.count_requests("monite", operation="list_domains", domain=domain) == 0
    assert [e["operation"] for e in control.requests(limit=1)] == ["list_domains"]


def test_a_filter_that_cannot_be_read_is_refused_in_the_control_apis_shape(server, control):
    for query in ("since=yesterday", "status=abc", "provider=nobody"):
        answer = httpx.get(f"{server.url}/_sandbox/requests/count?{query}")
        assert answer.status_code == 400, query
        assert query.split("=")[0] in answer.json()["error"]["message"]


def test_an_operation_no_provider_has_is_refused_listing_the_known_ones(server, control):
    """A misspelt operationId matched nothing: "called 0 times" passed for a call never named."""
    for path in ("/requests", "/requests/count"):
        answer = httpx.get(f"{server.url}/_sandbox{path}?operation=verify")
        assert answer.status_code == 400, path
        said = answer.json()["error"]["message"]
        assert said.startswith("operation 'verify' is not in any provider's API; use: ")
        assert "verify_domain" in said and "CreateEmailIdentity" in said  # Monite's, SES's
    answer = httpx.get(f"{server.url}/_sandbox/requests/count?operation=verify&provider=monite")
    assert answer.json()["error"]["message"] == (
        "operation 'verify' is not in monite's API; use: create_domain, create_token, "
        "delete_domain, list_domains, revoke_token, verify_domain"
    )
    with pytest.raises(ControlError, match="not in monite's API"):
        check_called(control, "monite", "verify", times=0)
    with pytest.raises(ControlError, match="'verify_domain' is not in ses's API"):
        control.count_requests("ses", operation="verify_domain")  # Monite's, not SES's


def test_a_domain_no_one_has_is_refused_as_an_unknown_operation_is(server, control, monite_story):
    """A misspelt domain id matched nothing: "called 0 times" passed for a domain never named."""
    for path in ("/requests", "/requests/count"):
        answer = httpx.get(f"{server.url}/_sandbox{path}?domain=other")
        assert answer.status_code == 400, path
        assert answer.json()["error"]["message"] == (
            "no domain has the id 'other', now or in the request journal; `domainsandbox "
            "domains` (GET /_sandbox/domains) lists their ids"
        )
    with pytest.raises(ControlError, match="no ses domain has the id"):
        check_called(control, "ses", "CreateEmailIdentity", times=0, domain=monite_story["id"])
    assert control.count_requests("monite", domain=monite_story["id"]) == 2


def test_no_provider_credential_is_ever_shown(urls, control, server):
    """Every provider's client, its credential sent as that provider takes it: the journal
    names the scheme (and a Basic user or AWS key id) but never shows the secret."""
    secrets = []
    with httpx.Client(timeout=10) as http:
        for name, provider in PROVIDERS_BY_NAME.items():
            driver = Driver(http, server.url, provider)
            created = driver.call(driver.kit.create, name=f"mail.{name}.example.com")
            assert created.status_code < 300, (name, created.text)
            secrets += driver.credential_headers.values()
            # with a secret (Monite's client_secret), the key is an id, shown as sent; an AWS
            # access key id is one too, and its secret never travels (only the signature)
            if name != "ses":
                secrets.append(driver.kit.sample_secret or driver.key)
    shown = json.dumps(control.requests())
    for secret in secrets:
        assert _secret_part(secret) not in shown, secret
    by_provider = {e["provider"]: e["headers"] for e in control.requests()}  # the creates
    assert by_provider["mailgun"]["authorization"] == "Basic api:[redacted]"
    assert by_provider["vortex"]["x-api-key"] == "[redacted]"
    assert by_provider["scaleway"]["x-auth-token"] == "[redacted]"
    [ses] = control.requests("ses")
    assert "Credential=AKIA" in ses["headers"]["authorization"]
    assert ses["headers"]["authorization"].endswith("Signature=[redacted]")


def test_a_header_whose_name_says_it_carries_a_secret_is_redacted_too(urls, control):
    """A team's own `X-Token` was kept as sent; what grants nothing stays readable."""
    sent = {"Authorization": "Bearer as_team", "X-Token": "team-secret",
            "X-Session-Id": "s-123", "Private-Key": "pk", "Idempotency-Key": "op-7",
            "X-Request-Id": "r-1"}  # fmt: skip
    httpx.get(urls["autosend"] + "/domains", headers=sent)
    [entry] = control.requests("autosend")
    assert {name: entry["headers"][name.lower()] for name in sent} == {
        "Authorization": "Bearer [redacted]",
        "X-Token": "[redacted]",
        "X-Session-Id": "[redacted]",
        "Private-Key": "[redacted]",
        "Idempotency-Key": "op-7",
        "X-Request-Id": "r-1",
    }


def _secret_part(credential: str) -> str:
    """What grants access in a credential: a SigV4 signature, a token after its scheme."""
    if "Signature=" in credential:
        return credential.rsplit("Signature=", 1)[1]
    return credential.split()[-1]


def test_a_form_body_is_shown_as_its_fields(urls, control, server):
    with httpx.Client(timeout=10) as http:
        driver = Driver(http, server.url, PROVIDERS_BY_NAME["mailgun"])
        assert driver.call(driver.kit.create, name="mail.form.example.com").status_code == 200
    [entry] = control.requests("mailgun", operation="create_domain")
    assert entry["body"]["name"] == "mail.form.example.com"
    assert entry["domain_id"] == "mail.form.example.com"


def test_refused_and_aborted_requests_are_in_the_journal_too(urls, control):
    base = urls["monite"]
    assert httpx.post(f"{base}/mailbox_domains", json={"domain": "x.example.com"}).is_error
    headers = partner_headers(base)
    control.add_http_fault("monite", abort=True, count=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/mailbox_domains", headers=headers)
    refused, _token, aborted = control.requests("monite")
    assert refused["status"] in (401, 403, 422) and refused["domain_id"] is None
    assert aborted["aborted"] is True and aborted["operation"] == "list_domains"


def test_a_call_a_fault_dropped_is_status_aborted_never_the_status_no_client_read(urls, control):
    """Counted as a 200 by the status filter, `assert_called` and the report: a test asserting
    one success passed on a call that only dropped its connection."""
    base, key = urls["autosend"], {"Authorization": "Bearer as_test_key"}
    control.clear_report()  # it outlives the fixture's reset
    for drop in ("reset", "abort_after"):  # the call not made, then made but its answer lost
        control.add_http_fault("autosend", operation="create_domain", count=1, **{drop: True})
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/domains", json={"domain": f"{drop}.example.com"}, headers=key)
    made = httpx.post(f"{base}/domains", json={"domain": "made.example.com"}, headers=key)
    assert made.status_code == 200
    assert [e["body"]["domain"] for e in control.requests("autosend", status=200)] == [
        "made.example.com"
    ]
    assert control.count_requests("autosend", status="2xx") == 1
    assert control.count_requests("autosend", status="aborted") == 2
    with pytest.raises(AssertionError, match=r"create_domain: 3 times \(aborted x2, 200 x1"):
        check_called(control, "autosend", "create_domain", times=2, status=200)
    codes = control.report()["providers"]["autosend"]["status_codes"]
    assert codes == {"200": 1, "aborted": 2}


def test_a_call_a_fault_answered_with_another_key_is_journaled_under_the_domain_it_names(
    urls, control
):
    """The domain of the id the path names, whoever holds it: the journal filtered by that
    domain shows every call made to it, the calls of a client with the wrong key too."""
    base = urls["autosend"]
    made = httpx.post(
        f"{base}/domains",
        json={"domain": "keyed.example.com"},
        headers={"Authorization": "Bearer as_one"},
    ).json()
    domain_id = made["data"]["id"]
    control.add_http_fault("autosend", status=503, count=1)
    with control.expecting_errors():
        asked = httpx.get(f"{base}/domains/{domain_id}", headers={"Authorization": "Bearer as_two"})
    assert asked.status_code == 503
    journaled = control.requests("autosend", domain=domain_id)
    assert [(e["operation"], e["status"]) for e in journaled] == [
        ("create_domain", 200),
        ("get_domain", 503),
    ]


def test_a_misspelt_or_unreadable_filter_is_told_what_the_journal_takes(control):
    """Connexion's words named neither the filters there are nor what a status may be (the
    regular expression instead)."""
    misspelt = r"operaton: not a query parameter of this call \(it takes provider, operation, "
    with pytest.raises(ControlError, match=misspelt + r".*\); did you mean 'operation'\?$"):
        control.requests("monite", operaton="create_domain")
    with pytest.raises(ControlError, match=r"status: '2xxx' is not a status code \(404\), a "):
        control.count_requests(status="2xxx")


def test_a_refused_request_is_kept_with_the_body_it_sent(urls, control):
    """Refused by its body, by a header before its body was read, or unreadable: the journal
    shows what the client sent, which is what its author needs to see."""
    base = urls["monite"]
    headers = partner_headers(base)
    assert httpx.post(f"{base}/mailbox_domains", json={"domain": 5}, headers=headers).is_error
    no_version = {k: v for k, v in headers.items() if k != "x-monite-version"}
    unversioned = {"domain": "early.example.com"}  # refused by a header, body unread
    assert httpx.post(f"{base}/mailbox_domains", json=unversioned, headers=no_version).is_error
    broken = b'{"domain": "half'
    sent = httpx.post(
        f"{base}/mailbox_domains", content=broken, headers=headers | {"content-type": JSON}
    )
    assert sent.status_code == 422
    by_body, by_header, unreadable = control.requests("monite", operation="create_domain")
    assert by_body["status"] == 422 and by_body["body"] == {"domain": 5}
    assert by_header["status"] == 422 and by_header["body"] == unversioned
    assert unreadable["body"] == broken.decode()


def test_a_refused_secret_is_never_shown(urls, control):
    """A token request refused for its shape: neither the journal's body nor the violation's
    reason (the report's) nor the answer quotes its client_secret."""
    secret = "TOPSECRET-0123"
    asked = {"client_secret": secret, "grant_type": "entity_user", "client_id": "x"}
    answer = httpx.post(f"{urls['monite']}/auth/token", json=asked, headers=MONITE_VERSION)
    too_long = {"client_secret": secret * 20, "grant_type": "client_credentials"}
    answer_too_long = httpx.post(
        f"{urls['monite']}/auth/token", json=too_long | {"client_id": "x"}, headers=MONITE_VERSION
    )
    half = b'{"client_id": "x", "client_secret": "TOPSECRET-0123", "grant'
    answer_half = httpx.post(
        f"{urls['monite']}/auth/token",
        content=half,
        headers=MONITE_VERSION | {"content-type": JSON},
    )
    assert {answer.status_code, answer_too_long.status_code, answer_half.status_code} == {422}
    entries = control.requests("monite", operation="create_token")
    assert len(entries) == 3 and all(e["violations"] for e in entries)
    assert entries[0]["body"]["client_secret"] == "[redacted]"
    assert '"client_secret": "[redacted]"' in entries[2]["body"]
    shown = json.dumps(entries) + json.dumps(control.report()) + answer.text
    assert secret not in shown + answer_too_long.text + answer_half.text


def test_a_refused_forms_secret_is_never_shown(urls, control):
    """Mailgun's clients send multipart forms: a refused one was journaled as sent, the
    smtp_password in it; so was a urlencoded one whose field name was percent-encoded."""
    secret = "SUPERSECRET-0123"
    with httpx.Client(base_url=urls["mailgun"], auth=("api", "key-journal"), timeout=10) as api:
        multipart = api.post(
            "/v4/domains", files={"name": (None, "bad name"), "smtp_password": (None, secret)}
        )
        encoded = api.post(
            "/v4/domains",
            content=f"name=bad+name&smtp%5Fpassword={secret}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert multipart.status_code == encoded.status_code == 400
    entries = control.requests("mailgun", operation="create_domain")
    assert len(entries) == 2 and all("bad name" in json.dumps(e) for e in entries[:1])
    assert secret not in json.dumps(entries) + json.dumps(control.report())


def test_reset_and_delete_empty_the_journal(monite_story, control):
    assert control.count_requests() == 3
    control.clear_requests()
    assert control.requests() == []
    control.reset()
    assert control.count_requests() == 0


def test_assert_called_passes_with_the_calls_and_fails_listing_what_was_called(
    monite_story, control
):
    [call] = check_called(control, "monite", "verify_domain", times=1)
    assert call["domain_id"] == monite_story["id"]
    check_called(control, "monite", "create_domain", domain=monite_story["id"])
    with pytest.raises(AssertionError) as failure:
        check_called(control, "monite", "verify_domain", times=2)
    said = str(failure.value)
    assert said.startswith("expected monite verify_domain to be called 2 times; it was called once")
    assert "monite create_token: once (200 x1)" in said
    assert f"monite create_domain: once (201 x1; domains {monite_story['id']})" in said
    with pytest.raises(AssertionError, match="status=404 to be called at least once"):
        check_called(control, "monite", "verify_domain", status=404)


def test_the_cli_lists_filters_and_counts(monite_story, server, capsys):
    assert main(["requests", "--provider", "monite", "--url", server.url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["AT", "PROVIDER", "OPERATION", "STATUS", "DOMAIN", "METHOD", "PATH"]
    assert "verify_domain" in table[3] and monite_story["id"] in table[3]
    args = ["requests", "--operation", "verify_domain", "--status", "2xx", "--count"]
    assert main([*args, "--url", server.url]) == 0
    assert capsys.readouterr().out == "1\n"
    assert main(["requests", "--domain", monite_story["id"], "--json", "--url", server.url]) == 0
    shown = json.loads(capsys.readouterr().out)["requests"]
    assert [e["operation"] for e in shown] == ["create_domain", "verify_domain"]


# --- the journal itself: bounded, lazy ----------------------------------------------------------


def _entry(**fields) -> dict:
    at = utc("2026-01-01T09:00:00Z")
    return {"at": at, "provider": "autosend", "operation": "create_domain"} | fields


def test_a_long_body_is_kept_as_its_first_bytes_only():
    journal = RequestLog()
    journal.add(_entry(body=b"x" * (10 * MAX_BODY_BYTES), headers={}))
    parsed = {"domain": "y" * (3 * MAX_BODY_BYTES)}
    journal.add(_entry(body=parsed, headers={"content-length": str(3 * MAX_BODY_BYTES + 14)}))
    raw, json_body = journal.find()
    for shown, size in ((raw, 10 * MAX_BODY_BYTES), (json_body, 3 * MAX_BODY_BYTES + 14)):
        assert shown["body_truncated"] is True
        assert len(shown["body"]) < MAX_BODY_BYTES + 40
        assert shown["body"].endswith(f"... ({size} bytes in all)")
    assert json_body["body"].startswith('{"domain":"yyy')


def test_a_body_sent_without_a_length_is_bounded_too():
    journal = RequestLog()  # chunked: no content-length to go by
    journal.add(_entry(body={"domain": "z" * (2 * MAX_BODY_BYTES)}, headers={}))
    journal.add(_entry(body={"domain": "small.example.com"}, headers={}))
    long, small = journal.find()
    assert long["body_truncated"] and len(long["body"]) < MAX_BODY_BYTES + 40
    assert small["body"] == {"domain": "small.example.com"}


def test_a_small_body_is_kept_by_reference_and_redacted_only_when_read():
    journal, body = RequestLog(), {"client_id": "me", "client_secret": "s3cret"}
    journal.add(_entry(body=body, headers={"authorization": "Bearer t0ken"}))
    assert body == {"client_id": "me", "client_secret": "s3cret"}  # not touched
    [shown] = journal.find()
    assert shown["body"] == {"client_id": "me", "client_secret": "[redacted]"}
    assert shown["headers"] == {"authorization": "Bearer [redacted]"}
    assert view(journal._entries[0])["body"]["client_id"] == "me"
