"""The HTTP front end as clients meet it: where handlers run, what a request carries to them."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from http import HTTPStatus
from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import Headers
from starlette.formparsers import FormParser

from sandbox import Sandbox
from sandbox.auth import security_reads
from sandbox.driver import Driver
from sandbox.errors import ProviderError
from sandbox.providers.ses import sigv4_header
from sandbox.request import Answer
from sandbox.validation import _UrlencodedForm
from sandbox.verdicts import MAX_VERDICTS, Verdicts

from .helpers import (
    PROVIDER_NAMES,
    PROVIDERS,
    create,
    partner_headers,
    sesv2_client,
    wait_for,
)


def test_a_verify_waiting_on_slow_dns_does_not_hold_up_other_requests(urls, control):
    base = urls["monite"]
    headers = partner_headers(base)
    domain = create(base, headers, "slow.example.com")
    # Every lookup for the domain goes unanswered: the verifier waits for its timeout on each.
    control.add_fault("slow.example.com", "drop")
    control.add_fault("*.slow.example.com", "drop")
    verify = {}

    def verify_in_background():
        url = f"{base}/mailbox_domains/{domain['id']}/verify"
        verify["response"] = httpx.post(url, headers=headers, timeout=60)

    verifying = threading.Thread(target=verify_in_background)
    verifying.start()
    wait_for(lambda: [q for q in control.queries() if "slow.example.com" in q["name"]])

    # Reads and writes of the same tenant, and of the control API, answer meanwhile.
    listing = httpx.get(f"{base}/mailbox_domains", headers=headers, timeout=60)
    other = create(base, headers, "quick.example.com")
    clock = control.clock()
    still_verifying = verifying.is_alive()

    verifying.join()
    assert listing.status_code == 200 and other["domain"] == "quick.example.com"
    assert clock["frozen"] is True
    assert still_verifying, "the verify ended before the other requests were answered"
    assert verify["response"].status_code == 200
    assert verify["response"].json()["status"] == "waiting_to_be_verified"


AUTOSEND = {"Authorization": "Bearer as_no_content_type"}
SCALEWAY = {"X-Auth-Token": "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"}
VORTEX = {"x-api-key": "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.my-secret-1"}


def test_a_read_sent_again_gets_connexions_verdict_again_and_a_different_one_is_decided_anew(
    urls, control
):
    """A GET Connexion accepted is answered from its kept verdict when sent again
    (sandbox.verdicts); the same GET with another header parameter, credential or query is
    decided afresh from the document, and refused as before."""
    base = urls["monite"]
    headers = partner_headers(base)
    domain = create(base, headers, "kept.example.com")
    url = f"{base}/mailbox_domains"
    answers = [httpx.get(url, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert answers[0].json() == answers[2].json() and answers[2].json()["data"][0] == domain
    with control.expecting_errors():
        late = httpx.get(url, headers=headers | {"x-monite-version": "1999"})  # a header param
        bare = httpx.get(url, headers={"x-monite-version": headers["x-monite-version"]})
    assert late.status_code == 422, late.text
    assert late.json()["detail"][0]["loc"] == ["header", "x-monite-version"]
    assert bare.status_code == 401, bare.text
    assert httpx.get(url, headers=headers).status_code == 200  # the kept verdict still holds
    journal = control.requests("monite", operation="list_domains")
    assert [e["status"] for e in journal] == [200, 200, 200, 422, 401, 200]

    autosend, key = urls["autosend"] + "/domains", {"Authorization": "Bearer as_kept"}
    with control.expecting_errors():  # a verdict carries the path's id: the world's 404 each time
        gone = [httpx.get(f"{autosend}/{'0' * 24}", headers=key) for _ in range(2)]
    assert [g.status_code for g in gone] == [404, 404] and gone[0].json() == gone[1].json()

    resend, key = urls["resend"] + "/domains", {"Authorization": "Bearer re_kept_0"}
    with control.expecting_errors():
        pages = [httpx.get(resend, params={"limit": n}, headers=key) for n in (1, 0, 1)]
    assert [p.status_code for p in pages] == [200, 422, 200]  # the query is part of what is read


def test_a_body_sent_under_a_head_decided_before_is_still_read_and_validated(urls, control):
    """Creates sent one after another share their head (path, credential, media type): the
    second goes on Connexion's kept verdict, but its body is read and judged each time, by the
    same validator, and refused in the same words; another media type is decided anew."""
    base = urls["monite"]
    url, headers = f"{base}/mailbox_domains", partner_headers(base)
    with control.expecting_errors():
        first_refusal = httpx.post(url, headers=headers, json={"domain": 5})  # Connexion's
        made = [
            httpx.post(url, headers=headers, json={"domain": f"b{n}.example.com"}) for n in (1, 2)
        ]
        kept_refusal = httpx.post(url, headers=headers, json={"domain": 5})  # the kept verdict's
        unreadable = httpx.post(url, headers=headers, content=b'{"domain": ')
        as_text = httpx.post(url, headers=headers | {"content-type": "text/plain"}, content=b"x")
    assert [m.status_code for m in made] == [201, 201]
    assert [m.json()["domain"] for m in made] == ["b1.example.com", "b2.example.com"]
    assert kept_refusal.status_code == first_refusal.status_code == 422
    assert kept_refusal.json() == first_refusal.json()
    assert first_refusal.json()["detail"][0]["loc"] == ["body", "domain"]
    assert unreadable.status_code == 422, unreadable.text
    assert as_text.status_code == 415, as_text.text
    journal = control.requests("monite", operation="create_domain")
    assert [e["status"] for e in journal] == [422, 201, 201, 422, 422, 415]
    assert journal[3]["violations"] == journal[0]["violations"] != []
    assert [d["name"] for d in control.domains()] == ["b1.example.com", "b2.example.com"]


def test_signed_requests_share_a_verdict_yet_each_is_answered_for_its_own_account(urls, control):
    """boto3 signs every request anew: a SigV4 Authorization header never repeats, and security
    reads no more of it than that it is one (sandbox.auth.security_reads). Requests signed for
    another account or region then go on the same kept verdict, and the world still answers each
    for the account and region its header names; a header that is no signature is refused."""

    def client(key: str, region: str = "eu-west-1"):
        return sesv2_client(urls["ses"], key, region)

    first, second = client("AKIASANDBOXAAAAAAAAA"), client("AKIASANDBOXBBBBBBBBB")
    first.create_email_identity(EmailIdentity="kept.example.com")
    second.create_email_identity(EmailIdentity="other.example.com")

    def names(ses) -> list[str]:
        return [i["IdentityName"] for i in ses.list_email_identities()["EmailIdentities"]]

    assert [names(first) for _ in range(2)] == [["kept.example.com"]] * 2
    assert names(second) == ["other.example.com"]
    assert names(client("AKIASANDBOXAAAAAAAAA", "us-east-1")) == []  # another region's
    identity = urls["ses"] + "/v2/email/identities/kept.example.com"
    signed = {"Authorization": sigv4_header("AKIASANDBOXAAAAAAAAA", "eu-west-1")}
    assert [httpx.get(identity, headers=signed).status_code for _ in range(2)] == [200, 200]
    with control.expecting_errors():  # the same head but for what security reads: refused
        unsigned = httpx.get(identity, headers={"Authorization": "AWS4-HMAC-SHA256"})
        bearer = httpx.get(identity, headers={"Authorization": "Bearer AKIASANDBOXAAAAAAAAA"})
    assert unsigned.status_code == bearer.status_code == 403, (unsigned.text, bearer.text)
    assert unsigned.json() == bearer.json()
    assert "Missing Authentication Token" in unsigned.text


def test_a_json_body_without_a_content_type_is_read_as_json(urls, control):
    """Connexion takes the document's media type when none is sent; bodies are JSON here."""
    monite = partner_headers(urls["monite"])
    scaleway_body = (
        b'{"name": "s.ct.example", "project_id": "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"}'
    )
    calls = [
        (urls["monite"] + "/mailbox_domains", monite, b'{"domain": "m.ct.example"}', 201),
        (urls["autosend"] + "/domains", AUTOSEND, b'{"domain": "a.ct.example"}', 200),
        (urls["scaleway"] + "/mailbox/v1alpha1/domains", SCALEWAY, scaleway_body, 200),
        (
            urls["vortex"] + "/api/v1/accounts/acc/email-domains",
            VORTEX,
            b'{"domain": "v.ct.example"}',
            201,
        ),
    ]
    for url, headers, body, status in calls:
        answer = httpx.post(url, headers=headers, content=body)  # httpx sends no Content-Type
        assert "content-type" not in answer.request.headers
        assert answer.status_code == status, (url, answer.text)
    assert {d["name"].lower() for d in control.domains()} == {
        "m.ct.example",
        "a.ct.example",
        "s.ct.example",
        "v.ct.example",
    }


