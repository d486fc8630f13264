"""The pytest fixture's reset gives every test the world a fresh sandbox with the same seed
holds; the fixture hands out each provider's credentials and configured official SDK; its
ports can be pinned."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import httpx
import pytest

from contracts.pytest_plugin import START, sandbox_options, start_sandbox
from sandbox import Sandbox
from sandbox.cli import main
from sandbox.client import ControlClient
from sandbox.providers import PROVIDERS
from sandbox.sdk import NoSDK, SampleRefused, credentials

from .helpers import PROVIDER_NAMES, free_port

NAMES = [cls.name for cls in PROVIDERS]


def observed(control: ControlClient) -> dict:
    """Everything a user can see of the world: the scenario export and the control API's GETs."""
    return {
        "scenario": control.call("GET", "/scenario", params={"format": "json"}),
        "settings": {name: control.settings(name) for name in NAMES},
        "http_faults": control.http_faults(),
        "dns_faults": control.faults(),
        "rate_limits": control.rate_limits(),
        "credentials": control.credentials(),
        "clock": control.clock(),
        "records": control.records(),
        "requests": [journaled(r) for r in control.requests()],
        "queries": control.queries(),
    }


def journaled(request: dict) -> dict:
    """A journal entry, less what differs between two sandboxes serving the same calls: how long
    it took on this machine, and the server's address in the Host header."""
    headers = {k: v for k, v in request.get("headers", {}).items() if k != "host"}
    return {k: v for k, v in request.items() if k != "duration_ms"} | {"headers": headers}


def same_next_steps(control: ControlClient, autosend: dict) -> None:
    """What a test does first: faults and a domain, whose ids a fresh world numbers from 1."""
    control.add_http_fault("vortex", status=503)
    control.add_fault("slow.example.com", "servfail")
    created = httpx.post(
        autosend["base_url"] + "/domains",
        headers=autosend["headers"],
        json={"domain": "next.example.com"},
    )
    assert created.status_code < 300, created.text


def dirty(domain_sandbox) -> None:
    """A test that changes everything a test can change, and ends inside expecting_errors."""
    control = domain_sandbox.control
    autosend = domain_sandbox.credentials("autosend")
    for i in range(3):
        answer = httpx.post(
            autosend["base_url"] + "/domains",
            headers=autosend["headers"],
            json={"domain": f"dirty{i}.example.com"},
        )
        assert answer.status_code < 300, answer.text
    control.settings("vortex", check_delay_seconds=30)
    control.add_http_fault("monite", status=500, count=2)
    control.add_fault("*.example.com", "servfail")
    control.add_record("left.example.com", "TXT", "behind")
    control.rate_limits(True)
    control.register_credential("autosend", "as_dirty_key")
    control.set_time("2030-06-01T00:00:00Z")
    control.set_clock_mode("fast", 100)  # the session started it in another mode
    control.call("PUT", "/report/expecting-errors", json={"expecting": True})


def test_reset_after_a_dirty_test_is_the_world_of_a_fresh_sandbox(domain_sandbox, pytestconfig):
    dirty(domain_sandbox)
    assert observed(domain_sandbox.control)["rate_limits"]["enabled"] is True

    domain_sandbox.reset()
    after_reset = observed(domain_sandbox.control)
    same_next_steps(domain_sandbox.control, domain_sandbox.credentials("autosend"))
    after_next_steps = observed(domain_sandbox.control)

    # a fresh sandbox, started as the session's was
    server = start_sandbox(**sandbox_options(pytestconfig) | {"port": 0, "dns_port": 0})
    try:
        with ControlClient(server.url) as control:
            assert after_reset == observed(control)
            same_next_steps(control, credentials(server, "autosend"))
            assert after_next_steps == observed(control)
    finally:
        server.stop()
    assert after_reset["clock"]["now"] == START and after_reset["clock"]["frozen"] is True
    assert after_next_steps["http_faults"][0]["id"] == "h1"
    assert after_next_steps["dns_faults"][0]["id"] == "f1"


def test_rate_limits_a_test_turned_on_do_not_reach_the_next(domain_sandbox):
    autosend = domain_sandbox.credentials("autosend")
    limit = domain_sandbox.control.rate_limits(True)["quotas"]["autosend"]["requests"]

    def statuses() -> set[int]:
        return {
            httpx.get(autosend["base_url"] + "/domains", headers=autosend["headers"]).status_code
            for _ in range(limit + 1)
        }

    assert 429 in statuses()
    domain_sandbox.reset()
    assert statuses() == {200}


def test_a_test_left_expecting_errors_does_not_hide_the_next_tests_violations(domain_sandbox):
    autosend = domain_sandbox.credentials("autosend")
    domain_sandbox.control.call("PUT", "/report/expecting-errors", json={"expecting": True})
    domain_sandbox.reset()
    wrong = httpx.post(
        autosend["base_url"] + "/domains",
        headers=autosend["headers"],
        json={"domain": "x.example.com", "colour": "blue"},
    )
    assert wrong.status_code == 400
    report = domain_sandbox.report()["providers"]["autosend"]
    assert "colour" in json.dumps(report["violations"])
    assert "colour" not in json.dumps(report["expected_violations"])


