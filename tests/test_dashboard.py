"""The dashboard is served by the sandbox itself, offline, and its assets load over real HTTP."""

from __future__ import annotations

import re
import signal
import subprocess

import httpx
import pytest
import yaml

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient, ControlError
from sandbox.driver import Driver, reach
from sandbox.engine.clock import Clock
from sandbox.providers import PROVIDERS
from sandbox.providers.mailgun import Mailgun
from sandbox.providers.ses import Ses

from .helpers import CLI, SCENARIOS, Served, wait_for

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

UI = "/_sandbox/ui"
EVENTS = "/_sandbox/events"
AUTOSEND_KEY = {"Authorization": "Bearer as_test_project_key"}
ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture
def page_html(urls) -> str:
    response = httpx.get(urls["server"] + UI)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_dashboard_page_is_served_at_sandbox_ui_with_and_without_trailing_slash(urls, page_html):
    again = httpx.get(urls["server"] + UI + "/")
    assert again.status_code == 200 and again.text == page_html
    assert "<title>domainsandbox dashboard</title>" in page_html


def test_every_asset_the_page_names_is_served_by_the_sandbox_itself(urls, page_html):
    assets = [a for a in ASSET.findall(page_html) if not a.startswith(("#", "data:"))]
    assert sorted(assets) == [f"{UI}/static/dashboard.css", f"{UI}/static/dashboard.js"]
    types = {".css": "text/css", ".js": "text/javascript"}
    for asset in assets:
        response = httpx.get(urls["server"] + asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(types[asset[asset.rfind(".") :]])


def test_page_script_and_style_reach_nothing_outside_the_sandbox(urls, page_html):
    files = [page_html] + [
        httpx.get(f"{urls['server']}{UI}/static/{name}").text
        for name in ("dashboard.js", "dashboard.css")
    ]
    for text in files:
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text, re.I)


def test_unknown_dashboard_file_is_a_json_404_in_the_control_shape(urls):
    response = httpx.get(f"{urls['server']}{UI}/static/nope.js")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "message": f"no dashboard file at {UI}/static/nope.js"}
    }


def test_removing_one_value_keeps_the_other_values_at_that_name(control):
    control.add_record("example.com", "TXT", ["v=spf1 -all", "site-verification=abc"])
    control.add_record("example.com", "MX", "10 mx.example.net")
    assert control.remove_records("example.com", "TXT", "site-verification=abc") == 1
    left = [(r["type"], r["value"]) for r in control.records("example.com")]
    assert sorted(left) == [("MX", "10 mx.example.net"), ("TXT", "v=spf1 -all")]


def test_removing_a_value_without_its_type_is_refused_with_a_reason(control):
    control.add_record("example.com", "TXT", "v=spf1 -all")
    with pytest.raises(ControlError) as error:
        control.remove_records("example.com", value="v=spf1 -all")
    assert error.value.status == 400
    assert "give the record type too" in str(error.value)
    assert len(control.records("example.com")) == 1


# --- the event stream: GET /_sandbox/events ---------------------------------------------------


def events(url: str, **headers):
    """The event stream of the sandbox at `url`, as a browser reads it; a change takes at most
    a quarter of a second to be told, a quiet stream says nothing for 15 s."""
    return httpx.stream("GET", url + EVENTS, headers=headers, timeout=httpx.Timeout(5, read=2))


def next_change(lines) -> str:
    """The id of the next `change` event read from `lines`."""
    event = {}
    for line in lines:
        if not line:
            if event.get("event") == "change":
                return event["id"]
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            event[name] = value
    raise AssertionError("the stream ended")


def test_the_event_stream_tells_each_change_made_elsewhere_once(urls, control):
    with events(urls["server"]) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next_change(lines) == "1"  # at once: the page reads the world when it opens
        control.add_record("example.com", "TXT", "hello")
        assert next_change(lines) == "2"
        httpx.get(urls["autosend"] + "/domains", headers=AUTOSEND_KEY)  # a client's call
        assert next_change(lines) == "3"
        control.domains()  # reading changes nothing: nothing is told
        with pytest.raises(httpx.ReadTimeout):
            next_change(lines)


