"""Bad and oversized input over real HTTP: clean 4xx answers in each provider's own error shape,
never a 500, a hang or a reset connection; and the logs a long-running sandbox keeps stay bounded."""

from __future__ import annotations

import json
import re
import socket

import dns.message
import dns.query
import httpx
import pytest
import yaml

from fake_dns.querylog import QueryLog
from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient
from sandbox.engine.clock import Clock
from sandbox.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES
from sandbox.providers import PROVIDERS
from sandbox.report import MAX_VIOLATIONS
from sandbox.requestlog import RequestLog

from .conftest import START
from .helpers import PROVIDERS_BY_NAME as BY_NAME
from .helpers import error_message, sample_headers, wait_for

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

SCALEWAY_SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
# (name, path under the server, headers): each provider's create, and a control API call
ENDPOINTS = [(p.name, p.client_base + p.kit.create.at(), sample_headers(p)) for p in PROVIDERS] + [
    ("control", "/_sandbox/dns/records", {})
]
IDS = [e[0] for e in ENDPOINTS]
# Those whose create takes JSON (a form-taking API answers a JSON body 415 before reading it)
JSON_ENDPOINTS = [e for e in ENDPOINTS if e[0] == "control" or not BY_NAME[e[0]].kit.create.form]
FORM_ENDPOINTS = [e for e in ENDPOINTS if e[0] != "control" and BY_NAME[e[0]].kit.create.form]
JSON = {"Content-Type": "application/json"}
MONITE_PARTNER = "eb959578-a74d-4ac3-8b25-bf0910027857"
MONITE_VERSION = {"x-monite-version": "2024-05-25"}


@pytest.mark.parametrize(("name", "path", "headers"), ENDPOINTS, ids=IDS)
def test_a_body_over_the_limit_is_413_in_the_providers_own_shape(urls, name, path, headers):
    too_big = b'{"domain": "' + b"a" * MAX_BODY_BYTES + b'"}'
    if name == "control":
        too_big += b" " * (32 * 1024 * 1024)  # the control API allows scenario-sized bodies
    response = httpx.post(urls["server"] + path, content=too_big, headers=headers | JSON)
    assert response.status_code == 413
    assert "larger than" in error_message(name, response)
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(("name", "path", "headers"), ENDPOINTS[:-1], ids=IDS[:-1])
def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(urls, name, path, headers):
    def chunks():  # httpx sends a generator chunked, announcing no length
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = httpx.post(urls["server"] + path, content=chunks(), headers=headers | JSON)
    assert response.status_code == 413
    assert "larger than" in error_message(name, response)


