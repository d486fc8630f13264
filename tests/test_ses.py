"""Amazon SES API v2 email identities over real HTTP, then through boto3's own `sesv2` client:
SES looks for the records by itself on the sandbox clock, and the records resolve in real DNS."""

from __future__ import annotations

import base64
import json
import re

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.driver import Driver, reach
from sandbox.engine.ids import _der, _der_int
from sandbox.providers.ses import Ses, sigv4_header

from .helpers import sesv2_client

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

KEY_A, KEY_B = "AKIASANDBOXAAAAAAAAA", "AKIASANDBOXBBBBBBBBB"
REGION = "eu-west-1"
NAME = "example.com"
WINDOW = 72 * 3600
TOKEN = re.compile(r"^[a-z2-7]{32}$")
START_EPOCH = 1767258000  # 2026-01-01T09:00:00Z, the control fixture's frozen instant


class Ses2:
    """A small SES v2 client over httpx, as an integration without boto3 would call it."""

    def __init__(self, base: str, key: str = KEY_A, region: str = REGION):
        self.base = base
        self.headers = {"Authorization": sigv4_header(key, region)}

    def call(self, method: str, path: str, body=None, **kwargs) -> httpx.Response:
        return httpx.request(
            method, self.base + path, json=body, headers=self.headers | kwargs.pop("headers", {}),
            **kwargs,
        )  # fmt: skip

    def create(self, name: str = NAME, **extra) -> httpx.Response:
        return self.call("POST", "/v2/email/identities", {"EmailIdentity": name} | extra)

    def created(self, name: str = NAME, **extra) -> dict:
        answer = self.create(name, **extra)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def get(self, name: str = NAME) -> httpx.Response:
        return self.call("GET", f"/v2/email/identities/{name}")

    def got(self, name: str = NAME) -> dict:
        answer = self.get(name)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def put(self, name: str, what: str, body: dict) -> httpx.Response:
        return self.call("PUT", f"/v2/email/identities/{name}/{what}", body)

    def listed(self, **body) -> dict:
        answer = self.call("POST", "/v2/email/list-identities", body)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def ses(urls) -> Ses2:
    return Ses2(urls["ses"])


def error_of(answer: httpx.Response) -> tuple[int, str, str]:
    """(status, x-amzn-ErrorType, message): what botocore reads of an error."""
    return answer.status_code, answer.headers.get("x-amzn-ErrorType"), answer.json()["message"]


def status(ses: Ses2, name: str = NAME) -> tuple[str, str]:
    got = ses.got(name)
    return got["VerificationStatus"], got["DkimAttributes"]["Status"]


def rsa_private_key(bits: int = 2048, pkcs8: bool = False) -> str:
    """A base64 DER RSA private key of the right shape (the sandbox derives the public key from
    the modulus and exponent; no signature is ever made with it)."""
    modulus = (1 << (bits - 1)) | 0xF00D1 | 1
    fields = [0, modulus, 65537, 3, 5, 7, 11, 13, 17]
    pkcs1 = _der(0x30, b"".join(_der_int(v) for v in fields))
    if pkcs8:
        algorithm = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))
        pkcs1 = _der(0x30, _der_int(0) + algorithm + _der(0x04, pkcs1))
    return base64.b64encode(pkcs1).decode()


# --- create, read, the records -----------------------------------------------------------------


def test_create_answers_a_pending_domain_with_three_easy_dkim_tokens(ses):
    answer = ses.create(Tags=[{"Key": "env", "Value": "test"}])
    assert answer.status_code == 200, answer.text
    assert re.fullmatch(r"[0-9a-f-]{36}", answer.headers["x-amzn-RequestId"])
    created = answer.json()
    assert list(created) == ["IdentityType", "VerifiedForSendingStatus", "DkimAttributes"]
    assert created["IdentityType"] == "DOMAIN" and created["VerifiedForSendingStatus"] is False
    dkim = created["DkimAttributes"]
    assert dkim["SigningEnabled"] is True and dkim["Status"] == "PENDING"
    assert len(dkim["Tokens"]) == 3 and len(set(dkim["Tokens"])) == 3
    assert all(TOKEN.match(t) for t in dkim["Tokens"])
    assert dkim["SigningHostedZone"] == "dkim.amazonses.com"
    assert dkim["SigningAttributesOrigin"] == "AWS_SES"
    assert dkim["LastKeyGenerationTimestamp"] == START_EPOCH


def test_get_before_ses_looked_shows_every_field_an_empty_verification_info_and_no_mail_from(ses):
    ses.created(Tags=[{"Key": "env", "Value": "test"}])
    got = ses.got()
    assert list(got) == [
        "IdentityType",
        "FeedbackForwardingStatus",
        "VerifiedForSendingStatus",
        "DkimAttributes",
        "MailFromAttributes",
        "Policies",
        "Tags",
        "VerificationStatus",
        "VerificationInfo",
    ]
    assert got["VerificationStatus"] == "PENDING" and got["VerificationInfo"] == {}
    assert got["MailFromAttributes"] == {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}
    assert got["Tags"] == [{"Key": "env", "Value": "test"}] and got["Policies"] == {}


def test_a_form_body_is_unsupported_media_type_as_docs_ses_md_lists_it(ses, control):
    with control.expecting_errors():
        answer = httpx.post(
            ses.base + "/v2/email/identities", data={"EmailIdentity": NAME}, headers=ses.headers
        )
    assert error_of(answer) == (
        415,
        "UnsupportedMediaTypeException",
        "Invalid Content-type (application/x-www-form-urlencoded), expected ['application/json']",
    )


def test_same_seed_same_tokens(ses, control):
    first = ses.created()["DkimAttributes"]["Tokens"]
    control.reset(seed=4242)
    control.freeze(at="2026-01-01T09:00:00Z")
    assert ses.created()["DkimAttributes"]["Tokens"] == first


def test_published_cnames_resolve_in_dns_and_ses_first_look_after_five_minutes_verifies(
    ses, control, resolver
):
    tokens = ses.created()["DkimAttributes"]["Tokens"]
    published = control.publish("ses", NAME)
    assert [p["kind"] for p in published] == ["dkim_1", "dkim_2", "dkim_3"]
    for token in tokens:
        answer = resolver.resolve(f"{token}._domainkey.{NAME}", "CNAME")
        assert answer[0].target.to_text() == f"{token}.dkim.amazonses.com."

    control.advance(299)
    assert status(ses) == ("PENDING", "PENDING")
    control.advance(1)
    got = ses.got()
    assert got["VerificationStatus"] == got["DkimAttributes"]["Status"] == "SUCCESS"
    assert got["VerifiedForSendingStatus"] is True
    assert got["VerificationInfo"] == {
        "LastCheckedTimestamp": START_EPOCH + 300,
        "LastSuccessTimestamp": START_EPOCH + 300,
    }
    asked = {(q["name"], q["type"]) for q in control.queries()}
    assert (f"{tokens[0]}._domainkey.{NAME}", "CNAME") in asked
    [listed] = ses.listed()["EmailIdentities"]
    assert listed == {
        "IdentityType": "DOMAIN",
        "IdentityName": NAME,
        "SendingEnabled": True,
        "VerificationStatus": "SUCCESS",
    }


def test_two_of_the_three_cnames_are_not_enough(ses, control):
    ses.created()
    control.publish("ses", NAME, omit=["dkim_3"])
    control.advance(3600)
    got = ses.got()
    assert got["VerificationStatus"] == "PENDING"
    assert got["VerificationInfo"]["ErrorType"] == "HOST_NOT_FOUND"
    assert "LastSuccessTimestamp" not in got["VerificationInfo"]


