"""The official `resend` Python SDK, unchanged, against the sandbox: only `api_url` is changed.

The SDK keeps its configuration in module attributes (`resend.api_key`, `resend.api_url`); the
`sdk` fixture sets them for one test and puts them back.
"""

from __future__ import annotations

import pytest
import resend
from resend import exceptions

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

KEY = "re_sdk_test_key"


@pytest.fixture
def sdk(urls):
    saved = resend.api_key, resend.api_url
    resend.api_key, resend.api_url = KEY, urls["resend"]
    yield resend
    resend.api_key, resend.api_url = saved


def _fields(answer) -> dict:
    """An SDK answer without the response headers the SDK adds to it."""
    return {k: v for k, v in answer.items() if k != "http_headers"}


def test_the_sdk_creates_publishes_verifies_lists_updates_and_removes_a_domain(
    sdk, control, resolver
):
    control.settings("resend", verify_delay_seconds=30)  # a check that takes a while, as Resend's

    domain = sdk.Domains.create({"name": "example.com", "region": "us-east-1"})
    assert domain["status"] == "not_started"
    kinds = [(r["record"], r["type"]) for r in domain["records"]]
    assert kinds == [("SPF", "MX"), ("SPF", "TXT")] + [("DKIM", "CNAME")] * 3
    assert {r["status"] for r in domain["records"]} == {"not_started"}

    control.publish("resend", domain["id"])  # the records, in the sandbox's real DNS
    for dkim in domain["records"][2:]:  # <token>._domainkey -> <token>.dkim.amazonses.com.
        token = dkim["name"].removesuffix("._domainkey")
        assert dkim["value"] == f"{token}.dkim.amazonses.com."
        [answer] = resolver.resolve(f"{dkim['name']}.example.com", "CNAME")
        assert answer.target.to_text() == dkim["value"]

    started = sdk.Domains.verify(domain["id"])
    assert _fields(started) == {"object": "domain", "id": domain["id"]}
    pending = sdk.Domains.get(domain["id"])
    assert pending["status"] == "pending"
    assert {r["status"] for r in pending["records"]} == {"pending"}

    control.advance(30)  # the check lands on the sandbox clock
    verified = sdk.Domains.get(domain["id"])
    assert verified["object"] == "domain"
    assert verified["status"] == "verified"
    assert {r["status"] for r in verified["records"]} == {"verified"}

    page = sdk.Domains.list({"limit": 10})
    assert page["object"] == "list" and page["has_more"] is False
    assert [d["id"] for d in page["data"]] == [domain["id"]]

    # the SDK sends the id in the PATCH body as well as in the path
    updated = sdk.Domains.update({"id": domain["id"], "open_tracking": True, "tls": "enforced"})
    assert _fields(updated) == {"object": "domain", "id": domain["id"]}
    assert sdk.Domains.get(domain["id"])["open_tracking"] is True

    removed = sdk.Domains.remove(domain["id"])
    assert removed["deleted"] is True
    with pytest.raises(exceptions.ResendError) as raised:
        sdk.Domains.get(domain["id"])
    assert raised.value.code == 404
    assert raised.value.error_type == "not_found"
    assert raised.value.message == "Domain not found"


def test_the_sdk_lists_every_domain_without_a_limit_and_pages_with_one(sdk):
    ids = [sdk.Domains.create({"name": f"d{n}.example.com"})["id"] for n in range(3)]

    everything = sdk.Domains.list()
    assert [d["id"] for d in everything["data"]] == ids[::-1]
    first = sdk.Domains.list({"limit": 2})
    assert first["has_more"] is True
    rest = sdk.Domains.list({"limit": 2, "after": first["data"][-1]["id"]})
    assert [d["id"] for d in first["data"] + rest["data"]] == ids[::-1]
    assert rest["has_more"] is False


