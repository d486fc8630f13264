"""Monite mailbox domains (Mailgun underneath): records, statuses, errors and partner tokens.

Choices where Monite's docs are silent (listed in the README):
- a domain is `verified` once its sending records (SPF and DKIM TXT) are valid; the tracking
  CNAME and the MX records are checked and reported but do not decide;
- there is no failed status: a domain that fails stays `waiting_to_be_verified` while each
  record's `valid` says `invalid` and why; Mailgun's re-checks continue on the sandbox clock
  (5 minutes, doubling to hourly) for 72 hours after the last verify;
- a record whose lookup failed temporarily (SERVFAIL, timeout) reads `valid: unknown`;
- create answers 201, delete 204; request-shape errors are 422 in FastAPI's `detail` shape;
- a domain comes back as it was sent (`domainExample.com`); names are compared, and records
  named, in lower case;
- POST /auth/revoke needs a live bearer token (Monite's document declares one on it) and judges
  the client's credentials in its body; a token it does not know (or one already expired) is
  "revoked" all the same, as RFC 7009 has it;
- every answer carries x-request-id (a UUID drawn from the seed, one stream per sandbox),
  x-process-time (seconds) and, when the request sent them, x-monite-version and
  x-monite-entity-id, as Monite's "HTTP headers" page lists;
- an access token carries its own grant (client, grant type, expiry, number), signed with a
  key drawn from the seed: the sandbox keeps nothing per token but the revoked ones, so any
  number of logins costs it nothing. A token works while it has not expired or been revoked,
  its number was issued in this world, and its client's registered credentials (if any) still
  accept it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Required

from ..engine.clock import is_calendar_date, iso
from ..engine.records import Domain, RequiredRecord
from ..engine.store import Store
from . import mailgun_records
from .base import (
    LABEL_LIMITS,
    RECHECK_DEFAULTS,
    Provider,
    ProviderError,
    RecheckAttrs,
    off_loop,
    valid_hostname,
)
from .kit import Kit, Login, Op, Publish, PythonSdk, Verify
from .pydantic_words import fastapi_refusal

TOKEN_LIFETIME_SECONDS = 86400
# Monite's mailbox domains are Mailgun domains in Mailgun's EU region (mxa.eu.mailgun.org).
MAILGUN_REGION = "eu"
# Fields pydantic reads as other than a str (schema.json: format uuid, GrantType): their
# type errors are said as pydantic says them for those types.
PYDANTIC_TYPES = {
    "domain_id": "uuid",  # the path's: any form pydantic's UUID takes (openapi/monite.yaml)
    "client_id": "uuid",
    "entity_user_id": "uuid",
    "grant_type": ("client_credentials", "entity_user"),
}

WAITING, VERIFIED = "waiting_to_be_verified", "verified"


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


def _monite_sdk(found: dict):
    """`monite.Monite` with a partner token, over an httpx client it can close."""
    import httpx
    from monite import Monite

    http = httpx.Client(timeout=60)  # Monite's own default, held here so that it can be closed
    sdk = Monite(
        monite_version=found["monite_version"],
        token=found["token"],
        base_url=found["base_url"],
        httpx_client=http,
    )
    sdk.close = http.close  # the SDK has no close of its own
    return sdk


class Attrs(RecheckAttrs, total=False):
    """What Monite keeps per domain (Domain.attrs)."""

    dedicated_ip: Required[str]  # the IPv4 address its answer shows
    sent: str  # the name as the client wrote it, where it differs from the lower-cased one
    verifying: bool  # the check a delayed verify scheduled has not landed yet (awaits_check)


def _as_uuid(domain_id: str) -> str:
    """A domain id as Monite's server reads it: in any form pydantic's UUID takes, hyphenated;
    text that is no UUID as it is (found by no id, and said so)."""
    try:
        return str(uuid.UUID(domain_id))
    except ValueError:
        return domain_id


class Monite(Provider):
    attrs_type = Attrs
    name = "monite"
    mount = "/monite/v1"
    client_base = "/monite/v1"
    record_kinds = mailgun_records.KINDS
    document = "monite.yaml"
    statuses = (WAITING, VERIFIED)
    status_tones = {VERIFIED: "ok"}  # no status for a fault: each record's `valid` says it
    name_rule = "Monite holds a name once, whichever partner adds it"
    rate_limit = (30, 1.0)  # "30 requests per second per API client" (docs, rate limiting)
    # "for every API request that does not exceed currently available rate limits, you receive
    # a response with the following HTTP headers" (the same page)
    rate_limit_headers_always = True
    settings_defaults = {"verify_delay_seconds": 0, **RECHECK_DEFAULTS}

    kit = Kit(
        sample_key=lambda owner: f"eb959578-a74d-4ac3-8b25-{owner:012x}",  # a partner client_id
        sample_secret="sample-client-secret",
        login=Login(
            Op(
                "POST",
                "/auth/token",
                {
                    "client_id": "{key}",
                    "client_secret": "{secret}",
                    "grant_type": "client_credentials",
                },
            ),
            token="access_token",
        ),
        headers_for=lambda token: {"Authorization": f"Bearer {token}"},
        credential_headers=("authorization",),
        headers={"x-monite-version": "2024-05-25"},
        create=Op("POST", "/mailbox_domains", {"domain": "{name}"}),
        list=Op("GET", "/mailbox_domains"),
        verify=Op("POST", "/mailbox_domains/{id}/verify"),
        delete=Op("DELETE", "/mailbox_domains/{id}"),
        id_at="id",
        status_at="status",
        items_at="data",
        errors_at=("detail.0.msg", "error.message"),
        states={WAITING: (Verify(),), VERIFIED: (Publish(), Verify())},
        sdk_names=lambda provider, found: {
            "client_id": found["key"],
            "client_secret": found["secret"],
            "monite_version": found["headers"]["x-monite-version"],
        },
        sdk=PythonSdk("monite", "monite", _monite_sdk),
    )
    credential_name = "client_id"
    # verify answers the domain's status: a client may wait by calling it until verified. On
    # an on-poll clock it moves the clock to the check a verify scheduled (awaits_check)
    polled_checks = ("verify_domain",)
    strict_query = False  # Monite's framework (FastAPI) ignores undeclared query parameters

    def reset(self) -> None:
        self.tokens = PartnerTokens(self.sandbox.seed)
        # x-request-id values: their own seeded stream, so answering never shifts the ids of
        # domains; it starts again with the world (reset, scenario load)
        self._request_ids = self.sandbox.request_ids("monite-request")

    state_keys = ("issued", "revoked")

    def export_state(self) -> dict:
        return self.tokens.export(self.now())

    def load_state(self, state: dict) -> None:
        self.tokens = PartnerTokens(self.sandbox.seed, state.get("issued", 0), state.get("revoked"))

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        if error.status == 422 and error.extra.get("loc"):
            item = {"loc": error.extra["loc"], "msg": error.message, "type": error.extra["type"]}
            # pydantic's `input` (null for a missing parameter) and `ctx`, where known
            item.update((k, error.extra[k]) for k in ("input", "ctx") if k in error.extra)
            return {"detail": [item]}
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

    def answer_headers(self, request, elapsed: float) -> dict:
        """The response headers of Monite's "HTTP headers" page, on every answer."""
        headers = {}
        version = request.header("x-monite-version")
        if version and is_calendar_date(version):
            headers["x-monite-version"] = version
        if entity := request.header("x-monite-entity-id"):
            headers["x-monite-entity-id"] = entity
        headers["x-request-id"] = self._request_ids.next()
        headers["x-process-time"] = f"{max(elapsed, 0.0):.6f}"
        return headers

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        # Monite is FastAPI over pydantic v2: a refusal in their words
        loc, kind, said, extra = fastapi_refusal(message, field, PYDANTIC_TYPES)
        named = loc[1] if len(loc) > 1 and isinstance(loc[1], str) else None
        return ProviderError(422, said, field=named, loc=loc, type=kind, **extra)

    # --- auth ---------------------------------------------------------------------------------

    def credential_key(self, key: str) -> str:
        return key.strip().lower()  # a client_id is a UUID, whatever its case

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        client_id = self.credential_key(key)
        if not _is_uuid(client_id):
            raise ValueError(f"key: a Monite client_id is a UUID, not {key!r}")
        if not secret:
            raise ValueError("secret: a Monite client_id is registered with its client_secret")
        return client_id, secret

    def _client(self, client_id: str, secret: str | None = None, refused: int = 401) -> str:
        """The client_id of a call, once its registered credentials (if any) accept it; else
        the `refused` status (the token request's is 400: its document declares no 401)."""
        client_id = self.credential_key(client_id)
        if problem := self.credential_problem(client_id, secret):
            raise ProviderError(refused, f"Invalid client credentials: {problem}")
        return client_id

    def _live(self, token: str | None) -> dict:
        """The grant of a token that still works, or Monite's 401."""
        if token is None:
            raise ProviderError(401, "Authorization header with a Bearer token is required")
        grant = self.tokens.grant(token, self.now())
        if grant is None:
            raise ProviderError(401, "The access token is invalid or has expired")
        if problem := self.credential_problem(grant["client_id"]):
            raise ProviderError(401, f"The access token is no longer valid: {problem}")
        return grant

    def rate_limit_key(self, request) -> str:
        """Monite counts "30 requests per second per API client": every token of a client_id
        shares its window."""
        grant = self.tokens.grant(request.bearer_token, self.now())
        return grant["client_id"] if grant else super().rate_limit_key(request)

    def _partner(self, request) -> str:
        grant = self._live(request.bearer_token)
        if grant["grant_type"] != "client_credentials":
            raise ProviderError(403, "Mailbox domains require a partner token (client_credentials)")
        return grant["client_id"]

    authenticate = _partner

    def create_token(self, body: dict):
        if body["grant_type"] == "entity_user" and not body.get("entity_user_id"):
            raise ProviderError(
                422, "Field required", loc=["body", "entity_user_id"], type="missing", input=body
            )
        client_id = self._client(body["client_id"], body["client_secret"], refused=400)
        expires_at = self.now() + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
        token = self.tokens.issue(client_id, body["grant_type"], expires_at)
        return {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    def revoke_token(self, request, body: dict):
        """POST /auth/revoke: the token stops working at once (401 on its next call)."""
        self._live(request.bearer_token)  # Monite's document puts a bearer on this call
        client_id = self._client(body["client_id"], body["client_secret"])
        grant = self.tokens.grant(body["token"], self.now())
        if grant is not None and grant["client_id"] != client_id:
            raise ProviderError(401, "The token was not issued to this client_id")
        if grant is not None:
            self.tokens.revoke(body["token"], grant["expires_at"], self.now())
        return {"message": "Token revoked"}

    # --- records ------------------------------------------------------------------------------

    def _records(self, name: str) -> list[RequiredRecord]:
        return mailgun_records.records(self.ids, name, region=MAILGUN_REGION)

    def _wire(self, domain: Domain) -> dict:
        return {
            "id": domain.id,
            "domain": _as_sent(domain),
            "status": domain.status,
            "dns_records": {
                "sending_dns_records": mailgun_records.sending(domain, purpose=True),
                "receiving_dns_records": mailgun_records.receiving(domain, purpose=True),
            },
            "dedicated_ip": domain.attrs["dedicated_ip"],
            "last_updated_at": iso(domain.updated_at),
        }

    # --- operations -----------------------------------------------------------------------------

    def _owned(self, request, domain_id: str) -> Domain:
        """The partner's domain; its id is a UUID in any form pydantic's UUID takes (any letter
        case, 32 hex digits, braced, urn:uuid:), as FastAPI reads a `format: uuid` path
        parameter (Monite's document): the handler sees the UUID, hyphenated."""
        domain_id = _as_uuid(domain_id)  # the document's pattern let only those forms by
        not_found = f"Mailbox domain {domain_id} was not found"
        return self.owned(domain_id, self._partner(request), not_found)

    def domain_of(self, domain_id: str) -> Domain | None:
        """The domain a control call names, by its id in any form Monite's API takes (32 hex
        digits, braced, urn:uuid:), as `_owned` reads it."""
        return super().domain_of(_as_uuid(domain_id))

    def list_domains(self, request):
        partner = self._partner(request)
        return {"data": [self._wire(d) for d in self.store.list(self.name, partner)]}

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        return store.find_name(self.name, name)  # any partner's, in any case

    def create_domain(self, request, body: dict):
        partner = self._partner(request)
        name = body["domain"]
        if not valid_hostname(name):
            raise ProviderError(
                422,
                f"Value error, '{name}' is not a valid hostname: use letters, digits, '.' and "
                "'-', in two or more labels, each starting and ending with a letter or digit, "
                f"{LABEL_LIMITS}",
                loc=["body", "domain"],
                type="value_error",
                input=body["domain"],
                ctx={"error": {}},  # a ValueError, as FastAPI's JSON encoder writes it
            )
        with self.store.locked():
            if self.name_holder(self.store, name, partner) is not None:
                raise ProviderError(409, f"Domain {name.lower()} already exists")
            as_sent = {"sent": name} if name != name.lower() else {}  # only where it differs
            domain_id = self.unused_id(self.ids.uuid)  # before the address: same seed, same ids
            attrs = Attrs(dedicated_ip=self.ids.ipv4(), **as_sent)
            domain = self.new_domain(domain_id, name, partner, WAITING, attrs)
            domain.records = self._records(domain.name)
            self.store.add(domain)
        return self._wire(domain), 201

    def delete_domain(self, request, domain_id: str):
        domain = self._owned(request, domain_id)
        self.store.remove(self.name, domain.id)
        return None, 204

    @off_loop
    def verify_domain(self, request, domain_id: str):
        domain = self._owned(request, domain_id)
        self.verify_now(domain)
        return {"id": domain.id, "domain": _as_sent(domain), "status": domain.status}

    def verify_now(self, domain: Domain) -> None:
        """Check now, or (verify_delay_seconds) schedule the check that long after the call.
        Asked again while a check is scheduled, it never puts that check off: a client
        calling verify more often than the delay still sees it land."""
        self.open_rechecks(domain)
        if self.setting("verify_delay_seconds"):
            self.schedule_check(domain, self.setting("verify_delay_seconds"))
            domain.attrs["verifying"] = True
        else:
            self._check(domain)

    def awaits_check(self, domain: Domain) -> bool:
        """A verify waits for the check a verify scheduled; one without a delay answers its own
        check, and waits for no re-check."""
        return bool(domain.attrs.get("verifying")) and domain.due_at is not None

    # --- lifecycle ------------------------------------------------------------------------------

    def _check(self, domain: Domain) -> None:
        domain.attrs.pop("verifying", None)
        self.check(domain)
        if mailgun_records.verified(domain):
            self.set_status(domain, VERIFIED)
            domain.due_at = None
            return
        self.set_status(domain, WAITING)
        self.plan_recheck(domain)

    def on_due(self, domain: Domain) -> None:
        self._check(domain)


class PartnerTokens:
    """Access tokens that carry their own grant, signed with a key drawn from the seed.

    Nothing is kept per token but its number (how many were issued) and the revoked ones until
    they expire: logins, however many and however concurrent, neither grow the sandbox nor race
    over a table. Same seed, same logins: same tokens.
    """

    # Revoked tokens kept before the expired ones are dropped.
    MAX_REVOKED = 1000
    # Tokens whose signature was checked, kept with what they say.
    MOST_SIGNED = 10_000

    def __init__(self, seed: int, issued: int = 0, revoked: dict[str, str] | None = None):
        if not isinstance(issued, int) or issued < 0 or not isinstance(revoked or {}, dict):
            raise ValueError("monite: issued is a count of tokens, revoked maps tokens to times")
        self._key = hashlib.sha256(f"monite-partner-tokens/{seed}".encode()).digest()
        self._issued = issued
        self._revoked = {token: _instant(at) for token, at in (revoked or {}).items()}
        self._lock = threading.Lock()
        self._signed: dict[str, tuple[int, dict]] = {}

    def issue(self, client_id: str, grant_type: str, expires_at: datetime) -> str:
        with self._lock:
            number, self._issued = self._issued, self._issued + 1
        grant = [number, client_id, grant_type, int(expires_at.timestamp())]
        payload = _b64(json.dumps(grant, separators=(",", ":")).encode())
        return f"{payload}.{self._signature(payload)}"

    def grant(self, token: str | None, now: datetime) -> dict | None:
        """The grant of a token that works now, or None."""
        if not token:
            return None
        signed = self._signed.get(token) or self._read(token)
        if signed is None:
            return None
        number, grant = signed
        if number >= self._issued or grant["expires_at"] <= now or token in self._revoked:
            return None
        return dict(grant)

    def _read(self, token: str) -> tuple[int, dict] | None:
        """What a token with a good signature says (kept: a client sends its token with every
        call, and checking the signature costs more than the call's own work)."""
        payload, _, signature = token.partition(".")
        expected = self._signature(payload).encode()
        if not payload or not hmac.compare_digest(signature.encode(), expected):
            return None
        number, client_id, grant_type, expires = json.loads(
            base64.urlsafe_b64decode(payload + "==")
        )
        expires_at = datetime.fromtimestamp(expires, UTC)
        grant = {"client_id": client_id, "grant_type": grant_type, "expires_at": expires_at}
        if len(self._signed) >= self.MOST_SIGNED:
            self._signed.clear()
        self._signed[token] = number, grant
        return number, grant

    def revoke(self, token: str, expires_at: datetime, now: datetime) -> None:
        with self._lock:
            self._revoked[token] = expires_at
            if len(self._revoked) > self.MAX_REVOKED:  # an expired token needs no revoking
                self._revoked = {t: at for t, at in self._revoked.items() if at > now}

    def export(self, now: datetime) -> dict:
        with self._lock:
            revoked = {t: iso(at) for t, at in self._revoked.items() if at > now}
            issued = self._issued
        return ({"issued": issued} if issued else {}) | ({"revoked": revoked} if revoked else {})

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:18])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _as_sent(domain: Domain) -> str:
    """The domain name as its creator wrote it (`domainExample.com`, as in Monite's guide)."""
    return domain.attrs.get("sent", domain.name)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