def test_a_wrong_cname_reads_invalid_value(ses, control):
    ses.created()
    control.publish("ses", NAME, corrupt=["dkim_1"])
    control.advance(300)
    assert ses.got()["VerificationInfo"]["ErrorType"] == "INVALID_VALUE"
    view = control.domain("ses", NAME)
    result = next(r["result"] for r in view["records"] if r["kind"] == "dkim_1")
    assert result["outcome"] == "invalid" and "wrong-target" in result["reason"]


def test_records_never_published_fail_the_domain_72_hours_after_create(ses, control):
    ses.created()
    control.advance(WINDOW - 1)
    assert status(ses) == ("PENDING", "PENDING")
    control.advance(1)
    assert status(ses) == ("FAILED", "FAILED")
    assert control.domain("ses", NAME)["next_step_at"] is None  # SES no longer looks
    control.publish("ses", NAME)
    control.advance(86400)
    assert status(ses) == ("FAILED", "FAILED")


def test_clock_set_past_the_window_fails_records_that_appear_after_it(ses, control):
    """`clock set` ahead runs each step at its own instant, as `clock advance` does: it ran
    them all where it landed, and records published after the window verified the domain."""
    ses.created()
    control.publish("ses", NAME, visible_after_seconds=WINDOW + 3 * 3600)
    landed = control.set_time("2026-01-04T17:00:00Z")  # 80 h on, the records there by then
    assert landed["now"] == "2026-01-04T17:00:00Z"
    assert status(ses) == ("FAILED", "FAILED")
    info = ses.got()["VerificationInfo"]
    assert info["ErrorType"] == "HOST_NOT_FOUND"
    assert info["LastCheckedTimestamp"] == 1767517200  # the window's end, 2026-01-04T09:00Z


def test_a_failed_domain_searches_again_after_put_dkim_signing_attributes(ses, control):
    tokens = ses.created()["DkimAttributes"]["Tokens"]
    control.advance(WINDOW)
    answer = ses.put(NAME, "dkim/signing", {"SigningAttributesOrigin": "AWS_SES"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "DkimStatus": "PENDING",
        "DkimTokens": tokens,
        "SigningHostedZone": "dkim.amazonses.com",
    }
    control.publish("ses", NAME)
    control.advance(300)
    assert status(ses) == ("SUCCESS", "SUCCESS")


def test_a_verified_domain_losing_a_record_goes_temporary_failure_then_failed_72_hours_later(
    ses, control
):
    ses.created()
    control.publish("ses", NAME)
    control.advance(300)
    control.publish("ses", NAME, omit=["dkim_2"])  # the record disappears
    control.advance(86400)  # SES's next look at a verified identity
    assert status(ses) == ("TEMPORARY_FAILURE", "TEMPORARY_FAILURE")
    got = ses.got()
    assert got["VerifiedForSendingStatus"] is False
    assert got["VerificationInfo"]["LastSuccessTimestamp"] == START_EPOCH + 300
    control.advance(WINDOW - 1)
    assert status(ses) == ("TEMPORARY_FAILURE", "TEMPORARY_FAILURE")
    control.advance(1)
    assert status(ses) == ("FAILED", "FAILED")


def test_temporary_failure_back_to_success_when_the_record_returns(ses, control):
    ses.created()
    control.publish("ses", NAME)
    control.verify("ses", NAME)  # SES looks now
    control.publish("ses", NAME, corrupt=["dkim_1"])
    assert control.verify("ses", NAME)["status"] == "TEMPORARY_FAILURE"
    control.publish("ses", NAME)
    control.advance(300)  # the first of the backing-off looks
    assert status(ses) == ("SUCCESS", "SUCCESS")


def test_a_dns_outage_leaves_a_pending_domain_pending_and_a_verified_one_temporarily_failed(
    ses, control
):
    ses.created()
    ses.created("other.example")
    control.publish("ses", NAME)
    control.publish("ses", "other.example")
    control.verify("ses", NAME)
    control.add_fault(f"*.{NAME}", "servfail")
    control.add_fault("*.other.example", "servfail")
    control.verify("ses", NAME)
    control.verify("ses", "other.example")
    assert status(ses) == ("TEMPORARY_FAILURE", "TEMPORARY_FAILURE")
    pending = ses.got("other.example")
    assert pending["VerificationStatus"] == "PENDING"
    assert pending["VerificationInfo"]["ErrorType"] == "DNS_SERVER_ERROR"
    control.clear_faults()
    control.advance(300)
    assert status(ses) == ("SUCCESS", "SUCCESS")
    assert status(ses, "other.example") == ("SUCCESS", "SUCCESS")


# --- MAIL FROM ----------------------------------------------------------------------------------


def test_mail_from_follows_its_single_mx(ses, control, resolver):
    ses.created()
    answer = ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}"})
    assert answer.status_code == 200 and answer.json() == {}
    assert ses.got()["MailFromAttributes"] == {
        "MailFromDomain": f"mail.{NAME}",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    published = {p["kind"]: p for p in control.publish("ses", NAME, omit=["dkim_1"])}
    assert published["mail_from_mx"]["value"] == f"10 feedback-smtp.{REGION}.amazonses.com"
    assert published["mail_from_spf"]["value"] == "v=spf1 include:amazonses.com ~all"
    [mx] = resolver.resolve(f"mail.{NAME}", "MX")
    assert mx.exchange.to_text() == f"feedback-smtp.{REGION}.amazonses.com."
    control.advance(300)
    got = ses.got()
    assert got["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"
    assert got["VerificationStatus"] == "PENDING"  # DKIM is still missing a record


def test_a_mail_from_domain_of_a_lone_newline_is_refused_by_the_document(ses, control):
    """Its pattern `^$|^...$` took "\n" for empty in Python's reading (`$` before a final
    newline): the handler then said the domain in a message with a raw line break in it."""
    ses.created()
    with control.expecting_errors():
        answer = ses.put(NAME, "mail-from", {"MailFromDomain": "\n"})
    assert answer.status_code == 400, answer.text
    assert "must be a subdomain" not in answer.text
    assert "MailFromDomainStatus" not in ses.got()["MailFromAttributes"]  # none set


def test_a_second_mx_at_the_mail_from_domain_fails_it_72_hours_later(ses, control):
    ses.created()
    ses.put(NAME, "mail-from", {"MailFromDomain": f"bounce.{NAME}", "BehaviorOnMxFailure": "REJECT_MESSAGE"})  # fmt: skip
    control.publish("ses", NAME)
    control.add_record(f"bounce.{NAME}", "MX", "20 mx.other-mail.example")
    control.advance(300)
    got = ses.got()
    assert got["VerificationStatus"] == "SUCCESS"
    assert got["MailFromAttributes"]["MailFromDomainStatus"] == "PENDING"
    assert got["MailFromAttributes"]["BehaviorOnMxFailure"] == "REJECT_MESSAGE"
    mx = next(r for r in control.domain("ses", NAME)["records"] if r["kind"] == "mail_from_mx")
    assert "exactly one" in mx["result"]["reason"]
    control.advance(WINDOW)
    assert ses.got()["MailFromAttributes"]["MailFromDomainStatus"] == "FAILED"


def test_a_verified_mail_from_losing_its_mx_is_temporary_failure(ses, control):
    ses.created()
    ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}"})
    control.publish("ses", NAME)
    control.verify("ses", NAME)
    control.remove_records(f"mail.{NAME}", "MX")
    control.verify("ses", NAME)
    mail_from = ses.got()["MailFromAttributes"]
    assert mail_from["MailFromDomainStatus"] == "TEMPORARY_FAILURE"


def test_mail_from_must_be_a_subdomain_and_can_be_removed(ses):
    ses.created()
    code = error_of(ses.put(NAME, "mail-from", {"MailFromDomain": "mail.elsewhere.example"}))
    assert code[:2] == (400, "BadRequestException") and "subdomain of example.com" in code[2]
    ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}"})
    assert ses.put(NAME, "mail-from", {}).status_code == 200
    assert ses.got()["MailFromAttributes"] == {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}


