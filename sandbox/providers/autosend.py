"""AutoSend domains (Amazon SES underneath): records, the status word and its four flags, errors.

Choices where AutoSend's docs are silent (listed in docs/autosend.md):
- a domain is `VERIFIED` once its ownership TXT and DKIM TXT are valid; the mail-from (MX and
  SPF) and DMARC flags are checked and reported on their own, as in the documented example;
- verify starts a check (`verificationInProgress: true`, status `PENDING`); the result lands
  after `verify_delay_seconds` (default 300; 0: within the call). A domain that does not
  verify stays `PENDING` and is re-checked on the sandbox clock (5 minutes, doubling to
  hourly) for 72 hours after the last verify; after that it stays `PENDING` until verify is
  called again;
- a lookup that failed temporarily (SERVFAIL, timeout) leaves that flag as it was;
- any key of the form `as_<letters, digits, _ or ->` is valid and is its own project (once keys
  are registered in the sandbox, only registered unrevoked ones); a domain name may be added
  once per project, a second add is 400 VALIDATION_FAILED on `domain` (the errors page lists no
  409); ids are 24 lowercase hex characters;
- every answer carries X-RateLimit-Limit/Remaining/Reset ("each API response includes"),
  counted whether or not the limit is enforced.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Required

from ..engine.clock import iso
from ..engine.records import Domain, Outcome, RequiredRecord, Rule
from ..engine.store import Store
from ..errors import reason_phrase, refused_string, unexpected_fields
from .amazonses import mail_from_records
from .base import (
    LABEL_LIMITS,
    MAX_HOSTNAME,
    RECHECK_DEFAULTS,
    Provider,
    ProviderError,
    RecheckAttrs,
    off_loop,
    valid_hostname,
)
from .kit import VERIFY_AT_ONCE, Kit, Op, Publish, Verify

# The project's primary region, when `regionKey` is omitted (the document names the others).
DEFAULT_REGION = "us-east-1"
# The newest Add page names the mail-from host `asend.<domain>` (older pages show `mail.`).
MAIL_FROM_LABEL = "asend"
DKIM_SELECTOR = "autosend"
DKIM_BITS = 1024  # the documented key starts MIGfMA0..., the SPKI of a 1024-bit RSA key
DMARC_VALUE = "v=DMARC1; p=none;"
# AutoSend API keys look like `as_...`; anything else is refused with 401.
API_KEY = re.compile(r"^as_[A-Za-z0-9_-]+$")

PENDING_CONFIGURATION, PENDING, VERIFIED = "PENDING_CONFIGURATION", "PENDING", "VERIFIED"

# The record kinds behind each flag (kinds are what `publish --omit/--corrupt` take).
FLAGS = {
    "ownershipVerified": ("ownership",),
    "dkimEnabled": ("dkim",),
    "mailFromEnabled": ("mail_from_mx", "mail_from_spf"),
    "dmarcEnabled": ("dmarc",),
}
PURPOSES = {
    "ownership": "Domain ownership verification",
    "dkim": "DKIM authentication",
    "mail_from_mx": "Mail-from domain",
    "mail_from_spf": "SPF record for mail-from domain",
    "dmarc": "DMARC policy",
}
# AutoSend's documented codes, plus the likeliest ones where the docs are silent.
ERROR_CODES = {
    400: "VALIDATION_FAILED",
    401: "UNAUTHORIZED",
    402: "PLAN_UPGRADE_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
}
DOMAIN_RULES = (
    "domain must be a domain name such as example.com or mail.example.com: letters, digits and "
    f"hyphens in dot-separated labels, {LABEL_LIMITS}; no protocol, no path, no trailing slash"
)
VERIFY_MESSAGE = "Domain verification status updated"
DELETE_MESSAGE = "Domain deleted successfully"


class Attrs(RecheckAttrs, total=False):
    """What AutoSend keeps per domain (Domain.attrs)."""

    region: Required[str]
    flags: Required[dict[str, bool]]  # the capability flags of its answer, by name
    in_progress: Required[bool]  # a verify's check is under way
    verified_at: Required[datetime | None]


class AutoSend(Provider):
    attrs_type = Attrs
    name = "autosend"
    mount = "/autosend/v1"
    client_base = "/autosend/v1"
    record_kinds = ("ownership", "dkim", "mail_from_mx", "mail_from_spf", "dmarc")
    document = "autosend.yaml"
    statuses = (PENDING_CONFIGURATION, PENDING, VERIFIED)
    status_tones = {VERIFIED: "ok"}
    name_rule = "AutoSend holds a name once per project"
    # verify answers the domain, and its docs send clients to it to see the status updated: a
    # client may wait by calling it until VERIFIED
    polled_checks = ("verify_domain",)
    # Seconds on the sandbox clock. The real API answers verify at once and SES keeps checking
    # a pending identity for 72 hours; the delay lets clients test their polling loops.
    rate_limit = (2, 1.0)  # "2 requests per second per API key" (docs, rate limit)
    rate_limit_headers_always = True  # "Each API response includes rate limit information"
    # PENDING lasts 5 minutes after a verify, the low end of the "5-30 min" AutoSend's guidance
    # gives; 0 answers the result within the call.
    settings_defaults = {"verify_delay_seconds": 300, **RECHECK_DEFAULTS}
    kit = Kit(
        sample_key=lambda owner: f"as_sample_project_{owner}",
        headers_for=lambda key: {"Authorization": f"Bearer {key}"},
        credential_headers=("authorization",),
        create=Op("POST", "/domains", {"domain": "{name}"}),
        list=Op("GET", "/domains"),
        get=Op("GET", "/domains/{id}"),
        verify=Op("POST", "/domains/{id}/verify"),
        delete=Op("DELETE", "/domains/{id}"),
        id_at="data.id",
        status_at="data.verificationStatus",
        items_at="data.domains",
        errors_at=("error.details.0.message", "error.message"),
        states={
            PENDING_CONFIGURATION: (),
            PENDING: (VERIFY_AT_ONCE, Verify()),
            VERIFIED: (VERIFY_AT_ONCE, Publish(), Verify()),
        },
        no_python_sdk="its official SDK is the Node package autosendjs",
    )

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        code = ERROR_CODES.get(error.status) or _phrase_code(error.status)
        message = "Unauthorized" if error.status == 401 else error.message
        body = {"message": message, "code": code}
        if error.extra.get("details"):
            body["details"] = error.extra["details"]
        if error.status == 429:
            body |= {"code": "RATE_LIMIT_EXCEEDED", "retryAfter": error.extra.get("retry_after", 1)}
        return {"success": False, "error": body}

    def error_headers(self, error: ProviderError) -> dict:
        if error.status == 429:
            return {"Retry-After": str(error.extra.get("retry_after", 1))}
        return {}

    def rate_limit_headers(self, limit: int, remaining: int, reset_at) -> dict:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(int(reset_at.timestamp())),
        }

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        """Connexion's rejections as AutoSend's VALIDATION_FAILED, naming the field."""
        if field is None and len(unexpected := unexpected_fields(message)) == 1:
            field, message = unexpected[0], f"unknown field '{unexpected[0]}'"
        elif message.startswith("Extra query parameter"):  # Connexion's "foo,bar not in spec"
            return _unknown_query(field.split(",") if field else [""])
        elif field == "domainId":
            message = "domainId must be 24 lowercase hex characters, e.g. 60d5ec49f1b2c72d9c8b1111"
        elif field == "domain" and (refused := refused_string(message)):
            # the document's pattern and lengths refused it: say which of AutoSend's rules
            name, cut = refused
            if "is too long" in message:
                message = f"domain must be at most {MAX_HOSTNAME} characters"
            else:  # (a name cut short in the message is judged by the document's words alone)
                message = (None if cut else _domain_problem(name)) or DOMAIN_RULES
        elif message == "RequestBody is required":
            message = 'a JSON body is required, e.g. {"domain": "example.com"}'
        if field:
            message = message.removesuffix(f" - '{field}'")
        return _invalid(field, message)

    # --- auth ---------------------------------------------------------------------------------

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        if not API_KEY.match(key):
            raise ValueError(
                f"key: AutoSend API keys look like as_<letters, digits, _ or ->, not {key!r}"
            )
        return super().check_credential(key, secret)

    def _project(self, request) -> str:
        """The project (its owner id) of the API key: each valid key sees only its own domains."""
        key = request.bearer_token
        if key is None or not API_KEY.match(key) or self.credential_problem(key):
            raise ProviderError(401, "Unauthorized")
        return self.owner_of(key)

    authenticate = _project

    def _owned(self, request, domain_id: str) -> Domain:
        not_found = f"Domain {domain_id} not found in this project"
        return self.owned(domain_id, self._project(request), not_found)

    # --- records ------------------------------------------------------------------------------

    def _records(self, name: str, region: str) -> list[RequiredRecord]:
        token = f"autosend-verify-{self.ids.hex(32)}"
        key = self.ids.rsa_public_key(DKIM_BITS)
        mail_from = f"{MAIL_FROM_LABEL}.{name}"
        return [
            RequiredRecord("ownership", "TXT", f"_autosend-verify.{name}", token, Rule.TOKEN),
            RequiredRecord("dkim", "TXT", f"{DKIM_SELECTOR}._domainkey.{name}", key, Rule.DKIM),
            *mail_from_records(mail_from, region, levels=("recommended", "recommended")),
            RequiredRecord(
                "dmarc", "TXT", f"_dmarc.{name}", DMARC_VALUE, Rule.DMARC, level="recommended"
            ),
        ]

    def _wire_record(self, record: RequiredRecord) -> dict:
        wire = {
            "name": record.name,
            "value": record.value,
            "type": record.type,
            "purpose": PURPOSES[record.kind],
        }
        if record.priority is not None:
            wire["priority"] = record.priority
        return wire

    def _wire(self, domain: Domain) -> dict:
        records = {r.kind: self._wire_record(r) for r in domain.records}
        attrs = domain.attrs
        wire = {
            "id": domain.id,
            "domainName": domain.name,
            "verificationStatus": domain.status,
            **{flag: attrs["flags"][flag] for flag in FLAGS},
            "dnsRecords": {
                "ownership": records["ownership"],
                "dkim": records["dkim"],
                "mailFrom": [records["mail_from_mx"], records["mail_from_spf"]],
                "dmarc": records["dmarc"],
            },
            "createdAt": iso(domain.created_at, millis=True),
            "lastCheckedAt": iso(domain.last_checked_at or domain.created_at, millis=True),
        }
        if attrs.get("verified_at"):
            wire["verifiedAt"] = iso(attrs["verified_at"], millis=True)
        wire["regionKey"] = attrs["region"]
        wire["verificationInProgress"] = attrs["in_progress"]
        return wire

    # --- operations -----------------------------------------------------------------------------

    def list_domains(self, request):
        """GET /domains: every domain of the key's project, oldest first, no pagination."""
        project = self._project(request)
        domains = [self._wire(d) for d in self.store.list(self.name, project)]
        return {"success": True, "data": {"domains": domains}}

    def get_domain(self, request, domainId: str):
        """GET /domains/{domainId}."""
        return {"success": True, "data": self._wire(self._owned(request, domainId))}

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        return store.find_name(self.name, name, owner=owner)  # the project's, in any case

    def create_domain(self, request, body: dict):
        """POST /domains: `domain`, optional `regionKey`; starts PENDING_CONFIGURATION."""
        project = self._project(request)
        name = _checked_name(body["domain"])
        region = body.get("regionKey", DEFAULT_REGION)  # one of the document's
        with self.store.locked():
            if self.name_holder(self.store, name, project) is not None:
                raise _invalid("domain", f"Domain {name} has already been added to this project")
            domain = self.new_domain(
                self.unused_id(lambda: self.ids.hex(24)),
                name,
                project,
                PENDING_CONFIGURATION,
                Attrs(
                    region=region,
                    flags=dict.fromkeys(FLAGS, False),
                    in_progress=False,
                    verified_at=None,
                ),
            )
            domain.records = self._records(domain.name, region)
            self.store.add(domain)
        return {"success": True, "data": self._wire(domain)}

    def delete_domain(self, request, domainId: str):
        """DELETE /domains/{domainId}: irreversible."""
        self._owned(request, domainId)
        self.store.remove(self.name, domainId)
        return {"success": True, "message": DELETE_MESSAGE}

    @off_loop
    def verify_domain(self, request, domainId: str):
        """POST /domains/{domainId}/verify: start a check; the result lands after the delay."""
        domain = self._owned(request, domainId)
        self.verify_now(domain)
        flags = domain.attrs["flags"]
        return {
            "success": True,
            "data": {
                "domain": self._wire(domain),
                # True as in the documented example: this call triggered a verification.
                "verificationInProgress": True,
                "ownershipVerified": flags["ownershipVerified"],
                "verificationStatus": domain.status,
                "dkimEnabled": flags["dkimEnabled"],
                "mailFromEnabled": flags["mailFromEnabled"],
                "dmarcEnabled": flags["dmarcEnabled"],
            },
            "message": VERIFY_MESSAGE,
        }

    def verify_now(self, domain: Domain) -> None:
        """Start a check as POST /verify does; the result lands after the verify delay."""
        self.open_rechecks(domain)
        if not domain.attrs["in_progress"]:  # a check already under way is not restarted
            if domain.status != VERIFIED:
                self.set_status(domain, PENDING)
            if self.setting("verify_delay_seconds"):
                domain.attrs["in_progress"] = True
                self.schedule(domain, self.setting("verify_delay_seconds"))
            else:
                self._check(domain)

    # --- lifecycle ------------------------------------------------------------------------------

    def _check(self, domain: Domain) -> None:
        """Ask DNS, set each flag from its records, then the status word; plan the re-check."""
        results = self.check(domain)
        domain.attrs["in_progress"] = False
        flags = domain.attrs["flags"]
        for flag, kinds in FLAGS.items():
            outcomes = [results[kind].outcome for kind in kinds]
            if Outcome.TEMPORARY_FAILURE not in outcomes:  # a DNS hiccup is no evidence
                flags[flag] = all(o is Outcome.VALID for o in outcomes)
        if flags["ownershipVerified"] and flags["dkimEnabled"]:
            if domain.status != VERIFIED:  # verified by the check that just ended, at its instant
                domain.attrs["verified_at"] = domain.last_checked_at
            self.set_status(domain, VERIFIED)
            domain.due_at = None
            return
        self.set_status(domain, PENDING)
        domain.attrs["verified_at"] = None
        self.plan_recheck(domain)

    def on_due(self, domain: Domain) -> None:
        self._check(domain)