def test_the_event_stream_is_refused_to_other_methods_in_the_control_shape(urls):
    response = httpx.post(urls["server"] + EVENTS, json={})
    assert response.status_code == 405
    assert response.json()["error"]["message"] == "the event stream is read with GET"


def test_a_stream_whose_client_went_away_is_let_go(server, urls):
    if not hasattr(server, "events"):
        pytest.skip("counts the streams of a sandbox served in this process")
    with events(urls["server"]) as stream:
        lines = stream.iter_lines()  # kept: a line iterator dropped closes the stream
        next_change(lines)
        assert server.events.open == 1
    wait_for(lambda: server.events.open == 0, 5)


def test_the_event_stream_needs_the_control_token_once_one_is_set():
    sandbox = Sandbox(seed=1, clock=Clock(start="2026-01-01T09:00:00Z", frozen=True))
    sandbox.control_token = "sekrit"
    with SandboxServer(sandbox) as guarded:
        refused = httpx.get(guarded.url + EVENTS)
        assert refused.status_code == 401
        assert "needs Authorization: Bearer" in refused.json()["error"]["message"]
        with events(guarded.url, Authorization="Bearer sekrit") as stream:
            assert next_change(stream.iter_lines()) == "1"


def test_a_server_stopping_with_a_stream_open_ends_it_at_once():
    running = SandboxServer(Sandbox(seed=1)).start()
    with events(running.url) as stream:
        lines = stream.iter_lines()
        next_change(lines)
        running.stop()  # uvicorn waits up to 2 s for open requests, then cuts them off
        # ended by the server, whole: one cut off would end mid-body (RemoteProtocolError)
        assert list(lines) == []
    assert running.events.open == 0


@pytest.mark.slow  # starts `serve --workers 2`: several seconds on a busy machine
def test_serve_with_workers_tells_changes_across_the_wire_and_stops_with_a_stream_open():
    served = Served("--workers", "2")
    url = served.urls["control"].removesuffix("/_sandbox")
    with events(url) as stream:
        lines = stream.iter_lines()
        next_change(lines)
        ControlClient(url).advance(60)  # asked of the world in the serving process
        assert next_change(lines) == "2"
        served.process.send_signal(signal.SIGINT)  # the stream still open
        _, errors = served.process.communicate(timeout=15)
    assert served.process.returncode == 0
    assert "graceful shutdown exceeded" not in errors


# --- from the page: create a domain, bundled scenarios, providers -----------------------------


def test_a_domain_is_created_through_each_providers_own_api(control):
    for provider in control.providers():
        name = f"new.{provider['name']}.example"
        created = control.create_domain(provider["name"], name)
        assert (created["provider"], created["name"]) == (provider["name"], name)
        assert created["status"] in provider["statuses"]
        assert control.domain(provider["name"], created["id"])["name"] == name
    made = [(r["provider"], r["status"]) for r in control.requests() if r["method"] == "POST"]
    assert [p for p, _ in made if p != "monite"] == [
        p["name"] for p in control.providers() if p["name"] != "monite"
    ]
    assert ("monite", 201) in made  # after its login


