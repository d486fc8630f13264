"""Amazon SES API v2 email identities: Easy DKIM and BYODKIM, custom MAIL FROM, SES's own checks.

SES v2 has no verify call: once an identity exists, SES looks for its records by itself and
clients poll GetEmailIdentity. The sandbox plays those looks on its clock (first after
`recheck_first_seconds`, backing off to hourly, for 72 hours) with the engine's verifier.

Choices where SES's docs are silent (also in docs/ses.md):
- identities are kept per account (the access key id of the SigV4 credential scope) and region
  (also from the scope); the signature is not checked. Once access keys are registered in the
  sandbox only registered unrevoked ones are accepted (403 UnrecognizedClientException);
- authentication errors are those of AWS's REST-JSON services (SES v2 documents none): no
  SigV4 header 403 MissingAuthenticationTokenException, a header missing a part 400
  IncompleteSignatureException in AWS's words;
- an email-address identity's DKIM reads NOT_STARTED (as AWS shows it); no domain does, as
  CreateEmailIdentity starts DKIM on every domain;
- a domain's id in the sandbox (control API, dashboard, scenarios) is its name, unless that name
  is longer than 64 characters or another account or region holds it already: then `ses-<hex>`;
- a domain is verified (`SUCCESS`) once all three Easy DKIM CNAMEs (or the BYODKIM TXT) resolve;
  not found within `recheck_window_seconds` (72 h) it is `FAILED`, and SES no longer looks at it
  (PutEmailIdentityDkimSigningAttributes starts a new search, as delete and create do);
- a verified domain is looked at again every `verified_recheck_seconds` (a day); records gone,
  wrong or unreachable (SERVFAIL, timeout) make it `TEMPORARY_FAILURE`, looked at on the same
  backing-off schedule for another window: found again -> `SUCCESS`, else `FAILED`;
- a DNS failure while pending is no evidence: the domain stays `PENDING` (ErrorType
  DNS_SERVER_ERROR); NXDOMAIN reads HOST_NOT_FOUND, no record of the type TYPE_NOT_FOUND, a wrong
  value INVALID_VALUE;
- MAIL FROM follows its MX alone, on the same schedule with its own window: exactly one MX, to
  feedback-smtp.<region>.amazonses.com; two MX records fail the check;
- an email-address identity is verified by the link SES mails: the control API's "verify now"
  clicks it; unclicked for `email_link_seconds` (24 h) it is `FAILED`;
- Easy DKIM keys are RSA_2048_BIT; tokens are 32 characters of [a-z2-7];
- no configuration set exists in the sandbox: naming one is NotFoundException; cross-region DKIM
  replication (`DomainSigningAttributesOrigin`, whose AWS_SES and EXTERNAL the model rules out
  on create) is refused with BadRequestException;
- an operation the sandbox does not serve is AWS's 404 UnknownOperationException, never
  NotFoundException (which reads as a missing identity);
- ListEmailIdentities pages hold 100 identities unless PageSize says otherwise (0 counts as
  unset); NextToken is opaque.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Required

from fake_dns.rdata import brief

from .. import documents
from ..engine.ids import _rsa_spki
from ..engine.records import CheckResult, Domain, Outcome, RequiredRecord, Rule
from ..engine.store import Store
from ..errors import reason_phrase, refused_string, unexpected_fields
from .amazonses import (
    DKIM_HOSTED_ZONE,
    EASY_DKIM_KINDS,
    easy_dkim_records,
    easy_dkim_tokens,
    mail_from_records,
)
from .base import (
    LABEL_LIMITS,
    RECHECK_DEFAULTS,
    Provider,
    ProviderError,
    RecheckAttrs,
    reads,
    said_request,
    valid_hostname,
)
from .kit import Call, Hold, Kit, Op, Publish, PythonSdk, Verify

PENDING, SUCCESS, FAILED = "PENDING", "SUCCESS", "FAILED"
TEMPORARY_FAILURE, NOT_STARTED = "TEMPORARY_FAILURE", "NOT_STARTED"
OPEN = (PENDING, TEMPORARY_FAILURE)  # statuses SES keeps looking at
DOMAIN, EMAIL_ADDRESS = "DOMAIN", "EMAIL_ADDRESS"
AWS_SES, EXTERNAL = "AWS_SES", "EXTERNAL"
KEY_2048, KEY_1024 = "RSA_2048_BIT", "RSA_1024_BIT"
USE_DEFAULT_VALUE = "USE_DEFAULT_VALUE"

BYODKIM_KIND = "byodkim"
DKIM_KINDS = (*EASY_DKIM_KINDS, BYODKIM_KIND)
MAIL_FROM_KINDS = ("mail_from_mx", "mail_from_spf")
DEFAULT_PAGE_SIZE = 100
MAX_TAGS = 50  # per resource (the model's TagResource documentation)
# An identity's ARN (the IAM service authorization reference for SES v2: `identity/<name>`)
IDENTITY_ARN = re.compile(
    r"arn:aws[a-z-]*:ses:(?P<region>[a-z0-9-]+):\d*:identity/(?P<name>.+)", re.DOTALL
)
MAX_ID_LENGTH = 64  # what the control API takes as a domain id

# The error codes botocore turns into its named exceptions, by status where none is given
# (an injected fault's).
ERROR_CODES = {
    400: "BadRequestException",
    403: "AccessDeniedException",
    404: "NotFoundException",
    429: "TooManyRequestsException",
    500: "InternalFailure",
    503: "ServiceUnavailable",
}
# Where the access key and region sit in a SigV4 Authorization header.
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([a-z0-9-]+)/([A-Za-z0-9-]+)/aws4_request")
# The access key, date and region of the kit's requests (any well-formed scope would do).
SAMPLE_REGION = "us-east-1"
SAMPLE_SIGNATURE = "0" * 64


def sigv4_header(key: str, region: str = SAMPLE_REGION, date: str = "20260101") -> str:
    """An Authorization header as botocore signs it (the sandbox checks no signature)."""
    return (
        f"AWS4-HMAC-SHA256 Credential={key}/{date}/{region}/ses/aws4_request, "
        f"SignedHeaders=content-type;host;x-amz-date, Signature={SAMPLE_SIGNATURE}"
    )


def _error(status: int, code: str, message: str, field: str | None = None) -> ProviderError:
    return ProviderError(status, message, field=field, code=code)


def bad_request(message: str, field: str | None = None) -> ProviderError:
    return _error(400, "BadRequestException", message, field)


def not_found(message: str) -> ProviderError:
    return _error(404, "NotFoundException", message)


def missing_token() -> ProviderError:
    """What AWS's REST-JSON services answer a request with no SigV4 Authorization header."""
    return _error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")