def test_a_mail_from_domain_that_is_no_domain_name_is_said_in_words(ses):
    ses.created()
    answer = ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}."})
    assert error_of(answer) == (
        400,
        "BadRequestException",
        f"MAIL FROM domain mail.{NAME}. is not a domain name: letters, digits and hyphens in "
        "dot-separated labels, at most 63 characters a label, the last not all digits",
    )


def test_boto3_an_empty_mail_from_domain_removes_it(urls, control):
    # botocore's MailFromDomainName has no length limit, and Terraform's
    # aws_sesv2_email_identity_mail_from_attributes sends "" when the domain is taken away
    client = boto3_ses(urls, attempts=1)
    client.create_email_identity(EmailIdentity=NAME)
    client.put_email_identity_mail_from_attributes(
        EmailIdentity=NAME, MailFromDomain=f"mail.{NAME}"
    )
    client.put_email_identity_mail_from_attributes(
        EmailIdentity=NAME, MailFromDomain="", BehaviorOnMxFailure="USE_DEFAULT_VALUE"
    )
    got = client.get_email_identity(EmailIdentity=NAME)
    assert got["MailFromAttributes"] == {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}
    kinds = [r["kind"] for r in control.domain("ses", NAME)["records"]]
    assert kinds == ["dkim_1", "dkim_2", "dkim_3"]  # no MAIL FROM records left to publish


# --- DKIM: signing on/off, BYODKIM ----------------------------------------------------------------


def test_put_dkim_attributes_turns_signing_off_and_on(ses):
    ses.created()
    assert ses.put(NAME, "dkim", {"SigningEnabled": False}).json() == {}
    assert ses.got()["DkimAttributes"]["SigningEnabled"] is False
    ses.put(NAME, "dkim", {"SigningEnabled": True})
    assert ses.got()["DkimAttributes"]["SigningEnabled"] is True


def test_put_dkim_attributes_on_an_unknown_identity_is_ses_own_bad_request(ses):
    assert error_of(ses.put("nowhere.example", "dkim", {"SigningEnabled": True})) == (
        400,
        "BadRequestException",
        "Domain nowhere.example is not verified for DKIM signing.",
    )


@pytest.mark.parametrize("pkcs8", [False, True])
def test_bring_your_own_dkim_publishes_the_public_key_at_the_selector(
    ses, control, resolver, pkcs8
):
    key = rsa_private_key(2048, pkcs8)
    signing = {"DomainSigningSelector": "sel1", "DomainSigningPrivateKey": key}
    created = ses.created(DkimSigningAttributes=signing)
    dkim = created["DkimAttributes"]
    assert dkim["Tokens"] == ["sel1"] and dkim["SigningAttributesOrigin"] == "EXTERNAL"
    assert dkim["CurrentSigningKeyLength"] == "RSA_2048_BIT" and "SigningHostedZone" not in dkim
    [published] = control.publish("ses", NAME)
    assert published["kind"] == "byodkim" and published["name"] == f"sel1._domainkey.{NAME}"
    public = published["value"].removeprefix("p=")
    assert base64.b64decode(public).startswith(b"\x30\x82")  # a DER SubjectPublicKeyInfo
    txt = resolver.resolve(f"sel1._domainkey.{NAME}", "TXT")
    assert b"".join(txt[0].strings).decode() == f"p={public}"
    control.advance(300)
    assert status(ses) == ("SUCCESS", "SUCCESS")


def test_a_byodkim_private_key_is_never_shown_in_the_journal_or_the_report(ses, control):
    """The private key is a secret: accepted (create, put signing) or refused for its shape,
    the journal and the report show it redacted."""
    key = rsa_private_key(1024)
    ses.created(DkimSigningAttributes={"DomainSigningSelector": "s1", "DomainSigningPrivateKey": key})  # fmt: skip
    signing = {"DomainSigningSelector": "s2", "DomainSigningPrivateKey": key}
    ses.put(NAME, "dkim/signing", {"SigningAttributesOrigin": "EXTERNAL", "SigningAttributes": signing})  # fmt: skip
    refused = ses.create("other.example.com", DkimSigningAttributes={"DomainSigningSelector": "s3", "DomainSigningPrivateKey": "%" + key})  # fmt: skip
    assert refused.status_code == 400
    entries = control.requests("ses")
    assert len(entries) == 3
    shown = json.dumps(entries) + json.dumps(control.report()) + refused.text
    assert key[-30:] not in shown  # its end is what sets it apart
    assert entries[0]["body"]["DkimSigningAttributes"]["DomainSigningPrivateKey"] == "[redacted]"


def test_a_tags_key_is_a_name_not_a_secret_and_is_journaled_as_sent(ses, control):
    ses.created(Tags=[{"Key": "env", "Value": "test"}])
    [entry] = control.requests("ses")
    assert entry["body"]["Tags"] == [{"Key": "env", "Value": "test"}]


def test_switching_from_byodkim_to_easy_dkim_gives_new_tokens_and_a_new_search(ses, control):
    ses.created()
    signing = {"DomainSigningSelector": "s2", "DomainSigningPrivateKey": rsa_private_key(1024)}
    answer = ses.put(NAME, "dkim/signing", {"SigningAttributesOrigin": "EXTERNAL", "SigningAttributes": signing})  # fmt: skip
    assert answer.json() == {"DkimStatus": "PENDING", "DkimTokens": ["s2"]}
    assert [r["kind"] for r in control.domain("ses", NAME)["records"]] == ["byodkim"]
    answer = ses.put(NAME, "dkim/signing", {"SigningAttributesOrigin": "AWS_SES"}).json()
    assert len(answer["DkimTokens"]) == 3 and answer["DkimStatus"] == "PENDING"
    assert ses.got()["DkimAttributes"]["SigningAttributesOrigin"] == "AWS_SES"


@pytest.mark.parametrize(
    ("signing", "field"),
    [
        ({"DomainSigningSelector": "s", "DomainSigningPrivateKey": "AAAA"}, "private key"),
        ({"DomainSigningSelector": "s"}, "DomainSigningPrivateKey"),
        ({"DomainSigningPrivateKey": rsa_private_key()}, "DomainSigningSelector"),
        ({"DomainSigningAttributesOrigin": "AWS_SES_US_EAST_1"}, "replication"),
        ({"DomainSigningAttributesOrigin": "AWS_SES"}, "not allowed on CreateEmailIdentity"),
        (
            {
                "DomainSigningAttributesOrigin": "EXTERNAL",
                "DomainSigningSelector": "s",
                "DomainSigningPrivateKey": rsa_private_key(),
            },
            "not allowed on CreateEmailIdentity",
        ),
    ],
)
def test_bad_dkim_signing_attributes_are_bad_requests(ses, signing, field):
    code, error_type, message = error_of(ses.create(DkimSigningAttributes=signing))
    assert (code, error_type) == (400, "BadRequestException") and field in message
    assert ses.get().status_code == 404


# --- errors -------------------------------------------------------------------------------------


def test_creating_an_identity_twice_is_already_exists(ses):
    ses.created()
    assert error_of(ses.create()) == (
        400,
        "AlreadyExistsException",
        "Email identity example.com already exist.",
    )