@pytest.mark.parametrize("provider", PROVIDERS, ids=PROVIDER_NAMES)
def test_a_media_type_in_capitals_is_the_same_media_type(server, provider):
    """RFC 9110: a media type's type and subtype are case-insensitive. A create sent as
    `Application/JSON` was taken for a media type without a schema, its body handed to the
    handler unread: a 500."""
    create = provider.kit.create
    with httpx.Client() as http:
        driver = Driver(http, server.url, provider)
        kinds = (
            ["Application/X-WWW-Form-Urlencoded"]
            if create.form
            else ["Application/JSON", "APPLICATION/JSON; Charset=UTF-8"]
        )
        for n, media_type in enumerate(kinds):
            name = f"case{n}.example.com"
            body = create.body_for(name=name)
            content = urlencode(body) if create.form else json.dumps(body)
            answer = http.request(
                create.method,
                driver.base + create.at(),
                headers=driver.headers | {"Content-Type": media_type},
                content=content.encode(),
            )
            assert answer.status_code < 300, (media_type, answer.status_code, answer.text)
            assert driver.provider.kit.domain_id(answer.json(), name), answer.text


def test_a_charset_no_text_is_read_in_is_refused_in_the_providers_shape(urls, control):
    """`charset=unknown` or `charset=hex` made reading the body fail with a 500; a charset is
    read wherever the Content-Type's parameters put it."""
    url, key = urls["resend"] + "/domains", {"Authorization": "Bearer re_charset"}
    with control.expecting_errors():
        refused = [
            httpx.post(url, headers=key | {"Content-Type": f"application/json;charset={c}"},
                       content=b'{"name": "cs.example.com"}')
            for c in ("unknown", "hex", "", "undefined")
        ]  # fmt: skip
        settings = httpx.patch(
            urls["control"] + "/providers/resend/settings",
            headers={"Content-Type": "application/json;charset=rot13"},
            content=b'{"verify_delay_seconds": 5}',
        )
    assert [r.status_code for r in refused] == [415] * 4, [r.text for r in refused]
    assert refused[0].json() == {
        "statusCode": 415,
        "message": "Invalid Content-type: charset 'unknown' is not a text encoding",
        "name": "unsupported_media_type",
    }
    assert settings.status_code == 415 and "'rot13'" in settings.json()["error"]["message"]
    for n, (content_type, encoding) in enumerate(
        [
            ("application/json;charset=latin-1", "latin-1"),
            ("application/json; charset=utf-16", "utf-16"),  # read as UTF-8 when spaced out
            ('application/json ; Charset="UTF-32"', "utf-32"),
        ]
    ):
        body = f'{{"name": "cs{n}.example.com"}}'.encode(encoding)
        accepted = httpx.post(url, headers=key | {"Content-Type": content_type}, content=body)
        assert accepted.status_code == 201, (content_type, accepted.text)
    with control.expecting_errors():  # half a UTF-16 pair: said in the charset declared
        broken = httpx.post(
            url, headers=key | {"Content-Type": "application/json; charset=utf-16"},
            content=b"\xff\xfe\x00\xd8",
        )  # fmt: skip
        undecodable = httpx.post(  # punycode: its codec fails with no UnicodeDecodeError
            url, headers=key | {"Content-Type": "application/json; charset=punycode"},
            content=b'{"name": "p.example.com"}',
        )  # fmt: skip
    assert broken.status_code == 400, broken.text
    assert "the request body is not valid UTF-16" in broken.json()["message"], broken.text
    assert undecodable.status_code == 400, undecodable.text
    assert "the request body is not valid PUNYCODE" in undecodable.json()["message"]