def test_the_control_api_reset_keeps_the_clock_unless_asked_to_restore_it(domain_sandbox, capsys):
    control = domain_sandbox.control
    started = control.clock()
    control.advance(3600)
    assert control.reset()["clock"]["now"] == "2026-01-01T10:00:00Z"
    control.unfreeze()
    assert control.reset(restore_clock=True)["clock"] == started
    control.advance(60)
    assert main(["reset", "--restore-clock", "--url", domain_sandbox.url]) == 0
    said = f"reset; seed {domain_sandbox.seed}, clock {START} (on-poll)\n"  # its mode as restored
    assert capsys.readouterr().out == said


# --- credentials and clients -----------------------------------------------------------------


@pytest.mark.parametrize("provider", NAMES)
def test_credentials_headers_are_accepted_by_the_provider(domain_sandbox, provider):
    found = domain_sandbox.credentials(provider)
    kit = next(cls for cls in PROVIDERS if cls.name == provider).kit
    assert found["base_url"] == domain_sandbox.urls[provider]
    assert found["key"] == kit.sample_key(0)
    listed = httpx.request(
        kit.list.method,
        found["base_url"] + kit.list.path,
        headers=found["headers"],
        json=kit.list.body,
    )
    assert listed.status_code == 200, listed.text


def test_credentials_carry_the_names_each_sdk_takes(domain_sandbox):
    monite = domain_sandbox.credentials("monite")
    assert monite["headers"]["Authorization"] == f"Bearer {monite['token']}"
    assert {"client_id", "client_secret", "monite_version"} <= set(monite)
    scaleway = domain_sandbox.credentials("scaleway")
    assert {"secret_key", "project_id", "organization_id", "region"} <= set(scaleway)
    ses = domain_sandbox.credentials("ses")
    assert ses["endpoint_url"] == domain_sandbox.urls["ses"] and ses["region_name"]
    assert domain_sandbox.credentials("autosend")["api_key"].startswith("as_")
    vortex = domain_sandbox.credentials("vortex")  # as the README says: the account's path
    domains = f"{vortex['base_url']}/api/v1/accounts/{vortex['account_id']}/email-domains"
    assert httpx.get(domains, headers=vortex["headers"]).status_code == 200
    mailgun = domain_sandbox.credentials("mailgun")  # basic auth: user "api", the key
    listed = httpx.get(mailgun["base_url"] + "/v4/domains", auth=mailgun["auth"])
    assert mailgun["auth"] == ("api", mailgun["api_key"]) and listed.status_code == 200
    with pytest.raises(ValueError, match="unknown provider 'nosuch'; known: monite"):
        domain_sandbox.credentials("nosuch")


@pytest.mark.parametrize(
    "call",
    [
        lambda sandbox: sandbox.settings("nosuch"),
        lambda sandbox: sandbox.update_settings("nosuch", {}),
        lambda sandbox: sandbox.check_http_fault({"provider": "nosuch", "status": 503}),
        lambda sandbox: sandbox.register_credential("nosuch", "key"),
        lambda sandbox: sandbox.revoke_credential("nosuch", "key"),
    ],
    ids=["settings", "update_settings", "check_http_fault", "register", "revoke"],
)
def test_the_python_api_names_the_providers_there_are_when_given_another(call):
    with pytest.raises(ValueError, match="unknown provider 'nosuch'; known: monite, autosend"):
        call(Sandbox())


def _create_through(provider: str, sdk, account: str | None) -> None:
    """Create `sdk.<provider>.example` the way the provider's SDK does."""
    name = f"sdk.{provider}.example"
    if provider == "monite":
        sdk.mailbox_domains.create(domain=name)
    elif provider == "vortex":
        sdk._vortex_api_request_sync(
            "POST", f"/accounts/{account}/email-domains", data={"domain": name}
        )
    elif provider == "scaleway":
        sdk.create_domain(name=name)
    elif provider == "ses":
        sdk.create_email_identity(EmailIdentity=name)
    elif provider == "mailgun":
        assert sdk.domains.create(data={"name": name}).status_code == 200
    elif provider == "resend":
        sdk.Domains.create({"name": name})


@pytest.mark.parametrize("provider", ["monite", "vortex", "scaleway", "ses", "mailgun", "resend"])
def test_client_is_the_official_sdk_configured_against_the_sandbox(domain_sandbox, provider):
    sdk = domain_sandbox.client(provider)
    _create_through(provider, sdk, domain_sandbox.credentials(provider).get("account_id"))
    names = [d["name"] for d in domain_sandbox.control.domains(provider)]
    assert names == [f"sdk.{provider}.example"]