def test_unknown_identities_are_not_found_for_get_delete_and_dkim_signing(ses):
    for answer in (
        ses.get("nowhere.example"),
        ses.call("DELETE", "/v2/email/identities/nowhere.example"),
        ses.put("nowhere.example", "dkim/signing", {"SigningAttributesOrigin": "AWS_SES"}),
    ):
        assert error_of(answer) == (
            404,
            "NotFoundException",
            "Email identity nowhere.example does not exist.",
        )
    status_code, error_type, _ = error_of(ses.put("nowhere.example", "mail-from", {}))
    assert (status_code, error_type) == (400, "BadRequestException")


def test_delete_forgets_the_identity(ses, control):
    ses.created()
    answer = ses.call("DELETE", f"/v2/email/identities/{NAME}")
    assert answer.status_code == 200 and answer.json() == {}
    assert ses.get().status_code == 404
    assert control.domains("ses") == []


def test_the_identity_limit_is_limit_exceeded(ses, control):
    control.settings("ses", max_identities=1)
    ses.created()
    assert error_of(ses.create("second.example"))[:2] == (400, "LimitExceededException")


def test_an_injected_429_is_too_many_requests(ses, control):
    control.add_http_fault("ses", operation="GetEmailIdentity", status=429, count=1)
    assert error_of(ses.get())[:2] == (429, "TooManyRequestsException")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"EmailIdentity": "https://example.com/"}, "Invalid email identity"),
        ({"EmailIdentity": "example.com", "Colour": "blue"}, "Colour"),
        ({"EmailIdentity": "example.com", "Tags": [{"Key": "aws:x", "Value": ""}]}, "aws:"),
        ({}, "EmailIdentity"),
    ],
)
def test_invalid_input_is_bad_request_naming_the_field(ses, control, body, field):
    with control.expecting_errors():
        answer = ses.call("POST", "/v2/email/identities", body)
    code, error_type, message = error_of(answer)
    assert (code, error_type) == (400, "BadRequestException") and field in message


def test_boto3_a_tag_value_starting_with_aws_is_reserved(urls, control):
    # the model's Tag shape: the aws: prefix can't be used in tag keys or values
    client = boto3_ses(urls, attempts=1)
    with control.expecting_errors(), pytest.raises(client.exceptions.BadRequestException) as raised:
        client.create_email_identity(
            EmailIdentity=NAME, Tags=[{"Key": "owner", "Value": "aws:team"}]
        )
    assert "aws:" in raised.value.response["Error"]["Message"]
    assert control.domains("ses") == []


def test_boto3_tags_an_identity_by_its_arn_lists_and_untags_them(urls, control):
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity=NAME, Tags=[{"Key": "env", "Value": "test"}])
    # the account in the ARN is not read: Terraform, told not to ask STS, leaves it empty
    arn = f"arn:aws:ses:{REGION}::identity/{NAME}"
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}
    ]
    client.tag_resource(
        ResourceArn=f"arn:aws:ses:{REGION}:123456789012:identity/Example.COM",
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "mail"}],
    )
    assert client.get_email_identity(EmailIdentity=NAME)["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": "mail"},
    ]
    client.untag_resource(ResourceArn=arn, TagKeys=["env", "never-there"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "mail"}
    ]
    saved = json.loads(control.export_scenario(format="json"))  # a world saved keeps them
    assert [d["attrs"]["tags"] for d in saved["domains"]] == [[{"Key": "team", "Value": "mail"}]]


