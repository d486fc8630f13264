"""Monite mailbox domains (Mailgun underneath): records, statuses, errors and partner tokens.

Choices where Monite's docs are silent (listed in the README):
- a domain is `verified` once its sending records (SPF and DKIM TXT) are valid; the tracking
  CNAME and the MX records are checked and reported but do not decide;
- there is no failed status: a domain that fails stays `waiting_to_be_verified` while each
  record's `valid` says `invalid` and why; Mailgun's re-checks continue on the sandbox clock
  (5 minutes, doubling to hourly) for 72 hours after the last verify;
- a record whose lookup failed temporarily (SERVFAIL, timeout) reads `valid: unknown`;
- create answers 201, delete 204; request-shape errors are 422 in FastAPI's `detail` shape.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ..engine.clock import iso
from ..engine.records import Domain, Outcome, RequiredRecord, Rule
from .base import RECHECK_DEFAULTS, Provider, ProviderError, off_loop, valid_hostname

SPF_INCLUDE = "include:mailgun.org"
MX_HOSTS = ("mxa.eu.mailgun.org", "mxb.eu.mailgun.org")
TRACKING_TARGET = "eu.mailgun.org"
DKIM_SELECTORS = ("pdk1", "pdk2", "mx", "smtp", "krs")
TOKEN_LIFETIME_SECONDS = 86400

VALIDITY = {
    Outcome.VALID: "valid",
    Outcome.INVALID: "invalid",
    Outcome.NOT_FOUND: "invalid",
    Outcome.TEMPORARY_FAILURE: "unknown",
}

WAITING, VERIFIED = "waiting_to_be_verified", "verified"


class Monite(Provider):
    name = "monite"
    mount = "/monite/v1"
    client_base = "/monite/v1"
    record_kinds = ("spf", "dkim", "tracking", "mx_mxa", "mx_mxb")
    document = "monite.yaml"
    statuses = (WAITING, VERIFIED)
    rate_limit = (30, 1.0)  # "30 requests per second per API client" (docs, rate limiting)
    settings_defaults = {"verify_delay_seconds": 0, **RECHECK_DEFAULTS}

    def reset(self) -> None:
        self.tokens: dict[str, dict] = {}

    def export_state(self) -> dict:
        return {"tokens": self.tokens} if self.tokens else {}

    def load_state(self, state: dict) -> None:
        self.tokens = dict(state.get("tokens", {}))

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.reset()

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        if error.status == 422 and error.extra.get("loc"):
            return {
                "detail": [
                    {"loc": error.extra["loc"], "msg": error.message, "type": error.extra["type"]}
                ]
            }
        return {"error": {"message": error.message}}

    def error_headers(self, error: ProviderError) -> dict:
        if error.status == 429:
            return {"Retry-After": str(error.extra.get("retry_after", 1))}
        return {}

    def rate_limit_headers(self, limit: int, remaining: int, reset_at) -> dict:
        remaining = str(max(remaining, 0))
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": remaining,
            "RateLimit-Reset": str(int(reset_at.timestamp())),
            "X-RateLimit-Limit-Second": str(limit),
            "X-RateLimit-Remaining-Second": remaining,
        }

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        where = re.search(r"(query|path|header|cookie) parameter", message)
        where = where.group(1) if where else "body"
        loc = [where, field] if field else [where]
        return ProviderError(422, message, field=field, loc=loc, type="value_error")

    # --- auth ---------------------------------------------------------------------------------

    def _partner(self, request) -> str:
        token = request.bearer_token
        if token is None:
            raise ProviderError(401, "Authorization header with a Bearer token is required")
        grant = self.tokens.get(token)
        if grant is None or grant["expires_at"] <= self.now():
            raise ProviderError(401, "The access token is invalid or has expired")
        if grant["grant_type"] != "client_credentials":
            raise ProviderError(403, "Mailbox domains require a partner token (client_credentials)")
        return grant["client_id"]

    def create_token(self, body: dict):
        if body["grant_type"] == "entity_user" and not body.get("entity_user_id"):
            raise ProviderError(
                422, "entity_user_id is required", loc=["body", "entity_user_id"], type="missing"
            )
        token = self.ids.token(40)
        now = self.now()  # expired tokens are forgotten: a long-running sandbox stays flat
        self.tokens = {t: g for t, g in self.tokens.items() if g["expires_at"] > now}
        self.tokens[token] = {
            "client_id": body["client_id"],
            "grant_type": body["grant_type"],
            "expires_at": self.now() + timedelta(seconds=TOKEN_LIFETIME_SECONDS),
        }
        return {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    # --- records ------------------------------------------------------------------------------

    def _records(self, name: str) -> list[RequiredRecord]:
        selector = self.ids.random.choice(DKIM_SELECTORS)
        dkim = f"k=rsa; p={self.ids.rsa_public_key(1024)}"
        return [
            RequiredRecord("spf", "TXT", name, f"v=spf1 {SPF_INCLUDE} ~all", Rule.SPF, SPF_INCLUDE),
            RequiredRecord("dkim", "TXT", f"{selector}._domainkey.{name}", dkim, Rule.DKIM),
            RequiredRecord(
                "tracking",
                "CNAME",
                f"email.{name}",
                TRACKING_TARGET,
                Rule.CNAME,
                level="recommended",
            ),
            *(
                RequiredRecord(
                    f"mx_{host[:3]}", "MX", name, host, Rule.MX, priority=10, level="recommended"
                )
                for host in MX_HOSTS
            ),
        ]

    def _wire_record(self, domain: Domain, record: RequiredRecord) -> dict:
        result = domain.results.get(record.kind)
        wire = {"is_active": True, "name": record.name}
        if record.kind in ("spf", "dkim"):
            wire["record_purpose"] = record.kind.upper()
        wire |= {
            "record_type": record.type,
            "valid": VALIDITY[result.outcome] if result else "unknown",
            "value": record.value,
            "cached": list(result.found) if result else [],
        }
        if record.priority is not None:
            wire["priority"] = str(record.priority)
        return wire

    def _wire(self, domain: Domain) -> dict:
        sending = [r for r in domain.records if r.type != "MX"]
        receiving = [r for r in domain.records if r.type == "MX"]
        return {
            "id": domain.id,
            "domain": domain.name,
            "status": domain.status,
            "dns_records": {
                "sending_dns_records": [self._wire_record(domain, r) for r in sending],
                "receiving_dns_records": [self._wire_record(domain, r) for r in receiving],
            },
            "dedicated_ip": domain.attrs["dedicated_ip"],
            "last_updated_at": iso(domain.updated_at),
        }

    def describe(self, domain: Domain) -> dict:
        return self._wire(domain)

    # --- operations -----------------------------------------------------------------------------

    def _owned(self, request, domain_id: str) -> Domain:
        partner = self._partner(request)
        domain = self.store.get(self.name, domain_id)
        if domain is None or domain.owner != partner:
            raise ProviderError(404, f"Mailbox domain {domain_id} was not found")
        return domain

    def list_domains(self, request):
        partner = self._partner(request)
        return {"data": [self._wire(d) for d in self.store.list(self.name, partner)]}

    def create_domain(self, request, body: dict):
        partner = self._partner(request)
        name = body["domain"].strip()
        if not valid_hostname(name):
            raise ProviderError(
                422,
                f"'{name}' is not a valid hostname: use letters, digits, '.' and '-', "
                "with each label starting and ending with a letter or digit",
                loc=["body", "domain"],
                type="value_error.hostname",
            )
        with self.store.locked():
            if self.store.find_name(self.name, name) is not None:
                raise ProviderError(409, f"Domain {name.lower()} already exists")
            domain = self.new_domain(
                self.ids.uuid(), name, partner, WAITING, dedicated_ip=self.ids.ipv4()
            )
            domain.records = self._records(domain.name)
            self.store.add(domain)
        return self._wire(domain), 201

    def delete_domain(self, request, domain_id: str):
        self._owned(request, domain_id)
        self.store.remove(self.name, domain_id)
        return None, 204

    @off_loop
    def verify_domain(self, request, domain_id: str):
        domain = self._owned(request, domain_id)
        self.verify_now(domain)
        return {"id": domain.id, "domain": domain.name, "status": domain.status}

    def verify_now(self, domain: Domain) -> None:
        settings = self.sandbox.settings(self.name)
        self.open_rechecks(domain)
        if settings["verify_delay_seconds"]:
            self.schedule(domain, settings["verify_delay_seconds"])
        else:
            self._check(domain)

    # --- lifecycle ------------------------------------------------------------------------------

    def _check(self, domain: Domain) -> None:
        self.check(domain)
        if self.all_valid(domain):
            self.set_status(domain, VERIFIED)
            domain.due_at = None
            return
        self.set_status(domain, WAITING)
        self.plan_recheck(domain)

    def on_due(self, domain: Domain) -> None:
        self._check(domain)
