"""Resend domains (Amazon SES underneath): records with a status each, the asynchronous verify,
every documented domain status, errors as {"statusCode", "message", "name"}, the rate limit.

Choices where Resend's docs are silent (also in docs/resend.md):
- the records: SPF MX and TXT on `<custom_return_path or send>.<domain>`, three DKIM CNAMEs
  `<token>._domainkey.<domain>` -> `<token>.dkim.amazonses.com.` (Amazon SES Easy DKIM, as
  Resend's API reference shows them; the single `resend._domainkey` TXT of the SDK fixtures is
  not emitted), a Receiving MX on the domain when receiving is enabled, a Tracking CNAME and a
  TrackingCAA when a tracking subdomain is set. Names are relative to the domain except
  Receiving and Tracking (full names) and TrackingCAA (empty: the domain itself); DMARC is
  recommended by Resend but not among the records;
- capabilities decide: sending (SPF MX, SPF TXT, all three DKIM CNAMEs), receiving (the Receiving MX) and
  tracking (the Tracking CNAME) each verify when all their records are valid; the TrackingCAA
  is checked and reported but decides nothing;
- verify answers at once: the domain and every record read `pending`, and the check lands after
  `verify_delay_seconds` on the sandbox clock (0: at the next request). A check that does not
  verify every capability is repeated (5 minutes, doubling to hourly) until 72 hours after the
  verify; then the domain is `failed` (or `partially_failed` if a capability verified).
  Meanwhile it is `pending` (or `partially_verified`), or `temporary_failure` if it had been
  verified. A verified domain is re-checked every `verified_recheck_seconds` (0: never);
- a lookup that fails temporarily (SERVFAIL, timeout) reads `temporary_failure` on its record;
- any key of the form `re_<letters, digits, _ or ->` is valid and is its own team (once keys are
  registered in the sandbox, only registered unrevoked ones): a missing key is 401
  `missing_api_key`, any other 403 `invalid_api_key`. A team may add a domain name once (a
  second add is 403 `validation_error`); domains of other teams are `not_found`;
- request problems: an unreadable body is 400 `validation_error`; a missing `name` is 422
  `missing_required_field`, a bad region 422 `invalid_region`, a malformed id 422
  `invalid_parameter`, any other field 422 `validation_error`, a page cursor (`after`,
  `before`) that was never one of the team's domains 422 `validation_error` (not an empty page,
  which a paging loop takes for the end). Unknown body fields are ignored
  (the Python SDK sends `id` in the PATCH body), `custom_return_path` on update too (Resend's
  document has it on create only); a `tracking_subdomain` of null or "" is 422 in the words of
  Resend's tracking page (changed, never removed: NOT_REMOVABLE);
- a `tracking_subdomain` equal to the return path's label is taken (Resend documents no
  refusal), though its CNAME cannot share that name with the SPF MX and TXT: `publish` says
  so, and the tracking capability cannot verify until the subdomain is changed;
- every answer carries `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset`, counted per
  key in one-second windows whether or not limits are enforced; the limit is the setting
  `rate_limit_per_second` (default 2).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import lru_cache, partial
from typing import Required

from ..engine.records import Domain, Outcome, RequiredRecord, Rule
from ..engine.store import Store
from ..errors import said_value, snake_case_phrase
from .amazonses import (
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
)
from .kit import VERIFY_AT_ONCE, Hold, Kit, Op, Publish, PythonSdk, Verify

REGIONS = ("us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1")
DEFAULT_REGION = "us-east-1"
RETURN_PATH = "send"  # the default custom_return_path
RECEIVING_MX = "inbound-mx.resend.com"
TRACKING_TARGET = "links1.resend-dns.com"
TRACKING_CAA = '0 issue "amazon.com"'
TTL = "Auto"
# Resend API keys look like re_...; anything else is refused with 403 invalid_api_key.
API_KEY = re.compile(r"^re_[A-Za-z0-9_-]+$")

NOT_STARTED, PENDING, VERIFIED, FAILED = "not_started", "pending", "verified", "failed"
PARTIALLY_VERIFIED, PARTIALLY_FAILED = "partially_verified", "partially_failed"
TEMPORARY_FAILURE = "temporary_failure"
# Statuses after which nothing is checked until the next verify.
GIVEN_UP = (FAILED, PARTIALLY_FAILED)

# The record kinds (what `publish --omit/--corrupt` take), their `record` word, and the
# capability each decides (None: reported, decides nothing).
RECORDS = {
    "spf_mx": ("SPF", "sending"),
    "spf": ("SPF", "sending"),
    **{kind: ("DKIM", "sending") for kind in EASY_DKIM_KINDS},  # dkim_1..dkim_3
    "receiving_mx": ("Receiving", "receiving"),
    "tracking": ("Tracking", "tracking"),
    "tracking_caa": ("TrackingCAA", None),
}

# Resend's error catalogue: the name of each status, and the fixed message of each name.
NAMES = {
    400: "validation_error",
    401: "missing_api_key",
    403: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "application_error",
}
MESSAGES = {
    "missing_api_key": "Missing API key in the authorization header.",
    "invalid_api_key": "API key is invalid.",
    "not_found": "The requested endpoint does not exist.",
    "method_not_allowed": "Method is not allowed for the requested path.",
    "rate_limit_exceeded": "Too many requests. Please limit the number of requests per second. "
    "Or contact support to increase rate limit.",
    "application_error": "An unexpected error occurred.",
}
# What to tell a client whose field broke a pattern (instead of the regex).
_LABEL_RULE = "must be one DNS label: letters, digits and hyphens, not starting or ending with one"
PLAIN = {
    "name": "The `name` field must be a domain name such as example.com or updates.example.com: "
    f"letters, digits and hyphens in dot-separated labels, {LABEL_LIMITS}",
    "custom_return_path": "The `custom_return_path` field must start with a letter, end with a "
    "letter or number and hold only letters, numbers and hyphens (at most 63), such as send",
    "tracking_subdomain": f"The `tracking_subdomain` field {_LABEL_RULE}, such as links",
}
# A tracking subdomain given as null or "": Resend's tracking page says it "can only be changed
# after it has been specified, never removed", to keep the links already sent working.
_NOTHING = re.compile(r"^(None|null|'') ")
NOT_REMOVABLE = (
    "The `tracking_subdomain` field cannot be null or empty: a tracking subdomain can be "
    "changed to another label, never removed (the links already sent go through it); leave the "
    "field out to change nothing"
)
# Connexion's words for a query parameter it refused, and for an absent required body field.
_PARAMETER = re.compile(r"^Invalid query parameter '[^']+': (.*)$", re.S)
_REQUIRED = re.compile(r"'([^']+)' is a required property")


# Real Resend endpoints the sandbox does not serve whose path falls on a served path's template
# (POST /domains/claim on /domains/{domain_id}): Resend's 404 for them, not a 405.
UNSERVED_PATHS = re.compile(r"^/domains/claim/?$")


def _error(
    status: int, name: str, message: str, field: str | None = None, violation: bool = False
) -> ProviderError:
    return ProviderError(status, message, field=field, violation=violation, name=name)


@lru_cache(maxsize=4096)  # a list writes each domain's, and it never changes
def _postgres_time(instant: datetime) -> str:
    """An instant (in UTC) as Resend writes `created_at`: 2023-04-26 20:21:26.347412+00."""
    text = instant.isoformat(" ", "microseconds")[:26]  # strftime takes twice as long
    return text.rstrip("0").removesuffix(".") + "+00"


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


def _resend_sdk(found: dict):
    """The `resend` module itself, its `api_key` and `api_url` set: Resend's SDK keeps its
    configuration in module globals."""
    import resend

    resend.api_key, resend.api_url = found["api_key"], found["base_url"]
    return resend


def _resend_kept():
    """What puts the `resend` module's configuration back as it is now."""
    import resend

    saved = resend.api_key, resend.api_url

    def put_back() -> None:
        resend.api_key, resend.api_url = saved

    return put_back