def test_boto3_untags_a_key_with_a_comma_as_the_one_key_it_is(urls, control):
    """`TagKeys=a%2Cb` is one key, as an exploded query array's item is: the sandbox split it
    into `a` and `b`, and untagged two keys the client never named (and refused `x,`, an
    empty key; found by Schemathesis)."""
    client = boto3_ses(urls)
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    client.create_email_identity(EmailIdentity=NAME, Tags=tags)
    arn = f"arn:aws:ses:{REGION}:123456789012:identity/{NAME}"
    client.untag_resource(ResourceArn=arn, TagKeys=["a,b", "x,"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == tags


def test_a_body_fields_refusal_names_it_first_and_once(ses, control):
    """It said "5 is not of type 'string' - 'Tags.0.Key'": Connexion's suffix, not SES's."""
    body = {"EmailIdentity": NAME, "Tags": [{"Key": 5, "Value": "x"}]}
    with control.expecting_errors():
        answer = ses.call("POST", "/v2/email/identities", body)
    assert error_of(answer) == (
        400,
        "BadRequestException",
        "Tags.0.Key: 5 is not of type 'string'",
    )


@pytest.mark.parametrize(
    ("arn", "error_type", "said"),
    [
        (f"arn:aws:ses:{REGION}:123456789012:identity/other.example", "NotFoundException", "other"),
        (f"arn:aws:ses:us-east-1::identity/{NAME}", "NotFoundException", "in eu-west-1, the"),
        ("example.com", "BadRequestException", "'ResourceArn': 'example.com' does not match"),
    ],
)
def test_an_arn_naming_no_identity_of_the_caller_is_said(ses, control, arn, error_type, said):
    ses.created()
    with control.expecting_errors():
        answer = ses.call("GET", "/v2/email/tags", params={"ResourceArn": arn})
    _, got_type, message = error_of(answer)
    assert got_type == error_type and said in message


def test_tags_hold_only_the_characters_the_model_names_and_at_most_fifty(ses, control):
    ses.created()
    arn = f"arn:aws:ses:{REGION}::identity/{NAME}"
    with control.expecting_errors():
        odd = ses.call(
            "POST", "/v2/email/tags", {"ResourceArn": arn, "Tags": [{"Key": "k#", "Value": ""}]}
        )
        many = [{"Key": f"k{n}", "Value": "ü ok_.:/=+-"} for n in range(50)]
        assert (
            ses.call("POST", "/v2/email/tags", {"ResourceArn": arn, "Tags": many}).status_code
            == 200
        )
        one_more = ses.call(
            "POST", "/v2/email/tags", {"ResourceArn": arn, "Tags": [{"Key": "x", "Value": ""}]}
        )
    assert error_of(odd)[:2] == (400, "BadRequestException") and "k#" in error_of(odd)[2]
    assert error_of(one_more)[2] == "A resource can have as many as 50 tags"
    assert len(ses.got()["Tags"]) == 50


def test_boto3_reads_an_account_in_the_ses_sandbox(urls, control):
    account = boto3_ses(urls).get_account()
    assert (account["ProductionAccessEnabled"], account["SendingEnabled"]) == (False, True)
    assert account["SendQuota"] == {"Max24HourSend": 200, "MaxSendRate": 1, "SentLast24Hours": 0}
    assert account["EnforcementStatus"] == "HEALTHY"


def test_a_configuration_set_that_does_not_exist_is_not_found(ses):
    code, error_type, message = error_of(ses.create(ConfigurationSetName="my-set"))
    assert (code, error_type) == (404, "NotFoundException") and "my-set" in message


def test_requests_without_sigv4_are_refused_403_as_aws_does_and_malformed_ones_are_incomplete(
    ses, control
):
    missing = (403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    with control.expecting_errors():
        unsigned = httpx.get(ses.base + "/v2/email/identities/example.com")
        unsigned_post = httpx.post(ses.base + "/v2/email/identities", json={"Colour": 1})
        bearer = httpx.get(
            ses.base + "/v2/email/identities/example.com", headers={"Authorization": "Bearer x"}
        )
    assert error_of(unsigned) == missing
    assert re.fullmatch(r"[0-9a-f-]{36}", unsigned.headers["x-amzn-RequestId"])
    assert error_of(unsigned_post) == missing  # refused before its body is looked at
    assert error_of(bearer) == missing
    malformed = ses.call(
        "GET",
        "/v2/email/identities/example.com",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKID"},
    )
    code, error_type, message = error_of(malformed)
    assert (code, error_type) == (400, "IncompleteSignatureException")
    assert message == (
        "Authorization header requires 'Signature' parameter. Authorization header requires "
        "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKID"
    )
    scope = "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=0"
    code, error_type, message = error_of(
        ses.call("GET", "/v2/email/identities/example.com", headers={"Authorization": scope})
    )
    assert (code, error_type) == (400, "IncompleteSignatureException")
    assert message.startswith("Credential should be <access key id>/<yyyymmdd>/<region>/ses/")
    other_service = sigv4_header(KEY_A).replace("/ses/aws4_request", "/sesv2/aws4_request")
    code, error_type, message = error_of(
        ses.call(
            "GET", "/v2/email/identities/example.com", headers={"Authorization": other_service}
        )
    )
    assert (code, error_type) == (403, "InvalidSignatureException")
    assert message.startswith("Credential should be scoped to correct service: 'ses'.")


def test_registered_access_keys_only_once_some_are_registered(ses, control, urls):
    control.register_credential("ses", KEY_B)
    assert error_of(ses.create())[:2] == (403, "UnrecognizedClientException")
    assert Ses2(urls["ses"], KEY_B).create().status_code == 200


# --- accounts and regions ---------------------------------------------------------------------


def test_identities_are_kept_per_account_and_region(ses, control, urls):
    ses.created()
    other_region = Ses2(urls["ses"], KEY_A, "us-east-2")
    other_account = Ses2(urls["ses"], KEY_B)
    assert other_region.get().status_code == 404 and other_account.get().status_code == 404
    tokens = other_account.created()["DkimAttributes"]["Tokens"]
    assert tokens != ses.got()["DkimAttributes"]["Tokens"]
    ids = sorted(d["id"] for d in control.domains("ses"))
    assert ids[0] == NAME and re.fullmatch(r"ses-[0-9a-f]{20}", ids[1])
    assert other_region.listed()["EmailIdentities"] == []


def test_boto3_a_region_ses_does_not_serve_is_refused_not_an_empty_region_of_its_own(urls, control):
    """`eu-west-l` (a typo) was a region of its own: the client's identities seemed gone."""
    typo = sesv2_client(urls["ses"], KEY_A, region="eu-west-l", attempts=1)
    with control.expecting_errors(), pytest.raises(ClientError) as raised:
        typo.list_email_identities()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith(
        "Credential should be scoped to a valid region. ('eu-west-l' is not one of SES's: "
        "af-south-1, ap-northeast-1,"
    )
    assert "eu-west-1" in error["Message"] and "us-gov-west-1" in error["Message"]
    served = sesv2_client(urls["ses"], KEY_A, region="ap-southeast-5", attempts=1)
    assert served.list_email_identities()["EmailIdentities"] == []


@pytest.mark.parametrize(
    "name",
    [".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61]), NAME],
    ids=["253 characters", "held"],
)
def test_the_control_api_creates_an_identity_whose_id_is_not_its_name(ses, control, name):
    ses.created()  # NAME held in the test's account: the control API's client is another
    created = control.create_domain("ses", name)  # the dashboard's "create a domain" too
    assert created["name"] == name and re.fullmatch(r"ses-[0-9a-f]{20}", created["id"])
    assert control.domain("ses", created["id"])["name"] == name


# --- list ---------------------------------------------------------------------------------------


def test_both_list_routes_page_with_next_token(ses, urls):
    for n in range(3):
        ses.created(f"d{n}.example")
    first = ses.listed(PageSize=2)
    assert [i["IdentityName"] for i in first["EmailIdentities"]] == ["d0.example", "d1.example"]
    second = ses.listed(PageSize=2, NextToken=first["NextToken"])
    assert [i["IdentityName"] for i in second["EmailIdentities"]] == ["d2.example"]
    assert "NextToken" not in second
    old = ses.call("GET", "/v2/email/identities", params={"PageSize": 2})
    assert old.status_code == 200 and old.json() == first
    after = ses.call("GET", "/v2/email/identities", params={"NextToken": first["NextToken"]})
    assert after.json() == second


def test_list_filters_by_name_type_and_status(ses, control):
    ses.created("alpha.example")
    ses.created("beta.example")
    ses.created("ops@alpha.example")
    control.publish("ses", "beta.example")
    control.advance(300)

    def names(**filters):
        return [i["IdentityName"] for i in ses.listed(Filter=filters)["EmailIdentities"]]

    assert names(IDENTITY_NAME_CONTAINS="alpha") == ["alpha.example", "ops@alpha.example"]
    assert names(IDENTITY_TYPE="EMAIL_ADDRESS") == ["ops@alpha.example"]
    assert names(VERIFICATION_STATUS="SUCCESS") == ["beta.example"]


def test_an_empty_name_filter_is_a_bad_request(ses, control):
    # IdentityFilterValue has a minimum length of 1 (botocore model); SDKs that do not check
    # lengths themselves (JavaScript v3, Go v2) send it as it is
    with control.expecting_errors():
        answer = ses.call(
            "POST", "/v2/email/list-identities", {"Filter": {"IDENTITY_NAME_CONTAINS": ""}}
        )
    code, error_type, message = error_of(answer)
    assert (code, error_type) == (400, "BadRequestException")
    assert "IDENTITY_NAME_CONTAINS" in message


def test_a_next_token_never_issued_is_a_bad_request(ses, urls):
    answer = ses.call("POST", "/v2/email/list-identities", {"NextToken": "bogus"})
    assert error_of(answer) == (400, "BadRequestException", "Invalid NextToken")
    for n in range(3):
        ses.created(f"t{n}.example")
    token = ses.listed(PageSize=2)["NextToken"]
    for elsewhere in (Ses2(urls["ses"], KEY_A, "us-east-2"), Ses2(urls["ses"], KEY_B)):
        answer = elsewhere.call("POST", "/v2/email/list-identities", {"NextToken": token})
        assert error_of(answer) == (400, "BadRequestException", "Invalid NextToken")


def test_deleting_each_page_while_paging_leaves_nothing_behind(urls):
    """The usual clean-up loop: list a page, delete it, go on with NextToken."""
    client = boto3_ses(urls)
    names = [f"c{n}.clean.example" for n in range(6)]
    for name in names:
        client.create_email_identity(EmailIdentity=name)
    token = {}
    while True:
        page = client.list_email_identities(PageSize=2, **token)
        for identity in page["EmailIdentities"]:
            client.delete_email_identity(EmailIdentity=identity["IdentityName"])
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert client.list_email_identities()["EmailIdentities"] == []


# --- email-address identities -------------------------------------------------------------------


def test_an_email_address_identity_has_no_dkim_started_and_is_verified_by_its_link(ses, control):
    # what AWS answers for an address (quoted in moto issue #9771): no DkimAttributes on create
    created = ses.created("ops@example.com")
    assert created == {"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": False}
    got = ses.call("GET", "/v2/email/identities/ops%40example.com").json()
    assert got["VerificationStatus"] == "PENDING"
    assert got["DkimAttributes"] == {
        "SigningEnabled": False,
        "Status": "NOT_STARTED",
        "SigningAttributesOrigin": "AWS_SES",
        "NextSigningKeyLength": "RSA_1024_BIT",
    }
    assert got["MailFromAttributes"] == {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}
    assert (got["Policies"], got["Tags"], got["VerificationInfo"]) == ({}, [], {})
    assert got["FeedbackForwardingStatus"] is True
    control.verify("ses", "ops@example.com")  # the verification link is clicked
    assert ses.got("ops@example.com")["VerificationStatus"] == "SUCCESS"
    code = error_of(ses.put("ops@example.com", "dkim", {"SigningEnabled": True}))
    assert code == (400, "BadRequestException", "Domain example.com is not verified for DKIM signing.")  # fmt: skip


def test_an_email_address_is_case_sensitive_and_a_domain_is_not(ses, control):
    """SES's developer guide (creating-identities): "Email addresses are case sensitive. If you
    verify sender@EXAMPLE.com, you can't send email from sender@example.com unless you verify
    sender@example.com as well." Domains compare as DNS names do."""
    ses.created("Ops@Example.com")
    ses.created("ops@example.com")  # another identity, not AlreadyExists
    assert ses.get("OPS@EXAMPLE.COM").status_code == 404
    control.verify("ses", "Ops@Example.com")
    assert ses.got("Ops@Example.com")["VerificationStatus"] == "SUCCESS"
    assert ses.got("ops@example.com")["VerificationStatus"] == "PENDING"
    assert ses.call("DELETE", "/v2/email/identities/ops@example.com").status_code == 200
    names = [i["IdentityName"] for i in ses.listed(Filter={"IDENTITY_NAME_CONTAINS": "ops@"})["EmailIdentities"]]  # fmt: skip
    assert names == ["Ops@Example.com"]
    assert ses.get("%20Ops@Example.com").status_code == 404  # a space is part of the name
    ses.created("Example.COM")  # a domain: kept in lower case, the same name in any case
    assert error_of(ses.create("example.com"))[1] == "AlreadyExistsException"
    assert ses.got("EXAMPLE.com")["IdentityType"] == "DOMAIN"
    world = control.export_scenario()  # the address's case survives a saved world
    control.reset()
    control.load_scenario(world)
    assert ses.got("Ops@Example.com")["VerificationStatus"] == "SUCCESS"


def test_an_unclicked_verification_link_fails_after_24_hours(ses, control):
    ses.created("ops@example.com")
    control.advance(86400 - 1)
    assert ses.got("ops@example.com")["VerificationStatus"] == "PENDING"
    control.advance(1)
    assert ses.got("ops@example.com")["VerificationStatus"] == "FAILED"


# --- every state on demand, through the kit, and in the client report -------------------------


@pytest.mark.parametrize("situation", list(Ses.kit.states))
def test_each_state_is_reached_through_the_kit(urls, control, situation):
    with httpx.Client() as http:
        driver = Driver(http, urls["server"], Ses)
        domain_id = reach(
            driver, control, situation, f"{situation.lower().replace('_', '-')}.example"
        )
        answer = driver.call(Ses.kit.get, domain_id).json()
    if situation.startswith("MAIL_FROM_"):  # the MAIL FROM domain's own status
        assert answer["MailFromAttributes"]["MailFromDomainStatus"] == situation[10:]
    else:
        assert Ses.kit.status(answer) == situation
    assert control.settings("ses")["recheck_window_seconds"] == WINDOW  # put back


def test_the_client_report_counts_each_status_under_its_field(ses, control):
    control.clear_report()
    ses.created()
    ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}"})
    control.publish("ses", NAME)
    control.advance(300)
    reached = control.report()["providers"]["ses"]["states_reached"]
    for word in (
        "VerificationStatus=PENDING",
        "VerificationStatus=SUCCESS",
        "DkimAttributes.Status=SUCCESS",
        "MailFromDomainStatus=PENDING",
        "MailFromDomainStatus=SUCCESS",
    ):
        assert word in reached
    assert "VerificationStatus=FAILED" not in reached


# --- the official SDK: boto3's sesv2 client, unchanged ------------------------------------------


def boto3_ses(urls, key: str = KEY_A, attempts: int = 3):
    return sesv2_client(urls["ses"], key, REGION, attempts)


def test_an_address_with_a_slash_is_read_and_deleted_by_its_encoded_name(urls, control, ses):
    """RFC 5322 allows `/` before the `@`; clients send it as `%2F`. Such an identity was
    created, then never found again: the routes matched the decoded path, and a second create
    said it existed."""
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity="a/b@mail.example.com")
    got = client.get_email_identity(EmailIdentity="a/b@mail.example.com")
    assert got["IdentityType"] == "EMAIL_ADDRESS"
    by_hand = ses.call("GET", "/v2/email/identities/a%2Fb%40mail.example.com")
    assert by_hand.status_code == 200, by_hand.text
    mail_from = {"MailFromDomain": "bounce.mail.example.com"}
    assert ses.put("a%2Fb%40mail.example.com", "mail-from", mail_from).status_code == 200
    with control.expecting_errors():  # an operation not served is still no missing identity
        policies = ses.call("GET", "/v2/email/identities/a%2Fb%40mail.example.com/policies")
    assert policies.status_code == 404 and "does not serve GET" in policies.text, policies.text
    assert "/a%2Fb@mail.example.com/policies" in policies.text  # the escaped slash as sent
    paths = {e["path"] for e in control.requests("ses", operation="GetEmailIdentity")}
    assert paths == {"/ses/v2/email/identities/a/b@mail.example.com"}
    client.delete_email_identity(EmailIdentity="a/b@mail.example.com")
    assert client.list_email_identities()["EmailIdentities"] == []
    with pytest.raises(ClientError, match="NotFoundException"):
        client.get_email_identity(EmailIdentity="a/b@mail.example.com")


def test_on_poll_moves_the_clock_for_an_address_with_a_slash_as_for_any(urls, control):
    """On-poll found a polled identity by the path's segments: `a/b@...` is two of them, so
    its second read never moved the clock on to its link's expiry."""
    client = boto3_ses(urls)
    control.set_clock_mode("on-poll")
    for name in ("plain@mail.example.com", "a/b@mail.example.com"):
        client.create_email_identity(EmailIdentity=name)
        statuses = [client.get_email_identity(EmailIdentity=name)["VerificationStatus"]]
        statuses.append(client.get_email_identity(EmailIdentity=name)["VerificationStatus"])
        assert statuses == ["PENDING", "FAILED"], name  # unclicked for a day


def test_boto3_waiting_on_poll_for_the_mail_from_domain_of_a_verified_identity_sees_it_verified(
    urls, control
):
    """On-poll took a verified identity (VerificationStatus SUCCESS, its DKIM's) for one at
    rest, as if its next step were only the daily look: a wait loop on MailFromDomainStatus
    read PENDING for ever, the clock never moving to SES's look at the MX."""
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity=NAME)
    control.publish("ses", NAME)
    control.advance(300)  # SES's first look: DKIM verified
    client.put_email_identity_mail_from_attributes(
        EmailIdentity=NAME, MailFromDomain=f"mail.{NAME}"
    )
    control.publish("ses", NAME)
    control.set_clock_mode("on-poll")
    seen = []
    for _ in range(5):  # a client's wait loop
        got = client.get_email_identity(EmailIdentity=NAME)
        seen.append(got["MailFromAttributes"]["MailFromDomainStatus"])
        if seen[-1] != "PENDING":
            break
    assert seen == ["PENDING", "SUCCESS"]
    assert got["VerificationStatus"] == "SUCCESS"
    assert control.clock()["now"] == "2026-01-01T09:10:00Z"  # SES's first look at the MX


def test_boto3_waiting_on_poll_through_the_list_sees_the_identity_verified(urls, control):
    """boto3 lists identities with a POST (botocore 1.43.105 and later): on-poll moved the
    clock for a GET of a provider's list only, so a wait loop reading VerificationStatus from
    list_email_identities read PENDING for ever."""
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity=NAME)
    control.publish("ses", NAME)
    control.set_clock_mode("on-poll")
    seen = []
    for _ in range(5):  # a client's wait loop
        [listed] = client.list_email_identities()["EmailIdentities"]
        seen.append(listed["VerificationStatus"])
        if seen[-1] != "PENDING":
            break
    assert seen == ["PENDING", "SUCCESS"]
    assert control.clock()["now"] == "2026-01-01T09:05:00Z"  # SES's first look