def test_a_json_body_after_a_byte_order_mark_is_refused_saying_so(urls, control):
    """JSON (RFC 8259 8.1) has no byte order mark; a body that starts with UTF-8's is told
    what it has, as Python's JSON reader says it, on a first head and on a kept one."""
    url, key = urls["resend"] + "/domains", {"Authorization": "Bearer re_bom"}
    headers = key | {"Content-Type": "application/json"}
    with control.expecting_errors():
        refused = [
            httpx.post(url, headers=headers, content=b'\xef\xbb\xbf{"name": "bom.example.com"}')
            for _ in range(2)
        ]
    for answer in refused:
        assert answer.status_code == 400, answer.text
        assert "Unexpected UTF-8 BOM (decode using utf-8-sig)" in answer.json()["message"]
    monite = httpx.post(urls["monite"] + "/mailbox_domains", content=b'\xef\xbb\xbf{"domain": "x"}',
                        headers=partner_headers(urls["monite"]) | headers)  # fmt: skip
    assert monite.status_code == 422, monite.text  # as FastAPI says a body it cannot decode
    assert monite.json()["detail"][0] == {
        "loc": ["body", 0],
        "msg": "JSON decode error",
        "type": "json_invalid",
        "input": {},
        "ctx": {"error": "Unexpected UTF-8 BOM (decode using utf-8-sig)"},
    }


