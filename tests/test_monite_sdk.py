"""The official `monite` Python SDK works against the sandbox with only base_url changed."""

from __future__ import annotations

import pytest
from monite import Monite
from monite.errors import ConflictError, NotFoundError, UnauthorizedError, UnprocessableEntityError

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

VERSION = "2024-05-25"
CLIENT_ID = "eb959578-a74d-4ac3-8b25-bf0910027857"


@pytest.fixture
def sdk(urls) -> Monite:
    anonymous = Monite(monite_version=VERSION, token="unused", base_url=urls["monite"])
    token = anonymous.access_tokens.create(
        client_id=CLIENT_ID, client_secret="secret", grant_type="client_credentials"
    )
    return Monite(monite_version=VERSION, token=token.access_token, base_url=urls["monite"])


def test_sdk_creates_verifies_lists_and_deletes(sdk, control):
    domain = sdk.mailbox_domains.create(domain="mail.sdk-example.com")
    assert domain.status == "waiting_to_be_verified"
    assert {r.valid for r in domain.dns_records.sending_dns_records} == {"unknown"}

    assert sdk.mailbox_domains.verify_by_id(domain.id).status == "waiting_to_be_verified"
    control.publish("monite", domain.id)
    verified = sdk.mailbox_domains.verify_by_id(domain.id)
    assert (verified.id, verified.domain, verified.status) == (
        domain.id,
        "mail.sdk-example.com",
        "verified",
    )

    [listed] = sdk.mailbox_domains.get().data
    assert listed.status == "verified"
    assert {r.valid for r in listed.dns_records.receiving_dns_records} == {"valid"}

    assert sdk.mailbox_domains.delete_by_id(domain.id) is None
    assert sdk.mailbox_domains.get().data == []


def test_sdk_raises_its_own_error_classes(sdk, urls):
    domain = sdk.mailbox_domains.create(domain="dup.example.com")
    with pytest.raises(ConflictError):
        sdk.mailbox_domains.create(domain="dup.example.com")
    with pytest.raises(UnprocessableEntityError):
        sdk.mailbox_domains.create(domain="not a hostname")
    with pytest.raises(NotFoundError):
        sdk.mailbox_domains.verify_by_id("8a91507e-63b4-4eb6-9354-dc5ec4251815")
    stranger = Monite(monite_version=VERSION, token="forged", base_url=urls["monite"])
    with pytest.raises(UnauthorizedError):
        stranger.mailbox_domains.delete_by_id(domain.id)


def test_sdk_revokes_its_token_and_then_gets_unauthorized(sdk, urls):
    token = sdk._client_wrapper._get_token()
    revoked = sdk.access_tokens.revoke(client_id=CLIENT_ID, client_secret="secret", token=token)
    assert revoked.message == "Token revoked"
    with pytest.raises(UnauthorizedError):
        sdk.mailbox_domains.get()


def test_sdk_gets_the_domain_back_as_it_sent_it(sdk):
    domain = sdk.mailbox_domains.create(domain="domainExample.com")
    assert domain.domain == "domainExample.com"
    assert sdk.mailbox_domains.verify_by_id(domain.id).domain == "domainExample.com"
    with pytest.raises(ConflictError):
        sdk.mailbox_domains.create(domain="DomainExample.COM")


def test_sdk_configured_with_an_entity_id_still_manages_mailbox_domains(sdk, urls):
    token = sdk._client_wrapper._get_token()
    with_entity = Monite(
        monite_version=VERSION,
        monite_entity_id="8a91507e-63b4-4eb6-9354-dc5ec4251815",
        token=token,
        base_url=urls["monite"],
    )
    domain = with_entity.mailbox_domains.create(domain="mail.entity-example.com")
    assert [d.id for d in with_entity.mailbox_domains.get().data] == [domain.id]
    response = with_entity.mailbox_domains.with_raw_response.get()
    assert response.headers["x-monite-entity-id"] == "8a91507e-63b4-4eb6-9354-dc5ec4251815"
    assert response.headers["x-monite-version"] == VERSION


def test_sdk_sees_an_unknown_body_field_named_in_its_422(sdk):
    """A field DomainRequest does not declare (the older guide's `provider`), sent through the
    SDK's additional_body_parameters, is refused by name as Monite's FastAPI does."""
    with pytest.raises(UnprocessableEntityError) as refused:
        sdk.mailbox_domains.create(
            domain="mail.example.com",
            request_options={"additional_body_parameters": {"provider": "mailgun"}},
        )
    [detail] = refused.value.body["detail"]
    assert (detail["loc"], detail["type"]) == (["body", "provider"], "extra_forbidden")
    assert sdk.mailbox_domains.get().data == []


def test_sdk_finds_a_domain_by_its_id_in_upper_case(sdk):
    domain = sdk.mailbox_domains.create(domain="mail.example.com")
    assert sdk.mailbox_domains.verify_by_id(domain.id.upper()).id == domain.id
    assert sdk.mailbox_domains.delete_by_id(domain.id.upper()) is None
    assert sdk.mailbox_domains.get().data == []


def test_sdk_sees_pydantics_words_in_its_422(sdk):
    """A string too long for DomainRequest.domain: the SDK's UnprocessableEntityError carries
    FastAPI's detail, worded as pydantic v2 words it."""
    with pytest.raises(UnprocessableEntityError) as refused:
        sdk.mailbox_domains.create(domain="a" * 254)
    assert refused.value.status_code == 422
    assert refused.value.body["detail"] == [
        {
            "loc": ["body", "domain"],
            "msg": "String should have at most 253 characters",
            "type": "string_too_long",
            "ctx": {"max_length": 253},
        }
    ]