def test_boto3_waiting_on_poll_for_a_name_another_region_holds_too_sees_its_own_identity(
    urls, control
):
    """The same domain in two regions (the second identity's id is then `ses-<hex>`): on-poll
    found the identity a read names by the name alone, so the second region's wait loop
    moved the clock by the first's identity, verified and at rest, and read PENDING for ever."""
    us_east, eu_west = sesv2_client(urls["ses"], KEY_A, "us-east-1"), boto3_ses(urls)
    us_east.create_email_identity(EmailIdentity=NAME)
    control.publish("ses", NAME)
    control.advance(300)
    assert us_east.get_email_identity(EmailIdentity=NAME)["VerificationStatus"] == "SUCCESS"
    eu_west.create_email_identity(EmailIdentity=NAME)
    [second] = [d["id"] for d in control.domains("ses") if d["id"] != NAME]
    control.publish("ses", second)
    control.set_clock_mode("on-poll")
    seen = []
    for _ in range(5):  # a client's wait loop
        seen.append(eu_west.get_email_identity(EmailIdentity=NAME)["VerificationStatus"])
        if seen[-1] != "PENDING":
            break
    assert seen == ["PENDING", "SUCCESS"]


def test_on_poll_a_failed_identity_whose_mail_from_domain_is_verified_is_at_rest(urls, control):
    """Nothing SES still searches for: a read moves the clock no more (each read moved it a
    day on, to the verified MAIL FROM domain's daily look)."""
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity=NAME)
    client.put_email_identity_mail_from_attributes(
        EmailIdentity=NAME, MailFromDomain=f"mail.{NAME}"
    )
    control.publish("ses", NAME, omit=["dkim_1"])
    control.advance(WINDOW)
    control.set_clock_mode("on-poll")
    before = control.clock()["now"]
    for _ in range(3):
        got = client.get_email_identity(EmailIdentity=NAME)
        assert got["VerificationStatus"] == "FAILED"
        assert got["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"
    assert control.clock()["now"] == before


def test_a_faulted_read_of_an_address_with_a_slash_is_journaled_under_it(urls, control):
    """A call an injected fault answers is journaled under the domain its path names: found by
    the path's segments, `a/b@...` (two of them) was journaled under none."""
    client = boto3_ses(urls, attempts=1)
    client.create_email_identity(EmailIdentity="a/b@mail.example.com")
    control.add_http_fault("ses", status=503, count=1)
    with pytest.raises(ClientError), control.expecting_errors():
        client.get_email_identity(EmailIdentity="a/b@mail.example.com")
    journaled = control.requests(domain="a/b@mail.example.com")
    assert [(e["operation"], e["status"]) for e in journaled] == [
        ("CreateEmailIdentity", 200),
        ("GetEmailIdentity", 503),
    ]


def test_a_faulted_read_of_a_name_another_region_holds_too_is_journaled_under_its_own(
    urls, control
):
    """The same domain in two regions: a call a fault answered was journaled under the first
    region's identity (the one whose id is the name), whoever asked."""
    us_east = sesv2_client(urls["ses"], KEY_A, "us-east-1", attempts=1)
    us_east.create_email_identity(EmailIdentity=NAME)
    eu_west = boto3_ses(urls, attempts=1)
    eu_west.create_email_identity(EmailIdentity=NAME)
    [second] = [d["id"] for d in control.domains("ses") if d["id"] != NAME]
    control.add_http_fault("ses", status=503, count=1)
    with pytest.raises(ClientError), control.expecting_errors():
        eu_west.get_email_identity(EmailIdentity=NAME)
    faulted = [e for e in control.requests() if e["status"] == 503]
    assert [e["domain_id"] for e in faulted] == [second]


def test_a_slash_and_a_percent_sign_escaped_are_two_identities(urls):
    """`w%2Fx` names `w/x`, and `w%252Fx` names `w%2Fx`: routed, the first is kept as sent
    (`w%2Fx`), which is what the second decodes to; they must not share a kept verdict."""
    client = boto3_ses(urls)
    for name in ("w/x@example.com", "w%2Fx@example.com"):
        client.create_email_identity(EmailIdentity=name)
    headers = {"Authorization": sigv4_header(KEY_A, REGION)}
    base = urls["ses"] + "/v2/email/identities/"

    def names() -> list[str]:
        return sorted(i["IdentityName"] for i in client.list_email_identities()["EmailIdentities"])

    assert httpx.delete(base + "w%2Fx%40example.com", headers=headers).status_code == 200
    assert names() == ["w%2Fx@example.com"]
    client.create_email_identity(EmailIdentity="w/x@example.com")
    assert httpx.delete(base + "w%252Fx%40example.com", headers=headers).status_code == 200
    assert names() == ["w/x@example.com"]


def test_boto3_create_publish_advance_verified_list_delete(urls, control, resolver):
    client = boto3_ses(urls)
    created = client.create_email_identity(
        EmailIdentity=NAME, Tags=[{"Key": "env", "Value": "test"}]
    )
    assert created["IdentityType"] == "DOMAIN"
    assert created["DkimAttributes"]["Status"] == "PENDING"
    zone = created["DkimAttributes"]["SigningHostedZone"]
    expected = {(f"{t}._domainkey.{NAME}", f"{t}.{zone}") for t in created["DkimAttributes"]["Tokens"]}  # fmt: skip
    client.put_email_identity_mail_from_attributes(
        EmailIdentity=NAME, MailFromDomain=f"mail.{NAME}", BehaviorOnMxFailure="USE_DEFAULT_VALUE"
    )

    published = control.publish("ses", NAME)
    assert {(p["name"], p["value"]) for p in published if p["type"] == "CNAME"} == expected
    for name, target in expected:
        assert resolver.resolve(name, "CNAME")[0].target.to_text() == target + "."
    control.advance(300)

    got = client.get_email_identity(EmailIdentity=NAME)
    assert got["VerificationStatus"] == "SUCCESS" and got["VerifiedForSendingStatus"] is True
    assert got["DkimAttributes"]["Status"] == "SUCCESS"
    assert got["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"
    checked = got["VerificationInfo"]["LastCheckedTimestamp"]
    assert checked.timestamp() == START_EPOCH + 300  # an epoch number, parsed to a datetime
    assert re.fullmatch(r"[0-9a-f-]{36}", got["ResponseMetadata"]["RequestId"])

    names = [i["IdentityName"] for i in client.list_email_identities(PageSize=100)["EmailIdentities"]]  # fmt: skip
    assert names == [NAME]
    client.delete_email_identity(EmailIdentity=NAME)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_email_identity(EmailIdentity=NAME)


def test_boto3_raises_each_named_exception(urls, control):
    client = boto3_ses(urls, attempts=1)
    client.create_email_identity(EmailIdentity=NAME)
    with pytest.raises(client.exceptions.AlreadyExistsException):
        client.create_email_identity(EmailIdentity=NAME)
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_email_identity(EmailIdentity="nowhere.example")
    with pytest.raises(client.exceptions.BadRequestException):
        client.put_email_identity_mail_from_attributes(
            EmailIdentity=NAME, MailFromDomain="mail.elsewhere.example"
        )
    control.settings("ses", max_identities=1)
    with pytest.raises(client.exceptions.LimitExceededException):
        client.create_email_identity(EmailIdentity="second.example")
    control.add_http_fault("ses", operation="GetEmailIdentity", status=429, count=1)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.get_email_identity(EmailIdentity=NAME)


def test_boto3_unsigned_is_refused_403_missing_authentication_token(urls, control):
    client = boto3.client(
        "sesv2",
        endpoint_url=urls["ses"],
        region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )
    with control.expecting_errors(), pytest.raises(ClientError) as raised:
        client.list_email_identities()
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"] == {
        "Code": "MissingAuthenticationTokenException",
        "Message": "Missing Authentication Token",
    }


def test_boto3_retries_a_throttled_call_and_succeeds(urls, control):
    client = boto3_ses(urls)  # standard mode: three attempts
    client.create_email_identity(EmailIdentity=NAME)
    control.add_http_fault("ses", operation="GetEmailIdentity", status=429, count=2)
    got = client.get_email_identity(EmailIdentity=NAME)
    assert got["ResponseMetadata"]["RetryAttempts"] == 2


def test_boto3_byodkim_and_dkim_attributes(urls, control):
    client = boto3_ses(urls)
    created = client.create_email_identity(
        EmailIdentity=NAME,
        DkimSigningAttributes={
            "DomainSigningSelector": "sel",
            "DomainSigningPrivateKey": rsa_private_key(1024),
        },
    )
    assert created["DkimAttributes"]["Tokens"] == ["sel"]
    control.publish("ses", NAME)
    control.advance(300)
    client.put_email_identity_dkim_attributes(EmailIdentity=NAME, SigningEnabled=False)
    dkim = client.get_email_identity(EmailIdentity=NAME)["DkimAttributes"]
    assert dkim["Status"] == "SUCCESS" and dkim["SigningEnabled"] is False
    assert dkim["CurrentSigningKeyLength"] == "RSA_1024_BIT"
    switched = client.put_email_identity_dkim_signing_attributes(
        EmailIdentity=NAME, SigningAttributesOrigin="AWS_SES"
    )
    assert switched["DkimStatus"] == "PENDING" and len(switched["DkimTokens"]) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.put_email_identity_feedback_attributes(
            EmailIdentity=NAME, EmailForwardingEnabled=True
        ),
        lambda c: c.get_email_identity_policies(EmailIdentity=NAME),
        lambda c: c.list_contact_lists(),
        lambda c: c.list_configuration_sets(),
    ],
)
def test_boto3_an_operation_the_sandbox_does_not_serve_is_no_missing_identity(urls, control, call):
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity=NAME)
    with pytest.raises(ClientError) as raised:
        call(client)
    assert not isinstance(raised.value, client.exceptions.NotFoundException)
    error = raised.value.response["Error"]
    assert error["Code"] == "UnknownOperationException"  # AWS's common error, HTTP 404
    assert "domainsandbox does not serve" in error["Message"]
    assert "operations on email identities, their tags and the account" in error["Message"]
    assert client.get_email_identity(EmailIdentity=NAME)["IdentityType"] == "DOMAIN"


