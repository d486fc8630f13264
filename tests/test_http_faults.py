"""HTTP fault injection and the providers' rate limits, against the real server."""

from __future__ import annotations

import signal
import socket
import time
from datetime import timedelta

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from monite import Monite
from monite.errors import TooManyRequestsError

from sandbox import Sandbox
from sandbox.cli import main
from sandbox.client import ControlClient, ControlError
from sandbox.driver import Driver
from sandbox.engine.clock import Clock
from sandbox.providers.ses import sigv4_header

from .helpers import (
    PROVIDER_NAMES,
    PROVIDERS_BY_NAME,
    Served,
    create,
    error_message,
    partner_headers,
)

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers


@pytest.fixture
def monite(urls, control):
    base = urls["monite"]
    yield base, partner_headers(base)
    control.clear_http_faults()
    control.rate_limits(False)


def test_the_next_n_calls_fail_in_the_providers_shape_then_recover(monite, control):
    base, headers = monite
    fault = control.add_http_fault("monite", operation="list_domains", status=503, count=2)
    statuses = [httpx.get(f"{base}/mailbox_domains", headers=headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [503, 503, 200]
    assert statuses[0].json() == {"error": {"message": "Service temporarily unavailable"}}
    assert control.http_faults() == []
    # the journal tells a test's own fault from a failure of the sandbox's
    journaled = control.requests("monite")[-3:]
    assert [(e["status"], e.get("fault")) for e in journaled] == [
        (503, fault["id"]),
        (503, fault["id"]),
        (200, None),
    ]


def test_a_path_the_api_does_not_serve_is_no_call_and_uses_up_no_fault(monite, control):
    """One client's mistyped URL took the provider-wide fault another's test was waiting for."""
    base, headers = monite
    control.add_http_fault("monite", status=500, count=1)
    assert httpx.get(f"{base}/mailbox_domainz", headers=headers).status_code == 404
    assert [f["count"] for f in control.http_faults()] == [1]
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 500


def test_a_fault_on_one_operation_leaves_the_others_alone(monite, control):
    base, headers = monite
    domain_id = create(base, headers)["id"]
    control.add_http_fault("monite", operation="verify_domain", status=500)
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200
    verify = httpx.post(f"{base}/mailbox_domains/{domain_id}/verify", headers=headers)
    assert verify.status_code == 500
    assert verify.json() == {"error": {"message": "Internal server error"}}


def test_one_fault_removed_by_its_id_leaves_the_others_in_force(monite, control, server, capsys):
    """On a shared sandbox a test removes its own fault, not its neighbours' (`--clear` does)."""
    base, headers = monite
    mine = control.add_http_fault("monite", operation="list_domains", status=503)
    theirs = control.add_http_fault("monite", operation="list_domains", latency_ms=1)
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 503
    assert main(["http", "fault", "--remove", mine["id"], "--url", server.url]) == 0
    assert capsys.readouterr().out == f"removed fault {mine['id']}\n"
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200
    assert [f["id"] for f in control.http_faults()] == [theirs["id"]]
    with pytest.raises(ControlError, match=rf"no HTTP fault '{mine['id']}' .* faults: h\d+$"):
        control.remove_http_fault(mine["id"])  # gone already: a 404 naming those there are


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_a_faulted_call_is_journaled_under_the_domain_its_path_names(urls, control, name):
    """A retry test counts the calls on its domain: the faulted ones are among them."""
    driver = Driver(httpx.Client(timeout=10), urls["server"], PROVIDERS_BY_NAME[name])
    domain_id = driver.create("faulted.example.com")
    operation = driver.kit.verify or driver.kit.get
    control.add_http_fault(name, status=503, count=2)
    control.add_http_fault(name, abort=True, count=1)
    statuses = []
    for _ in range(4):
        try:
            statuses.append(driver.call(operation, domain_id).status_code)
        except httpx.HTTPError:
            statuses.append("aborted")
    assert statuses[:3] == [503, 503, "aborted"] and statuses[3] not in (503, "aborted")
    journaled = control.requests(domain=domain_id)[1:]  # after the create
    assert [(e["status"], e.get("aborted", False)) for e in journaled] == [
        (503, False),
        (503, False),
        (200, True),
        (statuses[3], False),
    ]


def test_an_injected_429_carries_retry_after_and_an_sdk_retry_loop_gets_through(
    monite, control, urls
):
    base, headers = monite
    control.add_http_fault("monite", operation="list_domains", status=429, count=2)
    first = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.json() == {"error": {"message": "Too many requests"}}

    control.add_http_fault("monite", operation="list_domains", status=429, count=2)
    sdk = Monite(
        monite_version="2024-05-25",
        token=headers["Authorization"].split()[1],
        base_url=urls["monite"],
    )
    with pytest.raises(TooManyRequestsError):
        sdk.mailbox_domains.get()
    # the SDK counts retries from 2, so max_retries=5 allows three; each waits Retry-After (1 s)
    listed = sdk.mailbox_domains.get(request_options={"max_retries": 5})
    assert listed.data == []
    assert control.http_faults() == []


def test_added_latency_delays_the_answer_but_keeps_it(monite, control):
    base, headers = monite
    control.add_http_fault("monite", operation="list_domains", latency_ms=300, count=1)
    started = time.monotonic()
    response = httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert response.status_code == 200 and response.json() == {"data": []}
    assert time.monotonic() - started >= 0.25


def test_an_aborted_connection_is_a_transport_error_for_the_client(monite, control):
    base, headers = monite
    control.add_http_fault("monite", abort=True, count=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/mailbox_domains", headers=headers)
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200


def test_an_abort_after_carries_the_call_out_and_loses_its_answer(urls, control, server, capsys):
    """An abort fault drops the call before it is made: a retried create then succeeded, so a
    client's handling of "created, but the answer was lost" could not be tested."""
    ses = urls["ses"] + "/v2/email/identities"
    key = {"Authorization": sigv4_header("AKIAABORTAFTER")}
    control.add_http_fault("ses", operation="CreateEmailIdentity", abort_after=True, count=1)
    assert main(["http", "fault", "--url", server.url]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[3:5] == ["abort", "after"]
    with pytest.raises(httpx.TransportError):
        httpx.post(ses, json={"EmailIdentity": "lost.example.com"}, headers=key)
    retried = httpx.post(ses, json={"EmailIdentity": "lost.example.com"}, headers=key)
    assert retried.status_code == 400 and "already exist" in retried.text  # it was made
    first = control.requests("ses")[-2]
    assert (first["status"], first["aborted"]) == (200, True)
    with pytest.raises(ControlError, match="one way: give one of abort, abort_after"):
        control.add_http_fault("ses", abort=True, abort_after=True)
    control.add_http_fault("ses", operation="CreateEmailIdentity", abort_after=True)
    exported = control.export_scenario()
    control.reset()
    control.load_scenario(exported)  # kept by scenarios and state files
    (kept,) = control.http_faults()
    assert kept["abort_after"] is True and kept["abort"] is False


def _raw_request(url: str, method: str, path: str, headers: dict, body: bytes = b"") -> bytes:
    """Send one request on a bare socket and read what comes back until the server closes."""
    address = httpx.URL(url)
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {address.host}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    head.append(f"Content-Length: {len(body)}")
    with socket.create_connection((address.host, address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_a_reset_sends_nothing_and_the_call_is_not_made(urls, control, server, capsys):
    """Both abort faults sent a 200 head first, which boto3 took for a success: no fault lost
    the connection before any answer, the failure clients retry."""
    ses = httpx.URL(urls["ses"])
    key = {"Authorization": sigv4_header("AKIARESETBEFORE"), "Content-Type": "application/json"}
    body = b'{"EmailIdentity": "reset.example.com"}'
    control.add_http_fault("ses", operation="CreateEmailIdentity", reset=True, count=1)
    assert main(["http", "fault", "--url", server.url]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[3] == "reset"
    with pytest.raises(ConnectionResetError):  # a TCP reset: not one byte of an answer
        _raw_request(urls["ses"], "POST", ses.path + "/v2/email/identities", key, body)
    (entry,) = [e for e in control.requests("ses") if e["body"] and "reset." in str(e["body"])]
    assert entry["aborted"] is True
    listed = httpx.get(f"{ses}/v2/email/identities", headers=key).json()["EmailIdentities"]
    assert "reset.example.com" not in [i["IdentityName"] for i in listed]  # not made
    assert control.http_faults() == []
    control.add_http_fault("ses", reset_after=True)
    exported = control.export_scenario()
    control.reset()
    control.load_scenario(exported)  # kept by scenarios and state files
    (kept,) = control.http_faults()
    assert kept["reset_after"] is True and "reset" not in kept and kept["abort"] is False


def test_boto3_retries_a_reset_and_meets_what_a_reset_after_made(urls, control):
    """A reset is what boto3 retries: before the call, the retry creates the identity; after
    it, the retry meets the identity the lost call made."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 2})
    ses = boto3.client(
        "sesv2",
        endpoint_url=urls["ses"],
        region_name="us-east-1",
        aws_access_key_id="AKIARESETBOTO",
        aws_secret_access_key="sandbox-secret",
        config=config,
    )
    control.add_http_fault("ses", operation="CreateEmailIdentity", reset=True, count=1)
    made = ses.create_email_identity(EmailIdentity="retried.example.com")
    assert (made["IdentityType"], made["ResponseMetadata"]["RetryAttempts"]) == ("DOMAIN", 1)
    control.add_http_fault("ses", operation="CreateEmailIdentity", reset_after=True, count=1)
    with control.expecting_errors(), pytest.raises(ClientError) as retried:
        ses.create_email_identity(EmailIdentity="lost.example.com")
    assert retried.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert ses.get_email_identity(EmailIdentity="lost.example.com")["IdentityType"] == "DOMAIN"
    with pytest.raises(ControlError, match="one way: give one of abort_after, reset"):
        control.add_http_fault("ses", abort_after=True, reset=True)


def test_probabilistic_faults_repeat_exactly_for_the_same_seed(urls, control):
    base = urls["monite"]

    def run() -> list[int]:
        control.reset(seed=77)
        headers = partner_headers(base)
        control.add_http_fault("monite", operation="list_domains", status=503, probability=0.5)
        codes = [
            httpx.get(f"{base}/mailbox_domains", headers=headers).status_code for _ in range(20)
        ]
        control.clear_http_faults()
        return codes

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 503}


def test_probabilistic_faults_go_on_after_a_world_is_exported_and_loaded(urls, control):
    """A restart with --state, or a scenario loaded back, started the faults' draws over; an
    uninterrupted run went on with other ones."""
    base = urls["monite"]
    control.reset(seed=77)
    headers = partner_headers(base)
    control.add_http_fault("monite", operation="list_domains", status=503, probability=0.5)

    def codes() -> list[int]:
        return [
            httpx.get(f"{base}/mailbox_domains", headers=headers).status_code for _ in range(12)
        ]

    codes()
    saved = control.export_scenario()
    assert "http_fault_draws: 12" in saved
    uninterrupted = codes()
    control.reset(seed=77)
    control.load_scenario(saved)
    headers = partner_headers(base)  # the world's token was kept; a new one draws no fault
    assert codes() == uninterrupted
    assert set(uninterrupted) == {200, 503}


def test_a_fault_needs_a_known_operation_and_an_effect(control):
    from sandbox.client import ControlError

    with pytest.raises(ControlError, match="operation 'nope' is not in monite's API"):
        control.add_http_fault("monite", operation="nope", status=500)
    with pytest.raises(
        ControlError, match="needs a status, latency_ms, abort, abort_after, reset or reset_after"
    ):
        control.add_http_fault("monite")


def test_a_fault_probability_of_nan_is_refused_not_taken_as_always(server, control):
    """NaN passes every bound, and `random() >= NaN` is never true: it fired on every call."""
    answer = httpx.post(
        f"{server.url}/_sandbox/http/faults",
        content='{"provider": "monite", "status": 500, "probability": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("probability: NaN is not a JSON number")
    fault = "{provider: monite, status: 500, latency_ms: 0, abort: false, probability: .nan}"
    with pytest.raises(ControlError, match=r"http_faults\[0\]: probability must be .* 0 to 1"):
        control.load_scenario(f"format: 1\nseed: 1\nhttp_faults: [{fault}]\n")
    assert control.http_faults() == []


def test_rate_limits_follow_the_documented_quota_on_the_sandbox_clock(monite, control):
    base, headers = monite
    assert control.rate_limits(True)["quotas"]["monite"] == {"requests": 30, "window_seconds": 1.0}
    answers = [httpx.get(f"{base}/mailbox_domains", headers=headers) for _ in range(31)]
    assert [r.status_code for r in answers[:30]] == [200] * 30
    assert answers[0].headers["X-RateLimit-Limit-Second"] == "30"
    assert answers[29].headers["X-RateLimit-Remaining-Second"] == "0"
    limited = answers[30]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["RateLimit-Remaining"] == "0"

    control.advance(1)
    assert httpx.get(f"{base}/mailbox_domains", headers=headers).status_code == 200


def test_rate_limits_count_per_credential(monite, control, urls):
    base, headers = monite
    control.rate_limits(True)
    for _ in range(31):
        httpx.get(f"{base}/mailbox_domains", headers=headers)
    other = partner_headers(base, "0d4c3f5e-2b7a-4c1e-9f3a-6b8d2e1f4a5c")
    assert httpx.get(f"{base}/mailbox_domains", headers=other).status_code == 200


def test_monite_counts_every_token_of_one_api_client_in_one_window(monite, control):
    """ "30 requests per second per API client": a token per worker shares the client's."""
    base, first = monite
    second = partner_headers(base)  # another token of the same client_id
    assert second != first
    control.rate_limits(True)
    statuses = [
        httpx.get(f"{base}/mailbox_domains", headers=h).status_code for h in [first, second] * 16
    ]
    assert statuses[:30] == [200] * 30 and statuses[30:] == [429, 429]


# --- every provider -------------------------------------------------------------------------


@pytest.fixture
def http():
    with httpx.Client() as client:
        yield client


def list_call(http, urls, provider: str) -> httpx.Response:
    """The provider's list call, as its client makes it (logged in where it must)."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[provider])
    return driver.call(driver.kit.list)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_an_injected_503_uses_each_providers_own_error_shape(http, urls, control, provider):
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[provider])  # logged in already
    control.add_http_fault(provider, status=503, count=1)
    failed = driver.call(driver.kit.list)
    assert failed.status_code == 503
    assert error_message(provider, failed), failed.text
    assert driver.call(driver.kit.list).status_code == 200
    control.clear_http_faults()


def test_autosend_rate_limit_is_two_per_second_with_its_headers(http, urls, control):
    control.rate_limits(True)
    try:
        answers = [list_call(http, urls, "autosend") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].headers["X-RateLimit-Limit"] == "2"
        assert answers[1].headers["X-RateLimit-Remaining"] == "0"
        assert answers[2].json() == {
            "success": False,
            "error": {
                "message": "Too many requests",
                "code": "RATE_LIMIT_EXCEEDED",
                "retryAfter": 1,
            },
        }
        control.advance(1)
        assert list_call(http, urls, "autosend").status_code == 200
    finally:
        control.rate_limits(False)


def test_monite_announces_its_quota_on_every_answer_enforced_or_not(monite, control):
    """Monite's rate-limiting page: "for every API request that does not exceed currently
    available rate limits, you receive a response with the following HTTP headers"."""
    base, headers = monite
    assert control.rate_limits()["enabled"] is False
    answers = [httpx.get(f"{base}/mailbox_domains", headers=headers) for _ in range(2)]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"30"}
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["29", "28"]
    assert [a.headers["X-RateLimit-Remaining-Second"] for a in answers] == ["29", "28"]
    assert answers[0].headers["X-RateLimit-Limit-Second"] == "30"
    assert int(answers[0].headers["RateLimit-Reset"]) > 0


@pytest.mark.parametrize("provider", ["autosend", "monite", "resend", "scaleway"])
def test_an_injected_429_says_in_its_rate_limit_headers_that_nothing_remains(
    http, urls, control, provider
):
    """Providers that announce their quota on every answer: the injected 429's headers agree."""
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[provider])  # logged in already
    control.add_http_fault(provider, status=429, count=1)
    limited = driver.call(driver.kit.list)
    assert limited.status_code == 429
    remaining = {k.lower(): v for k, v in limited.headers.items() if "remaining" in k.lower()}
    assert remaining and set(remaining.values()) == {"0"}, limited.headers


def test_rate_limit_windows_of_every_credential_seen_do_not_pile_up():
    # AutoSend's calls are counted on every answer, enforced or not: the windows of keys seen
    # once must not stay forever in a sandbox that runs for weeks.
    sandbox = Sandbox(clock=Clock(start="2026-01-01T09:00:00Z", frozen=True))
    autosend, limits = sandbox.providers["autosend"], sandbox.rate_limits
    now = sandbox.clock.now()
    for i in range(limits.MAX_WINDOWS):
        limits.hit(autosend, f"as_key_{i}", now)
    assert limits.hit(autosend, "as_key_0", now)[1] == 0  # still counted in its window
    later = now + timedelta(seconds=2)
    limits.hit(autosend, "as_one_more", later)  # past the cap: the ended windows are dropped
    limits.hit(autosend, "as_and_another", later)
    assert len(limits) == 2


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_injected_abort_or_reset_is_one_line_on_the_server_console(workers):
    served = Served("--workers", workers)
    base = served.urls["autosend"]
    key = {"Authorization": "Bearer as_abort"}
    try:
        control = ControlClient(served.urls["control"].removesuffix("/_sandbox"))
        control.add_http_fault("autosend", abort=True, count=2)
        control.add_http_fault("autosend", reset=True, count=1)  # once the aborts are used up
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):  # a head, then no body
                httpx.get(f"{base}/domains", headers=key)
        with pytest.raises(httpx.ReadError, match="reset by peer"):  # nothing, a TCP reset
            httpx.get(f"{base}/domains", headers=key)
        assert httpx.get(f"{base}/domains", headers=key).status_code == 200
        control.close()
    finally:
        served.process.send_signal(signal.SIGINT)
        _, console = served.process.communicate(timeout=30)
    said = "GET /autosend/v1/domains: connection dropped mid-answer (an injected abort fault)"
    reset = "GET /autosend/v1/domains: connection reset before any answer (an injected reset fault)"
    assert [line for line in console.splitlines() if line.strip()] == [
        f"WARNING:  {said}",
        f"WARNING:  {said}",
        f"WARNING:  {reset}",
    ]