def _checked_name(raw: str) -> str:
    """The domain as AutoSend accepts it, lowercased; VALIDATION_FAILED saying why otherwise."""
    name = raw.strip()
    problem = _domain_problem(name)
    if problem:
        raise _invalid("domain", problem)
    return name.lower()


def _domain_problem(name: str) -> str | None:
    """What is wrong with a domain name, in AutoSend's rules, or None when it is fine."""
    if not name:
        return "domain is required"
    if "://" in name:
        return "domain must not include a protocol such as https://"
    if name.endswith("/"):
        return "domain must not end with a slash"
    if "/" in name:
        return "domain must not include a path"
    if len(name) > MAX_HOSTNAME:
        return f"domain must be at most {MAX_HOSTNAME} characters"
    if not valid_hostname(name):
        return DOMAIN_RULES
    return None


def _invalid(field: str | None, message: str) -> ProviderError:
    detail = {"field": field, "message": message} if field else {"message": message}
    return ProviderError(400, "Validation failed", field=field, details=[detail])


def _unknown_query(names: list[str]) -> ProviderError:
    """VALIDATION_FAILED with a detail for each query parameter no operation of AutoSend's
    takes (the document declares none)."""
    details = [
        {"field": name, "message": f"unknown query parameter '{name}'"}
        if name
        else {"message": "a query parameter without a name"}
        for name in names
    ]
    return ProviderError(400, "Validation failed", field=names[0] or None, details=details)


def _phrase_code(status: int) -> str:
    try:
        return reason_phrase(status).upper().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "ERROR"