def test_boto3_email_address_identity_with_an_at_sign_in_the_path(urls, control):
    client = boto3_ses(urls)
    client.create_email_identity(EmailIdentity="ops@example.com")
    got = client.get_email_identity(EmailIdentity="ops@example.com")
    assert got["IdentityType"] == "EMAIL_ADDRESS"
    assert got["DkimAttributes"]["Status"] == "NOT_STARTED"
    client.delete_email_identity(EmailIdentity="ops@example.com")
    assert control.domains("ses") == []


def test_a_scenario_keeps_domains_and_addresses_and_ses_goes_on_looking_after_a_load(ses, control):
    ses.created()
    ses.created("ops@example.com")
    ses.put(NAME, "mail-from", {"MailFromDomain": f"mail.{NAME}"})
    control.publish("ses", NAME)
    text = control.export_scenario()
    control.reset(seed=1)
    control.load_scenario(text)
    assert control.export_scenario() == text
    control.advance(300)
    got = ses.got()
    assert got["VerificationStatus"] == "SUCCESS"
    assert got["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"
    assert ses.got("ops@example.com")["VerificationStatus"] == "PENDING"


def test_boto3_given_the_sandbox_without_the_ses_mount_says_where_it_is(urls):
    """botocore reads an error's top-level `message`: given the sandbox's own URL, the answer
    said where SES is, and boto3 showed an empty message."""
    client = sesv2_client(urls["server"], KEY_A, REGION, attempts=1)
    with pytest.raises(ClientError) as lost:
        client.create_email_identity(EmailIdentity="lost.example.com")
    said = str(lost.value)
    assert "domainsandbox does not serve POST /v2/email/identities" in said, said
    # SES's own 404 (only SES serves the path), with the path meant
    assert "(UnknownOperationException)" in said, said
    assert "ses's API is under /ses; did you mean /ses/v2/email/identities?" in said, said


def test_boto3s_ses_v1_client_is_told_to_use_sesv2(urls):
    """boto3.client("ses") (v1, the Query API) posts every action to the endpoint's root: the
    answer said `POST ` and nothing of the client to use instead."""
    from botocore.parsers import ResponseParserError

    v1 = boto3.client(
        "ses",
        endpoint_url=urls["ses"],
        region_name=REGION,
        aws_access_key_id=KEY_A,
        aws_secret_access_key="sandbox-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ResponseParserError) as refused:  # v1 reads XML: botocore quotes the body
        v1.list_identities()
    said = str(refused.value)
    assert "does not serve SES v1 (the Query API, boto3.client(\\'ses\\'))" in said, said
    assert "boto3.client(\\'sesv2\\') with the same endpoint_url" in said


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalFailure"),
        (502, "BadGatewayException"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeoutException"),
    ],
)
def test_an_injected_5xx_is_named_as_docs_ses_md_says(urls, control, status, code):
    client = boto3_ses(urls, attempts=1)
    control.add_http_fault("ses", status=status, count=1)
    with pytest.raises(ClientError) as failed, control.expecting_errors():
        client.list_email_identities()
    error = failed.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code)