def test_whitespace_after_a_header_value_is_no_part_of_it(server, urls):
    """RFC 9110 5.5: `Content-Type: application/json ` (a trailing space, or tab) is JSON, and a
    header parameter's value is what precedes the space. Sent on a raw socket: clients trim."""
    monite = partner_headers(urls["monite"])
    token, version = monite["Authorization"], monite["x-monite-version"]
    body = b'{"domain": "ws.example.com"}'
    head = (
        f"POST /monite/v1/mailbox_domains HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {token}\r\nx-monite-version: {version} \r\n"
        f"Content-Type: application/json \t\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(head.encode() + body)
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_the_client_left_before_sending_whole_is_not_carried_out(
    server, urls, control, framing
):
    """RFC 9112 6.3: a message cut short is incomplete. A create whose client closed the
    connection mid-body created the domain from the part that came, answered to no one."""
    body = b'{"name": "cut.example.com"}'
    if framing == "chunked":
        framed = b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (len(body), body)  # no last
    else:
        framed = b"Content-Length: %d\r\n\r\n%s" % (len(body) + 50, body)
    head = (
        b"POST /resend/domains HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer re_cut\r\n"
        b"Content-Type: application/json\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(head + framed)
        time.sleep(0.3)  # the server has read what came, and waits for the rest
    [entry] = wait_for(lambda: control.requests("resend"))
    assert entry["status"] is None  # journaled unanswered, not 201
    assert entry["headers"]["authorization"] == "Bearer [redacted]"  # who sent it
    listed = httpx.get(urls["resend"] + "/domains", headers={"Authorization": "Bearer re_cut"})
    assert listed.json()["data"] == []


def test_an_empty_content_type_is_no_content_type(urls):
    """What `curl -H 'Content-Type:' -d '{...}'` sends."""
    answer = httpx.post(
        urls["autosend"] + "/domains",
        headers=AUTOSEND | {"Content-Type": ""},
        content=b'{"domain": "empty.ct.example"}',
    )
    assert answer.status_code == 200, answer.text


def test_the_control_api_refuses_a_body_without_a_content_type_in_its_own_shape(urls):
    answer = httpx.post(
        urls["control"] + "/reset", headers={"Content-Type": ""}, content=b'{"seed": 1}'
    )
    assert answer.status_code == 415
    assert "JSON" in answer.json()["error"]["message"]


def test_a_base_url_without_its_version_is_told_where_the_api_is(urls):
    """The likeliest first mistake: `/autosend/domains` for `/autosend/v1/domains`."""
    server = urls["server"]
    answer = httpx.get(server + "/autosend/domains", headers=AUTOSEND)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == (
        "Not Found: domainsandbox does not serve GET /autosend/domains; "
        "autosend's API is under /autosend/v1"
    )
    assert "monite's API is under /monite/v1" in httpx.get(server + "/monite/mailbox_domains").text
    control = httpx.get(server + "/_Sandbox/clock").json()["error"]["message"]
    assert control.endswith(  # not "control's API"
        "; the control API is under /_sandbox; did you mean /_sandbox/clock?"
    )
    elsewhere = httpx.post(server + "/v1/nothing").json()["error"]["message"]
    assert elsewhere.startswith("Not Found: domainsandbox does not serve POST /v1/nothing; ")
    assert "/monite/v1, " in elsewhere and elsewhere.endswith("the control API under /_sandbox")
    meant = httpx.post(server + "/v1/domains").json()["error"]["message"]  # the mount's version
    assert meant.endswith("; did you mean /autosend/v1/domains?"), meant


def test_a_version_written_twice_is_told_the_path_served(urls):
    """A base URL with its version, then a path written with it again (a client's own join)."""
    monite = urls["monite"]  # .../monite/v1
    answer = httpx.get(monite + "/v1/mailbox_domains", headers=partner_headers(monite))
    assert answer.status_code == 404
    assert answer.json()["error"]["message"].endswith("; did you mean /monite/v1/mailbox_domains?")
    autosend = httpx.get(urls["autosend"] + "/v2/domains", headers=AUTOSEND)
    assert "did you mean /autosend/v1/domains?" in autosend.text
    elsewhere = httpx.get(urls["autosend"] + "/nothing/here", headers=AUTOSEND)
    assert elsewhere.status_code == 404 and "did you mean" not in elsewhere.text


def test_a_path_without_its_account_is_told_the_path_with_a_placeholder(urls):
    """Vortex's paths name the account (`/api/v1/accounts/{accountId}/email-domains`): a client
    that leaves it out, or sends it empty, is told which segment is missing and the path meant,
    in Vortex's own 404 (`{"error": ...}`)."""
    vortex = urls["vortex"]  # .../vortex
    meant = "/vortex/api/v1/accounts/{accountId}/email-domains"
    said = {
        ("GET", "/api/v1/email-domains"): f"accounts/{{accountId}} is missing: did you mean {meant}?",
        ("POST", "/api/v1/email-domains"): f"accounts/{{accountId}} is missing: did you mean {meant}?",
        ("GET", "/email-domains"): f"api/v1/accounts/{{accountId}} is missing: did you mean {meant}?",
        ("PATCH", "/api/v1/email-domains/abc"):
            f"accounts/{{accountId}} is missing: did you mean {meant}/{{id}}?",
        ("GET", "/api/v1/accounts/email-domains"):
            f"{{accountId}} is missing: did you mean {meant}?",
        ("GET", "/api/v1/accounts//email-domains"): f"{{accountId}} is empty: did you mean {meant}?",
    }  # fmt: skip
    for (method, path), hint in said.items():
        answer = httpx.request(method, vortex + path, headers=VORTEX)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json() == {
            "error": f"Not Found: domainsandbox does not serve {method} {path}; {hint}"
        }
    elsewhere = httpx.get(vortex + "/api/v1/accounts/acc/nothing", headers=VORTEX)
    assert elsewhere.status_code == 404 and "did you mean" not in elsewhere.text
    # any provider's: Mailgun's verify with the domain's name empty (not `domains/verify`)
    mailgun = httpx.put(urls["mailgun"] + "/v4/domains//verify", auth=("api", "key-x"))
    assert mailgun.status_code == 404
    assert mailgun.json()["message"].endswith(
        "; {name} is empty: did you mean /mailgun/v4/domains/{name}/verify?"
    )


def test_an_empty_id_is_told_the_path_with_its_placeholder_whatever_the_method(urls):
    """`GET /mailgun/v4/domains//verify` was told `/mailgun/v4/domains/verify, with single
    slashes`: a GET of a domain named `verify`. An empty segment where the document has a path
    parameter is told that path with its placeholder, and the methods it serves, in each
    provider's own 404; a doubled slash where no parameter goes is still told single slashes."""
    monite = httpx.get(
        urls["monite"] + "/mailbox_domains//verify", headers=partner_headers(urls["monite"])
    )
    assert (monite.status_code, monite.json()) == (404, {"error": {"message": (
        "Not Found: domainsandbox does not serve GET /mailbox_domains//verify; {domain_id} is "
        "empty: did you mean POST /monite/v1/mailbox_domains/{domain_id}/verify?"
    )}})  # fmt: skip
    scaleway = httpx.post(urls["scaleway"] + "/mailbox/v1alpha1/domains//records",
                          headers=SCALEWAY)  # fmt: skip
    assert (scaleway.status_code, scaleway.json()) == (404, {
        "type": "not_found",
        "message": "resource is not found",
        "help_message": "domainsandbox does not serve POST /mailbox/v1alpha1/domains//records; "
        "{domain_id} is empty: did you mean GET "
        "/scaleway/mailbox/v1alpha1/domains/{domain_id}/records?",
    })  # fmt: skip
    mailgun = httpx.get(urls["mailgun"] + "/v4/domains//verify", auth=("api", "key-x"))
    assert (mailgun.status_code, mailgun.json()) == (404, {"message": (
        "404 page not found: domainsandbox does not serve GET /v4/domains//verify; {name} is "
        "empty: did you mean PUT /mailgun/v4/domains/{name}/verify?"
    )})  # fmt: skip
    doubled = {  # no parameter where the empty segment is
        urls["mailgun"] + "/v4//domains": "/mailgun/v4/domains",
        urls["monite"] + "/mailbox_domains//abc": "/monite/v1/mailbox_domains/abc",
    }
    for url, meant in doubled.items():
        answer = httpx.get(url, auth=("api", "key-x"))
        assert answer.status_code == 404
        assert f"did you mean {meant}, with single slashes?" in answer.text, answer.text


def test_undeclared_query_parameters_are_named_in_the_order_sent(urls):
    """They were named in a set's order, which changes with each process's hash seed: under
    --workers, one request got two answers, and the report split one violation in several."""
    names = ["zeta", "alpha", "mid", "beta", "omega", "kappa"]
    query = "&".join(f"{name}=1" for name in names)
    answer = httpx.get(
        f"{urls['resend']}/domains?{query}", headers={"Authorization": "Bearer re_q"}
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == f"Unknown query parameter `{','.join(names)}`."


def test_a_body_of_only_whitespace_is_not_json_and_is_refused(urls, control):
    answer = httpx.post(urls["control"] + "/reset", content=b"\n",
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == 400
    answer = httpx.post(urls["autosend"] + "/domains", content=b"  ",
                        headers={"Content-Type": "application/json",
                                 "Authorization": "Bearer as_whitespace"})  # fmt: skip
    assert answer.status_code == 400 and answer.json()["success"] is False


def test_a_json_null_body_is_said_to_be_null(urls):
    """The control API said "Request body must not be empty" of the four bytes `null`; a
    provider modelled on FastAPI still says its body is missing, as FastAPI does."""
    json_type = {"Content-Type": "application/json"}
    control = httpx.post(urls["control"] + "/dns/records", content=b"null", headers=json_type)
    assert control.status_code == 400
    assert control.json()["error"]["message"] == "body: null; send a JSON object"
    monite = partner_headers(urls["monite"])
    refused = httpx.post(urls["monite"] + "/mailbox_domains", content=b"null",
                         headers=monite | json_type)  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "missing", refused.text


def test_a_refused_value_is_said_as_the_json_client_wrote_it(urls):
    """null, true and {"a": null} in a refusal, not Python's None, True and {'a': None}."""
    autosend = httpx.post(urls["autosend"] + "/domains", json={"domain": None},
                          headers={"Authorization": "Bearer as_json_words"})  # fmt: skip
    assert autosend.status_code == 400
    assert autosend.json()["error"]["details"][0]["message"] == "null is not of type 'string'"
    control = httpx.post(urls["control"] + "/domains", json={"provider": "ses", "name": True})
    assert control.json()["error"]["message"] == "name: true is not of type 'string'"
    clock = httpx.post(urls["control"] + "/clock", json={"advance_seconds": {"a": None}})
    assert clock.json()["error"]["message"].startswith(
        'advance_seconds: {"a": null} is not of type'
    )


def test_a_refused_huge_number_is_said_short(urls):
    """1e308 seconds is refused saying 1e+308, a 401-digit one naming its first digits and its
    size: neither is said in all its hundreds of digits."""
    for written, said_as in (
        ("1e308", "1e+308"),
        ("-1e308", "-1e+308"),
        ("3.2e19", "3.2e+19"),
        (f"1{'0' * 400}", "1000"),
    ):
        clock = httpx.post(urls["control"] + "/clock", content=f'{{"advance_seconds": {written}}}',
                           headers={"Content-Type": "application/json"})  # fmt: skip
        assert clock.status_code == 400
        message = clock.json()["error"]["message"]
        assert message.startswith("advance_seconds: at ") and "seconds" in message
        said = message.rpartition(", not ")[2]
        if said_as == "1000":
            assert said.startswith(said_as) and said.endswith("… (401 characters)")
        else:
            assert said == said_as, message
        assert len(message) < 150, message


# Python 3.13 took up RFC 9110's reason phrases for these statuses.
RFC_9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def test_error_bodies_do_not_change_with_the_pythons_reason_phrases(monkeypatch):
    """Phrases become error codes (AutoSend's, SES's exception names, Scaleway's and Resend's
    types): the same seed must give the same bytes on every Python."""
    sandbox = Sandbox()
    errors = [
        (p, ProviderError(s, "refused")) for p in sandbox.providers.values() for s in (413, 422)
    ]
    bodies = [Answer.error(provider, error).body for provider, error in errors]
    for status, phrase in RFC_9110_PHRASES.items():
        monkeypatch.setattr(HTTPStatus(status), "phrase", phrase)  # as Python 3.13 has them
    assert [Answer.error(provider, error).body for provider, error in errors] == bodies
    too_large = json.loads(
        Answer.error(sandbox.providers["autosend"], ProviderError(413, "x")).body
    )
    assert too_large["error"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_security_reads_of_a_signature_only_that_it_is_one():
    signed = b"AWS4-HMAC-SHA256 Credential=AKIASANDBOXAAAAAAAAA/20260101/eu-west-1/ses/aws4_req"
    assert security_reads(signed) == security_reads(signed.replace(b"AAAA", b"BBBB"))
    assert security_reads(signed.lower()) == security_reads(signed)
    assert security_reads(signed.replace(b" ", b"\t", 1)) == security_reads(signed)
    others = [b"AWS4-HMAC-SHA256", b"AWS4-HMAC-SHA256   ", b"AWS4-HMAC-SHA256 \xa0"]
    others += [b"AWS4-HMAC-SHA256 \x85", b"Bearer x", b"Basic YXBpOmtleQ=="]
    for other in others:  # split as Connexion splits it: Unicode spaces too
        assert security_reads(other) == other  # read whole: refused, or judged on all of it


def test_reads_that_never_repeat_push_out_only_the_verdicts_used_longest_ago():
    """Some heads never repeat (a multipart form's boundary is new each time): they must not
    push out the verdict of a client polling the same domain meanwhile."""
    verdicts = Verdicts(frozenset({b"authorization"}))

    def read(path: str, auth: bytes) -> tuple:
        scope = {"method": "GET", "path": path, "headers": [(b"authorization", auth)]}
        return verdicts.key(scope)

    polled = read("/monite/v1/mailbox_domains", b"Bearer same")
    verdicts.keep(polled, "list_domains", {})
    for n in range(MAX_VERDICTS * 2):
        verdicts.keep(
            read("/ses/v2/email/identities", b"signed %d" % n), "ListEmailIdentitiesGet", {}
        )
        if n % 100 == 0:
            assert verdicts.get(polled) == ("list_domains", {}, None)  # the poller's next read
    assert verdicts.get(polled) == ("list_domains", {}, None)
    assert verdicts.get(read("/ses/v2/email/identities", b"signed 0")) is None  # gone first
    assert read("/x", b"a") != read("/x", b"b")  # the credential is part of the key


def test_an_urlencoded_form_reads_as_starlettes_form_parser_reads_it():
    """The sandbox parses urlencoded forms with the standard library, where Connexion asks
    Starlette's FormParser: on random bodies of the bytes that matter, the same fields."""
    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    pieces = [b"a", b"B", b"=", b"&", b";", b"%", b"+", b" ", b"2", b"F", b"%41", b"%e2%82"]
    pieces += [b"\xc3\xa9", b"\xff", b"\x00", b"\r\n", b"#", b"?", b"%2B", b"%26", b"%3D"]
    stream = random.Random(20261128)

    async def fields(parser_class, raw: bytes) -> list:
        async def body():
            yield raw

        return (await parser_class(headers, body()).parse()).multi_items()

    async def compare():
        for _ in range(5000):
            raw = b"".join(stream.choice(pieces) for _ in range(stream.randint(0, 16)))
            assert await fields(_UrlencodedForm, raw) == await fields(FormParser, raw), raw

    asyncio.run(compare())