def test_a_chunked_body_sent_whole_at_once_is_answered_413_without_waiting(server, urls):
    """The body crosses the limit in its last piece: nothing more is coming, so nothing more
    is waited for (a drain here used to hang until the client gave up)."""
    path = "/autosend/v1/domains"
    body = b" " * (MAX_BODY_BYTES + 10)
    request = (
        (
            f"POST {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
            "Authorization: Bearer as_test_project_key\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    for _ in range(5):  # how the server's reads split the body varies: try a few times
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request)
            answer = sock.recv(65536)  # a hang raises TimeoutError
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_a_body_just_under_the_limit_reaches_the_provider(urls):
    body = b'{"domain": "under.example.com"}'
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    headers = {"Authorization": "Bearer as_test_project_key"} | JSON
    response = httpx.post(urls["autosend"] + "/domains", content=padded, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["domainName"] == "under.example.com"


def test_the_control_api_loads_a_scenario_larger_than_the_provider_limit(control):
    padding = ("# " + "x" * 98 + "\n") * (2 * MAX_BODY_BYTES // 100)
    text = (
        padding + "seed: 7\ndns:\n  records:\n    - {name: big.example.com, type: TXT, value: ok}\n"
    )
    loaded = control.load_scenario(text)
    assert loaded["dns_records"] == 1
    assert control.records("big.example.com")[0]["value"] == "ok"


@pytest.mark.parametrize(
    ("name", "path", "headers"), JSON_ENDPOINTS, ids=[e[0] for e in JSON_ENDPOINTS]
)
def test_json_nested_a_hundred_thousand_deep_is_a_clean_4xx(urls, name, path, headers):
    response = httpx.post(urls["server"] + path, content=b"[" * 100_000, headers=headers | JSON)
    assert 400 <= response.status_code < 500
    assert "nested too deeply" in error_message(name, response)


@pytest.mark.parametrize(
    ("name", "path", "headers"), JSON_ENDPOINTS, ids=[e[0] for e in JSON_ENDPOINTS]
)
def test_a_body_that_is_not_utf8_is_a_clean_4xx(urls, name, path, headers):
    body = b'{"domain": "\xff\xfe.example.com", "name": "\xc3\x28"}'
    response = httpx.post(urls["server"] + path, content=body, headers=headers | JSON)
    assert 400 <= response.status_code < 500
    assert "UTF-8" in error_message(name, response)


@pytest.mark.parametrize(
    ("name", "path", "headers"), FORM_ENDPOINTS, ids=[e[0] for e in FORM_ENDPOINTS]
)
def test_a_form_that_is_not_utf8_is_a_clean_4xx_in_the_providers_shape(urls, name, path, headers):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"name=\xff\xfe.example.com", b"name=%FF%FE.example.com&x=\xc3\x28"):
        response = httpx.post(urls["server"] + path, content=body, headers=headers | form)
        assert 400 <= response.status_code < 500
        assert error_message(name, response), response.text


def test_query_and_path_bytes_that_are_not_utf8_are_never_a_500(urls):
    headers = {"X-Auth-Token": SCALEWAY_SECRET}
    base = urls["scaleway"] + "/mailbox/v1alpha1/domains"
    for url in (base + "?search=%FF%FE", base + "/%FF%FE", base + "/%C3%28/records"):
        response = httpx.get(url, headers=headers)
        assert response.status_code < 500, (url, response.text)
    response = httpx.get(urls["control"] + "/dns/records?name=%FF%FE")
    assert response.status_code < 500


@pytest.mark.parametrize(("name", "path", "headers"), ENDPOINTS, ids=IDS)
def test_a_header_over_the_limit_is_431_in_the_providers_own_shape(urls, name, path, headers):
    big = {"X-Padding": "a" * (MAX_HEAD_BYTES + 1)}
    response = httpx.get(urls["server"] + path, headers=headers | big)
    assert response.status_code == 431
    assert "headers are larger than" in error_message(name, response)


@pytest.mark.parametrize("size", [200_000, 10_000_000])
def test_a_client_streaming_a_huge_head_is_answered_431_and_disconnected(server, size):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = b"GET /monite/v1/mailbox_domains HTTP/1.1\r\nHost: x\r\nX-Big: "
        sock.sendall(head + b"a" * size + b"\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after its answer: no hang
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431")
    assert json.loads(body)["error"]["message"].startswith("the request line and headers are")


def raw_answer(server, request: bytes) -> tuple[bytes, bytes]:
    """(head, body) of the answer to `request` sent whole on a new connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("size", [66_000, 68_000, 70_000, 80_000])
@pytest.mark.parametrize(("name", "path", "headers"), ENDPOINTS, ids=IDS)
def test_a_request_line_just_over_the_limit_is_431_in_the_providers_own_shape(
    server, name, path, headers, size, caplog
):
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path}?pad={'a' * size} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"
    head, body = raw_answer(server, request.encode())
    assert head.startswith(b"HTTP/1.1 431"), head
    assert b"content-type: application/json" in head
    response = httpx.Response(431, content=body)
    assert "headers are larger than" in error_message(name, response)
    assert "Invalid HTTP request" not in caplog.text  # not what happened


def test_requests_the_http_protocol_answers_itself_are_in_the_journal_and_the_report(
    server, control
):
    """A head over the limit (431) and bytes that are not HTTP (400) are answered by the HTTP
    protocol before the app sees them: the journal, the client report and the access log
    missed them, and a client whose SDK sent one found nothing there but its own error."""
    control.clear_report()  # it outlives the fixture's reset
    too_large = f"GET /monite/v1/mailbox_domains?pad={'a' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n"
    not_http = b"DELETE /resend/domains/x?y=1 HTTP/1.1\r\nHost: x\r\nBad[Header: 1\r\n\r\n"
    assert raw_answer(server, too_large.encode())[0].startswith(b"HTTP/1.1 431")
    assert raw_answer(server, not_http)[0].startswith(b"HTTP/1.1 400")
    [monite] = wait_for(lambda: control.requests("monite"))  # noted once the answer is out
    [resend] = wait_for(lambda: control.requests("resend"))
    assert (monite["method"], monite["path"], monite["status"]) == (
        "GET", "/monite/v1/mailbox_domains", 431
    )  # fmt: skip
    assert monite["query"].startswith("pad=aaa")
    assert (resend["method"], resend["path"], resend["query"], resend["status"]) == (
        "DELETE", "/resend/domains/x", "y=1", 400
    )  # fmt: skip
    report = control.report()["providers"]
    assert report["monite"]["status_codes"] == {"431": 1}
    assert report["resend"]["status_codes"] == {"400": 1}


def test_a_control_api_head_the_http_protocol_refuses_is_not_journaled(server, control):
    """The journal is of provider API requests: a control call's 431 stays out of it."""
    request = f"GET /_sandbox/clock?pad={'a' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n"
    assert raw_answer(server, request.encode())[0].startswith(b"HTTP/1.1 431")
    control.requests()  # a call after the refusal: a note would have been made by now
    assert control.requests() == []


@pytest.mark.parametrize(
    ("name", "framing"),
    [
        ("autosend", b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),  # a chunk size of no digits
        ("resend", b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),  # two lengths
    ],
)
def test_a_request_that_is_not_http_is_a_400_in_the_providers_own_shape(server, name, framing):
    """uvicorn answered these in plain text: "Invalid HTTP request received."."""
    path = {"autosend": "/autosend/v1/domains", "resend": "/resend/domains"}[name]
    head, body = raw_answer(server, f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode() + framing)
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head
    assert "not HTTP/1.1 as RFC 9112" in error_message(name, httpx.Response(400, content=body))


@pytest.mark.parametrize("name", ["autosend", "monite"])
def test_a_path_with_a_byte_no_url_holds_is_refused_in_the_providers_own_shape(server, name):
    """The parser refuses 0xff before it hands over the URL: the 400 was the control API's."""
    path = {"autosend": "/autosend/v1/domains/", "monite": "/monite/v1/mailbox_domains/"}[name]
    request = b"GET " + path.encode() + b"\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"
    head, body = raw_answer(server, request)
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head
    answer = httpx.Response(400, content=body)
    assert "not HTTP/1.1 as RFC 9112" in error_message(name, answer)
    assert "status" not in answer.json()["error"]  # the control API's shape has one


def test_requests_before_one_that_is_not_http_are_answered_first(server, control):
    """RFC 9112 9.3.2: answers go in the order of the requests. The create was carried out and
    its answer dropped for the 400 of what followed it."""
    create = b'{"domain": "first.example.com"}'
    request = (
        b"POST /autosend/v1/domains HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer as_first\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(create), create)
    )
    head, body = raw_answer(server, request + b"GARBAGE / HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"first.example.com" in body and b"HTTP/1.1 400 Bad Request\r\n" in body


def answers_to_pipelined(server, requests: bytes) -> list[bytes]:
    """The status line of every answer to `requests`, sent at once on one connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)  # all sent: the server answers them, then closes
        answer = b""
        while chunk := sock.recv(1 << 20):
            answer += chunk
    return re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", answer)  # (a JSON body ends in "\n", not CRLF)


LIST = b"GET /autosend/v1/domains HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer as_pipe\r\n\r\n"


def test_pipelined_requests_adding_up_over_the_head_limit_are_each_answered(server):
    """A read holding many whole requests and the start of another counted all of its bytes
    toward that last head: 2,000 lists (180 KiB) got one 431, and a create among them was
    carried out with its answer lost."""
    statuses = answers_to_pipelined(server, LIST * 2000)
    assert statuses == [b"HTTP/1.1 200 OK"] * 2000


def test_a_head_too_large_after_pipelined_requests_is_refused_after_their_answers(server):
    """RFC 9112 9.3.2: the requests before it are answered, in order, then the 431."""
    big = b"GET /autosend/v1/domains HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000
    statuses = answers_to_pipelined(server, LIST * 20 + big + b"\r\n\r\n")
    assert statuses == [b"HTTP/1.1 200 OK"] * 20 + [b"HTTP/1.1 431 Request Header Fields Too Large"]


def test_a_request_asking_to_upgrade_to_websocket_is_answered_as_http(server, caplog):
    """No API here speaks WebSocket: the Upgrade is ignored (RFC 9110 7.8). The request got a
    plain-text 500, and a traceback in the log."""
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
    answer = httpx.get(server.url + "/autosend/v1/domains", headers=upgrade | {
        "Authorization": "Bearer as_upgrade"})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["success"] is True
    assert httpx.get(server.url + "/_sandbox/health", headers=upgrade).json()["ready"] is True
    assert "Unsupported upgrade" not in caplog.text and "Traceback" not in caplog.text


def test_many_small_headers_adding_up_over_the_limit_are_431(urls):
    headers = {f"X-H{i}": "v" * 60 for i in range(MAX_HEAD_BYTES // 60)}
    response = httpx.get(urls["control"] + "/clock", headers=headers)
    assert response.status_code == 431
    assert response.json()["error"]["status"] == 431


SCALEWAY_DOMAINS = "/scaleway/mailbox/v1alpha1/domains"


@pytest.mark.parametrize(
    "target",
    [
        "/_sandbox/requests?limit=1&limit=2",
        "/_sandbox/dns/queries?limit=5&limit=x",
        f"{SCALEWAY_DOMAINS}?page=1&page=2",
    ],
)
def test_a_query_parameter_of_one_value_given_twice_is_a_clear_400(urls, target):
    response = httpx.get(urls["server"] + target, headers={"X-Auth-Token": SCALEWAY_SECRET})
    assert response.status_code == 400
    assert "given more than once" in response.text


def test_a_query_parameter_that_is_an_array_may_be_repeated(urls):
    target = f"{SCALEWAY_DOMAINS}?statuses=ready&statuses=creating"
    response = httpx.get(urls["server"] + target, headers={"X-Auth-Token": SCALEWAY_SECRET})
    assert response.status_code == 200


def test_ordinary_requests_still_work_after_every_refusal(urls, control):
    httpx.post(urls["control"] + "/dns/records", content=b"[" * 100_000, headers=JSON)
    httpx.get(urls["control"] + "/clock", headers={"X-Big": "a" * (MAX_HEAD_BYTES + 1)})
    assert control.clock()["now"] == START
    control.add_record("after.example.com", "TXT", "still here")
    assert control.records("after.example.com")[0]["value"] == "still here"


# --- bounded logs ----------------------------------------------------------------------------

BOUND = 25


@pytest.fixture(scope="module")
def small_logs():
    """A private sandbox whose request and query logs keep BOUND entries."""
    sandbox = Sandbox(seed=1, clock=Clock(start=START, frozen=True))
    sandbox.requests = RequestLog(maxlen=BOUND)
    sandbox.dns.queries = QueryLog(BOUND)
    with SandboxServer(sandbox) as running:
        yield running


def test_the_request_log_keeps_only_the_newest_entries(small_logs):
    base = small_logs.base_urls()["autosend"]
    headers = {"Authorization": "Bearer as_bounded"}
    for _ in range(3 * BOUND):
        assert httpx.get(f"{base}/domains", headers=headers).status_code == 200
    logged = ControlClient(small_logs.url).requests()
    assert len(logged) == BOUND
    assert logged[-1]["seq"] == 3 * BOUND  # numbering goes on: the oldest fell off
    assert logged[0]["seq"] == 2 * BOUND + 1


def test_the_dns_query_log_keeps_only_the_newest_entries(small_logs):
    dns_server = small_logs.sandbox.dns
    for i in range(3 * BOUND):
        query = dns.message.make_query(f"q{i}.example.com", "TXT")
        dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=2)
    queries = ControlClient(small_logs.url).queries(limit=1000)
    assert len(queries) == BOUND
    assert queries[-1]["name"] == f"q{3 * BOUND - 1}.example.com"


def test_the_report_keeps_a_bounded_number_of_distinct_violations(small_logs):
    base = small_logs.base_urls()["autosend"]
    with httpx.Client(headers={"Authorization": "Bearer as_bounded"}) as client:
        for i in range(MAX_VIOLATIONS + 20):  # each unknown query parameter is a new violation
            assert client.get(f"{base}/domains", params={f"p{i}": "1"}).status_code == 400
    report = ControlClient(small_logs.url).report()["providers"]["autosend"]
    assert len(report["violations"]) == MAX_VIOLATIONS
    assert report["status_codes"]["400"] >= MAX_VIOLATIONS + 20


def test_monite_logins_keep_nothing_per_token_so_sdk_logins_do_not_pile_up(urls, control):
    def login() -> str:
        body = {
            "client_id": MONITE_PARTNER,
            "client_secret": "s",
            "grant_type": "client_credentials",
        }
        response = httpx.post(f"{urls['monite']}/auth/token", json=body, headers=MONITE_VERSION)
        return response.json()["access_token"]

    tokens = [login() for _ in range(50)]
    exported = control.export_scenario()
    assert yaml.safe_load(exported)["providers"]["monite"] == {"issued": 50}  # a count, no table
    assert not any(token in exported for token in tokens)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (  # each value fine alone, 80 KB together: TCP's 64 KiB could never carry the answer
            {
                "name": "big.example.com",
                "type": "TXT",
                "value": [c * 3990 for c in "abcdefghijklmnopqrst"],
            },
            "a DNS message holds at most 65535 bytes",
        ),
        (
            {"name": "x.example.com", "type": "CNAME", "value": "evil\n.example.com"},
            "may only hold letters",
        ),
    ],
    ids=["record-set-over-64k", "newline-in-a-name"],
)
def test_records_dns_could_not_serve_are_a_clear_400(urls, body, message):
    response = httpx.post(urls["control"] + "/dns/records", json=body)
    assert response.status_code == 400, response.text[:300]
    assert message in error_message("control", response)
    assert httpx.get(urls["control"] + "/dns/records").json()["records"] == []


# --- what a refusal of the front end carries, as every other answer of the API -----------------


def _ses_refused(url: str, add_header: dict | None = None, tag_value: str = "team") -> dict:
    """boto3's error for a create the sandbox refuses before SES's code runs."""
    from botocore.exceptions import ClientError

    from .helpers import sesv2_client

    ses = sesv2_client(url, "AKIASANDBOXAAAAAAAAA", attempts=1)
    if add_header:  # botocore has no option for it: the SDK's own event hook adds it
        ses.meta.events.register(
            "before-send.sesv2.*", lambda request, **_: request.headers.update(add_header)
        )
    with pytest.raises(ClientError) as refused:
        ses.create_email_identity(
            EmailIdentity="example.com", Tags=[{"Key": "team", "Value": tag_value}]
        )
    return refused.value.response


@pytest.mark.parametrize(
    "refusal",
    [
        {"tag_value": "a" * MAX_BODY_BYTES},  # 413: the body over the limit
        {"add_header": {"X-Padding": "a" * (MAX_HEAD_BYTES + 1)}},  # 431: the head
    ],
    ids=["413", "431"],
)
def test_an_ses_refusal_of_the_front_end_carries_a_request_id_boto3_reads(urls, refusal):
    """botocore reads ResponseMetadata.RequestId from x-amzn-RequestId, on every SES answer
    (ses.md: "x-amzn-RequestId on every response"); a 413 or 431 had none."""
    response = _ses_refused(urls["ses"], **refusal)
    assert response["ResponseMetadata"]["HTTPStatusCode"] in (413, 431)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", request_id
    )
    # never the id of another answer (under `serve --workers`, the worker's refusals too)
    ses = urls["ses"] + "/v2/email/identities"
    others = {httpx.get(ses).headers["x-amzn-RequestId"] for _ in range(5)}
    assert request_id not in others


def test_a_monite_refusal_of_the_front_end_carries_monites_response_headers(urls):
    """Monite's "HTTP headers" page: every answer carries x-request-id and x-process-time, and
    echoes the x-monite-version sent."""
    base = urls["monite"]
    too_big = b'{"domain": "' + b"a" * MAX_BODY_BYTES + b'"}'
    headers = sample_headers(BY_NAME["monite"]) | JSON
    refused = httpx.post(f"{base}/mailbox_domains", content=too_big, headers=headers)
    assert refused.status_code == 413
    assert refused.headers["x-monite-version"] == headers["x-monite-version"]
    assert float(refused.headers["x-process-time"]) >= 0
    request_id = refused.headers["x-request-id"]
    padded = headers | {"X-Padding": "a" * (MAX_HEAD_BYTES + 1)}
    head_refused = httpx.get(f"{base}/mailbox_domains", headers=padded)
    assert head_refused.status_code == 431
    assert head_refused.headers["x-request-id"] not in (request_id, None)