def test_a_tags_characters_are_refused_in_words_not_as_a_regex(ses, control):
    """It quoted the document's pattern, ^[\\w\\s.:/=+-]*$, which no client reads as a reason."""
    body = {"EmailIdentity": NAME, "Tags": [{"Key": "team#1", "Value": "x"}]}
    with control.expecting_errors():
        answer = ses.call("POST", "/v2/email/identities", body)
    assert error_of(answer) == (
        400,
        "BadRequestException",
        "Tags.0.Key: 'team#1' is not a tag's text: letters, digits, white space and _ . : / = + -",
    )


def test_a_tag_takes_letters_and_digits_of_any_script_as_the_model_documents(ses, control):
    """The model's Tag documentation says "Unicode letters, digits, white space" and _ . : / = + -
    (no pattern): letters beyond ASCII pass; `@`, which SES's list leaves out, does not."""
    tags = [{"Key": "café", "Value": "東京 ٣"}, {"Key": "ключ", "Value": ""}]
    created = ses.call("POST", "/v2/email/identities", {"EmailIdentity": NAME, "Tags": tags})
    assert created.status_code == 200, created.text
    read = ses.call("GET", f"/v2/email/identities/{NAME}")
    assert read.json()["Tags"] == tags
    refused = {"EmailIdentity": "other." + NAME, "Tags": [{"Key": "a@b", "Value": "x"}]}
    with control.expecting_errors():
        assert ses.call("POST", "/v2/email/identities", refused).status_code == 400