def test_a_refused_sample_login_says_how_to_go_on(domain_sandbox):
    domain_sandbox.register_credential("monite", "0d4c3f5e-2b7a-4c1e-9f3a-6b8d2e1f4a5c", "s3cret")
    with pytest.raises(SampleRefused, match=r"register_credential\('monite', 'eb959578-") as said:
        domain_sandbox.credentials("monite")
    assert "monite refuses the sample client_id" in str(said.value)
    assert "(the client_id is not registered in the sandbox)" in str(said.value)
    kit = next(cls.kit for cls in PROVIDERS if cls.name == "monite")
    domain_sandbox.register_credential("monite", kit.sample_key(0), kit.sample_secret)
    assert domain_sandbox.client("monite")  # as it said: registered too, it logs in again


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_every_provider_refuses_to_hand_out_a_sample_key_its_registered_ones_leave_out(
    domain_sandbox, provider
):
    """Only Monite's login said so; the others' keys were handed out, and refused at first use."""
    kit = next(cls.kit for cls in PROVIDERS if cls.name == provider)
    domain_sandbox.register_credential(provider, kit.sample_key(1), kit.sample_secret)
    with pytest.raises(SampleRefused, match=rf"register_credential\('{provider}', "):
        domain_sandbox.credentials(provider)
    domain_sandbox.register_credential(provider, kit.sample_key(0), kit.sample_secret)
    key = domain_sandbox.credentials(provider)["key"]
    assert key == kit.sample_key(0)


def test_client_names_what_is_missing(domain_sandbox, monkeypatch):
    with pytest.raises(NoSDK, match="autosend has no official Python SDK .its official SDK is"):
        domain_sandbox.client("autosend")
    monkeypatch.setitem(sys.modules, "vortex_sdk", None)  # as if it were not installed
    with pytest.raises(NoSDK, match="vortex SDK is not installed: pip install vortex-python-sdk"):
        domain_sandbox.client("vortex")


def test_client_resend_sets_the_modules_globals_until_the_test_ends(domain_sandbox):
    import resend

    before = resend.api_key, resend.api_url
    assert domain_sandbox.client("resend") is resend
    assert resend.api_url == domain_sandbox.urls["resend"]
    domain_sandbox.end_test()
    assert (resend.api_key, resend.api_url) == before


# --- a user's session: pinned ports, the report across resets --------------------------------

SESSION = """
import httpx

def test_turns_everything_on(domain_sandbox):
    assert domain_sandbox.server.port == {port}
    assert domain_sandbox.dns[1] == {dns_port}
    domain_sandbox.control.rate_limits(True)
    domain_sandbox.control.call("PUT", "/report/expecting-errors", json={{"expecting": True}})
    autosend = domain_sandbox.credentials("autosend")
    httpx.post(autosend["base_url"] + "/domains", headers=autosend["headers"],
               json={{"domain": "a.example.com", "shape": "round"}})

def test_next_one_sees_none_of_it(domain_sandbox):
    assert domain_sandbox.control.rate_limits()["enabled"] is False
    autosend = domain_sandbox.credentials("autosend")
    httpx.post(autosend["base_url"] + "/domains", headers=autosend["headers"],
               json={{"domain": "b.example.com", "colour": "blue"}})
"""


def run_session(tmp_path, *options: str, port: int = 0, dns_port: int = 0):
    (tmp_path / "test_session.py").write_text(
        textwrap.dedent(SESSION.format(port=port, dns_port=dns_port))
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
        + ["test_session.py", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pinned_ports_and_a_report_of_every_test_without_leaks(tmp_path):
    port, dns_port = free_port(), free_port()
    report_file = tmp_path / "report.json"
    run = run_session(
        tmp_path,
        f"--domainsandbox-port={port}",
        f"--domainsandbox-dns-port={dns_port}",
        f"--domainsandbox-report-json={report_file}",
        port=port,
        dns_port=dns_port,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    autosend = json.loads(report_file.read_text())["providers"]["autosend"]
    # both tests' calls are in the session's report; the first test's expecting_errors ended
    assert [v["field"] for v in autosend["expected_violations"]] == ["shape"]
    assert [v["field"] for v in autosend["violations"]] == ["colour"]


def test_a_pinned_port_that_is_taken_is_said_clearly():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(pytest.fail.Exception) as failed:
            start_sandbox(1, port=port)
    assert str(failed.value) == (
        f"domainsandbox could not start (--domainsandbox-seed 1, --domainsandbox-port {port}, "
        f"--domainsandbox-dns-port 0): HTTP port {port} is already in use on 127.0.0.1"
    )
    assert failed.value.__context__ is None  # pytest printed the OSError first, "During handling"
    with socket.socket(type=socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        dns_port = taken.getsockname()[1]
        with pytest.raises(pytest.fail.Exception, match=f"DNS port {dns_port} is already in use"):
            start_sandbox(1, dns_port=dns_port)