def test_the_sdk_raises_on_a_cursor_that_is_no_domain_of_the_team(sdk):
    """Not an empty page, which a paging loop would take for the end of the list."""
    sdk.Domains.create({"name": "kept.example.com"})
    with pytest.raises(exceptions.ResendError) as refused:
        sdk.Domains.list({"limit": 2, "after": "d91cd9bd-1176-453e-8fc1-35364d380206"})
    assert refused.value.code == 422 and refused.value.error_type == "validation_error"
    assert "The `after` parameter must be the id of one of the team's domains" in str(refused.value)


def test_a_domain_whose_dkim_is_missing_stays_pending_then_fails(sdk, control):
    domain = sdk.Domains.create({"name": "example.com"})
    control.publish("resend", domain["id"], omit=["dkim_3"])  # one DKIM CNAME of three

    sdk.Domains.verify(domain["id"])
    control.advance(30)  # the check lands (verify_delay_seconds)
    pending = sdk.Domains.get(domain["id"])
    assert pending["status"] == "pending"
    dkim = [r["status"] for r in pending["records"] if r["record"] == "DKIM"]
    assert dkim == ["verified", "verified", "pending"]

    control.advance(72 * 3600)
    failed = sdk.Domains.get(domain["id"])
    assert failed["status"] == "failed"
    assert [(r["record"], r["status"]) for r in failed["records"]] == [
        ("SPF", "verified"),
        ("SPF", "verified"),
        ("DKIM", "verified"),
        ("DKIM", "verified"),
        ("DKIM", "failed"),
    ]


@pytest.mark.parametrize(
    "params, error_class, code, name",
    [
        ({}, exceptions.MissingRequiredFieldsError, 422, "missing_required_field"),
        ({"name": "not a domain"}, exceptions.ValidationError, 422, "validation_error"),
        ({"name": "example.com", "region": "mars"}, exceptions.ResendError, 422, "invalid_region"),
    ],
    ids=["missing-name", "bad-name", "bad-region"],
)
def test_the_sdk_raises_its_own_exceptions_for_bad_input(sdk, params, error_class, code, name):
    with pytest.raises(error_class) as raised:
        sdk.Domains.create(params)
    assert raised.value.code == code and raised.value.error_type == name


def test_the_sdk_raises_for_missing_and_invalid_keys(sdk):
    sdk.api_key = "not-a-resend-key"
    with pytest.raises(exceptions.InvalidApiKeyError) as invalid:
        sdk.Domains.list()
    assert invalid.value.code == 403 and invalid.value.error_type == "invalid_api_key"

    sdk.api_key = ""  # the SDK then sends "Bearer " with no key
    with pytest.raises(exceptions.MissingApiKeyError) as missing:
        sdk.Domains.list()
    assert missing.value.code == 401 and missing.value.error_type == "missing_api_key"


def test_the_sdk_raises_its_rate_limit_error_with_the_headers(sdk, control):
    control.rate_limits(True)
    try:
        sdk.Domains.list()
        sdk.Domains.list()
        with pytest.raises(exceptions.RateLimitError) as limited:
            sdk.Domains.list()
    finally:
        control.rate_limits(False)
    assert limited.value.code == 429 and limited.value.error_type == "rate_limit_exceeded"
    assert limited.value.headers["retry-after"] == "1"
    assert limited.value.headers["ratelimit-limit"] == "2"


def test_the_sdk_raises_application_error_for_a_500(sdk, control):
    control.add_http_fault("resend", operation="get_domain", status=500, count=1)
    with pytest.raises(exceptions.ApplicationError) as raised:
        sdk.Domains.get("d91cd9bd-1176-453e-8fc1-35364d380206")
    assert raised.value.code == 500 and raised.value.error_type == "application_error"


def test_the_sdk_given_the_sandbox_without_resends_mount_says_where_it_is(sdk, urls):
    """The likeliest first mistake with an SDK: the sandbox's URL as its base, without
    `/resend`. The SDK reads an error's top-level `message`: it showed "Unknown error"."""
    sdk.api_url = urls["server"]
    with pytest.raises(exceptions.ResendError) as lost:
        sdk.Domains.list()
    said = str(lost.value)
    assert "domainsandbox does not serve GET /domains" in said, said
    assert "/resend, " in said  # where the providers' APIs are
