"""Scaleway Mailbox v1alpha1 domains: per-record reporting, asynchronous validation, errors.

Choices where Scaleway's docs are silent (also in docs/scaleway.md):
- the records, their values and levels are those the real API hands out, and are written as
  it writes them, `dns_name` and the host a CNAME, MX or SRV value points at fully qualified
  (terraform-provider-scaleway's recorded mailbox cassettes): required domain_validation (a
  `scaleway-mailbox=<uuid>` TXT at the domain), mx, spf, dkim, dmarc; recommended imap, pop3,
  submission, autoconfig, autodiscover; optional caldav, carddav. Only required records decide
  `ready`, every record is checked and reported;
- no record is handed out while the domain is `creating` ("validation records not yet
  available"): GET .../records answers `{}`;
- a record never checked reads `unknown_status`; while a validation runs every record reads
  `validating`; a lookup that failed temporarily (SERVFAIL, timeout) reads `invalid` with the
  reason, and fails the validation if the record is required (validate again later);
- validate-records answers 200 `{}`; it is refused with `transient_state` (409) while the domain
  is creating, validating, provisioning or deleting, and does nothing on a `ready` domain;
- any secret key shaped like a UUID is accepted (once keys are registered in the sandbox, only
  registered unrevoked ones: others are `denied_authentication` with reason `not_found`); each
  key is its own organization, and reaching a domain registered with another key is
  `permissions_denied` (403);
- domain names are unique across the sandbox: registering a taken name is `already_exists` (409).
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Required, TypedDict

from ..engine.clock import iso
from ..engine.records import Domain, Outcome, RequiredRecord, Rule
from ..engine.store import Store
from ..errors import reason_phrase, snake_case_phrase, unexpected_fields
from .base import LABEL_LIMITS, Provider, ProviderError, valid_hostname
from .kit import Delete, Hold, Kit, Op, Publish, PythonSdk, Verify

RECOMMENDED = "recommended"

# What Scaleway asks customers to publish, and the service URLs every domain shows, as its API
# answers them (terraform-provider-scaleway, internal/services/mailbox/testdata/*.cassette.yaml):
# hosts under Scaleway's own domain, not the customer's.
SCW_HOSTS = "mailbox.scw.eu"
VALIDATION_PREFIX = "scaleway-mailbox="
MX_HOST = f"smtp.{SCW_HOSTS}"
SPF_INCLUDE = f"include:spf.{SCW_HOSTS}"
DKIM_SELECTOR = "scw-mbox"
DKIM_KEY_BITS = 2048
WEBMAIL_URL = f"https://{SCW_HOSTS}"
IMAP_URL, POP3_URL, SMTP_URL = (f"{service}.{SCW_HOSTS}" for service in ("imap", "pop3", "smtp"))

# List paging: the SDK sends page_size only when the client sets one.
DEFAULT_PAGE_SIZE = 50

# The API's collection, and the project a client of the kit creates its domains in.
_DOMAINS = "/mailbox/v1alpha1/domains"
SAMPLE_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
# The kit's way through the transient statuses: each lands on the next request.
_AT_ONCE = tuple(Hold(f"{step}_seconds", 0) for step in ("creating", "validating", "provisioning"))

# Where organization ids are derived from (uuid5 of the owner id in this namespace).
ORGANIZATIONS = uuid.UUID("5ca1e3a7-0000-4000-8000-000000000000")

# The secret key is a UUID (the SDK refuses anything else before sending).
SECRET_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# What to tell a client whose argument is missing or malformed (instead of a regex).
_UUID_HELP = "must be a UUID, like 11111111-2222-4333-8444-555555555555"
PLAIN_HELP = {
    "project_id": f"project_id {_UUID_HELP}: pass it, or give the client a default project id "
    "(default_project_id in Python, defaultProjectId in JavaScript)",
    "domain_id": f"domain_id {_UUID_HELP}",
    "name": "name must be a fully qualified domain name: letters, digits and '-' in at least "
    f"two dot-separated labels, each starting and ending with a letter or digit, {LABEL_LIMITS}",
}

CREATING, WAITING, VALIDATING = "creating", "waiting_validation", "validating"
FAILED, PROVISIONING, READY, DELETING = "validation_failed", "provisioning", "ready", "deleting"
TRANSIENT = (CREATING, VALIDATING, PROVISIONING, DELETING)

RECORD_STATUS = {
    Outcome.VALID: "valid",
    Outcome.INVALID: "invalid",
    Outcome.NOT_FOUND: "not_found",
    Outcome.TEMPORARY_FAILURE: "invalid",
}
DNS_TYPES = {"TXT": "txt_dns_type", "MX": "mx_dns_type", "CNAME": "cname_dns_type"}
DNS_TYPES |= {"SRV": "srv_dns_type"}

# Scaleway's standard error types, their usual status codes and fixed messages.
ERROR_TYPES = {
    400: "invalid_arguments",
    401: "denied_authentication",
    403: "permissions_denied",
    404: "not_found",
    409: "transient_state",
    429: "too_many_requests",
}
ERROR_MESSAGES = {
    "invalid_arguments": "invalid argument(s)",
    "denied_authentication": "authentication is denied",
    "permissions_denied": "insufficient permissions",
    "not_found": "resource is not found",
    "transient_state": "resource is in a transient state",
    "already_exists": "resource already exists",
    "too_many_requests": "too many requests",
}

ORDERS = {
    "created_at": lambda d: (d.created_at, d.attrs["seq"]),
    "updated_at": lambda d: (d.updated_at, d.attrs["seq"]),
    "name": lambda d: (d.name, d.attrs["seq"]),
    "mailbox_total_count": lambda d: (0, d.attrs["seq"]),  # mailboxes are out of scope
}


def _helped(error: ProviderError) -> ProviderError:
    """`error` with its message as its `help_message` too (the body's `message` is the type's),
    without the reason phrase that `type` says already."""
    error.extra["help_message"] = error.message.removeprefix(f"{reason_phrase(error.status)}: ")
    return error


def _invalid(field: str, reason: str, help_message: str) -> ProviderError:
    detail = {"argument_name": field, "reason": reason, "help_message": help_message}
    return ProviderError(400, help_message, field=field, details=[detail])


def _argument_reason(message: str, field: str | None) -> str:
    """Scaleway's per-field reason for one of Connexion's validation messages."""
    if "required" in message or message.startswith("null is not of type"):
        return "required"  # missing, or null (the SDK sends null for an unset project_id)
    if field is None or any(m in message for m in ("does not match", "is not a '", "not of type")):
        return "format"  # an unreadable body, a malformed UUID or name, a wrong JSON type
    return "constraint"


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


# The SDK wants an access key beside the secret key; the API reads only the secret.
SDK_ACCESS_KEY = "SCWXXXXXXXXXXXXXXXXX"
SDK_REGION = "fr-par"


def _scaleway_sdk(found: dict):
    """The `MailboxV1Alpha1API` over a `scaleway.Client`."""
    from scaleway import Client
    from scaleway.mailbox.v1alpha1 import MailboxV1Alpha1API

    sdk = Client(
        access_key=found["access_key"],
        secret_key=found["secret_key"],
        default_project_id=found["project_id"],
        default_organization_id=found["organization_id"],
        default_region=found["region"],
        api_url=found["base_url"],
    )
    return MailboxV1Alpha1API(sdk)


class Attrs(TypedDict, total=False):
    """What Scaleway keeps per domain (Domain.attrs)."""

    project_id: Required[str]
    # each record's id, by kind (see Scaleway._record_ids)
    record_ids: Required[dict[str, str] | None]
    record_ids_from: int  # the draw they start at, until they are first asked for
    seq: Required[int]  # creation order: orders domains created at one frozen instant


class Scaleway(Provider):
    attrs_type = Attrs
    name = "scaleway"
    mount = "/scaleway"
    client_base = "/scaleway"
    record_kinds = (
        "domain_validation",
        "mx",
        "spf",
        "dkim",
        "dmarc",
        "imap",
        "pop3",
        "submission",
        "autoconfig",
        "autodiscover",
        "caldav",
        "carddav",
    )
    document = "scaleway.yaml"
    # Every recorded answer of Scaleway's API gateway carries `X-Ratelimit-Limit: 50, 50;w=1`
    # (terraform-provider-scaleway's mailbox cassettes): 50 calls a second, per key here.
    rate_limit = (50, 1.0)
    rate_limit_headers_always = True
    statuses = (CREATING, WAITING, VALIDATING, FAILED, PROVISIONING, READY, DELETING)
    status_tones = {READY: "ok", FAILED: "bad"}
    name_rule = "Scaleway holds a name once, whichever organization registers it"
    # How long the domain spends in each transient status, in sandbox-clock seconds: long enough
    # that a client reading it sees each one (an on-poll clock moves through them as it polls);
    # 0 lands the next step on the next request.
    settings_defaults = {
        "creating_seconds": 30,
        "validating_seconds": 60,
        "provisioning_seconds": 120,
        "deleting_seconds": 10,
    }
    kit = Kit(
        sample_key=lambda owner: f"5f7e1a2b-3c4d-4e5f-8a9b-{owner:012x}",  # a secret key
        headers_for=lambda key: {"X-Auth-Token": key},
        credential_headers=("x-auth-token",),
        create=Op("POST", _DOMAINS, {"name": "{name}", "project_id": SAMPLE_PROJECT}),
        list=Op("GET", _DOMAINS),
        get=Op("GET", _DOMAINS + "/{id}"),
        verify=Op("POST", _DOMAINS + "/{id}/validate-records", {}),
        delete=Op("DELETE", _DOMAINS + "/{id}"),
        id_at="id",
        status_at="status",
        items_at="domains",
        page_query=lambda read: {"page": read // 100 + 1, "page_size": 100},
        errors_at=("details.0.help_message", "help_message", "message"),
        # (the steps before the state reached land at once: _AT_ONCE; a later Hold wins)
        states={
            CREATING: (Hold("creating_seconds"),),
            WAITING: _AT_ONCE,
            VALIDATING: (*_AT_ONCE, Hold("validating_seconds"), Verify()),
            FAILED: (*_AT_ONCE, Publish(omit=("dkim",)), Verify()),
            PROVISIONING: (*_AT_ONCE, Hold("provisioning_seconds"), Publish(), Verify()),
            READY: (*_AT_ONCE, Publish(), Verify()),
            DELETING: (*_AT_ONCE, Hold("deleting_seconds"), Delete()),
        },
        sdk_names=lambda provider, found: {
            "access_key": SDK_ACCESS_KEY,
            "secret_key": found["key"],
            "project_id": SAMPLE_PROJECT,
            "organization_id": provider.organization_of(found["key"]),
            "region": SDK_REGION,
        },
        sdk=PythonSdk("scaleway", "scaleway.mailbox.v1alpha1", _scaleway_sdk),
    )

    def reset(self) -> None:
        self.created = 0  # creation sequence: orders domains created at one frozen instant

    state_keys = ("created",)

    def export_state(self) -> dict:
        return {"created": self.created}

    def load_state(self, state: dict) -> None:
        created = state.get("created", 0)
        if not isinstance(created, int) or isinstance(created, bool) or created < 0:
            raise ValueError("scaleway: created is a count of the domains created")
        self.created = created

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        kind = error.extra.get("type") or ERROR_TYPES.get(error.status)
        if kind is None:  # no standard type (405, 415, 5xx): the status's own name, as a type
            # (Scaleway's SDKs keep any `type` they do not know)
            return {
                "type": snake_case_phrase(error.status, "unknown_error"),
                "message": error.message,
            }
        body = {"type": kind, "message": ERROR_MESSAGES[kind]}
        if kind == "invalid_arguments":
            body["details"] = error.extra.get("details") or [
                {"argument_name": "", "reason": "constraint", "help_message": error.message}
            ]
        elif kind == "denied_authentication":
            body |= {"method": "api_key", "reason": error.extra.get("reason", "invalid_argument")}
        else:
            body |= {k: v for k, v in error.extra.items() if k != "type"}
        return body

    def unserved(self, method: str, path: str, status: int) -> ProviderError:
        """Scaleway's fixed `message` for the type; what the sandbox does not serve, and the hint
        of what was meant, in `help_message`, where Scaleway's own errors say what to do."""
        return _helped(super().unserved(method, path, status))

    def hinted(self, error: ProviderError, hint: str) -> ProviderError:
        return _helped(super().hinted(error, hint))

    def rate_limit_headers(self, limit: int, remaining: int, reset_at) -> dict:
        """As the gateway writes them: the quota and its window, what is left, and the whole
        seconds until the window starts again."""
        seconds = max(1, math.ceil((reset_at - self.now()).total_seconds()))
        window = f"{limit}, {limit};w={int(self.rate_limit[1])}"
        return {
            "X-Ratelimit-Limit": window,
            "X-Ratelimit-Remaining": str(max(remaining, 0)),
            "X-Ratelimit-Reset": str(seconds),
        }

    def too_many_requests(self, retry_after: int) -> ProviderError:
        help_message = f"rate limit reached: retry in {retry_after} second(s)"
        return ProviderError(
            429, help_message, help_message=help_message, reset_seconds=retry_after
        )

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        if field is None and len(unexpected := unexpected_fields(message)) == 1:
            field = unexpected[0]  # name the unknown body field itself
            return _invalid(field, "constraint", f"{field} is not a known argument: {message}")
        reason = _argument_reason(message, field)
        if field in PLAIN_HELP and reason != "constraint":  # say it plainly, not with a regex
            a_filter = "query parameter" in message  # a list's: nothing to set on a client
            message = f"{field} {_UUID_HELP}" if a_filter else PLAIN_HELP[field]
        return _invalid(field or "body", reason, message)

    # --- auth ---------------------------------------------------------------------------------

    credential_name = "secret key"

    def credential_key(self, key: str) -> str:
        return key.strip().lower()

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        if not SECRET_KEY.match(self.credential_key(key)):
            raise ValueError(f"key: a Scaleway secret key is a UUID, not {key!r}")
        return super().check_credential(key, secret)

    def _caller(self, request) -> str:
        """The owner id of the request's secret key; each key stands for one organization."""
        key = self.credential_key(request.header("X-Auth-Token") or "")
        if not SECRET_KEY.match(key):
            raise ProviderError(401, "X-Auth-Token must be a secret key (UUID)")
        if problem := self.credential_problem(key):
            # Scaleway's reason for a key it does not know (a revoked key no longer exists)
            raise ProviderError(401, f"the secret key {problem}", reason="not_found")
        return self.owner_of(key)

    authenticate = _caller

    def organization_of(self, key: str) -> str:
        """The organization id a secret key stands for (an SDK client's default_organization_id),
        derived from its owner id: nothing is kept for a key, however many a client tries."""
        return str(uuid.uuid5(ORGANIZATIONS, self.owner_of(self.credential_key(key))))

    def _owned(self, request, domain_id: str, action: str) -> Domain:
        caller = self._caller(request)
        domain = self.store.get(self.name, domain_id.lower())  # a UUID, in any letter case
        if domain is None:
            raise ProviderError(404, "domain not found", resource="domain", resource_id=domain_id)
        if domain.owner != caller:
            detail = {"resource": "domain", "action": action}
            raise ProviderError(403, "domain of another organization", details=[detail])
        return domain

    # --- records ------------------------------------------------------------------------------

    def _records(self, name: str) -> list[RequiredRecord]:
        dkim = f"v=DKIM1; h=sha256; k=rsa; p={self.ids.rsa_public_key(DKIM_KEY_BITS)}"

        def srv(kind, service, port, target, level):
            value = f"0 1 {port} {target}.{SCW_HOSTS}"
            return RequiredRecord(kind, "SRV", f"{service}.{name}", value, Rule.EXACT, level=level)

        def cname(kind):
            target = f"{kind}.{SCW_HOSTS}"
            return RequiredRecord(
                kind, "CNAME", f"{kind}.{name}", target, Rule.CNAME, level=RECOMMENDED
            )

        token = VALIDATION_PREFIX + self.ids.uuid()
        return [
            RequiredRecord("domain_validation", "TXT", name, token, Rule.TOKEN),
            RequiredRecord("mx", "MX", name, MX_HOST, Rule.MX, priority=10),
            RequiredRecord("spf", "TXT", name, f"v=spf1 {SPF_INCLUDE} -all", Rule.SPF, SPF_INCLUDE),
            RequiredRecord("dkim", "TXT", f"{DKIM_SELECTOR}._domainkey.{name}", dkim, Rule.DKIM),
            RequiredRecord("dmarc", "TXT", f"_dmarc.{name}", "v=DMARC1; p=none", Rule.DMARC),
            srv("imap", "_imaps._tcp", 993, "imap", RECOMMENDED),
            srv("pop3", "_pop3s._tcp", 995, "pop3", RECOMMENDED),
            srv("submission", "_submissions._tcp", 465, "smtp", RECOMMENDED),
            cname("autoconfig"),
            cname("autodiscover"),
            srv("caldav", "_caldavs._tcp", 443, "caldav", "optional"),
            srv("carddav", "_carddavs._tcp", 443, "carddav", "optional"),
        ]

    def _record_ids(self, domain: Domain) -> dict[str, str]:
        """Each record's id, by kind: drawn at create, made when first asked for. A create shows
        no record, and twelve seeded draws were the largest part of its cost."""
        attrs = domain.attrs
        if (first := attrs.get("record_ids_from")) is not None:
            kinds = [record.kind for record in domain.records]
            # made whole before they are stored, and the reservation dropped after: a read
            # beside an export's save makes the same ids, and never finds them half made
            attrs["record_ids"] = {
                kind: self.ids.uuid_of(first + n) for n, kind in enumerate(kinds)
            }
            attrs.pop("record_ids_from", None)
        return attrs["record_ids"]

    def loaded_attrs(self, attrs: dict) -> dict:
        attrs = super().loaded_attrs(attrs)
        if attrs["record_ids"] is None and not isinstance(attrs.get("record_ids_from"), int):
            raise ValueError("record_ids: null needs record_ids_from, the draw they start at")
        return attrs

    def settled(self, domain: Domain) -> Domain:
        self._record_ids(domain)
        return domain

    def _record_status(self, domain: Domain, record: RequiredRecord) -> tuple[str, str | None]:
        if domain.status == VALIDATING:
            return "validating", None
        result = domain.results.get(record.kind)
        if result is None:
            return "unknown_status", None
        return RECORD_STATUS[result.outcome], result.reason

    def _wire_record(self, domain: Domain, record: RequiredRecord) -> dict:
        status, error = self._record_status(domain, record)
        result = domain.results.get(record.kind)
        # (fully qualified as the real API writes them: the name, and a value's target host)
        value = record.value if record.type == "TXT" else f"{record.value}."
        if record.type == "MX":
            value = f"{record.priority} {value}"
        wire = {
            "id": self._record_ids(domain)[record.kind],
            "domain_id": domain.id,
            "status": status,
            "level": record.level,
            "dns_type": DNS_TYPES[record.type],
            "dns_name": f"{record.name}.",
            "dns_value": value,
            "created_at": iso(domain.created_at),
            "updated_at": iso(result.checked_at if result else domain.created_at),
        }
        if error is not None:  # the real API leaves it out unless a check found fault
            wire["error"] = error
        return wire

    # --- wire views -----------------------------------------------------------------------------

    def _wire(self, domain: Domain) -> dict:
        name = domain.name
        return {
            "id": domain.id,
            "project_id": domain.attrs["project_id"],
            "organization_id": "",  # as every recorded answer shows it (docs/scaleway.md)
            "name": name,
            "status": domain.status,
            "mailbox_total_count": 0,
            "created_at": iso(domain.created_at),
            "updated_at": iso(domain.updated_at),
            "webmail_url": WEBMAIL_URL,
            "imap_url": IMAP_URL,
            "pop3_url": POP3_URL,
            "smtp_url": SMTP_URL,
        }

    # --- operations -----------------------------------------------------------------------------

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        return store.find_name(self.name, name)  # any organization's, in any case

    def create_domain(self, request, body: dict):
        """POST /mailbox/v1alpha1/domains: register a domain; it starts `creating`."""
        caller = self._caller(request)
        name = body["name"].lower()
        if not valid_hostname(name):  # the document's pattern says the same; kept as a guard
            raise _invalid("name", "format", PLAIN_HELP["name"])
        with self.store.locked():
            if self.name_holder(self.store, name, caller) is not None:
                raise ProviderError(
                    409,
                    "domain exists",
                    type="already_exists",
                    resource="domain",
                    resource_id=name,
                    help_message=f"a domain named {name} is already registered",
                )
            attrs = Attrs(project_id=body["project_id"].lower())
            domain = self.new_domain(self.unused_id(self.ids.uuid), name, caller, CREATING, attrs)
            domain.records = self._records(name)
            # (the key first, where a scenario writes it; the ids once asked for)
            domain.attrs["record_ids"] = None
            domain.attrs["record_ids_from"] = self.ids.reserve(len(domain.records))
            self.created += 1
            domain.attrs["seq"] = self.created
            self.schedule(domain, self.setting("creating_seconds"))
            self.store.add(domain)
        return self._wire(domain)

    def list_domains(
        self,
        request,
        order_by: str = "created_at_desc",
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
        project_id: str | None = None,
        statuses: list[str] | None = None,
        search: str | None = None,
    ):
        """GET /mailbox/v1alpha1/domains: the caller's domains, filtered, ordered and paged."""
        caller = self._caller(request)
        domains = [
            d
            for d in self.store.list(self.name, caller)
            if (project_id is None or d.attrs["project_id"] == project_id.lower())
            and (not statuses or d.status in statuses)
            and (not search or search.lower() in d.name)
        ]
        field, _, direction = order_by.rpartition("_")
        domains.sort(key=ORDERS[field], reverse=direction == "desc")
        start = (page - 1) * page_size
        return {
            "total_count": len(domains),
            "domains": [self._wire(d) for d in domains[start : start + page_size]],
        }

    def later_page(self, request) -> bool:
        return (request.params.get("page") or 1) > 1

    def get_domain(self, request, domain_id: str):
        """GET /mailbox/v1alpha1/domains/{domain_id}."""
        return self._wire(self._owned(request, domain_id, "read"))

    def delete_domain(self, request, domain_id: str):
        """DELETE /mailbox/v1alpha1/domains/{domain_id}: `deleting`, then gone."""
        domain = self._owned(request, domain_id, "delete")
        if domain.status == DELETING:
            raise self._transient(domain)
        self.set_status(domain, DELETING)
        self.schedule(domain, self.setting("deleting_seconds"))
        return self._wire(domain)

    def get_domain_records(self, request, domain_id: str):
        """GET .../records: every record to publish, with its level and last verdict; none
        while the domain is `creating` ("validation records not yet available")."""
        domain = self._owned(request, domain_id, "read")
        if domain.status == CREATING:
            return {}
        return {r.kind: self._wire_record(domain, r) for r in domain.records}

    def validate_domain_records(self, request, domain_id: str, body: dict | None = None):
        """POST .../validate-records: start validating; the verdict lands on the sandbox clock."""
        self.verify_now(self._owned(request, domain_id, "write"))
        return {}

    def verify_now(self, domain: Domain) -> None:
        """Start a validation, as validate-records does (also the control API's verify-now):
        refused (409 `transient_state`) while the domain is on its way somewhere."""
        if domain.status in TRANSIENT:
            raise self._transient(domain)
        if domain.status in (WAITING, FAILED):  # a ready domain stays ready
            self.set_status(domain, VALIDATING)
            self.schedule(domain, self.setting("validating_seconds"))

    # --- lifecycle ------------------------------------------------------------------------------

    def on_due(self, domain: Domain) -> None:
        """One step along creating -> waiting_validation, validating -> ..., deleting -> gone."""
        if domain.status == CREATING:
            self.set_status(domain, WAITING)
        elif domain.status == VALIDATING:
            self.check(domain)
            if domain.status != VALIDATING:
                return  # a delete was acknowledged while DNS answered: it wins
            if self.all_valid(domain):
                self.set_status(domain, PROVISIONING)
                self.schedule(domain, self.setting("provisioning_seconds"))
            else:
                self.set_status(domain, FAILED)
        elif domain.status == PROVISIONING:
            self.set_status(domain, READY)
        elif domain.status == DELETING:
            self.store.remove(self.name, domain.id)

    def _transient(self, domain: Domain) -> ProviderError:
        return ProviderError(
            409,
            f"domain is {domain.status}",
            resource="domain",
            resource_id=domain.id,
            current_state=domain.status,
        )
