"""The providers' official Node.js SDKs, unchanged, against the sandbox: Resend's (`resend` on
npm, pointed at it with RESEND_BASE_URL), Mailgun's (`mailgun.js`, with its `url` option) and
Amazon's for SES v2 (`@aws-sdk/client-sesv2`, with `endpoint`), as a user points them anywhere.

Each call runs a small bridge under tests/node/ (`node resend_call.mjs METHOD ARGS...`) that
prints the SDK's answer as JSON. The SDKs are installed from npm into tests/node/node_modules
on first use, exactly the tree tests/node/package-lock.json holds (`npm ci`; `npm install
--package-lock-only` there renews it); without Node.js and npm the tests are skipped
(`.ci/run` installs both). The AWS SDK is pinned: its releases from January 2027 on require Node.js 22. They pass on Node.js 20
and on Debian 12's own 18.20.4 (what `.ci/run` installs where none is), where npm only warns
that `resend` and the AWS SDK declare `node >= 20`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.skip("Node.js and npm are not installed (.ci/run installs them)")
    wanted = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    if not all((NODE_DIR / "node_modules" / name).is_dir() for name in wanted):
        # the tree package-lock.json holds, exactly: a newer release of a package deep in it
        # (the AWS SDK's dozens) is sometimes announced before the registry can serve it
        npm_ci = [npm, "ci", "--no-audit", "--no-fund"]
        done = subprocess.run(npm_ci, cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"npm could not install the SDKs:\n{done.stderr}"
    return node


def _bridge(node: str, script: str, env: dict[str, str]) -> Callable[..., dict]:
    """`call(method, *args)`: one SDK call through tests/node/`script`; returns what it printed."""

    def call(method: str, *args) -> dict:
        argv = [node, str(NODE_DIR / script), method, *map(json.dumps, args)]
        done = subprocess.run(
            argv, env=os.environ | env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return call


# --- Resend: every answer is {data, error}; the SDK never throws ---------------------------------


@pytest.fixture
def resend(node, urls):
    """`resend("get", id)`: resend.domains.get(id); returns the SDK's {data, error}."""
    return _bridge(
        node, "resend_call.mjs", {"RESEND_BASE_URL": urls["resend"], "RESEND_API_KEY": "re_node"}
    )


def test_resends_sdk_creates_publishes_verifies_lists_updates_and_removes_a_domain(resend, control):
    control.settings("resend", verify_delay_seconds=30)  # a check that takes a while, as Resend's

    created = resend("create", {"name": "example.com", "region": "us-east-1"})
    assert created["error"] is None
    domain = created["data"]
    assert domain["status"] == "not_started"
    kinds = [(r["record"], r["type"]) for r in domain["records"]]
    assert kinds == [("SPF", "MX"), ("SPF", "TXT")] + [("DKIM", "CNAME")] * 3

    control.publish("resend", domain["id"])  # the records, in the sandbox's real DNS
    # verify and remove send Content-Type: application/json with no body; get and list too
    assert resend("verify", domain["id"]) == {
        "data": {"object": "domain", "id": domain["id"]},
        "error": None,
    }
    assert resend("get", domain["id"])["data"]["status"] == "pending"

    control.advance(30)  # the check lands on the sandbox clock
    verified = resend("get", domain["id"])["data"]
    assert verified["status"] == "verified"
    assert {r["status"] for r in verified["records"]} == {"verified"}

    page = resend("list", {"limit": 10})["data"]
    assert (page["object"], page["has_more"]) == ("list", False)
    assert [d["id"] for d in page["data"]] == [domain["id"]]

    # the SDK's camelCase options become the API's snake_case fields
    updated = resend("update", {"id": domain["id"], "openTracking": True, "tls": "enforced"})
    assert updated == {"data": {"object": "domain", "id": domain["id"]}, "error": None}
    assert resend("get", domain["id"])["data"]["open_tracking"] is True

    removed = resend("remove", domain["id"])["data"]
    assert (removed["id"], removed["deleted"]) == (domain["id"], True)
    assert resend("get", domain["id"]) == {
        "data": None,
        "error": {"statusCode": 404, "message": "Domain not found", "name": "not_found"},
    }


