"""Mailgun domains: the v3 and v4 Domains API over the engine, records from mailgun_records.

Choices where Mailgun's docs are silent (listed in docs/mailgun.md):
- a new custom domain is `unverified`; verify checks DNS within the call (after
  `verify_delay_seconds`, default 0) and the domain is `active` once its SPF and DKIM TXT
  records are valid (mailgun_records: the tracking CNAME and the MX records are checked and
  reported in their own `valid` but do not decide). A verify that fails leaves it `unverified`
  and Mailgun's re-checks go on on the sandbox clock (5 minutes, doubling to hourly) for 72
  hours after the last verify. An active domain whose records break turns `unverified` at the
  next verify or re-check;
- `disabled` is a state Mailgun puts a domain in for its sending reputation (bounces, spam),
  which the sandbox does not model: no API call disables a domain, so nothing reaches it but a
  loaded scenario; a disabled domain stays disabled through verifies and cannot be deleted
  (400), and shows the `disabled` object of its scenario's attrs or DISABLED_BY_SCENARIO;
- a record whose lookup failed for now (SERVFAIL, timeout) reads `valid: unknown`; a record not
  found or wrong reads `invalid`;
- any API key is valid (HTTP Basic, user `api`) and is its own account; once keys are registered
  in the sandbox only those. A domain name is taken once across the sandbox (as on Mailgun, a
  domain belongs to one account): a second create is 400 "This domain name is already taken";
- the DKIM selector, when `dkim_selector` is not given, is drawn from the seed among those
  Mailgun hands out for a TXT key (krs, smtp, mx); `dkim_key_size` 1024 (default) or 2048;
  `force_root_dkim_host` puts the DKIM record at the root domain, taken as the name's last two
  labels; each domain is its own DKIM authority (a root domain of the same account lends none,
  so `force_dkim_authority` changes nothing);
- `use_automatic_sender_security` (Automatic Sender Security) asks for two DKIM CNAMEs,
  `pdk1._domainkey.<domain>` and `pdk2._domainkey.<domain>` pointing at
  `pdkN._domainkey.<5 hex digits, seeded>.dkim1.mailgun.com`, in place of the TXT key, and
  both decide verification; turned off, the domain's TXT key is back in their place, and on
  again the same CNAMEs. Changing it makes the domain `unverified` until verified again ("the
  domain must be re-verified");
- an empty `smtp_password`, `ips` or `pool_id` is none given (the Ruby SDK's create always
  sends `smtp_password`, empty when unset, and Mailgun takes it); `ips` sent once an address
  (as mailgun.js and the Python SDK send a list) is the comma list (the document's
  `x-comma-list`), another field given twice a 400;
- request errors are 400 `{"message": ...}`: a missing name "Missing parameter 'name'", others
  naming the parameter once and what it takes (TAKES); an unknown domain is 404 "Domain not
  found"; a bad key is 401 "Invalid private key" (JSON, not the plain-text `Forbidden` some
  accounts see);
- the US region is served at /mailgun (api.mailgun.net), the EU region at /mailgun/eu
  (api.eu.mailgun.net): a domain asks for its region's MX and tracking hosts, and the other
  region's API does not know it (404; Mailgun binds a domain's metadata to its region), while
  its name is taken in both (Mailgun's domain names and keys are global);
- the documented quota (300 requests a minute per account) answers 429
  `{"message": "Too Many Requests", "retry-seconds": n}` with Retry-After when limits are on.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Required

from ..engine.records import Domain
from ..engine.store import Store
from . import mailgun_records
from .base import (
    MAX_HOSTNAME,
    RECHECK_DEFAULTS,
    Provider,
    ProviderError,
    RecheckAttrs,
    off_loop,
    said_request,
)
from .kit import Kit, Op, Publish, PythonSdk, Verify

UNVERIFIED, ACTIVE, DISABLED = "unverified", "active", "disabled"
USER = "api"  # HTTP Basic's user name; the password is the API key
# Mailgun's regions, each its own API: api.mailgun.net (US) at the mount, api.eu.mailgun.net
# under EU_MOUNT. A domain lives in the region it was created in.
US, EU = "us", "eu"
EU_MOUNT = "/mailgun/eu"
DEFAULT_MESSAGE_TTL = 3 * 86400  # Mailgun keeps stored messages three days
DEFAULT_LIMIT = 100
# The `disabled` object of a domain a scenario disabled without saying why (Mailgun's required
# fields: code, note, permanently, reason); a scenario's `attrs.disabled` replaces it.
DISABLED_BY_SCENARIO = {
    "code": "sandbox",
    "note": "disabled by a loaded scenario",
    "permanently": False,
    "reason": "disabled in the sandbox",
}

CREATED_MESSAGE = "Domain DNS records have been created"  # on v3 too (the SDKs' live tests)
UPDATED_MESSAGE = "Domain has been updated"
VERIFIED_MESSAGE = "Domain DNS records have been updated"
DELETED_MESSAGE = "Domain will be deleted in the background"
NOT_FOUND = "Domain not found"
TAKEN = "This domain name is already taken"
BAD_KEY = "Invalid private key"
PASSWORD_RULE = "It must be between 5 and 32 characters."

# Boolean form fields and Go's strconv.ParseBool spellings of true.
BOOLEANS = (
    "wildcard",
    "force_dkim_authority",
    "force_root_dkim_host",
    "encrypt_incoming_message",
    "require_tls",
    "skip_verification",
    "use_automatic_sender_security",
)
TRUE, FALSE = {"true", "t", "1"}, {"false", "f", "0"}
# The settings a domain keeps (attrs) with their defaults, in the order the wire shows them.
SETTINGS = {
    "require_tls": False,
    "skip_verification": False,
    "spam_action": "disabled",
    "use_automatic_sender_security": False,
    "web_prefix": mailgun_records.DEFAULT_WEB_PREFIX,
    "web_scheme": "http",
    "wildcard": False,
    "encrypt_incoming_message": False,
    "message_ttl": DEFAULT_MESSAGE_TTL,
}
UPDATABLE = (
    "archive_to",
    "mailfrom_host",
    "message_ttl",
    "require_tls",
    "skip_verification",
    "spam_action",
    "use_automatic_sender_security",
    "web_scheme",
    "web_prefix",
    "wildcard",
)

_REQUIRED = re.compile(r"^'([^']+)' is a required property")
_MAILGUN_ID = re.compile(r"[0-9a-f]{24}")  # the `id` of a domain in Mailgun's answers
_BOOLEAN = "true or false (or 1, 0, t, f: Go's strconv.ParseBool spellings)"
_HOST_LENGTH = f"at most {MAX_HOSTNAME} characters"
# What each parameter of openapi/mailgun.yaml takes, in plain words: a refusal says this once
# ("'limit' parameter must be an integer from 1 to 1000") instead of the validator's own text,
# which repeats the parameter and prints the document's patterns. The domain-name parameters
# and `smtp_password` have Mailgun's own words (validation_error).
TAKES = {
    "limit": "an integer from 1 to 1000",
    "skip": "an integer from 0 to 10000000",
    "state": "one of active, unverified, disabled",
    "sort": "one of name, name:asc, name:desc",
    "authority": _HOST_LENGTH,
    "search": _HOST_LENGTH,
    "include_subaccounts": _BOOLEAN,
    "h:extended": _BOOLEAN,
    "h:with_dns": _BOOLEAN,
    **dict.fromkeys(BOOLEANS, _BOOLEAN),
    "spam_action": "one of disabled, block, tag",
    "web_scheme": "http or https",
    "web_prefix": "a DNS label (letters, digits and inner hyphens, at most 63)",
    "dkim_key_size": "1024 or 2048",
    "dkim_selector": "1 to 63 letters, digits, '-' or '_'",
    "ips": "comma-separated IPv4 addresses",
    "pool_id": "at most 100 characters",
    "message_ttl": "a whole number of seconds from 1 to 2147483647",
    "archive_to": "at most 2048 characters",
}


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


def _mailgun_sdk(found: dict):
    from mailgun.client import Client

    return Client(auth=found["auth"], api_url=found["base_url"])


# The calls served on two routes, /v4 and /v3, each its own operation: the Python SDK sends
# them to /v3, mailgun.js to /v4 (docs/mailgun.md, "Operations"), so an HTTP fault on one
# route never meets the SDK that takes the other. The v4 operation: its v3 twin, the request.
TWIN_ROUTES = {
    "create_domain": ("create_domain_v3", "POST /{v}/domains"),
    "get_domain": ("get_domain_v3", "GET /{v}/domains/{{name}}"),
    "update_domain": ("update_domain_v3", "PUT /{v}/domains/{{name}}"),
    "verify_domain": ("verify_domain_v3", "PUT /{v}/domains/{{name}}/verify"),
}


def _fault_notes() -> dict[str, str]:
    """What `http fault` says of a fault on one route of a call that has two."""
    notes = {
        "list_domains": "mailgun's Python SDK lists through list_domains_v3 (GET /v3/domains) "
        "with mg.domains.get(), through list_domains with mg.domainlist.get(); mailgun.js "
        "through list_domains",
        "list_domains_v3": "mailgun.js lists through list_domains (GET /v4/domains), and so "
        "does the Python SDK's mg.domainlist.get(): this fault meets mg.domains.get() and "
        "other clients of /v3 only",
    }
    for v4, (v3, request) in TWIN_ROUTES.items():
        notes[v4] = (
            f"mailgun's Python SDK calls {v3} ({request.format(v='v3')}) for this, not {v4}: "
            f"this fault meets mailgun.js and other clients of /v4 only; add one on {v3} for "
            "the Python SDK"
        )
        notes[v3] = (
            f"mailgun.js calls {v4} ({request.format(v='v4')}) for this, not {v3}: this fault "
            f"meets the Python SDK and other clients of /v3 only; add one on {v4} for mailgun.js"
        )
    return notes


class Attrs(RecheckAttrs, total=False):
    """What Mailgun keeps per domain (Domain.attrs), besides its settings (SETTINGS' names)."""

    mailgun_id: Required[str]
    region: str  # US or EU: whose API knows the domain (none said: US)
    dkim_host: Required[str]  # where the DKIM record goes
    disabled: Required[dict | None]  # why and since when the domain is disabled
    sender_security_keys: str  # Automatic Sender Security: where Mailgun keeps the DKIM keys
    dkim_txt: dict  # while it is on: the DKIM TXT record's name and value, for when it is off
    mailfrom_host: str
    archive_to: str
    require_tls: Required[bool]
    skip_verification: Required[bool]
    spam_action: Required[str]
    use_automatic_sender_security: Required[bool]
    web_prefix: Required[str]
    web_scheme: Required[str]
    wildcard: Required[bool]
    encrypt_incoming_message: Required[bool]
    message_ttl: Required[int]


class Mailgun(Provider):
    attrs_type = Attrs
    name = "mailgun"
    mount = "/mailgun"
    more_mounts = (EU_MOUNT,)
    client_base = "/mailgun"
    document = "mailgun.yaml"
    statuses = (UNVERIFIED, ACTIVE, DISABLED)
    status_tones = {ACTIVE: "ok", DISABLED: "bad"}
    name_rule = "Mailgun holds a name once, whichever account adds it"
    record_kinds = mailgun_records.MAILGUN_KINDS
    # rate_limit_per_minute: Mailgun's "no more than 300 requests per minute, per account" (its
    # plans differ; a test of a client's 429 handling sets a few rather than make 301 calls)
    settings_defaults = {
        "verify_delay_seconds": 0,
        **RECHECK_DEFAULTS,
        "rate_limit_per_minute": 300,
    }
    settings_least = {"rate_limit_per_minute": 1}  # 0 would refuse every call, for ever
    strict_query = False  # Mailgun ignores parameters it does not know
    fault_notes = _fault_notes()
    kit = Kit(
        sample_key=lambda owner: f"key-{owner:032x}",
        headers_for=lambda key: {
            "Authorization": "Basic " + base64.b64encode(f"{USER}:{key}".encode()).decode()
        },
        credential_headers=("authorization",),
        create=Op("POST", "/v4/domains", {"name": "{name}"}, form=True),
        list=Op("GET", "/v4/domains"),
        get=Op("GET", "/v4/domains/{id}"),
        verify=Op("PUT", "/v4/domains/{id}/verify"),
        delete=Op("DELETE", "/v3/domains/{id}"),
        id_at="domain.name",  # domains are addressed by name
        status_at="domain.state",
        errors_at=("message",),
        items_at="items",
        item_id_at="name",
        page_query=lambda read: {"skip": read},
        states={UNVERIFIED: (Verify(),), ACTIVE: (Publish(), Verify())},
        unreachable={
            DISABLED: "Mailgun's verdict on an account's sending reputation (its document's "
            "example: code `blacklisted`, reason `bad customer`): no API call, DNS step or "
            "clock reaches it; a scenario file can hold a disabled domain"
        },
        sdk=PythonSdk("mailgun", "mailgun.client", _mailgun_sdk),
        # as the SDK's Client and HTTP basic auth take it: user "api", password the key
        sdk_names=lambda provider, found: {"api_key": found["key"], "auth": (USER, found["key"])},
    )

    @property
    def rate_limit(self) -> tuple[int, float]:
        """Per minute, per key: Mailgun's 300, or the sandbox setting."""
        return max(1, int(self.setting("rate_limit_per_minute"))), 60.0

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        if error.status == 401:
            return {"message": BAD_KEY}
        if error.status == 429:
            return {"message": "Too Many Requests", "retry-seconds": error.extra["retry_after"]}
        return {"message": error.message}

    def error_headers(self, error: ProviderError) -> dict:
        if error.status == 429:
            return {"Retry-After": str(error.extra.get("retry_after", 1))}
        return {}

    def too_many_requests(self, retry_after: int) -> ProviderError:
        return ProviderError(429, "Too Many Requests", retry_after=retry_after)

    def unserved(self, method: str, path: str, status: int) -> ProviderError:
        """A Mailgun route the sandbox does not serve (tracking, credentials, DKIM keys,
        messages...): Mailgun's own words for an unknown route, "404 page not found", and that
        the sandbox does not serve it; never "Domain not found"."""
        if status == 405:
            return super().unserved(method, path, status)
        said = said_request(method, path)
        return ProviderError(404, f"404 page not found: domainsandbox does not serve {said}")

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        """Connexion's rejections in Mailgun's words, naming the parameter."""
        if required := _REQUIRED.match(message):
            return ProviderError(400, f"Missing parameter '{required.group(1)}'", field=field)
        if field and "given more than once" in message:  # `name=a&name=b`: not a bad name
            return ProviderError(400, f"'{field}' parameter is given more than once", field=field)
        if field == "smtp_password":
            too = "long" if "is too long" in message else "short"
            return ProviderError(400, f"Password is too {too}. {PASSWORD_RULE}", field=field)
        if field in ("name", "dkim_host_name", "mailfrom_host"):
            return ProviderError(
                400, f"'{field}' parameter is not a valid domain name", field=field
            )
        if field:
            takes = TAKES.get(field)
            said = f"must be {takes}" if takes else "has a value it does not take"
            return ProviderError(400, f"'{field}' parameter {said}", field=field)
        return ProviderError(400, message, field=field)

    # --- auth ---------------------------------------------------------------------------------

    def _account(self, request) -> str:
        """The account (owner id) of the request's API key, or Mailgun's 401."""
        scheme, _, encoded = (request.header("authorization") or "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, _, key = decoded.partition(":")
        if scheme.lower() != "basic" or user != USER or not key or self.credential_problem(key):
            raise ProviderError(401, BAD_KEY)
        return self.owner_of(key)

    authenticate = _account

    def _owned(self, request, name: str) -> Domain:
        domain = self.owned(name.lower(), self._account(request), NOT_FOUND)
        if (region := _region_of(domain)) != _region(request):  # the other region's API
            api = self.api_of(domain)  # knows it not: a wrong base URL
            said = f"{domain.name} is in Mailgun's {region.upper()} region: its API is {api}"
            raise ProviderError(404, NOT_FOUND, violation=said)
        return domain

    # --- the wire -----------------------------------------------------------------------------

    def _wire_domain(self, domain: Domain, extended: bool = False) -> dict:
        attrs = domain.attrs
        wire = {}
        if attrs.get("archive_to"):
            wire["archive_to"] = attrs["archive_to"]
        wire["created_at"] = _rfc1123(domain.created_at)
        if domain.status == DISABLED:  # why: a scenario's own `disabled` object, or the sandbox's
            wire["disabled"] = attrs.get("disabled") or dict(DISABLED_BY_SCENARIO)
        if extended:
            wire["dkim_host"] = attrs["dkim_host"]
        wire |= {
            "encrypt_incoming_message": attrs["encrypt_incoming_message"],
            "id": attrs["mailgun_id"],
            "is_disabled": domain.status == DISABLED,
        }
        if extended:
            wire["mailfrom_host"] = attrs.get("mailfrom_host") or ""
        wire |= {
            "message_ttl": attrs["message_ttl"],
            "name": domain.name,
            "require_tls": attrs["require_tls"],
            "skip_verification": attrs["skip_verification"],
            "smtp_login": f"postmaster@{domain.name}",
            "spam_action": attrs["spam_action"],
            "state": domain.status,
            "type": "custom",
            "use_automatic_sender_security": attrs["use_automatic_sender_security"],
            "web_prefix": attrs["web_prefix"],
            "web_scheme": attrs["web_scheme"],
            "wildcard": attrs["wildcard"],
        }
        return wire

    def _envelope(self, domain: Domain, message: str | None = None, **options) -> dict:
        with_dns = options.pop("with_dns", True)
        wire = {"message": message} if message else {}
        wire["domain"] = self._wire_domain(domain, **options)
        if with_dns:
            # As Mailgun's recorded answers show them: MX records without a name, and the DKIM
            # key not active (not yet signing) while the domain is unverified.
            wire["receiving_dns_records"] = mailgun_records.receiving(domain, named=False)
            wire["sending_dns_records"] = mailgun_records.sending(
                domain, dkim_active=domain.status != UNVERIFIED
            )
        return wire

    # --- operations -----------------------------------------------------------------------------

    def list_domains(
        self,
        request,
        limit: int = DEFAULT_LIMIT,
        skip: int = 0,
        state: str | None = None,
        sort: str | None = None,
        authority: str | None = None,
        search: str | None = None,
    ):
        """GET /v4/domains: newest first unless sorted by name; `total_count` counts every match."""
        account, region = self._account(request), _region(request)
        domains = [d for d in self.store.list(self.name, account) if _region_of(d) == region]
        if state:
            domains = [d for d in domains if d.status == state]
        elif authority:  # each sandbox domain is its own DKIM authority
            domains = [d for d in domains if d.name == authority.lower()]
        if search:
            domains = [d for d in domains if search.lower() in d.name]
        if sort:
            domains.sort(key=lambda d: d.name, reverse=sort == "name:desc")
        else:
            domains.reverse()  # the store keeps them oldest first
        page = domains[skip : skip + limit]
        return {"total_count": len(domains), "items": [self._wire_domain(d) for d in page]}

    list_domains_v3 = list_domains  # GET /v3/domains answers as v4's list

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        # any account's, in any case; or the domain whose id it is (a domain's id is its name,
        # unless a scenario written by hand says otherwise: a create must not replace that one)
        return store.find_name(self.name, name) or store.get(self.name, name.lower())

    def create_domain(self, request, body: dict):
        """POST /v4/domains: a form with `name`; the domain starts unverified."""
        account, region = self._account(request), _region(request)
        name = body["name"].lower()
        fields = _settings(body)
        dkim_host = (body.get("dkim_host_name") or "").lower() or (
            _root(name) if _true(body, "force_root_dkim_host") else name
        )
        if body.get("dkim_host_name") and _true(
            body, "force_dkim_authority", "force_root_dkim_host"
        ):
            raise ProviderError(
                400,
                "dkim_host_name cannot be used with force_dkim_authority or force_root_dkim_host",
                field="dkim_host_name",
            )
        if not (
            dkim_host == name or name.endswith("." + dkim_host) or dkim_host.endswith("." + name)
        ):
            raise ProviderError(
                400,
                "dkim_host_name must be the domain, one of its subdomains or its root domain",
                field="dkim_host_name",
            )
        key_bits = int(body.get("dkim_key_size") or mailgun_records.DEFAULT_KEY_SIZE)
        with self.store.locked():
            if self.name_holder(self.store, name, account) is not None:
                raise ProviderError(400, TAKEN, field="name")
            domain = self.new_domain(
                name,
                name,
                account,
                UNVERIFIED,
                Attrs(
                    mailgun_id=self.ids.hex(24),
                    region=region,
                    dkim_host=dkim_host,
                    disabled=None,
                    **fields,
                ),
            )
            domain.records = mailgun_records.records(
                self.ids,
                name,
                region=region,
                selector=body.get("dkim_selector"),
                key_bits=key_bits,
                web_prefix=fields["web_prefix"],
                dkim_host=dkim_host,
            )
            if fields["use_automatic_sender_security"]:
                self._secure(domain, True)
            self.store.add(domain)
        return self._envelope(domain, CREATED_MESSAGE)

    create_domain_v3 = create_domain  # POST /v3/domains answers as v4's create

    def later_page(self, request) -> bool:
        return (request.params.get("skip") or 0) > 0

    def listed_domains(self, request) -> list[Domain]:
        """The account's domains the list of the region asked shows (the other's are not)."""
        region = _region(request)
        return [d for d in super().listed_domains(request) if _region_of(d) == region]

    def get_domain(self, request, name: str):
        """GET /v4/domains/{name}: the domain and its records (`h:with_dns`, `h:extended`)."""
        domain = self._owned(request, name)
        extended = _true(request.params, "h:extended")
        with_dns = not _false(request.params, "h:with_dns")
        return self._envelope(domain, extended=extended, with_dns=with_dns)

    def get_domain_v3(self, request, name: str):
        return self.get_domain(request, name)

    def update_domain(self, request, name: str, body: dict | None = None):
        """PUT /v4/domains/{name}: change settings; a new web_prefix moves the tracking CNAME."""
        domain = self._owned(request, name)
        body = body or {}
        changes = {k: v for k, v in _settings(body, defaults=False).items() if k in UPDATABLE}
        if "mailfrom_host" in body:
            changes["mailfrom_host"] = body["mailfrom_host"].lower()
        if "archive_to" in body:
            changes["archive_to"] = body["archive_to"]
        attrs = domain.attrs
        if changes.get("web_prefix", attrs["web_prefix"]) != attrs["web_prefix"]:
            tracking = mailgun_records.tracking(
                domain.name, changes["web_prefix"], _region_of(domain)
            )
            domain.records = [tracking if r.kind == "tracking" else r for r in domain.records]
            domain.results.pop("tracking", None)
        resecure = changes.get(
            "use_automatic_sender_security", attrs["use_automatic_sender_security"]
        )
        if resecure != attrs["use_automatic_sender_security"]:
            self._secure(domain, resecure)
            if domain.status == ACTIVE:
                self.set_status(domain, UNVERIFIED)  # "the domain must be re-verified"
        attrs.update(changes)
        domain.updated_at = self.now()
        return self._envelope(domain, UPDATED_MESSAGE)

    def _secure(self, domain: Domain, on: bool) -> None:
        """Automatic Sender Security on: the DKIM TXT record gives way to the two CNAMEs that
        delegate the keys to Mailgun; off: the TXT record in their place again. The domain keeps
        both, so turning it on or off again asks for records already published."""
        attrs, host = domain.attrs, domain.attrs["dkim_host"]
        if on:
            [txt] = [r for r in domain.records if r.kind == "dkim"]
            attrs["dkim_txt"] = {"name": txt.name, "value": txt.value}
            if "sender_security_keys" not in attrs:  # drawn once: the same CNAMEs ever after
                attrs["sender_security_keys"] = self.ids.hex(5)
            dkim = mailgun_records.sender_security(attrs["sender_security_keys"], host)
        elif txt := attrs.pop("dkim_txt", None):
            dkim = [mailgun_records.dkim_record(txt["name"], txt["value"])]
        else:  # a domain loaded with the CNAMEs and no key of its own: a new one
            dkim = [mailgun_records.dkim_key(self.ids, host)]
        domain.records = mailgun_records.with_dkim(domain.records, dkim)
        domain.results = {k: v for k, v in domain.results.items() if not k.startswith("dkim")}

    def update_domain_v3(self, request, name: str, body: dict | None = None):
        return self.update_domain(request, name, body)

    @off_loop
    def verify_domain(self, request, name: str):
        """PUT /v4/domains/{name}/verify: check DNS now; the records as the check saw them."""
        domain = self._owned(request, name)
        self.verify_now(domain)
        return self._envelope(domain, VERIFIED_MESSAGE)

    @off_loop
    def verify_domain_v3(self, request, name: str):
        return self.verify_domain(request, name)

    def delete_domain(self, request, name: str):
        """DELETE /v3/domains/{name}."""
        domain = self._owned(request, name)
        if domain.status == DISABLED:
            raise ProviderError(400, "A disabled domain cannot be deleted")
        self.store.remove(self.name, domain.id)
        return {"message": DELETED_MESSAGE}

    def api_of(self, domain: Domain) -> str:
        return EU_MOUNT if _region_of(domain) == EU else self.client_base

    def loaded_attrs(self, attrs: dict) -> dict:
        """A region no API of the sandbox serves would leave the domain out of every list."""
        attrs = super().loaded_attrs(attrs)
        region = attrs.get("region", US)
        if not isinstance(region, str) or region.lower() not in (US, EU):
            raise ValueError(f"region {region!r}: Mailgun's regions are {US} and {EU}")
        return attrs | {"region": region.lower()}

    def domain_of(self, domain_id: str) -> Domain | None:
        """By its name in any case, as Mailgun's API addresses a domain, or by the `id` its
        answers carry (what a client reading them has at hand)."""
        found = self.store.get(self.name, domain_id.lower())
        if found is None and _MAILGUN_ID.fullmatch(domain_id):
            found = next(
                (d for d in self.store.list(self.name) if d.attrs["mailgun_id"] == domain_id), None
            )
        return found

    # --- lifecycle ------------------------------------------------------------------------------

    def verify_now(self, domain: Domain) -> None:
        """Verify as PUT .../verify does: the domain is unverified while the check runs. Asked
        again while a delayed verify's check is pending, it never puts that check off (each
        verify places the domain unverified again, as Mailgun's docs say: a client waits for
        the check by reading the domain, which an on-poll clock moves to the check's landing)."""
        self.open_rechecks(domain)
        if self.setting("verify_delay_seconds"):
            if domain.status == ACTIVE:
                self.set_status(domain, UNVERIFIED)
            self.schedule_check(domain, self.setting("verify_delay_seconds"))
        else:
            self._check(domain)

    def _check(self, domain: Domain) -> None:
        self.check(domain)
        if domain.status == DISABLED:  # Mailgun's verdict, not DNS's
            domain.due_at = None
            return
        if mailgun_records.verified(domain):
            self.set_status(domain, ACTIVE)
            domain.due_at = None
            return
        self.set_status(domain, UNVERIFIED)
        self.plan_recheck(domain)

    def on_due(self, domain: Domain) -> None:
        self._check(domain)


def _region(request) -> str:
    """The region whose API the request asked: EU under EU_MOUNT, else US."""
    return EU if request.path.startswith(EU_MOUNT + "/") else US


def _region_of(domain: Domain) -> str:
    return domain.attrs.get("region", US)  # a domain exported before regions were served: US


def _root(name: str) -> str:
    """The root domain of `name`, its last two labels (the sandbox has no public-suffix list):
    where force_root_dkim_host puts the DKIM record."""
    return ".".join(name.split(".")[-2:])


def _true(body: dict, *fields: str) -> bool:
    return any(str(body.get(f, "")).lower() in TRUE for f in fields)


def _false(body: dict, field: str) -> bool:
    return str(body.get(field, "")).lower() in FALSE


def _settings(body: dict, defaults: bool = True) -> dict:
    """The domain settings a form gives (booleans parsed), with the defaults if asked."""
    found = dict(SETTINGS) if defaults else {}
    for field in SETTINGS:
        if field in body:
            value = body[field]
            found[field] = _true(body, field) if field in BOOLEANS else value
    if "web_prefix" in body:
        found["web_prefix"] = body["web_prefix"].lower()
    if defaults and body.get("archive_to"):
        found["archive_to"] = body["archive_to"]
    return found


def _rfc1123(at: datetime) -> str:
    """Mailgun's dates: "Thu, 13 Oct 2011 18:02:00 GMT"."""
    return format_datetime(at.astimezone(UTC).replace(microsecond=0), usegmt=True)
