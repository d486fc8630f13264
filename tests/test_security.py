"""Who may drive the sandbox: the control API on loopback by default, a token beyond it, and each
provider's credentials scoping its domains (tenant isolation)."""

from __future__ import annotations

import os
import re
import socket
import subprocess

import httpx
import pytest

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient, ControlError
from sandbox.engine.clock import Clock
from sandbox.limits import is_loopback

from .conftest import START
from .helpers import (
    CLI,
    PROVIDER_NAMES,
    PROVIDERS_BY_NAME,
    Served,
    partner_headers,
    serve_refused,
)

TOKEN = "s3cret-control-token"
AUTOSEND = {"Authorization": "Bearer as_test_project_key"}


def without_token_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "DOMAINSANDBOX_TOKEN"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("sandbox.example.com", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_serve_beyond_loopback_without_a_token_refuses_to_start():
    result = serve_refused(
        "--host", "0.0.0.0", "--port", "0", "--dns-port", "0", env=without_token_env()
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a control token" in result.stderr
    assert "--control-token" in result.stderr
    assert "serving" not in result.stdout


@pytest.mark.parametrize("token", [" ", "two words", "tab\tin", "tök"])
def test_a_token_no_header_could_carry_back_is_refused_at_start(token):
    """A token of spaces started a sandbox nobody could then drive: a header loses them."""
    result = serve_refused(
        "--host", "0.0.0.0", "--control-token", token, "--port", "0", "--dns-port", "0",
        env=without_token_env(),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "domainsandbox: --control-token (or $DOMAINSANDBOX_TOKEN) needs a token of visible ASCII "
        f"characters, without spaces, as an Authorization header carries it; not {token!r}"
    )


def test_a_short_token_beyond_loopback_is_warned_about_and_a_long_one_is_not():
    short = Served("--host", "0.0.0.0", "--control-token", "x")
    try:
        warning = "warning: the control token is shorter than 16 characters and other machines"
        assert any(warning in line for line in short.banner), short.banner
    finally:
        short.stop()
    for args in (("--control-token", TOKEN, "--host", "0.0.0.0"), ("--control-token", "x")):
        served = Served(*args)  # 20 characters; or this machine only
        try:
            assert not any("warning" in line for line in served.banner), served.banner
        finally:
            served.stop()


def test_serve_beyond_loopback_with_a_token_guards_the_control_api_and_the_cli_sends_it():
    served = Served("--host", "0.0.0.0", "--control-token", TOKEN)
    try:
        # the banner's URLs name no address another machine can open: it says what to use
        assert (
            "  on every address: other machines reach it at this machine's name or address"
            in served.banner
        )
        assert any("--dns-host for other machines'" in line for line in served.banner)
        url = served.urls["control"].replace("0.0.0.0", "127.0.0.1")
        server_url = url.removesuffix("/_sandbox")

        refused = httpx.get(url + "/clock")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json() == {
            "error": {
                "status": 401,
                "message": "this sandbox's control API needs Authorization: Bearer <token>",
            }
        }
        wrong = httpx.get(url + "/clock", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        # a mistyped or stale token is told apart from a missing one
        assert "refused the bearer token sent" in wrong.json()["error"]["message"]
        right = httpx.get(url + "/clock", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200

        # the providers judge their own credentials; the dashboard's page holds no data
        autosend = served.urls["autosend"].replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(autosend + "/domains", headers=AUTOSEND).status_code == 200
        assert httpx.get(url + "/ui").status_code == 200

        cli = [*CLI, "clock", "--url", server_url]
        env = without_token_env()
        denied = subprocess.run(cli, capture_output=True, text=True, timeout=30, env=env)
        assert denied.returncode == 2 and "401" in denied.stderr
        assert "; give it with --token TOKEN or $DOMAINSANDBOX_TOKEN" in denied.stderr
        flag = subprocess.run([*cli, "--token", TOKEN], capture_output=True, text=True, env=env)
        assert flag.returncode == 0, flag.stderr
        env["DOMAINSANDBOX_TOKEN"] = TOKEN
        from_env = subprocess.run(cli, capture_output=True, text=True, timeout=30, env=env)
        assert from_env.returncode == 0, from_env.stderr
    finally:
        code, _ = served.stop()
    assert code == 0


@pytest.mark.parametrize("variable", ["DOMAINSANDBOX_TOKEN", "DOMAINSANDBOX_CONTROL_TOKEN"])
def test_serve_takes_its_token_from_the_variable_its_help_names(variable, monkeypatch):
    """$DOMAINSANDBOX_TOKEN, which every command reads; the variable named after the option,
    which serve read before, still works."""
    monkeypatch.delenv("DOMAINSANDBOX_TOKEN", raising=False)
    monkeypatch.setenv(variable, TOKEN)
    served = Served()
    try:
        url = served.urls["control"]
        assert httpx.get(url + "/clock").status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(url + "/clock", headers=bearer).status_code == 200
    finally:
        served.stop()
    shown = subprocess.run([*CLI, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert re.search(r"^\s+DOMAINSANDBOX_TOKEN\s+--control-token$", shown.stdout, re.M)


def test_serve_takes_the_token_the_other_commands_are_given_and_refuses_their_url():
    """`domainsandbox --token T serve` served with no token at all: `serve` reads only
    --control-token, and the other commands' --token was dropped without a word."""
    served = Served(before=("--token", TOKEN))
    try:
        control = served.urls["control"]
        assert httpx.get(f"{control}/clock").status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{control}/clock", headers=headers).status_code == 200
    finally:
        served.stop()
    for before, said in (
        (["--token", "one"], "--token and --control-token give two tokens"),
        (["--url", "http://127.0.0.1:9"], "--url names a running sandbox for the other commands"),
    ):
        command = [*CLI, *before, "serve", "--port", "0", "--dns-port", "0"]
        refused = subprocess.run(
            [*command, "--control-token", "two"], capture_output=True, text=True, timeout=30
        )
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr


# --- a token on loopback: every spelling of a control path needs it ------------------------------


@pytest.fixture(scope="module")
def guarded():
    sandbox = Sandbox(seed=1, clock=Clock(start=START, frozen=True))
    sandbox.control_token = TOKEN
    with SandboxServer(sandbox) as running:
        yield running


def raw_post(port: int, path: str) -> bytes:
    """POST with no token through a bare socket, so no client library tidies the path."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.partition(b"\r\n")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/_sandbox/reset",
        "//_sandbox/reset",
        "/_sandbox//reset",
        "/_sandbox/./reset",
        "/_sandbox/ui/../reset",
        "/_sandbox/ui/%2e%2e/reset",
        "/_sandbox/ui/..%2freset",
        "/%5Fsandbox/reset",
        "/monite/v1/../../_sandbox/reset",
        "/monite/v1/%2e%2e/%2e%2e/_sandbox/reset",
    ],
)
def test_no_spelling_of_a_control_path_gets_past_the_token(guarded, path):
    control = ControlClient(guarded.url, token=TOKEN)
    control.add_record("kept.example.com", "TXT", "still here")
    status_line = raw_post(guarded.port, path)
    assert not status_line.startswith(b"HTTP/1.1 2"), status_line
    assert control.records("kept.example.com")[0]["value"] == "still here"  # no reset happened
    control.close()


def test_a_guarded_sandbox_gives_the_scenario_schema_without_the_token(guarded):
    """An editor's YAML support fetches the schema by its URL, with no way to send a token;
    it holds no data. The scenario itself still needs the token."""
    schema = httpx.get(guarded.url + "/_sandbox/scenario/schema")
    assert schema.status_code == 200
    assert "monite" in schema.json()["definitions"]["provider"]["description"]
    assert httpx.get(guarded.url + "/_sandbox/scenario").status_code == 401


def test_a_guarded_sandbox_says_a_path_nothing_serves_is_not_found(guarded):
    """Only the control API needs the token: a provider's base URL without its version, or any
    other path nothing serves, is a 404 saying so, not a token refused."""
    for path in ("/autosend/domains", "/", "/favicon.ico"):
        answer = httpx.get(guarded.url + path, headers=AUTOSEND)
        assert answer.status_code == 404, (path, answer.text)
        assert "does not serve GET" in answer.json()["error"]["message"]
    assert httpx.get(guarded.url + "/_sandbox/nothing").status_code == 401


def test_a_guarded_sandbox_answers_its_python_client_only_with_the_token(guarded, monkeypatch):
    monkeypatch.delenv("DOMAINSANDBOX_TOKEN", raising=False)
    with pytest.raises(ControlError) as refused:
        ControlClient(guarded.url).clock()
    assert refused.value.status == 401
    assert str(refused.value).endswith(
        "; give it with ControlClient(url, token=...) or $DOMAINSANDBOX_TOKEN"
    )
    assert ControlClient(guarded.url, token=TOKEN).clock()["now"] == START
    monkeypatch.setenv("DOMAINSANDBOX_TOKEN", TOKEN)  # what the README's CI recipe sets
    assert ControlClient(guarded.url).clock()["now"] == START


def test_a_token_read_from_a_file_with_its_line_break_is_sent_without_it(guarded, monkeypatch):
    """`DOMAINSANDBOX_TOKEN=$(cat token)` keeps no line break, but a token read in Python or set
    by a CI secret may: the sandbox was then said not to answer as a domainsandbox."""
    monkeypatch.setenv("DOMAINSANDBOX_TOKEN", TOKEN + "\n")
    assert ControlClient(guarded.url).clock()["now"] == START
    with pytest.raises(ControlError) as refused:
        ControlClient(guarded.url, token="s3cret\x01")
    assert "a character an HTTP header cannot carry" in str(refused.value)


# --- tenant isolation ------------------------------------------------------------------------
# Each provider's own test file proves another credential never sees, verifies or deletes a
# domain: tests/test_monite.py::test_another_partner_can_neither_see_verify_nor_delete,
# tests/test_autosend.py::test_another_key_cannot_see_verify_or_delete_a_domain,
# tests/test_vortex.py::test_domains_are_scoped_by_key_and_account (Vortex has no delete), and
# tests/test_scaleway.py::test_list_shows_only_the_callers_domains, which covers listing only;
# the Scaleway operations on one domain are covered here.

SCALEWAY_SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
SCALEWAY_OTHER = "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
DOMAINS = "/mailbox/v1alpha1/domains"


def test_another_scaleway_secret_can_neither_read_validate_nor_delete_a_domain(urls):
    owner = httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": SCALEWAY_SECRET})
    other = httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": SCALEWAY_OTHER})
    created = owner.post(DOMAINS, json={"name": "mine.example.com", "project_id": SCALEWAY_PROJECT})
    assert created.status_code == 200, created.text
    domain = f"{DOMAINS}/{created.json()['id']}"

    for method, path in (
        ("GET", domain),
        ("GET", f"{domain}/records"),
        ("POST", f"{domain}/validate-records"),
        ("DELETE", domain),
    ):
        response = other.request(method, path)
        # Scaleway's documented answer for another key's resource (docs/scaleway.md)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["type"] == "permissions_denied"
        assert "mine.example.com" not in response.text
    assert other.get(DOMAINS).json() == {"total_count": 0, "domains": []}
    assert owner.get(domain).json()["name"] == "mine.example.com"  # untouched
    owner.close()
    other.close()


# --- what a web page could make a browser send: other Hosts, other origins, form posts ---------


def control_error(response: httpx.Response) -> str:
    assert set(response.json()) == {"error"}  # the control API's own shape
    return response.json()["error"]["message"]


@pytest.mark.parametrize("host", ["rebound.example", "rebound.example:8080", "localhost.evil"])
def test_the_control_api_and_dashboard_refuse_a_host_name_they_do_not_answer_at(urls, host):
    for path in ("/_sandbox/clock", "/_sandbox/ui", "/_sandbox/nowhere"):
        refused = httpx.get(urls["server"] + path, headers={"Host": host})
        assert refused.status_code == 403
        assert f"not at '{host.split(':')[0]}'" in control_error(refused)
    reset = httpx.post(urls["server"] + "/_sandbox/reset", json={}, headers={"Host": host})
    assert reset.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1:1", "[::1]:8080", "localhost", "a.localhost:80"])
def test_the_control_api_answers_at_localhost_and_ip_addresses(urls, host):
    assert httpx.get(urls["control"] + "/clock", headers={"Host": host}).status_code == 200


def test_provider_apis_answer_any_host(urls):
    headers = AUTOSEND | {"Host": "api.autosend.example"}
    assert httpx.get(urls["autosend"] + "/domains", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of the same machine
        {"Origin": "http://127.0.0.1:1"},
        {"Origin": "null"},
        {
            "Origin": "http://127.0.0.1:1",
            "Sec-Fetch-Site": "same-site",
            "Sec-Fetch-Mode": "no-cors",
        },
    ],
)
def test_a_request_a_browser_marks_as_from_another_site_is_refused(urls, control, headers):
    control.add_record("kept.example.com", "TXT", "still here")
    refused = httpx.post(urls["control"] + "/reset", headers=headers)  # bodiless, as no-cors
    assert refused.status_code == 403
    assert "from another site" in control_error(refused)
    assert httpx.get(urls["control"] + "/clock", headers=headers).status_code == 403
    assert control.records("kept.example.com")


def test_a_request_from_the_sandboxs_own_origin_is_served(urls, control):
    own = urls["server"].replace("http://", "")
    headers = {"Origin": f"http://{own}", "Sec-Fetch-Site": "same-origin"}
    assert httpx.post(urls["control"] + "/reset", json={}, headers=headers).status_code == 200


def test_a_link_from_another_site_opens_the_dashboards_page(urls):
    navigation = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    navigation["Sec-Fetch-Dest"] = "document"
    assert httpx.get(urls["server"] + "/_sandbox/ui", headers=navigation).status_code == 200


@pytest.mark.parametrize(
    "kind", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"]
)
def test_a_state_changing_control_call_takes_json_only_so_no_form_can_post_to_it(
    urls, control, kind
):
    domain = httpx.post(
        urls["autosend"] + "/domains", json={"domain": "f.example"}, headers=AUTOSEND
    )
    verify = f"{urls['control']}/domains/autosend/{domain.json()['data']['id']}/verify"
    refused = httpx.post(verify, content=b"a=b", headers={"Content-Type": kind})
    assert refused.status_code == 415
    assert "takes JSON" in control_error(refused)
    assert control.domain("autosend", domain.json()["data"]["id"])["checks"] == 0
    assert httpx.post(verify).status_code == 200  # no body, as the CLI sends it


def test_a_scenario_sent_as_a_form_is_told_the_media_types_a_scenario_takes(urls):
    """The control API's general refusal named the scenario endpoint to the scenario endpoint."""
    refused = httpx.post(urls["control"] + "/scenario", content=b"name: x")  # no Content-Type
    assert refused.status_code == 415
    assert control_error(refused) == (
        "a scenario is YAML or JSON: send it with Content-Type: application/yaml or "
        "application/json"
    )


def test_serve_answers_the_names_given_with_allowed_host_and_the_name_of_host():
    served = Served("--host", "localhost", "--allowed-host", "Sandbox.Team.Example")
    try:
        clock = served.urls["control"] + "/clock"
        for host in ("sandbox.team.example", "sandbox.team.example.:80", "localhost"):
            assert httpx.get(clock, headers={"Host": host}).status_code == 200, host
        assert httpx.get(clock, headers={"Host": "other.example"}).status_code == 403
    finally:
        assert served.stop()[0] == 0


# A request with a wrong credential and a bad body or parameter, per provider: (method, path
# under the mount, the wrong credential, the body), and the status the key's refusal gets.
def wrong_key_headers(control, provider: str) -> dict[str, str]:
    """A credential of `provider`'s own form that it refuses: another owner's sample key once
    the first one is registered (for a provider that logs in, a token it never issued)."""
    kit = PROVIDERS_BY_NAME[provider].kit
    control.register_credential(provider, kit.sample_key(1), secret=kit.sample_secret)
    wrong = "not-a-token-it-issued" if kit.login else kit.sample_key(2)
    return dict(kit.headers) | kit.headers_for(wrong)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_a_wrong_key_is_refused_before_the_content_is_judged(urls, control, provider):
    """A client testing its handling of a bad key with a sloppy request got the validation
    error: the real APIs look at the key first. A body no server could read stays refused
    first, as a framework's body parser refuses it before any route's key check."""
    create = PROVIDERS_BY_NAME[provider].kit.create
    url, wrong = urls[provider] + create.at(), wrong_key_headers(control, provider)
    sent = (lambda body: {"data": body}) if create.form else (lambda body: {"json": body})
    with control.expecting_errors(), httpx.Client() as http:
        good_body = http.request(
            create.method, url, headers=wrong, **sent(create.body_for(name="key.example"))
        )
        bad_body = http.request(create.method, url, headers=wrong, **sent({}))  # no name
        unreadable = http.request(
            create.method, url, headers=wrong | {"Content-Type": "application/json"}, content=b"{"
        )
    assert good_body.status_code in (401, 403), good_body.text
    assert (bad_body.status_code, bad_body.text) == (good_body.status_code, good_body.text)
    assert unreadable.status_code in (400, 415, 422), unreadable.text
    noted = control.requests(provider)[-2]
    assert noted["violations"], noted  # the body broke the document all the same


# The same through a bad query parameter, where a body is no JSON object: (path, the wrong
# credential, what the credential's refusal says).
WRONG_KEY_AND_BAD_QUERY = {
    "mailgun": ("/v4/domains?limit=abc", {"Authorization": "Basic dXNlcjprZXktMQ=="},
                "Invalid private key"),  # user:key-1, not api:
    "ses": ("/v2/email/identities?PageSize=abc", {"Authorization": "AWS4-HMAC-SHA256 garbage"},
            "requires 'Credential' parameter"),
}  # fmt: skip


@pytest.mark.parametrize("provider", WRONG_KEY_AND_BAD_QUERY)
def test_a_wrong_key_is_refused_before_a_bad_query_parameter(urls, control, provider):
    path, wrong, said = WRONG_KEY_AND_BAD_QUERY[provider]
    with control.expecting_errors():
        answer = httpx.get(urls[provider] + path, headers=wrong)
    assert said in answer.text, answer.text


def test_a_right_key_with_bad_content_gets_the_validation_error(urls, control):
    with control.expecting_errors():
        answer = httpx.post(
            urls["monite"] + "/mailbox_domains",
            headers=partner_headers(urls["monite"]),
            json={"domain": 5},
        )
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "domain"]