def test_resends_sdk_reads_a_refusal_as_its_error_object(resend):
    refused = resend("create", {"name": "not a domain", "region": "us-east-1"})
    assert refused["data"] is None
    assert (refused["error"]["statusCode"], refused["error"]["name"]) == (422, "validation_error")
    assert "`name`" in refused["error"]["message"]


# --- Mailgun: answers are the SDK's Domain objects; refusals throw MailgunAPIError -------------


@pytest.fixture
def mailgun(node, urls):
    """`mailgun("get", name)`: client.domains.get(name); returns {answer} or {thrown}."""
    return _bridge(
        node, "mailgun_call.mjs", {"MAILGUN_URL": urls["mailgun"], "MAILGUN_KEY": "key-node"}
    )


def test_mailguns_sdk_creates_publishes_verifies_lists_updates_and_destroys_a_domain(
    mailgun, control
):
    name = "mg.example.com"
    # create: a multipart form on /v4/domains, its booleans sent as "true"/"false"
    created = mailgun("create", {"name": name, "wildcard": False, "web_scheme": "https"})["answer"]
    assert (created["name"], created["state"], created["web_scheme"]) == (
        name,
        "unverified",
        "https",
    )
    sending = {(r["record_type"], r["name"], r["value"]) for r in created["sending_dns_records"]}
    assert ("TXT", name, "v=spf1 include:mailgun.org ~all") in sending

    control.publish("mailgun", name)
    verified = mailgun("verify", name)["answer"]  # PUT /v4/domains/{name}/verify
    assert verified["state"] == "active"
    assert {r["valid"] for r in verified["sending_dns_records"]} == {"valid"}
    assert mailgun("get", name)["answer"]["state"] == "active"

    assert [d["name"] for d in mailgun("list")["answer"]] == [name]

    updated = mailgun("update", name, {"spam_action": "tag"})["answer"]  # a multipart PUT
    assert updated["spam_action"] == "tag"

    assert mailgun("destroy", name) == {
        "answer": {"message": "Domain will be deleted in the background"}
    }
    assert mailgun("get", name) == {
        "thrown": {"status": 404, "details": "Domain not found", "message": "Not Found"}
    }


def test_mailguns_sdk_creates_a_domain_with_a_list_of_ips(mailgun):
    # given an array, the SDK appends `ips` to its multipart form once for each address
    created = mailgun("create", {"name": "ips.example.com", "ips": ["1.2.3.4", "5.6.7.8"]})
    assert created["answer"]["name"] == "ips.example.com", created
    assert mailgun("create", {"name": "comma.example.com", "ips": "1.2.3.4,5.6.7.8"})["answer"]


def test_mailguns_sdk_throws_mailguns_own_refusals(mailgun):
    mailgun("create", {"name": "taken.example.com"})
    assert mailgun("create", {"name": "taken.example.com"}) == {
        "thrown": {
            "status": 400,
            "details": "This domain name is already taken",
            "message": "Bad Request",
        }
    }


# --- SES v2: the AWS SDK signs every call (SigV4); refusals throw named exceptions ----------------


@pytest.fixture
def ses(node, urls):
    """`ses("GetEmailIdentity", {...})`: one command; returns {answer} or {thrown}."""
    return _bridge(
        node,
        "ses_call.mjs",
        {
            "SES_URL": urls["ses"],
            "AWS_ACCESS_KEY_ID": "AKIASANDBOXNODEAAAAA",
            "AWS_SECRET_ACCESS_KEY": "sandbox-secret",
            "NODE_NO_WARNINGS": "1",  # the SDK's notice about the Node.js versions it will need
        },
    )