# A client's PutEmailIdentityMailFromAttributes, for the kit's MAIL FROM situations.
_MAIL_FROM = Op("PUT", "/v2/email/identities/{id}/mail-from", {"MailFromDomain": "bounce.{name}"})


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


# SigV4 signs with the secret access key; the sandbox checks the access key id alone.
SDK_SECRET = "sandbox-secret"


def _ses_sdk(found: dict):
    """boto3's `sesv2` client."""
    import boto3

    return boto3.client(
        "sesv2",
        endpoint_url=found["endpoint_url"],
        region_name=found["region_name"],
        aws_access_key_id=found["aws_access_key_id"],
        aws_secret_access_key=found["aws_secret_access_key"],
    )


class Attrs(RecheckAttrs, total=False):
    """What SES keeps per identity (Domain.attrs)."""

    type: Required[str]  # DOMAIN or EMAIL_ADDRESS
    region: Required[str]
    tags: Required[list[dict]]
    feedback_forwarding: Required[bool]
    signing_enabled: Required[bool]
    mx_failure: Required[str]  # MAIL FROM's BehaviorOnMxFailure
    mail_from: Required[dict | None]  # the MAIL FROM domain and its status
    info: Required[dict]  # last checked, last success, error
    dkim: dict  # the DKIM set-up (Easy DKIM tokens or BYODKIM) and its status
    link: dict  # an email-address identity's verification link and its status