class Attrs(RecheckAttrs, total=False):
    """What Resend keeps per domain (Domain.attrs)."""

    region: Required[str]
    return_path: Required[str]
    open_tracking: Required[bool]
    click_tracking: Required[bool]
    tls: Required[str]
    capabilities: Required[dict[str, str]]  # sending/receiving: enabled or disabled
    tracking_subdomain: Required[str | None]
    dkim_tokens: Required[list[str]]  # the three Easy DKIM tokens
    checking: Required[bool]  # a verify's check is under way
    found: Required[list[str]]  # the capabilities verified since the domain last gave up


class Resend(Provider):
    attrs_type = Attrs
    name = "resend"
    mount = "/resend"
    client_base = "/resend"
    document = "resend.yaml"
    record_kinds = tuple(RECORDS)
    statuses = (
        NOT_STARTED,
        PENDING,
        VERIFIED,
        PARTIALLY_VERIFIED,
        PARTIALLY_FAILED,
        FAILED,
        TEMPORARY_FAILURE,
    )
    settled_statuses = (VERIFIED,)  # re-checked daily: nothing a client waits for
    status_tones = {VERIFIED: "ok", **dict.fromkeys((*GIVEN_UP, TEMPORARY_FAILURE), "bad")}
    name_rule = "Resend holds a name once per team"
    cursor_places = True  # `after`/`before` naming a deleted domain (list_domains)
    rate_limit_headers_always = True  # "the response headers describe your current rate limit"
    # Seconds on the sandbox clock (rate_limit_per_second: requests). The recheck window is
    # Resend's 72 hours: a domain not verified by then is failed.
    settings_defaults = {
        "verify_delay_seconds": 30,  # "temporarily pending" after a verify, for half a minute
        **RECHECK_DEFAULTS,
        "verified_recheck_seconds": 86400,
        "rate_limit_per_second": 2,
    }
    settings_least = {"rate_limit_per_second": 1}  # 0 would refuse every call, for ever
    kit = Kit(
        sample_key=lambda owner: f"re_sample_team_{owner}",
        headers_for=lambda key: {"Authorization": f"Bearer {key}"},
        credential_headers=("authorization",),
        # receiving enabled too, so that the partial statuses are one omitted record away
        create=Op(
            "POST",
            "/domains",
            {"name": "{name}", "capabilities": {"sending": "enabled", "receiving": "enabled"}},
        ),
        list=Op("GET", "/domains"),
        get=Op("GET", "/domains/{id}"),
        verify=Op("POST", "/domains/{id}/verify"),
        delete=Op("DELETE", "/domains/{id}"),
        id_at="id",
        status_at="status",
        errors_at=("message",),
        items_at="data",
        states={
            NOT_STARTED: (),
            PENDING: (VERIFY_AT_ONCE, Verify()),
            VERIFIED: (VERIFY_AT_ONCE, Publish(), Verify()),
            PARTIALLY_VERIFIED: (VERIFY_AT_ONCE, Publish(omit=("receiving_mx",)), Verify()),
            # a window of 0 s: the first check that does not verify is the last
            FAILED: (VERIFY_AT_ONCE, Hold("recheck_window_seconds", 0), Verify()),
            PARTIALLY_FAILED: (
                VERIFY_AT_ONCE,
                Hold("recheck_window_seconds", 0),
                Publish(omit=("receiving_mx",)),
                Verify(),
            ),
            TEMPORARY_FAILURE: (
                VERIFY_AT_ONCE,
                Publish(),
                Verify(),
                Publish(omit=("dkim_2",)),
                Verify(),
            ),
        },
        sdk=PythonSdk("resend", "resend", _resend_sdk, keep=_resend_kept),
    )

    @property
    def rate_limit(self) -> tuple[int, float]:
        """Per second, per key: Resend's default of 2, or the sandbox setting."""
        per_second = self.setting("rate_limit_per_second")
        return max(1, int(per_second)), 1.0

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        name = error.extra.get("name")
        message = error.message
        if name is None:  # decided by the front end or the gate: Resend's words for the status
            name = NAMES.get(error.status)
            message = MESSAGES.get(name, message)
        if name is None:  # outside the catalogue: a 4xx by its reason; a 5xx as the SDKs name
            # any unexpected failure (the Node SDK's error names hold no other)
            fallback = "application_error"
            name = snake_case_phrase(error.status, fallback) if error.status < 500 else fallback
        return {"statusCode": error.status, "message": message, "name": name}

    def error_headers(self, error: ProviderError) -> dict:
        if error.status == 429:
            return {"retry-after": str(error.extra.get("retry_after", 1))}
        return {}

    def unserved(self, method: str, path: str, status: int) -> ProviderError:
        """Resend's answer to an endpoint it does not have (404 not_found "The requested
        endpoint does not exist."), also for the claim endpoints the sandbox does not serve;
        named, so that its message is kept whole and the sandbox's hint follows it."""
        status = 404 if UNSERVED_PATHS.match(path) else status
        name = NAMES[status]  # not_found, or method_not_allowed
        return _error(status, name, MESSAGES[name])

    def too_many_requests(self, retry_after: int) -> ProviderError:
        message = MESSAGES["rate_limit_exceeded"]
        return ProviderError(429, message, name="rate_limit_exceeded", retry_after=retry_after)

    def rate_limit_headers(self, limit: int, remaining: int, reset_at: datetime) -> dict:
        reset = max(0, math.ceil((reset_at - self.now()).total_seconds()))
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(remaining, 0)),
            "ratelimit-reset": str(reset),
            # "How many seconds you should wait before making a follow-up request", listed with
            # the others as following every request: none while the window has calls left (a
            # 429's own, error_headers(), is the one its answer carries)
            "retry-after": str(reset if remaining <= 0 else 0),
        }

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        """Connexion's rejections in Resend's names: the field named in the message."""
        required = _REQUIRED.search(message)
        if required or message == "RequestBody is required":
            missing = required[1] if required else "name"  # create's one required field
            return _error(422, "missing_required_field", f'Missing "{missing}" field', missing)
        if message.startswith("Extra query parameter"):  # a nameless one too (`?=x`)
            named = f" `{field}`" if field else " (one without a name)"
            return _error(422, "validation_error", f"Unknown query parameter{named}.", field)
        if field is None:  # the body could not be read at all
            return _error(400, "validation_error", f"Invalid request body: {message}")
        if field == "domain_id":
            return _error(
                422, "invalid_parameter", "The `domain_id` parameter must be a valid UUID.", field
            )
        if field == "region":
            regions = " | ".join(f'"{r}"' for r in REGIONS)
            return _error(422, "invalid_region", f"Region must be {regions}", field)
        if field == "capabilities" and "should not be valid" in message:
            return _at_least_one_capability()
        if field == "tracking_subdomain" and _NOTHING.match(message):
            return _error(422, "validation_error", NOT_REMOVABLE, field)
        if field in PLAIN and "does not match" in message:  # say it plainly, not with a regex
            return _error(422, "validation_error", PLAIN[field], field)
        if parameter := _PARAMETER.match(message):
            return _error(
                422, "validation_error", f"Invalid `{field}` parameter: {parameter[1]}", field
            )
        detail = message.removesuffix(f" - '{field}'")
        return _error(422, "validation_error", f"Invalid `{field}` field: {detail}", field)

    # --- auth ---------------------------------------------------------------------------------

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        if not API_KEY.match(key):
            raise ValueError(
                f"key: Resend API keys look like re_<letters, digits, _ or ->, not {key!r}"
            )
        return super().check_credential(key, secret)

    def _team(self, request) -> str:
        """The team (its owner id) of the API key: each valid key sees only its own domains."""
        key = request.bearer_token
        if key is None:
            raise _error(401, "missing_api_key", MESSAGES["missing_api_key"])
        if not API_KEY.match(key) or self.credential_problem(key):
            raise _error(403, "invalid_api_key", MESSAGES["invalid_api_key"])
        return self.owner_of(key)

    authenticate = _team

    def _owned(self, request, domain_id: str) -> Domain:
        not_found = _error(404, "not_found", "Domain not found")
        return self.owned(domain_id.lower(), self._team(request), not_found)

    # --- records ------------------------------------------------------------------------------

    def _records(self, domain: Domain) -> list[RequiredRecord]:
        """What the domain asks to publish, from its capabilities and tracking subdomain. The
        DKIM tokens are drawn once, when the domain is created, and kept."""
        name, attrs = domain.name, domain.attrs
        records = []
        if attrs["capabilities"]["sending"] == "enabled":
            mail_from = f"{attrs['return_path']}.{name}"
            records += mail_from_records(mail_from, attrs["region"], kinds=("spf_mx", "spf"))
            records += easy_dkim_records(attrs["dkim_tokens"], name)
        if attrs["capabilities"]["receiving"] == "enabled":
            records.append(
                RequiredRecord("receiving_mx", "MX", name, RECEIVING_MX, Rule.MX_FIRST, priority=10)
            )
        if attrs.get("tracking_subdomain"):
            host = f"{attrs['tracking_subdomain']}.{name}"
            records += [
                RequiredRecord("tracking", "CNAME", host, TRACKING_TARGET, Rule.CNAME),
                RequiredRecord(
                    "tracking_caa", "CAA", name, TRACKING_CAA, Rule.EXACT, level="optional"
                ),
            ]
        return records

    def _set_records(self, domain: Domain) -> None:
        domain.records = self._records(domain)
        kinds = {r.kind for r in domain.records}
        domain.results = {k: v for k, v in domain.results.items() if k in kinds}

    def _record_status(self, domain: Domain, record: RequiredRecord) -> str:
        if domain.attrs["checking"]:
            return PENDING
        result = domain.results.get(record.kind)
        if result is None:
            return NOT_STARTED
        if result.valid:
            return VERIFIED
        if result.outcome is Outcome.TEMPORARY_FAILURE:
            return TEMPORARY_FAILURE
        if domain.status in GIVEN_UP:
            return FAILED
        return TEMPORARY_FAILURE if domain.status == TEMPORARY_FAILURE else PENDING

    def _wire_record(self, domain: Domain, record: RequiredRecord) -> dict:
        if record.kind in ("receiving_mx", "tracking"):
            name = record.name
        else:
            name = record.name.removesuffix(domain.name).removesuffix(".")
        value = record.value
        if record.kind == "spf":
            value = f'"{value}"'  # the JSON string holds the quotes
        elif record.kind in EASY_DKIM_KINDS:
            value += "."  # Resend shows the DKIM targets fully qualified
        wire = {
            "record": RECORDS[record.kind][0],
            "name": name,
            "type": record.type,
            "ttl": TTL,
            "status": self._record_status(domain, record),
            "value": value,
        }
        if record.priority is not None:
            wire["priority"] = record.priority
        return wire

    # --- wire views -----------------------------------------------------------------------------

    def _summary(self, domain: Domain) -> dict:
        attrs = domain.attrs
        return {
            "id": domain.id,
            "name": domain.name,
            "status": domain.status,
            "created_at": _postgres_time(domain.created_at),
            "region": attrs["region"],
            "open_tracking": attrs["open_tracking"],
            "click_tracking": attrs["click_tracking"],
            "capabilities": dict(attrs["capabilities"]),
        }

    def _wire(self, domain: Domain) -> dict:
        wire = {"object": "domain", **self._summary(domain)}
        if domain.attrs.get("tracking_subdomain"):
            wire["tracking_subdomain"] = domain.attrs["tracking_subdomain"]
        wire["records"] = [self._wire_record(domain, r) for r in domain.records]
        return wire

    # --- operations -----------------------------------------------------------------------------

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        return store.find_name(self.name, name, owner=owner)  # the team's, in any case

    def create_domain(self, request, body: dict):
        """POST /domains: 201 with the records to publish; the domain is not_started."""
        team = self._team(request)
        name = body["name"].strip().lower()
        capabilities = {"sending": "enabled", "receiving": "disabled"}
        capabilities |= _capabilities_of(body)
        if "enabled" not in capabilities.values():  # the document says so too; kept as a guard
            raise _at_least_one_capability()
        with self.store.locked():
            if self.name_holder(self.store, name, team) is not None:
                raise _error(
                    403,
                    "validation_error",
                    f"The domain {name} has been registered already in this team.",
                    "name",
                )
            domain = self.new_domain(
                self.unused_id(self.ids.uuid),
                name,
                team,
                NOT_STARTED,
                Attrs(
                    region=body.get("region") or DEFAULT_REGION,
                    return_path=(body.get("custom_return_path") or RETURN_PATH).lower(),
                    open_tracking=body.get("open_tracking", False),
                    click_tracking=body.get("click_tracking", False),
                    tls=body.get("tls") or "opportunistic",
                    capabilities=capabilities,
                    tracking_subdomain=(body.get("tracking_subdomain") or "").lower() or None,
                    dkim_tokens=easy_dkim_tokens(self.ids),
                    checking=False,
                    found=[],
                ),
            )
            self._set_records(domain)
            self.store.add(domain)
        wire = self._wire(domain)
        del wire["object"]  # the create answer has no `object` (Resend's CreateDomainResponse)
        return wire, 201

    def list_domains(
        self,
        request,
        limit: int | None = None,
        after: str | None = None,
        before: str | None = None,
    ):
        """GET /domains: newest first; every domain, or a page of `limit` around a cursor."""
        team = self._team(request)
        if after is not None and before is not None:  # the document says so only in words
            raise _error(
                422,
                "validation_error",
                "The `after` and `before` parameters cannot be used together.",
                "after",
                violation=True,
            )
        domains = self.store.list(self.name, team)[::-1]  # newest first
        cursor = after if after is not None else before
        if cursor is not None:
            # the cursor's place (a deleted domain keeps its own); never the team's: refused
            place = partial(self.store.place, self.name, owner=team)
            if (at := place(cursor.lower())) is None:
                raise _unknown_cursor("after" if after is not None else "before", cursor)
            if after is not None:  # the older ones
                domains = [d for d in domains if place(d.id) < at]
            else:  # the newer ones
                domains = [d for d in domains if place(d.id) > at]
        if limit is None:
            page, has_more = domains, False
        elif before is not None:  # the `limit` domains just before the cursor
            page, has_more = domains[-limit:], len(domains) > limit
        else:
            page, has_more = domains[:limit], len(domains) > limit
        return {"object": "list", "has_more": has_more, "data": [self._summary(d) for d in page]}

    def later_page(self, request) -> bool:
        return request.params.get("after") is not None or request.params.get("before") is not None

    def get_domain(self, request, domain_id: str):
        """GET /domains/{domain_id}: the domain with its records and their statuses."""
        return self._wire(self._owned(request, domain_id))

    def update_domain(self, request, domain_id: str, body: dict | None = None):
        """PATCH /domains/{domain_id}: tracking, TLS, capabilities, tracking subdomain."""
        domain = self._owned(request, domain_id)
        body = body or {}  # no body: nothing to change (Resend's document does not require one)
        attrs = domain.attrs
        capabilities = attrs["capabilities"] | _capabilities_of(body)
        if "enabled" not in capabilities.values():
            raise _at_least_one_capability()
        for field in ("open_tracking", "click_tracking", "tls"):
            if field in body:
                attrs[field] = body[field]
        attrs["capabilities"] = capabilities
        if "tracking_subdomain" in body:
            attrs["tracking_subdomain"] = body["tracking_subdomain"].lower()
        before = domain.records
        self._set_records(domain)
        domain.updated_at = self.now()
        if domain.records != before and domain.status != NOT_STARTED:
            self.verify_now(domain)  # what the domain asks for changed: it is checked again
        return {"object": "domain", "id": domain.id}

    def remove_domain(self, request, domain_id: str):
        """DELETE /domains/{domain_id}."""
        domain = self._owned(request, domain_id)
        self.store.remove(self.name, domain.id)
        return {"object": "domain", "id": domain.id, "deleted": True}

    def verify_domain(self, request, domain_id: str):
        """POST /domains/{domain_id}/verify: start the check and answer at once."""
        domain = self._owned(request, domain_id)
        self.verify_now(domain)
        return {"object": "domain", "id": domain.id}

    def verify_now(self, domain: Domain) -> None:
        """Mark the domain and its records pending; the check lands after the verify delay (or
        when a check already pending lands, if sooner: a verify asked again never puts it off)
        and opens Resend's 72 hours of re-checks."""
        self.open_rechecks(domain)
        domain.attrs["checking"] = True
        self.set_status(domain, PENDING)
        self.schedule_check(domain, self.setting("verify_delay_seconds"))

    # --- lifecycle ------------------------------------------------------------------------------

    def _capabilities(self, domain: Domain) -> dict[str, list[RequiredRecord]]:
        """The records deciding each capability the domain uses."""
        parts: dict[str, list[RequiredRecord]] = {}
        for record in domain.records:
            if part := RECORDS[record.kind][1]:
                parts.setdefault(part, []).append(record)
        return parts

    def _verdict(self, domain: Domain) -> str:
        """The status the last results give, keeping note of the capabilities found: verified,
        or how far short and for how long (a capability found before and lost since is a
        temporary failure)."""
        verified = {
            part: self.all_valid(domain, records)
            for part, records in self._capabilities(domain).items()
        }
        found = domain.attrs["found"]
        lost = any(part in found and not ok for part, ok in verified.items())
        found[:] = sorted(set(found) | {part for part, ok in verified.items() if ok})
        if all(verified.values()):
            return VERIFIED
        until = domain.attrs.get("recheck_until")
        if until is None or self.now() < until:  # still looking
            if lost:
                return TEMPORARY_FAILURE
            return PARTIALLY_VERIFIED if any(verified.values()) else PENDING
        found.clear()  # given up: what was found before no longer counts
        return PARTIALLY_FAILED if any(verified.values()) else FAILED

    def on_due(self, domain: Domain) -> None:
        """A check lands: a verify's, a re-check inside the window, or a verified domain's."""
        periodic = domain.status == VERIFIED and not domain.attrs["checking"]
        self.check(domain)
        if self.store.get(self.name, domain.id) is not domain:
            return  # removed while DNS answered: the removal wins
        deciding = [r for r in domain.records if RECORDS[r.kind][1]]
        if periodic and not self.all_valid(domain, deciding):
            self.open_rechecks(domain)  # a verified domain lost a record: 72 hours to find it
        domain.attrs["checking"] = False
        status = self._verdict(domain)
        self.set_status(domain, status)
        if status == VERIFIED:
            every = self.setting("verified_recheck_seconds")
            self.schedule(domain, every or None)
        elif status in GIVEN_UP:
            domain.due_at = None
        else:
            self.plan_recheck(domain)


def _capabilities_of(body: dict) -> dict:
    given = body.get("capabilities") or {}
    return {k: given[k] for k in ("sending", "receiving") if k in given}


def _unknown_cursor(field: str, cursor: str) -> ProviderError:
    """A page cursor that was never the id of one of the team's domains (a typo, another team's
    id, one from before a reset): refused by name rather than answered with an empty page, which
    a client would take for the end of the list. Resend does not say what it answers (sandbox's
    choice, docs/resend.md)."""
    return _error(
        422,
        "validation_error",
        f"The `{field}` parameter must be the id of one of the team's domains, as a list gave "
        f"it; {said_value(cursor)} is none.",
        field,
        violation=True,
    )


def _at_least_one_capability() -> ProviderError:
    return _error(
        422, "validation_error", "At least one capability must be enabled.", "capabilities"
    )