def test_amazons_sdk_creates_publishes_sees_verified_lists_and_deletes_an_identity(ses, control):
    name = "ses.example.com"
    created = ses("CreateEmailIdentity", {"EmailIdentity": name})["answer"]
    assert (created["IdentityType"], created["DkimAttributes"]["Status"]) == ("DOMAIN", "PENDING")
    tokens = created["DkimAttributes"]["Tokens"]

    published = control.publish("ses", name)
    cnames = {(p["name"], p["value"]) for p in published if p["type"] == "CNAME"}
    assert cnames == {(f"{t}._domainkey.{name}", f"{t}.dkim.amazonses.com") for t in tokens}
    control.advance(300)  # SES looks for the records by itself, on the sandbox clock

    got = ses("GetEmailIdentity", {"EmailIdentity": name})["answer"]
    assert (got["VerificationStatus"], got["VerifiedForSendingStatus"]) == ("SUCCESS", True)
    assert got["DkimAttributes"]["Status"] == "SUCCESS"
    listed = ses("ListEmailIdentities", {"PageSize": 10})["answer"]["EmailIdentities"]
    assert [(i["IdentityName"], i["VerificationStatus"]) for i in listed] == [(name, "SUCCESS")]

    assert ses("DeleteEmailIdentity", {"EmailIdentity": name}) == {"answer": {}}
    assert ses("GetEmailIdentity", {"EmailIdentity": name}) == {
        "thrown": {
            "name": "NotFoundException",
            "status": 404,
            "message": f"Email identity {name} does not exist.",
        }
    }


def test_amazons_sdk_throws_the_named_exception_ses_answers(ses):
    ses("CreateEmailIdentity", {"EmailIdentity": "twice.example.com"})
    again = ses("CreateEmailIdentity", {"EmailIdentity": "twice.example.com"})["thrown"]
    assert (again["name"], again["status"]) == ("AlreadyExistsException", 400)


def test_amazons_sdk_tags_an_identity_by_its_arn(ses):
    ses("CreateEmailIdentity", {"EmailIdentity": "tagged.example.com"})
    arn = "arn:aws:ses:eu-west-1:123456789012:identity/tagged.example.com"
    tags = [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "mail"}]
    assert ses("TagResource", {"ResourceArn": arn, "Tags": tags}) == {"answer": {}}
    assert ses("UntagResource", {"ResourceArn": arn, "TagKeys": ["env"]}) == {"answer": {}}
    assert ses("ListTagsForResource", {"ResourceArn": arn}) == {"answer": {"Tags": tags[1:]}}


# --- a connection reset before any answer: what each SDK makes of it (the README's table) ------


@pytest.mark.parametrize(
    "drop, mailguns",
    [
        ("reset", (400, "message", "ECONNRESET")),
        # a 200 head, its body never sent: boto3 takes it for an empty success; a client of
        # mailgun.js looking only for a status of 400 or over misses it
        ("abort", (200, "details", "stream has been aborted")),
    ],
)
def test_a_dropped_connection_is_retried_by_amazons_sdk_and_an_error_to_resends_and_mailguns(
    resend, mailgun, ses, control, drop, mailguns
):
    """`http fault --reset` or `--abort`: Amazon's SDK retries it; Resend's answers an
    `application_error` with no status; mailgun.js throws a MailgunAPIError (the README says
    which)."""
    for provider in ("resend", "mailgun", "ses"):
        control.add_http_fault(provider, count=1, **{drop: True})
    assert resend("list")["error"] == {
        "name": "application_error",
        "statusCode": None,
        "message": "Unable to fetch data. The request could not be resolved.",
    }
    thrown = mailgun("list")["thrown"]
    status, field, said = mailguns  # the status it throws, and where it says why
    assert (thrown["status"], thrown[field]) == (status, said), thrown
    assert ses("ListEmailIdentities", {})["answer"]["EmailIdentities"] == []  # retried
    dropped, retried = control.requests("ses")[-2:]
    assert (dropped.get("aborted"), retried["status"]) == (True, 200)
    assert control.http_faults() == []