class Ses(Provider):
    attrs_type = Attrs
    name = "ses"
    mount = "/ses"
    client_base = "/ses"
    document = "ses.yaml"
    credential_name = "access key ID"
    # VerificationStatus of an identity (its DKIM status, for a domain)
    statuses = (PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE)
    status_tones = {SUCCESS: "ok", FAILED: "bad", TEMPORARY_FAILURE: "bad"}
    name_rule = (
        "SES holds an identity once per account and region (a domain in any case, an address "
        "as written)"
    )
    record_kinds = (*DKIM_KINDS, *MAIL_FROM_KINDS)
    # What the client report counts: each status under its own field.
    state_words = (
        *(f"VerificationStatus={s}" for s in statuses),
        *(f"DkimAttributes.Status={s}" for s in (*statuses, NOT_STARTED)),
        *(f"MailFromDomainStatus={s}" for s in statuses),
    )
    # Seconds on the sandbox clock (RECHECK_DEFAULTS: SES's schedule while it looks for records
    # and its 72-hour window); how often a verified identity is looked at again; how long an
    # address's verification link lasts; and the identities an account may hold per region.
    settings_defaults = {
        **RECHECK_DEFAULTS,
        "verified_recheck_seconds": 86400,
        "email_link_seconds": 86400,
        "max_identities": 10000,
    }
    # botocore <= 1.43.104 lists identities with GET /v2/email/identities: read as the list
    more_list_routes = ("ListEmailIdentitiesGet",)
    kit = Kit(
        sample_key=lambda owner: f"AKIASANDBOX{owner:09d}",
        headers_for=lambda key: {"Authorization": sigv4_header(key)},
        credential_headers=("authorization",),
        create=Op("POST", "/v2/email/identities", {"EmailIdentity": "{name}"}),
        list=Op("POST", "/v2/email/list-identities", {}),
        get=Op("GET", "/v2/email/identities/{id}"),
        delete=Op("DELETE", "/v2/email/identities/{id}"),
        id_at=None,  # SES addresses an identity by its name; the sandbox's id is that name
        status_at="DkimAttributes.Status",
        errors_at=("message",),
        items_at="EmailIdentities",
        item_id_at="IdentityName",
        states={
            PENDING: (),
            SUCCESS: (Publish(), Verify()),
            FAILED: (Hold("recheck_window_seconds", 0), Verify()),
            TEMPORARY_FAILURE: (Publish(), Verify(), Publish(omit=("dkim_2",)), Verify()),
            # the MAIL FROM domain's states: a client sets one first
            "MAIL_FROM_SUCCESS": (Call(_MAIL_FROM), Publish(), Verify()),
            "MAIL_FROM_FAILED": (Hold("recheck_window_seconds", 0), Call(_MAIL_FROM), Verify()),
            "MAIL_FROM_TEMPORARY_FAILURE": (
                Call(_MAIL_FROM),
                Publish(),
                Verify(),
                Publish(omit=("mail_from_mx",)),
                Verify(),
            ),
        },
        unreachable={
            "DkimAttributes.Status=NOT_STARTED": "an email-address identity's (create "
            "`user@domain` to see it): CreateEmailIdentity starts DKIM on every domain, Easy "
            "DKIM or BYODKIM alike, so a domain reads it only when made through SES's v1 API "
            "(VerifyDomainIdentity without VerifyDomainDkim), which the sandbox does not serve"
        },
        sdk_names=lambda provider, found: {
            "aws_access_key_id": found["key"],
            "aws_secret_access_key": SDK_SECRET,
            "region_name": SAMPLE_REGION,
            "endpoint_url": found["base_url"],
        },
        sdk=PythonSdk("boto3", "boto3", _ses_sdk),
    )

    def reset(self) -> None:
        # x-amzn-RequestId values: their own seeded stream, so answering never shifts the ids
        # and tokens of identities; it starts again with the world
        self._request_ids = self.sandbox.request_ids("ses-request")

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        return {"message": error.message}

    def error_headers(self, error: ProviderError) -> dict:
        """The code botocore reads first: x-amzn-ErrorType."""
        return {"x-amzn-ErrorType": error.extra.get("code") or _code_of(error.status)}

    def too_many_requests(self, retry_after: int) -> ProviderError:
        return _error(429, "TooManyRequestsException", "Too Many Requests")

    def unserved(self, method: str, path: str, status: int) -> ProviderError:
        """An SES operation the sandbox does not serve (SendEmail, ListConfigurationSets,
        PutEmailIdentityFeedbackAttributes...): AWS's UnknownOperationException, never
        NotFoundException, which botocore raises for an identity that does not exist. Another
        method of a served path keeps its 405 (RFC 9110; contract tests expect it)."""
        if status == 405:
            return super().unserved(method, path, status)
        served = (
            "it serves the SES v2 operations on email identities, their tags and the account "
            "(docs/ses.md)"
        )
        if path in ("", "/"):  # SES v1's Query API posts every action to the endpoint's root
            asked = "SES v1 (the Query API, boto3.client('ses'))"
            served += ": boto3.client('sesv2') with the same endpoint_url"
        else:
            asked = said_request(method, path)
        message = f"Unknown operation: domainsandbox does not serve {asked}"
        return _error(404, "UnknownOperationException", f"{message}; {served}")

    def missing_credential(self, message: str) -> ProviderError:
        return missing_token()

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        if field:  # Connexion's " - 'EmailIdentity'": named at the front, as SES's own checks
            message = message.removesuffix(f" - '{field}'")
        if field is None and len(unexpected := unexpected_fields(message)) == 1:
            field = unexpected[0]
            message = f"Unknown field '{field}'"
        elif message == "RequestBody is required":
            message = "A JSON request body is required"
        elif field == "EmailIdentity" and (refused := refused_string(message)):
            name, cut = refused  # the document's pattern: said as SES's own check says it
            message = f"Invalid email identity: {name}{'…' if cut else ''}"
        elif field == "MailFromDomain" and (refused := refused_string(message)):
            name, cut = refused  # the document's pattern, said in words rather than as a regex
            message = (
                f"MAIL FROM domain {name}{'…' if cut else ''} is not a domain name: letters, "
                f"digits and hyphens in dot-separated labels, {LABEL_LIMITS}"
            )
        elif field and field not in message:
            message = f"{field}: {message}"
        return bad_request(message, field)

    def answer_headers(self, request, elapsed: float) -> dict:
        return {"x-amzn-RequestId": self._request_ids.next()}

    # --- auth ---------------------------------------------------------------------------------

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        if not re.fullmatch(r"[A-Za-z0-9]{1,128}", key):
            raise ValueError(f"key: an AWS access key ID is letters and digits, not {key!r}")
        if secret is not None:
            raise ValueError(
                "secret: SigV4 requests never carry the secret access key; register the access "
                "key ID alone"
            )
        return key, None

    def _account(self, request) -> tuple[str, str]:
        """(owner, region) of a request: its access key (the account) and its region."""
        scheme, _, signed = (request.header("authorization") or "").partition(" ")
        if scheme.upper() != "AWS4-HMAC-SHA256":
            raise missing_token()
        match = CREDENTIAL.search(signed)
        if not match or "Signature=" not in signed or "SignedHeaders=" not in signed:
            raise _error(400, "IncompleteSignatureException", _incomplete(signed))
        key, _, region, service = match.groups()
        if service != "ses":
            raise _error(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: 'ses'. (not '{service}')",
            )
        if region not in regions():  # a typo (eu-west-l) would be an empty region of its own
            raise _error(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region. ({brief(region, 40)} is not one "
                f"of SES's: {', '.join(sorted(regions()))})",
            )
        if self.credential_problem(key):
            raise _error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        return f"{self.owner_of(key)}:{region}", region

    authenticate = _account

    def reader(self, request) -> str:
        """The account and region whose identities a request reads."""
        return self._account(request)[0]

    def _identity(self, owner: str, name: str) -> Domain | None:
        """The account's identity `name`, as written (" a.example" names none)."""
        return self.name_holder(self.store, name, owner)

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        """The account and region's identity `name`: a domain in any case, an address as
        written (its local part's case counts)."""
        return store.find_name(self.name, name, owner=owner, same_case="@" in name)

    def what_moves_on(self, domain: Domain) -> str:
        if domain.status == FAILED:  # a verify changes nothing then (docs/ses.md)
            return (
                "SES no longer looks at a FAILED identity: PutEmailIdentityDkimSigningAttributes "
                "starts a new search, as deleting the identity and creating it again does"
            )
        return super().what_moves_on(domain)

    def read_domain(self, request, value: str) -> Domain | None:
        """The caller's identity named `value`: a name may be an identity of several accounts
        and regions, and only the first holder's id is the name."""
        try:
            owner = self.reader(request)
        except ProviderError:
            return None
        return self._identity(owner, value)

    def stored_name(self, name: str) -> str:
        """A domain in lower case; an address as written: SES's developer guide, "Email
        addresses are case sensitive" (creating-identities)."""
        return name if "@" in name else name.lower()

    def _owned(self, request, name: str) -> Domain:
        owner, _ = self._account(request)
        return self._owned_by(owner, name)

    def _owned_by(self, owner: str, name: str) -> Domain:
        identity = self._identity(owner, name)
        if identity is None:
            raise not_found(f"Email identity {name} does not exist.")
        return identity

    # --- records ------------------------------------------------------------------------------

    def _dkim_records(self, domain: Domain) -> list[RequiredRecord]:
        dkim = domain.attrs["dkim"]
        if dkim["origin"] == EXTERNAL:
            selector = dkim["tokens"][0]
            return [
                RequiredRecord(
                    BYODKIM_KIND,
                    "TXT",
                    f"{selector}._domainkey.{domain.name}",
                    f"p={dkim['public_key']}",
                    Rule.DKIM,
                )
            ]
        return easy_dkim_records(dkim["tokens"], domain.name, DKIM_HOSTED_ZONE)

    def _set_records(self, domain: Domain) -> None:
        records = self._dkim_records(domain) if domain.attrs["type"] == DOMAIN else []
        mail_from = domain.attrs["mail_from"]
        if mail_from:
            # MailFromDomainStatus follows the MX alone; the SPF record only aligns SPF
            levels = ("required", "recommended")
            records += mail_from_records(mail_from["domain"], domain.attrs["region"], levels=levels)
        domain.records = records
        kinds = {r.kind for r in records}
        domain.results = {k: v for k, v in domain.results.items() if k in kinds}

    # --- wire views -----------------------------------------------------------------------------

    def _dkim_wire(self, domain: Domain) -> dict:
        a = domain.attrs
        if a["type"] == EMAIL_ADDRESS:  # as AWS answers for an address (moto issue #9771)
            return {
                "SigningEnabled": a["signing_enabled"],
                "Status": NOT_STARTED,
                "SigningAttributesOrigin": AWS_SES,
                "NextSigningKeyLength": KEY_1024,
            }
        dkim = a["dkim"]
        wire = {
            "SigningEnabled": a["signing_enabled"],
            "Status": dkim["status"],
            "Tokens": list(dkim["tokens"]),
        }
        if dkim["origin"] == AWS_SES:
            wire["SigningHostedZone"] = DKIM_HOSTED_ZONE
        wire["SigningAttributesOrigin"] = dkim["origin"]
        if dkim["origin"] == AWS_SES:
            wire["NextSigningKeyLength"] = dkim["next_key"]
        wire["CurrentSigningKeyLength"] = dkim["current_key"]
        wire["LastKeyGenerationTimestamp"] = _epoch(dkim["key_generated_at"])
        return wire

    def _mail_from_wire(self, domain: Domain) -> dict:
        mail_from = domain.attrs["mail_from"]
        if not mail_from:  # as AWS answers with no MAIL FROM set
            return {"BehaviorOnMxFailure": domain.attrs["mx_failure"]}
        return {
            "MailFromDomain": mail_from["domain"],
            "MailFromDomainStatus": mail_from["status"],
            "BehaviorOnMxFailure": domain.attrs["mx_failure"],
        }

    def _verification_info(self, domain: Domain) -> dict:
        info = domain.attrs["info"]
        wire = {}
        if info["last_checked"]:
            wire["LastCheckedTimestamp"] = _epoch(info["last_checked"])
        if info["last_success"]:
            wire["LastSuccessTimestamp"] = _epoch(info["last_success"])
        if info["error"]:
            wire["ErrorType"] = info["error"]
        return wire

    def _sending(self, domain: Domain) -> bool:
        """VerifiedForSendingStatus: the identity is verified."""
        return domain.status == SUCCESS

    def _wire(self, domain: Domain) -> dict:
        a = domain.attrs
        return {
            "IdentityType": a["type"],
            "FeedbackForwardingStatus": a["feedback_forwarding"],
            "VerifiedForSendingStatus": self._sending(domain),
            "DkimAttributes": self._dkim_wire(domain),
            "MailFromAttributes": self._mail_from_wire(domain),
            "Policies": {},
            "Tags": [dict(t) for t in a["tags"]],
            "VerificationStatus": domain.status,
            "VerificationInfo": self._verification_info(domain),
        }

    def states(self, domain: Domain) -> tuple[str, ...]:
        a = domain.attrs
        if "dkim" not in a and "link" not in a:  # still being made
            return ()
        dkim = a["dkim"]["status"] if a["type"] == DOMAIN else NOT_STARTED
        words = [f"VerificationStatus={domain.status}", f"DkimAttributes.Status={dkim}"]
        if a["mail_from"]:
            words.append(f"MailFromDomainStatus={a['mail_from']['status']}")
        return tuple(words)

    def valid_name(self, name: str) -> bool:
        """A domain, or an address at one (an email-address identity)."""
        local, at, host = name.rpartition("@")
        return valid_hostname(host, stored=True) and (not at or 0 < len(local) <= 64)

    # --- operations -----------------------------------------------------------------------------

    def CreateEmailIdentity(self, request, body: dict):
        """POST /v2/email/identities: a domain (Easy DKIM, or BYODKIM) or an address."""
        owner, region = self._account(request)
        raw = body["EmailIdentity"].strip()
        name = self.stored_name(raw)
        kind = EMAIL_ADDRESS if "@" in name else DOMAIN
        if not valid_hostname(name.rpartition("@")[2]):
            raise bad_request(f"Invalid email identity: {raw}", "EmailIdentity")
        tags = _checked_tags(body.get("Tags") or [])
        signing = body.get("DkimSigningAttributes")
        if signing is not None and kind != DOMAIN:
            raise bad_request(
                "DkimSigningAttributes can only be given for a domain identity",
                "DkimSigningAttributes",
            )
        if body.get("ConfigurationSetName"):
            raise not_found(f"Configuration set {body['ConfigurationSetName']} does not exist.")
        with self.store.locked():
            if self._identity(owner, name) is not None:
                # SES's own words, typo included
                raise _error(400, "AlreadyExistsException", f"Email identity {raw} already exist.")
            limit = self.setting("max_identities")
            if self.store.count(self.name, owner) >= limit:
                raise _error(
                    400,
                    "LimitExceededException",
                    f"Maximum number of identities ({limit:g}) reached in {region}.",
                )
            dkim = self._new_dkim(signing or {}) if kind == DOMAIN else None
            identity = self._new(name, owner, region, kind, dkim, tags)
            self.store.add(identity)
        answer = {"IdentityType": kind, "VerifiedForSendingStatus": False}
        if kind == DOMAIN:  # an address's answer has no DkimAttributes (AWS: moto issue #9771)
            answer["DkimAttributes"] = self._dkim_wire(identity)
        return answer

    def _new_dkim(self, signing: dict) -> dict:
        """DKIM of a new domain: Easy DKIM, or BYODKIM when a selector and key are given."""
        origin = signing.get("DomainSigningAttributesOrigin")
        if origin in (AWS_SES, EXTERNAL):  # botocore: "All values except AWS_SES and EXTERNAL"
            raise bad_request(
                f"DomainSigningAttributesOrigin {origin} is not allowed on CreateEmailIdentity: "
                "there it names the region whose DKIM is replicated. Leave it out: a selector "
                "and a private key give BYODKIM, neither gives Easy DKIM",
                "DomainSigningAttributesOrigin",
            )
        if origin is not None:
            raise bad_request(
                f"Cross-region DKIM replication (DomainSigningAttributesOrigin {origin}) is "
                "not modelled by the sandbox",
                "DomainSigningAttributesOrigin",
            )
        if "DomainSigningPrivateKey" in signing or "DomainSigningSelector" in signing:
            return self._byodkim(signing)
        length = signing.get("NextSigningKeyLength", KEY_2048)
        return {
            "origin": AWS_SES,
            "tokens": easy_dkim_tokens(self.ids),
            "next_key": length,
            "current_key": length,
            "key_generated_at": self.now(),
        }

    def _byodkim(self, signing: dict) -> dict:
        selector = signing.get("DomainSigningSelector")
        key = signing.get("DomainSigningPrivateKey")
        if not selector or not key:
            raise bad_request(
                "Bring your own DKIM needs both DomainSigningSelector and DomainSigningPrivateKey",
                "DomainSigningPrivateKey" if selector else "DomainSigningSelector",
            )
        if "NextSigningKeyLength" in signing:
            raise bad_request(
                "NextSigningKeyLength applies to Easy DKIM only, not with a private key",
                "NextSigningKeyLength",
            )
        public_key, bits = _public_key(key)
        return {
            "origin": EXTERNAL,
            "tokens": [selector],
            "public_key": public_key,
            "current_key": KEY_2048 if bits == 2048 else KEY_1024,
            "key_generated_at": self.now(),
        }

    def _new(self, name, owner, region, kind, dkim, tags) -> Domain:
        now = self.now()
        taken = len(name) > MAX_ID_LENGTH or self.store.get(self.name, name) is not None
        identity = self.new_domain(
            self.unused_id(lambda: f"ses-{self.ids.hex(20)}") if taken else name,
            name,
            owner,
            PENDING,
            Attrs(
                type=kind,
                region=region,
                tags=tags,
                feedback_forwarding=True,
                signing_enabled=kind == DOMAIN,
                mx_failure=USE_DEFAULT_VALUE,
                mail_from=None,
                info={"last_checked": None, "last_success": None, "error": None},
            ),
        )
        if kind == DOMAIN:
            window = timedelta(seconds=self.setting("recheck_window_seconds"))
            identity.attrs["dkim"] = dkim | {"status": PENDING, "until": now + window}
        else:
            link = timedelta(seconds=self.setting("email_link_seconds"))
            identity.attrs["link"] = {"status": PENDING, "until": now + link}
        self._set_records(identity)
        self.open_rechecks(identity)
        self._plan(identity)
        self.note_states(identity)
        return identity

    def GetEmailIdentity(self, request, EmailIdentity: str):
        """GET /v2/email/identities/{EmailIdentity}."""
        return self._wire(self._owned(request, EmailIdentity))

    @reads  # a POST that changes nothing
    def ListEmailIdentities(self, request, body: dict | None = None):
        """POST /v2/email/list-identities: filtered, paged by NextToken."""
        body = body or {}
        return self._list(
            request, body.get("Filter") or {}, body.get("NextToken"), body.get("PageSize")
        )

    def later_page(self, request) -> bool:
        """A page past the first: one a NextToken asks for (in the body, or the query of the
        GET route)."""
        body = request.body if isinstance(request.body, dict) else {}
        return bool(body.get("NextToken") or request.params.get("NextToken"))

    def ListEmailIdentitiesGet(
        self, request, NextToken: str | None = None, PageSize: int | None = None
    ):
        """GET /v2/email/identities: the route of botocore <= 1.43.104 (no Filter)."""
        return self._list(request, {}, NextToken, PageSize)

    def _list(self, request, filters: dict, token: str | None, size: int | None) -> dict:
        owner, _ = self._account(request)
        after = _after(token, owner)
        size = size or DEFAULT_PAGE_SIZE
        contains = (filters.get("IDENTITY_NAME_CONTAINS") or "").lower()
        place = partial(self.store.place, self.name, owner=owner)
        identities = [
            d
            for d in self.store.list(self.name, owner)
            if contains in d.name.lower()
            and filters.get("IDENTITY_TYPE", d.attrs["type"]) == d.attrs["type"]
            and filters.get("VERIFICATION_STATUS", d.status) == d.status
            and (after is None or place(d.id) > after)
        ]
        page = identities[:size]
        answer = {
            "EmailIdentities": [
                {
                    "IdentityType": d.attrs["type"],
                    "IdentityName": d.name,
                    "SendingEnabled": self._sending(d),
                    "VerificationStatus": d.status,
                }
                for d in page
            ]
        }
        if len(identities) > size:  # the next page starts after this one's last identity
            answer["NextToken"] = _token(owner, place(page[-1].id))
        return answer

    def DeleteEmailIdentity(self, request, EmailIdentity: str):
        """DELETE /v2/email/identities/{EmailIdentity}."""
        identity = self._owned(request, EmailIdentity)
        self.store.remove(self.name, identity.id)
        return {}

    # --- the account --------------------------------------------------------------------------

    def GetAccount(self, request):
        """GET /v2/email/account: an account in SES's sandbox, as every new account starts in
        each region (AWS's "Request production access": 200 messages a day, 1 a second). The
        sandbox sends no mail, so none was sent."""
        self._account(request)
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": False,
            "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
            "SendingEnabled": True,
        }

    # --- tags ---------------------------------------------------------------------------------

    def ListTagsForResource(self, request, ResourceArn: str):
        """GET /v2/email/tags?ResourceArn=: the identity's tags."""
        return {"Tags": [dict(t) for t in self._tagged(request, ResourceArn).attrs["tags"]]}

    def TagResource(self, request, body: dict):
        """POST /v2/email/tags: the tags added; a key the identity has takes its new value."""
        identity = self._tagged(request, body["ResourceArn"])
        tags = {t["Key"]: t["Value"] for t in identity.attrs["tags"]}
        tags |= {t["Key"]: t["Value"] for t in _checked_tags(body["Tags"])}
        if len(tags) > MAX_TAGS:
            raise bad_request(f"A resource can have as many as {MAX_TAGS} tags", "Tags")
        identity.attrs["tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return {}

    def UntagResource(self, request, ResourceArn: str, TagKeys: list[str]):
        """DELETE /v2/email/tags?ResourceArn=&TagKeys=: those keys' tags removed (a key the
        identity has not is no error)."""
        identity = self._tagged(request, ResourceArn)
        identity.attrs["tags"] = [t for t in identity.attrs["tags"] if t["Key"] not in TagKeys]
        return {}

    def _tagged(self, request, arn: str) -> Domain:
        """The caller's identity an ARN names. The account in the ARN is not read: the sandbox
        knows accounts by their access keys, and Terraform, told not to ask STS, leaves it
        empty."""
        owner, region = self._account(request)
        named = IDENTITY_ARN.fullmatch(arn)  # the document's IdentityArn pattern held
        if named["region"] != region:  # identities are regional: none of this region's
            raise not_found(
                f"Email identity {named['name']} does not exist in {region}, the region the "
                f"request is signed for (the ARN names {named['region']})."
            )
        return self._owned_by(owner, named["name"])

    def PutEmailIdentityDkimAttributes(self, request, EmailIdentity: str, body: dict):
        """PUT .../dkim: DKIM signing on or off."""
        owner, _ = self._account(request)
        identity = self._identity(owner, EmailIdentity)
        enable = bool(body.get("SigningEnabled", False))
        domain_name = EmailIdentity.lower().rpartition("@")[2]
        if identity is None or (identity.attrs["type"] == EMAIL_ADDRESS and enable):
            parent = self._identity(owner, domain_name)
            if identity is None or parent is None or parent.attrs["dkim"]["status"] != SUCCESS:
                # what SES answers here, unknown identity included
                raise bad_request(f"Domain {domain_name} is not verified for DKIM signing.")
        identity.attrs["signing_enabled"] = enable
        identity.updated_at = self.now()
        return {}

    def PutEmailIdentityDkimSigningAttributes(self, request, EmailIdentity: str, body: dict):
        """PUT .../dkim/signing: Easy DKIM (AWS_SES) or BYODKIM (EXTERNAL); a new search."""
        identity = self._owned(request, EmailIdentity)
        if identity.attrs["type"] != DOMAIN:
            raise bad_request("DKIM signing attributes can only be set for a domain identity")
        origin = body["SigningAttributesOrigin"]
        signing = body.get("SigningAttributes") or {}
        if "DomainSigningAttributesOrigin" in signing:
            raise bad_request(
                "DomainSigningAttributesOrigin is only allowed on CreateEmailIdentity",
                "DomainSigningAttributesOrigin",
            )
        old = identity.attrs["dkim"]
        if origin == EXTERNAL:
            dkim = self._byodkim(signing)
        else:
            if "DomainSigningPrivateKey" in signing or "DomainSigningSelector" in signing:
                raise bad_request(
                    "A selector and private key go with SigningAttributesOrigin EXTERNAL",
                    "SigningAttributesOrigin",
                )
            dkim = self._new_dkim(signing) if old["origin"] != AWS_SES else dict(old)
            dkim["next_key"] = signing.get("NextSigningKeyLength", dkim["next_key"])
        changed = dkim["origin"] != old["origin"] or dkim["tokens"] != old["tokens"]
        if changed or old["status"] == FAILED or dkim.get("public_key") != old.get("public_key"):
            # new records to look for (or a failed search started again): a new window
            window = timedelta(seconds=self.setting("recheck_window_seconds"))
            dkim |= {"status": PENDING, "until": self.now() + window}
            identity.attrs["dkim"] = dkim
            self._set_records(identity)
            self.set_status(identity, PENDING)
            self.open_rechecks(identity)
            self._plan(identity)
        else:
            identity.attrs["dkim"] = dkim
        identity.updated_at = self.now()
        answer = {"DkimStatus": dkim["status"], "DkimTokens": list(dkim["tokens"])}
        if dkim["origin"] == AWS_SES:
            answer["SigningHostedZone"] = DKIM_HOSTED_ZONE
        return answer

    def PutEmailIdentityMailFromAttributes(self, request, EmailIdentity: str, body: dict):
        """PUT .../mail-from: a custom MAIL FROM subdomain (or none), and what to do without MX."""
        owner, _ = self._account(request)
        identity = self._identity(owner, EmailIdentity)
        if identity is None:  # SES answers 400 here, not 404
            raise bad_request(f"Identity {EmailIdentity} is invalid. Must be a verified domain.")
        mail_from = (body.get("MailFromDomain") or "").lower()
        parent = identity.name.rpartition("@")[2].lower()
        if mail_from and not mail_from.endswith(f".{parent}"):
            raise bad_request(
                f"MAIL FROM domain {mail_from} must be a subdomain of {parent}.", "MailFromDomain"
            )
        identity.attrs["mx_failure"] = body.get("BehaviorOnMxFailure") or USE_DEFAULT_VALUE
        if mail_from:
            window = timedelta(seconds=self.setting("recheck_window_seconds"))
            identity.attrs["mail_from"] = {
                "domain": mail_from,
                "status": PENDING,
                "until": self.now() + window,
            }
            self.open_rechecks(identity)
        else:
            identity.attrs["mail_from"] = None
        self._set_records(identity)
        self._plan(identity)
        identity.updated_at = self.now()
        self.note_states(identity)
        return {}

    # --- SES's own looks ----------------------------------------------------------------------

    def loaded_attrs(self, attrs: dict) -> dict:
        attrs = super().loaded_attrs(attrs)
        if attrs["type"] not in (DOMAIN, EMAIL_ADDRESS):
            raise ValueError(f"type: {attrs['type']!r} is not {DOMAIN} or {EMAIL_ADDRESS}")
        kept = "dkim" if attrs["type"] == DOMAIN else "link"  # its DKIM set-up, its link
        if not isinstance(attrs.get(kept), dict):
            raise ValueError(f"{kept}: missing; every {attrs['type']} identity keeps one")
        return attrs

    def verify_now(self, domain: Domain) -> None:
        """SES looks now (the control API's "verify now"); for an address: its link clicked."""
        link = domain.attrs.get("link")
        if link and link["status"] == PENDING:
            link["status"] = SUCCESS
            domain.attrs["info"]["last_success"] = self.now()
            self.set_status(domain, SUCCESS)
        before = (domain.due_at, [t["status"] for t in self._tracks(domain).values()])
        self._look(domain)
        after = [t["status"] for t in self._tracks(domain).values()]
        if before[0] is not None and before[0] > self.now() and before[1] == after:
            domain.due_at = before[0]  # an extra look: SES's own schedule goes on as planned
        else:
            self._plan(domain)

    def on_due(self, domain: Domain) -> None:
        self._look(domain)
        self._plan(domain)

    def resting(self, domain: Domain) -> bool:
        """Nothing SES still searches for: no status of the identity PENDING or
        TEMPORARY_FAILURE (its DKIM, its MAIL FROM domain, an address's link). Its
        VerificationStatus alone does not say it: a verified identity whose MAIL FROM domain SES
        still looks for is not at rest, and a failed one whose MAIL FROM domain is verified
        waits for nothing but the daily look."""
        return not any(track["status"] in OPEN for track in self._tracks(domain).values())

    def _tracks(self, domain: Domain) -> dict[str, dict]:
        """The statuses SES keeps for an identity, each with its own window."""
        a = domain.attrs
        tracks = {"dkim": a["dkim"]} if a["type"] == DOMAIN else {"link": a["link"]}
        if a["mail_from"]:
            tracks["mail_from"] = a["mail_from"]
        return tracks

    def _look(self, domain: Domain) -> None:
        """Ask DNS about every record still looked at, and move each status by SES's rules."""
        a, now = domain.attrs, self.now()
        tracks = self._tracks(domain)
        dns_tracks = [
            t for t in ("dkim", "mail_from") if t in tracks and tracks[t]["status"] != FAILED
        ]
        kinds = [r.kind for r in domain.records if _track_of(r.kind) in dns_tracks]
        results = self.check(domain, kinds) if kinds else {}
        if "dkim" in dns_tracks:
            dkim = [results[k] for k in kinds if _track_of(k) == "dkim"]
            self._move(domain, a["dkim"], dkim)
            info = a["info"]
            info["last_checked"] = now
            if all(r.valid for r in dkim):
                info["last_success"], info["error"] = now, None
            else:
                info["error"] = _error_type(next(r for r in dkim if not r.valid))
        if "mail_from" in dns_tracks:
            mx = self._single_mx(domain, results["mail_from_mx"])
            self._move(domain, a["mail_from"], [mx])
        link = a.get("link")
        if link and link["status"] == PENDING and now >= link["until"]:
            link["status"] = FAILED
        self.set_status(domain, tracks["dkim" if a["type"] == DOMAIN else "link"]["status"])

    def _move(self, domain: Domain, track: dict, results: list[CheckResult]) -> None:
        """One status after a look: found -> SUCCESS; lost -> TEMPORARY_FAILURE; not found
        by the end of the window -> FAILED."""
        now, status = self.now(), track["status"]
        if all(r.valid for r in results):
            track["status"] = SUCCESS
        elif status == SUCCESS:
            window = self.setting("recheck_window_seconds")
            track |= {"status": TEMPORARY_FAILURE, "until": now + timedelta(seconds=window)}
            self.open_rechecks(domain)
        elif now >= track["until"]:
            track["status"] = FAILED

    def _single_mx(self, domain: Domain, result: CheckResult) -> CheckResult:
        """SES wants exactly one MX at a MAIL FROM domain: a valid MX among others fails."""
        if not result.valid or len(result.found) == 1:
            return result
        name = result.record.name
        judged = CheckResult(
            result.record,
            Outcome.INVALID,
            f"{len(result.found)} MX records at {name}; a MAIL FROM domain needs exactly one, "
            f"to {result.record.value}",
            result.found,
            result.checked_at,
        )
        domain.results[result.record.kind] = judged
        return judged

    def _plan(self, domain: Domain) -> None:
        """The next look: backing off while a status is open (and at the end of each open
        window), a verified one after verified_recheck_seconds, none once all have failed."""
        now, tracks = self.now(), self._tracks(domain)
        open_dns = [t for k, t in tracks.items() if k != "link" and t["status"] in OPEN]
        # a window ending now gets its last look now, unless that look just happened
        looked_now = domain.last_checked_at == now
        windows = [
            t["until"]
            for t in tracks.values()
            if t["status"] in OPEN and (t["until"] > now or (t["until"] == now and not looked_now))
        ]
        due: datetime | None = None
        if open_dns:
            domain.attrs["recheck_until"] = max(t["until"] for t in open_dns)
            self.plan_recheck(domain)
            due = domain.due_at
        elif (seconds := self.setting("verified_recheck_seconds")) and any(  # 0: never
            t["status"] == SUCCESS for k, t in tracks.items() if k != "link"
        ):
            due = now + timedelta(seconds=seconds)
        if windows and (due is None or min(windows) < due):
            due = min(windows)
        domain.due_at = due


# --- helpers ---------------------------------------------------------------------------------


def _code_of(status: int) -> str:
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    try:
        return reason_phrase(status).title().replace(" ", "").replace("-", "") + "Exception"
    except ValueError:
        return "InternalFailure"


@cache
def regions() -> frozenset[str]:
    """The regions SES serves, as its document names them: `AWS_SES_<REGION>`, the values of
    DkimSigningAttributesOrigin (cross-region DKIM replication is offered in every region)."""
    origins = documents.load("ses.yaml")["components"]["schemas"]["DkimSigningAttributesOrigin"]
    named = [o.removeprefix("AWS_SES_") for o in origins["enum"] if o.startswith("AWS_SES_")]
    return frozenset(name.lower().replace("_", "-") for name in named)


def _incomplete(signed: str) -> str:
    """IncompleteSignatureException's message, in AWS's words: each missing part named, then
    the header as it came."""
    needs = [
        f"Authorization header requires '{part}' parameter."
        for part in ("Credential", "Signature", "SignedHeaders")
        if f"{part}=" not in signed
    ] or [
        "Credential should be <access key id>/<yyyymmdd>/<region>/ses/aws4_request "
        "(a well-formed SigV4 scope)."
    ]
    return " ".join([*needs, f"Authorization=AWS4-HMAC-SHA256 {signed}".rstrip()])


def _track_of(kind: str) -> str:
    return "mail_from" if kind in MAIL_FROM_KINDS else "dkim"


def _epoch(instant: datetime | None) -> float | None:
    """A timestamp as restJson1 sends it by default: seconds since the epoch, a JSON number."""
    if instant is None:
        return None
    seconds = instant.timestamp()
    return int(seconds) if seconds == int(seconds) else seconds


def _error_type(result: CheckResult) -> str:
    """VerificationInfo.ErrorType of a record that was not found valid."""
    if result.outcome is Outcome.TEMPORARY_FAILURE:
        return "DNS_SERVER_ERROR"
    if result.outcome is Outcome.INVALID:
        return "INVALID_VALUE"
    return "HOST_NOT_FOUND" if "NXDOMAIN" in (result.reason or "") else "TYPE_NOT_FOUND"


def _checked_tags(tags: list[dict]) -> list[dict]:
    """Tags as SES takes them: the aws: prefix is AWS's own, in keys and values alike (the
    model's Tag shape), and each key once (their characters and lengths: openapi/ses.yaml)."""
    keys = [t["Key"] for t in tags]
    for tag in tags:
        for part in ("Key", "Value"):
            if tag[part].lower().startswith("aws:"):
                raise bad_request(
                    f"Tag {part.lower()}s starting with 'aws:' are reserved: {tag[part]}", "Tags"
                )
    if len(set(keys)) != len(keys):
        raise bad_request("Tag keys must be unique", "Tags")
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def _token(owner: str, after: int) -> str:
    """A NextToken: the caller's account and region, and the place (Store.place) of the last
    identity it was given. Deleting identities while paging skips none of the others."""
    cursor = {"account": owner, "after": after}
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()


def _after(token: str | None, owner: str) -> int | None:
    """The place a NextToken continues after; BadRequest for one never issued to `owner`."""
    if not token:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
        account, after = cursor["account"], cursor["after"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise bad_request("Invalid NextToken", "NextToken") from None
    if account != owner or not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise bad_request("Invalid NextToken", "NextToken")
    return after


# --- BYODKIM: the public key of the customer's private key ------------------------------------


def _public_key(encoded: str) -> tuple[str, int]:
    """(base64 SubjectPublicKeyInfo, bits) of a base64 DER RSA private key (PKCS#1 or #8)."""
    problem = bad_request(
        "DomainSigningPrivateKey must be a base64-encoded 1024- or 2048-bit RSA private key "
        "(PKCS#1 or PKCS#8 DER, without the PEM header, footer and line breaks)",
        "DomainSigningPrivateKey",
    )
    try:
        items = _der_sequence(base64.b64decode(encoded, validate=True))
        if len(items) >= 3 and items[1][0] == 0x30 and items[2][0] == 0x04:  # PKCS#8
            items = _der_sequence(items[2][1])
        if len(items) < 3 or not all(tag == 0x02 for tag, _ in items[:3]):
            raise problem
        modulus = int.from_bytes(items[1][1], "big")
        exponent = int.from_bytes(items[2][1], "big")
    except (ValueError, IndexError, binascii.Error):
        raise problem from None
    bits = modulus.bit_length()
    if bits not in (1024, 2048) or exponent < 3:
        raise problem
    return base64.b64encode(_rsa_spki(modulus, exponent)).decode(), bits


def _der_sequence(der: bytes) -> list[tuple[int, bytes]]:
    """The elements (tag, content) of the DER SEQUENCE `der`."""
    tag, body, rest = _der_element(der)
    if tag != 0x30 or rest:
        raise ValueError("not one DER SEQUENCE")
    items = []
    while body:
        tag, content, body = _der_element(body)
        items.append((tag, content))
    return items


def _der_element(der: bytes) -> tuple[int, bytes, bytes]:
    if len(der) < 2:
        raise ValueError("truncated DER")
    tag, length, at = der[0], der[1], 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4 or len(der) < 2 + size:
            raise ValueError("bad DER length")
        length, at = int.from_bytes(der[2 : 2 + size], "big"), 2 + size
    if len(der) < at + length:
        raise ValueError("truncated DER")
    return tag, der[at : at + length], der[at + length :]
