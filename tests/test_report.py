"""The client conformance report: what a client's requests exercised, and where they broke the
document. A careful client and a deliberately wrong one both talk real HTTP to the sandbox."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.cli import main as cli
from sandbox.client import ControlError
from sandbox.providers.vortex import sample_key

from .test_ses import Ses2 as ses_client

VERSION = {"x-monite-version": "2024-05-25"}
CLIENT_ID = "0b8f6c1e-5d2a-4f3b-9a7c-1e2d3f4a5b6c"
UNKNOWN_ID = "8a91507e-63b4-4eb6-9354-dc5ec4251815"


@pytest.fixture
def report_control(control):
    control.clear_report()  # the report outlives reset by design
    return control


def _headers(base: str) -> dict:
    token = httpx.post(
        base + "/auth/token",
        headers=VERSION,
        json={"client_id": CLIENT_ID, "client_secret": "s", "grant_type": "client_credentials"},
    ).json()["access_token"]
    return VERSION | {"Authorization": f"Bearer {token}"}


def _careful_client(base: str, control) -> str:
    """Token, create, verify before and after publishing: the documented happy path."""
    headers = _headers(base)
    created = httpx.post(
        base + "/mailbox_domains", headers=headers, json={"domain": "a.example.com"}
    )
    domain_id = created.json()["id"]
    httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers)
    control.publish("monite", domain_id)
    httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers)
    return domain_id


def _wrong_client(base: str) -> None:
    """Every request breaks the Monite document in a different way."""
    headers = _headers(base)
    no_version = {"Authorization": headers["Authorization"]}
    httpx.post(base + "/mailbox_domains", headers=headers, json={"domain": "b.example.com", "x": 1})
    httpx.post(base + "/mailbox_domains", headers=no_version, json={"domain": "c.example.com"})
    httpx.post(base + "/mailbox_domains/not-a-uuid/verify", headers=headers)
    httpx.request("TRACE", base + "/mailbox_domains", headers=headers)
    httpx.post(
        base + "/mailbox_domains",
        headers=headers | {"Content-Type": "application/json"},
        content=b'{"domain": "\xff"}',
    )


def _monite(report: dict) -> dict:
    return report["providers"]["monite"]


def test_report_lists_operations_called_and_never_called_with_their_status_codes(
    urls, report_control
):
    _careful_client(urls["monite"], report_control)
    view = _monite(report_control.report())
    called = {op["operation"]: op["statuses"] for op in view["operations_called"]}
    assert called == {
        "create_token": {"200": 1},
        "create_domain": {"201": 1},
        "verify_domain": {"200": 2},
    }
    never = [op["operation"] for op in view["operations_never_called"]]
    assert never == ["revoke_token", "list_domains", "delete_domain"]
    assert view["status_codes"] == {"200": 3, "201": 1}
    assert view["violations"] == []


def test_report_shows_the_verification_states_reached_and_never_reached(urls, report_control):
    base, headers = urls["monite"], _headers(urls["monite"])
    created = httpx.post(
        base + "/mailbox_domains", headers=headers, json={"domain": "s.example.com"}
    )
    view = _monite(report_control.report())
    assert view["states_reached"] == ["waiting_to_be_verified"]
    assert view["states_never_reached"] == ["verified"]

    report_control.publish("monite", created.json()["id"])
    httpx.post(f"{base}/mailbox_domains/{created.json()['id']}/verify", headers=headers)
    view = _monite(report_control.report())
    assert view["states_reached"] == ["waiting_to_be_verified", "verified"]
    assert view["states_never_reached"] == []


def test_a_wrong_client_sees_each_violation_with_operation_field_and_reason(urls, report_control):
    _wrong_client(urls["monite"])
    violations = {
        (v["operation"], v["field"], v["status"]): v["reason"]
        for v in _monite(report_control.report())["violations"]
    }
    assert set(violations) == {
        ("create_domain", "x", 422),
        ("create_domain", "x-monite-version", 422),
        ("verify_domain", "domain_id", 422),
        ("(no operation) TRACE /monite/v1/mailbox_domains", None, 405),
        ("create_domain", "body", 422),
    }
    assert "'x' was unexpected" in violations[("create_domain", "x", 422)]
    assert "'not-a-uuid' is not a UUID" in violations[("verify_domain", "domain_id", 422)]
    assert "not valid UTF-8" in violations[("create_domain", "body", 422)]


def test_each_logged_request_carries_its_operation_and_violations(urls, report_control):
    base = urls["monite"]
    httpx.post(base + "/mailbox_domains/not-a-uuid/verify", headers=_headers(base))
    last = report_control.requests("monite")[-1]
    assert last["operation"] == "verify_domain"
    assert last["status"] == 422
    assert [v["field"] for v in last["violations"]] == ["domain_id"]


def test_report_outlives_reset_and_is_cleared_on_request(urls, report_control):
    _careful_client(urls["monite"], report_control)
    report_control.reset()
    view = _monite(report_control.report())
    assert view["requests"] == 4
    assert view["states_reached"] == ["waiting_to_be_verified", "verified"]

    report_control.clear_report()
    view = _monite(report_control.report())
    assert (view["requests"], view["operations_called"], view["states_reached"]) == (0, [], [])


def test_report_covers_every_provider_the_sandbox_serves(server, report_control):
    report = report_control.report()
    assert list(report["providers"]) == list(server.sandbox.providers)
    for name, provider in server.sandbox.providers.items():
        assert report["providers"][name]["states_never_reached"] == list(provider.state_words)


def test_same_seed_and_same_calls_give_a_byte_identical_report(urls, report_control):
    bodies = []
    for _ in range(2):
        report_control.clear_report()
        report_control.reset(seed=99)
        _careful_client(urls["monite"], report_control)
        _wrong_client(urls["monite"])
        bodies.append(httpx.get(urls["control"] + "/report").content)
    assert bodies[0] == bodies[1]


def test_cli_report_prints_a_table_and_json(server, urls, report_control, capsys):
    _wrong_client(urls["monite"])
    assert cli(["report", "--url", server.url, "--provider", "monite"]) == 0
    table = capsys.readouterr().out
    assert "== monite:" in table
    assert "never called GET    /mailbox_domains  (list_domains)" in table
    assert "verify_domain  field domain_id:" in table

    assert cli(["report", "--url", server.url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["providers"]) == set(server.sandbox.providers)
    assert len(data["providers"]["monite"]["violations"]) == 5


def test_cli_report_fails_a_ci_job_on_the_clients_violations(server, urls, report_control, capsys):
    """A job whose client is not pytest had no gate but parsing the JSON itself."""
    assert cli(["report", "--url", server.url, "--fail-on-violations"]) == 0
    # nothing reached this sandbox (the tests ran the fixture's own): passed, but said so
    assert capsys.readouterr().err.startswith(
        f"domainsandbox: warning: no request reached the sandbox at {server.url}: nothing was "
        "judged (tests using pytest's domain_sandbox fixture run their own sandbox"
    )
    _wrong_client(urls["monite"])
    assert cli(["report", "--url", server.url, "--fail-on-violations", "--json"]) == 1
    said = capsys.readouterr()
    assert json.loads(said.out)["providers"]["monite"]["violations"]
    assert said.err == "domainsandbox: 5 request(s) an API's document refuses\n"
    assert cli(["report", "--url", server.url, "--provider", "vortex", "--fail-on-violations"]) == 0


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("autosend", "/autosend/v2/domains"),  # a wrong version
        ("autosend", "/autosend/domains"),  # none
        ("monite", "/monite/v2/mailbox_domains"),
        ("mailgun", "/Mailgun/v4/domains"),  # the mount's case
    ],
)
def test_a_wrong_base_url_is_the_providers_violation(server, report_control, provider, path):
    """A path under no mount was journaled for nobody: the commonest misconfiguration of an
    SDK passed `report --fail-on-violations --provider` and the pytest gate."""
    answer = httpx.get(server.url + path, headers={"Authorization": "Bearer as_x"})
    assert answer.status_code == 404
    (violation,) = report_control.report()["providers"][provider]["violations"]
    assert violation["operation"] == f"(no operation) GET {path}"
    assert f"{provider}'s API is under /" in violation["reason"]
    (noted,) = report_control.requests(provider)
    assert noted["path"] == path and noted["status"] == 404
    gate = ["report", "--url", server.url, "--provider", provider, "--fail-on-violations"]
    assert cli(gate) == 1


def test_rules_only_the_provider_states_are_violations_too(urls, report_control):
    """Vortex's document leaves its key optional (its `require_api_key` setting may be 0) and
    Resend's says in words only that `after` and `before` go apart: a client that broke either
    got the refusal but the report said `violations: none`."""
    vortex = urls["vortex"] + "/api/v1/accounts/acc1/email-domains"
    assert httpx.get(vortex).status_code == 401
    assert httpx.get(vortex, headers={"x-api-key": "garbage"}).status_code == 401
    assert httpx.get(vortex, headers={"x-api-key": sample_key(1)}).status_code == 200
    resend = urls["resend"] + "/domains?after=a&before=b"
    assert httpx.get(resend, headers={"Authorization": "Bearer re_x"}).status_code == 422
    providers = report_control.report()["providers"]
    vortex_said = [(v["field"], v["reason"]) for v in providers["vortex"]["violations"]]
    assert vortex_said == [
        ("x-api-key", "Missing x-api-key header"),
        ("x-api-key", "Invalid API key format. Expected: VRTX.{encodedId}.{key}"),
    ]
    (resend_said,) = providers["resend"]["violations"]
    assert resend_said["operation"] == "list_domains" and resend_said["field"] == "after"
    assert "cannot be used together" in resend_said["reason"]
    assert [r["violations"] for r in report_control.requests("vortex")][2] == []


@pytest.mark.parametrize(
    ("provider", "path", "headers", "field", "said"),
    [
        ("autosend", "/domains", {"Authorization": "Token as_x"}, "Authorization",
         "expected Authorization: Bearer <token>; the request sent Authorization: Token ..."),
        ("autosend", "/domains?api_key=as_x", {}, "Authorization",
         "the request sent its key in the query string (api_key), where it is not read"),
        ("autosend", "/domains", {"X-API-Key": "as_x"}, "Authorization",  # a neighbour's header
         "the request sent its key in x-api-key, a header this API does not read"),
        ("mailgun", "/v4/domains", {"Authorization": "Bearer key-1"}, "Authorization",
         "expected Authorization: Basic <base64 of user:password>; the request sent "
         "Authorization: Bearer ..."),
        ("scaleway", "/mailbox/v1alpha1/domains", {"Authorization": "Bearer x"}, "X-Auth-Token",
         "expected X-Auth-Token: <key>; the request sent Authorization: Bearer ..."),
        ("resend", "/domains", {}, "Authorization", "; the request sent no credential"),
        ("resend", "/domains", {"Authorization": "Bearer"}, "Authorization",
         "the request sent Authorization: Bearer, nothing after it"),
        ("resend", "/domains", {"Authorization": "as_x"}, "Authorization",  # the key alone
         "the request sent Authorization with no scheme word before its value (a key alone?)"),
        ("resend", "/domains", {"Authorization": "key-1 as_x"}, "Authorization",
         "the request sent Authorization with no scheme word before its value (a key alone?)"),
    ],
)  # fmt: skip
def test_a_credential_sent_wrong_is_said_beside_the_one_asked_for(
    urls, report_control, provider, path, headers, field, said
):
    """Every wrong scheme was "No authorization token provided", field none, one line for all:
    a client could not tell which of its mistakes it was."""
    assert httpx.get(urls[provider] + path, headers=headers).status_code in (401, 403)
    (violation,) = report_control.report()["providers"][provider]["violations"]
    assert violation["field"] == field and said in violation["reason"], violation
    assert "as_x" not in violation["reason"] and "key-1" not in violation["reason"]


def test_an_undeclared_field_is_told_the_declared_one_spelt_alike(urls, report_control):
    autosend = {"Authorization": "Bearer as_x"}
    for body in ({"domainName": "a.example.com"}, {"domain": "b.example.com", "zzz": 1}):
        httpx.post(urls["autosend"] + "/domains", headers=autosend, json=body)
    ses = ses_client(urls["ses"])
    ses.call("POST", "/v2/email/identities", {"emailIdentity": "c.example.com"})
    providers = report_control.report()["providers"]
    reasons = {v["field"]: v["reason"] for v in providers["autosend"]["violations"]}
    assert reasons["domainName"].endswith("('domainName' was unexpected); did you mean 'domain'?")
    assert reasons["zzz"].endswith("('zzz' was unexpected)")  # nothing like it: no guess
    (ses_said,) = providers["ses"]["violations"]
    assert ses_said["reason"].endswith("did you mean 'EmailIdentity'?"), ses_said


def test_the_table_says_in_one_line_which_providers_got_no_request(server, urls, report_control):
    _wrong_client(urls["monite"])
    table = _table(report_control)
    idle = [name for name in server.sandbox.providers if name != "monite"]
    assert table.count("== ") == 2 and "== monite: " in table
    assert table.rstrip().endswith(f"== no requests: {', '.join(idle)}")
    assert "== autosend" not in table and "never called GET    /domains" not in table


def test_fetching_a_providers_document_is_no_request_of_its_api(urls, report_control):
    """A client (or a contract tool) reading /resend/openapi.json read as one call of the API:
    `resend: 1 request`, every operation never called."""
    assert httpx.get(urls["resend"] + "/openapi.json").status_code == 200
    assert report_control.report()["providers"]["resend"]["requests"] == 0
    assert report_control.requests("resend") == []


def test_the_table_counts_one_request_as_one(urls, report_control):
    httpx.get(urls["autosend"] + "/domains")  # refused: no key
    assert "== autosend: 1 request\n" in _table(report_control)


def test_a_violation_names_its_field_once(urls, report_control):
    key = {"Authorization": "Bearer as_report"}
    httpx.post(urls["autosend"] + "/domains", json={"domain": "a.example.com", "regionKey": None},
               headers=key)  # fmt: skip
    [violation] = report_control.report()["providers"]["autosend"]["violations"]
    assert (violation["field"], violation["reason"]) == (
        "regionKey",
        "null is not of type 'string'",
    )


def test_a_violation_quoting_a_huge_key_is_kept_cut_short_in_the_journal_and_the_report(
    urls, report_control, server
):
    """A 200,000-character key was kept twice over (field and reason) in every journal entry
    and report violation: 200 such requests of a megabyte each took the sandbox to 1.3 GB."""
    key = "A" * 200_000
    answer = httpx.post(
        urls["autosend"] + "/domains",
        json={key: 1, "domain": "a.example.com"},
        headers={"Authorization": "Bearer as_report"},
    )
    assert answer.status_code == 400
    [violation] = report_control.report()["providers"]["autosend"]["violations"]
    assert violation["field"].startswith("AAAA") and violation["field"].endswith(
        "… (200000 characters)"
    )
    assert len(violation["field"]) < 300 and len(violation["reason"]) < 1100, violation
    journal = httpx.get(f"{server.url}/_sandbox/requests", params={"limit": 1})
    assert len(journal.content) < 20_000, len(journal.content)
    assert len(httpx.get(f"{server.url}/_sandbox/report").content) < 20_000


def test_a_pattern_holding_a_quote_is_not_spelt_out_in_the_report(urls, report_control):
    """SES's EmailIdentity pattern holds a `'`: Python quotes it in double quotes, and the
    report showed all 190 characters of it."""
    ses_client(urls["ses"]).call("POST", "/v2/email/identities", {"EmailIdentity": "a b"})
    [violation] = report_control.report()["providers"]["ses"]["violations"]
    assert violation["reason"] == "'a b' does not match the pattern the document gives"


def test_bad_requests_a_test_sends_on_purpose_are_kept_apart_as_expected(urls, report_control):
    with report_control.expecting_errors():
        _wrong_client(urls["monite"])
    _careful_client(urls["monite"], report_control)
    view = _monite(report_control.report())
    assert view["violations"] == []
    assert len(view["expected_violations"]) == 5
    assert "expected violations (provoked on purpose): 5" in _table(report_control)


def test_expecting_errors_called_without_with_lasts_until_the_reset(urls, report_control):
    report_control.expecting_errors()  # no `with`: from now until the next reset
    _wrong_client(urls["monite"])
    assert len(_monite(report_control.report())["expected_violations"]) == 5
    report_control.reset()
    _wrong_client(urls["monite"])
    assert len(_monite(report_control.report())["violations"]) == 5


def test_each_violation_names_the_tests_that_sent_it_until_a_reset(urls, report_control):
    """In a big suite, where to look: the tests named while the violation was sent, each once."""
    for test in ("tests/test_a.py::test_one", "tests/test_b.py::test_two", None):
        report_control.running_test(test)
        httpx.post(urls["autosend"] + "/domains", json={"domainName": "x.example.com"},
                   headers={"Authorization": "Bearer as_test"})  # fmt: skip
    [violation] = report_control.report()["providers"]["autosend"]["violations"]
    assert violation["count"] == 3
    assert violation["tests"] == ["tests/test_a.py::test_one", "tests/test_b.py::test_two"]
    assert ", in tests/test_a.py::test_one, tests/test_b.py::test_two]" in _table(report_control)
    report_control.running_test("tests/test_c.py::test_three")
    report_control.reset()  # a test's name ends with it, as expecting_errors() does
    _wrong_client(urls["monite"])
    assert all(v["tests"] == [] for v in _monite(report_control.report())["violations"])
    report_control.running_test("tests/test_d.py::test_four")
    assert cli(["report", "--clear", "--url", urls["server"]]) == 0  # a new run: judged afresh
    _wrong_client(urls["monite"])
    assert all(v["tests"] == [] for v in _monite(report_control.report())["violations"])


@pytest.mark.parametrize("name", ["", "   ", "two\nlines"])
def test_a_test_is_named_in_one_line_not_blank(report_control, name):
    """A name of two lines split the report's text line in two."""
    with pytest.raises(ControlError, match="is not a name of one line, not blank") as refused:
        report_control.running_test(name)
    assert refused.value.status == 400
    report_control.running_test("tests/test_a.py::test_b[one, two]")  # spaces inside are kept


def test_a_violation_names_its_first_five_tests_and_says_when_there_are_more(urls, report_control):
    def send_from(test):
        report_control.running_test(test)
        httpx.post(urls["autosend"] + "/domains", json={"domainName": "x.example.com"},
                   headers={"Authorization": "Bearer as_test"})  # fmt: skip

    for n in [0, 1, 2, 3, 4, 4, 0]:  # five tests, two of them twice: no more than five
        send_from(f"test_{n}")
    [violation] = report_control.report()["providers"]["autosend"]["violations"]
    assert violation["tests"] == [f"test_{n}" for n in range(5)]
    assert "more_tests" not in violation
    assert "in test_0, test_1, test_2, test_3, test_4]" in _table(report_control)
    send_from("test_5")
    [violation] = report_control.report()["providers"]["autosend"]["violations"]
    assert violation["tests"] == [f"test_{n}" for n in range(5)]
    assert violation["more_tests"] is True
    assert "in test_0, test_1, test_2, test_3, test_4, ...]" in _table(report_control)


def test_violations_read_as_sentences_without_patterns_or_long_values(urls, report_control):
    headers = _headers(urls["monite"])
    long_name = "a" * 300 + ".example.com"
    httpx.post(urls["monite"] + "/mailbox_domains", headers=headers, json={"domain": long_name})
    httpx.post(urls["autosend"] + "/domains", headers={"Authorization": "Bearer as_x"},
               json={"domain": "https://example.com/"})  # fmt: skip
    reasons = [
        v["reason"]
        for name in ("monite", "autosend")
        for v in report_control.report()["providers"][name]["violations"]
    ]
    assert reasons, "the bad requests left no violation"
    for reason in reasons:
        assert "^" not in reason and "{1,63}" not in reason, reason
        assert long_name not in reason and len(reason) < 160, reason


def test_vortex_states_are_reported_in_vortexs_own_words(urls, report_control):
    base = urls["vortex"] + "/api/v1/accounts/acc-1"
    key = {"x-api-key": "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.my-secret-1"}
    created = httpx.post(base + "/email-domains", headers=key, json={"domain": "v.example.com"})
    report_control.publish("vortex", created.json()["id"])
    httpx.patch(f"{base}/email-domains/{created.json()['id']}/checkDkimStatus", headers=key)
    report_control.advance(30)  # the DKIM check lands (check_delay_seconds)
    view = report_control.report()["providers"]["vortex"]
    assert "tokenVerificationStatus=waiting_for_provider" in view["states_reached"]
    assert "dkimStatus=verified" in view["states_reached"]
    assert "spfCheckStatus=failed" in view["states_never_reached"]
    assert "tokenVerificationStatus=provider_failed" in view["states_never_reached"]
    words = view["states_reached"] + view["states_never_reached"]
    assert "not_verified" not in words and "verified" not in words


def test_states_of_loaded_domains_no_client_moved_do_not_count(report_control):
    from .helpers import SCENARIOS

    report_control.load_scenario((SCENARIOS / "every-state.yaml").read_text())
    report = report_control.report()
    for name, view in report["providers"].items():
        assert view["states_reached"] == [], (name, view["states_reached"])


def _table(control) -> str:
    from sandbox.report import render_table

    return render_table(control.report())