def test_the_cli_creates_a_domain_through_the_providers_api(urls, control):
    done = subprocess.run(
        [*CLI, "create", "mailgun", "news.example.net", "--url", urls["server"]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "mailgun news.example.net news.example.net: unverified\n"
    assert [d["name"] for d in control.domains("mailgun")] == ["news.example.net"]


def test_a_mailgun_domain_is_created_in_its_eu_region_and_says_which_api_knows_it(urls, control):
    apis = {p["name"]: p["apis"] for p in control.providers()}
    assert apis["mailgun"] == ["/mailgun", "/mailgun/eu"]
    assert apis["autosend"] == ["/autosend/v1"] and apis["monite"] == ["/monite/v1"]
    eu = control.create_domain("mailgun", "eu.example.net", api="/mailgun/eu")
    us = control.create_domain("mailgun", "us.example.net")
    assert (eu["api"], us["api"]) == ("/mailgun/eu", "/mailgun")
    assert control.domain("mailgun", "eu.example.net")["api"] == "/mailgun/eu"
    mx = [r["value"] for r in eu["records"] if r["type"] == "MX"]
    assert mx == ["mxa.eu.mailgun.org", "mxb.eu.mailgun.org"]
    key = ("api", Mailgun.kit.sample_key(0))
    for api, known, other in (("/mailgun/eu", eu, us), ("/mailgun", us, eu)):
        base = urls["server"] + api + "/v3/domains/"
        assert httpx.get(base + known["name"], auth=key).status_code == 200
        assert httpx.get(base + other["name"], auth=key).status_code == 404
    assert control.create_domain("autosend", "a.example.net")["api"] == "/autosend/v1"


def test_a_create_through_an_api_the_provider_does_not_serve_is_a_400_naming_its_apis(control):
    with pytest.raises(ControlError) as mailgun:
        control.create_domain("mailgun", "x.example.net", api="/mailgun/us")
    assert mailgun.value.status == 400
    assert "mailgun's APIs are /mailgun and /mailgun/eu, not '/mailgun/us'" in str(mailgun.value)
    with pytest.raises(ControlError) as autosend:
        control.create_domain("autosend", "x.example.net", api="/mailgun/eu")
    assert "autosend's API is /autosend/v1, not '/mailgun/eu'" in str(autosend.value)
    assert control.domains() == [] and control.requests() == []


def test_the_cli_creates_and_lists_a_mailgun_domain_of_its_eu_region(urls, control):
    def cli(*words: str) -> str:
        done = subprocess.run(
            [*CLI, *words, "--url", urls["server"]], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    made = cli("create", "mailgun", "eu.example.net", "--api", "/mailgun/eu")
    assert made == "mailgun eu.example.net eu.example.net: unverified [API /mailgun/eu]\n"
    cli("create", "mailgun", "us.example.net")
    cli("create", "autosend", "a.example.net")
    heads = [line for line in cli("domains").splitlines() if not line.startswith(" ")]
    assert heads[0] == "mailgun eu.example.net eu.example.net: unverified [API /mailgun/eu]"
    assert heads[1] == "mailgun us.example.net us.example.net: unverified [API /mailgun]"
    assert heads[2].startswith("autosend ") and "[API" not in heads[2]


def test_a_create_the_provider_refuses_is_a_400_with_its_reason(control):
    control.create_domain("autosend", "twice.example.com")
    with pytest.raises(ControlError) as refused:
        control.create_domain("autosend", "twice.example.com")
    assert refused.value.status == 400
    assert "autosend refused to create 'twice.example.com': 400 Domain twice" in str(refused.value)
    with pytest.raises(ControlError) as unknown:
        control.create_domain("nope", "x.example.com")
    assert unknown.value.status == 400  # not a provider of the document's enum
    assert len(control.domains()) == 1


@pytest.mark.parametrize(
    ("provider", "key"),
    [("autosend", "as_mine"), ("monite", "11111111-1111-4111-8111-111111111111")],
)
def test_a_create_shut_out_by_registered_credentials_says_how_to_let_it_in(control, provider, key):
    kit = next(p for p in PROVIDERS if p.name == provider).kit
    control.register_credential(provider, key, kit.sample_secret)
    with pytest.raises(ControlError) as refused:
        control.create_domain(provider, "shop.example.com")
    sample, secret = kit.sample_key(0), kit.sample_secret
    said = str(refused.value)
    assert refused.value.status == 400, said  # refused, as a create's own 401 (Monite's login)
    assert f"a create here uses {provider}'s sample credential {sample}" in said, said
    assert "is not registered in the sandbox" in said
    add = f"domainsandbox credentials add {provider} {sample}"
    assert f"`{add + (f' --secret {secret}' if secret else '')}`" in said
    control.register_credential(provider, sample, secret)  # as told: now it creates
    assert control.create_domain(provider, "shop.example.com")["name"] == "shop.example.com"


def test_bundled_scenarios_are_listed_and_loaded_by_name(control):
    listed = {s["name"]: s["description"] for s in control.bundled_scenarios()}
    assert set(listed) == {path.stem for path in SCENARIOS.glob("*.yaml")}
    assert listed["dns-outage"].startswith("The provider's DNS lookups fail")
    loaded = control.load_bundled_scenario("every-state")
    assert loaded["domains"] == len(control.domains()) > 7
    with pytest.raises(ControlError) as unknown:
        control.load_bundled_scenario("nope")
    assert unknown.value.status == 404
    assert "no bundled scenario 'nope'; bundled: all-verified, " in str(unknown.value)
    for path in ("..%2Fpyproject.toml", "%2Fetc%2Fpasswd", "..", "build"):  # files, not scenarios
        with pytest.raises(ControlError) as refused:
            control.call("POST", f"/scenarios/{path}/load")
        assert refused.value.status == 404
    assert len(control.domains()) == loaded["domains"]


def test_vortex_asks_spf_and_dmarc_as_recommended_since_only_token_and_dkim_decide(control):
    domain = control.create_domain("vortex", "mail.example.com")
    levels = {r["kind"]: r["level"] for r in domain["records"]}
    assert levels == {
        "token": "required",
        "dkim": "required",
        "spf": "recommended",
        "dmarc": "recommended",
    }
    control.publish("vortex", domain["id"], omit=["spf", "dmarc"])
    assert control.verify("vortex", domain["id"])["status"] == "verified"
    other = control.create_domain("vortex", "other.example.com")
    control.publish("vortex", other["id"], omit=["dkim"])
    assert control.verify("vortex", other["id"])["status"] == "not_verified"


def test_ses_requires_the_mail_from_mx_and_recommends_its_spf(urls, control):
    # MailFromDomainStatus follows the MX alone (docs/ses.md): the SPF record does not decide it
    with httpx.Client(timeout=10) as http:
        driver = Driver(http, urls["server"], Ses)
        name = reach(driver, control, "MAIL_FROM_SUCCESS", "mail.example.com")
    levels = {r["kind"]: r["level"] for r in control.domain("ses", name)["records"]}
    assert levels["mail_from_mx"] == "required" and levels["mail_from_spf"] == "recommended"
    assert {levels[kind] for kind in ("dkim_1", "dkim_2", "dkim_3")} == {"required"}


# Each provider's judgement of its statuses, as the dashboard shows them (every-state holds
# one domain in each).
TONES = {
    ("monite", "verified"): "ok",
    ("monite", "waiting_to_be_verified"): "pending",
    ("autosend", "VERIFIED"): "ok",
    ("autosend", "PENDING"): "pending",
    ("scaleway", "ready"): "ok",
    ("scaleway", "validation_failed"): "bad",
    ("scaleway", "validating"): "pending",
    ("mailgun", "active"): "ok",
    ("mailgun", "unverified"): "pending",
    ("resend", "verified"): "ok",
    ("resend", "partially_failed"): "bad",
    ("resend", "temporary_failure"): "bad",
    ("resend", "partially_verified"): "pending",
    ("ses", "SUCCESS"): "ok",
    ("ses", "FAILED"): "bad",
    ("ses", "PENDING"): "pending",
}


def test_each_domain_has_the_tone_its_provider_judges_it_by(control):
    control.load_bundled_scenario("every-state")
    shown = {(d["provider"], d["status"]): d["tone"] for d in control.domains()}
    assert {key: shown.get(key) for key in TONES} == TONES
    vortex = {d["name"]: d["tone"] for d in control.domains() if d["provider"] == "vortex"}
    assert vortex == {  # all but one read `not_verified`: the checks that decide tell them apart
        "waiting-for-provider.vortex.example": "pending",
        "waiting-for-user.vortex.example": "pending",
        "verified.vortex.example": "ok",
        "failed.vortex.example": "bad",
        "provider-failed.vortex.example": "bad",
    }

    # a domain Mailgun disabled (only a scenario can say so)
    world = yaml.safe_load(control.export_scenario())
    mailgun = next(d for d in world["domains"] if d["provider"] == "mailgun")
    world["domains"] = [mailgun | {"status": "disabled"}]
    control.load_scenario(yaml.safe_dump(world))
    assert [d["tone"] for d in control.domains()] == ["bad"]
