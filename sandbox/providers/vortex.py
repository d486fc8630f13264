"""Vortex email domains (Amazon SES underneath): four checks, each with its own status.

Vortex reports an ownership token check, DKIM, SPF and DMARC separately, each with a status, an
error object, an attempt counter and requested/completed times. Only create, list, update and
checkDkimStatus are documented; the other checks run on the provider's own schedule, which the
sandbox plays on its clock.

Choices where Vortex's docs are silent (listed in docs/vortex.md):
- records follow Amazon SES conventions: the token as TXT at `_amazonses.<domain>`, DKIM as one
  CNAME `<token>._domainkey.<domain>` -> `<token>.dkim.amazonses.com` (`dkimTokens` holds one
  entry, `dkim`, as in the docs' example), SPF `include:amazonses.com` at the domain, DMARC at
  `_dmarc.<domain>`;
- `isVerified` needs the token and DKIM checks verified; SPF and DMARC are reported only;
- the provider issues the token and DKIM token `provider_setup_seconds` after create (default
  at once), then re-checks every unverified check every `recheck_interval_seconds` for
  `recheck_window_seconds` (72 h, as SES); checkDkimStatus checks DKIM after
  `check_delay_seconds` (0: within the call), showing `waiting_for_provider` meanwhile unless
  DKIM was verified: a verified domain stays verified until the new result lands;
- the token check reads `waiting_for_provider` until the provider's first check of it, as every
  example of the docs shows (token and DKIM token issued, token `waiting_for_provider`, DKIM
  `waiting_for_user`);
- a missing record reads `waiting_for_user` while re-checks continue and `failed` after; a wrong
  record reads `failed`; a DNS temporary failure reads `provider_failed` for the token and DKIM.
  SPF and DMARC have no provider states in their documented enums: a temporary failure leaves
  their status as it was and sets the error;
- `x-api-key` must be a key the official SDK's parser accepts (`VRTX.<base64url UUID>.<secret>`)
  and, once keys are registered in the sandbox, a registered unrevoked one; domains are scoped
  by key and account; the `require_api_key` setting (1) can be set to 0 to accept any or no key
  (while no key is registered);
- create answers 201; list pages hold PAGE_SIZE domains in creation order; errors are
  `{"error": "..."}` (what the SDK reads) with 400, 401, 404 and 409.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Required

from ..engine.clock import iso
from ..engine.records import CheckResult, Domain, Outcome, RequiredRecord, Rule
from ..engine.store import Store
from .amazonses import SPF_INCLUDE, SPF_VALUE, dkim_cname
from .base import (
    LABEL_LIMITS,
    Provider,
    ProviderError,
    RecheckAttrs,
    off_loop,
    valid_hostname,
)
from .kit import Fail, Hold, Kit, Op, Publish, PythonSdk, Verify

# Domains per list page (`?start=` is an offset); Vortex does not document its page size.
PAGE_SIZE = 20
TOKEN_PREFIX = "_amazonses"
DMARC_VALUE = "v=DMARC1; p=none;"
NO_KEY = "(no key)"  # the scope of calls made without a key when keys are not required

WAITING_FOR_USER, WAITING_FOR_PROVIDER = "waiting_for_user", "waiting_for_provider"
VERIFIED, FAILED, PROVIDER_FAILED = "verified", "failed", "provider_failed"

# Wire field prefix of each check, and whether its documented enum has the provider states.
CHECKS = {
    "token": ("tokenVerification", True),
    "dkim": ("dkim", True),
    "spf": ("spfCheck", False),
    "dmarc": ("dmarc", False),
}
# The checks `isVerified` waits for.
DECIDING = ("token", "dkim")

ERROR_CODES = {
    Outcome.INVALID: "record_invalid",
    Outcome.NOT_FOUND: "record_not_found",
    Outcome.TEMPORARY_FAILURE: "dns_temporary_failure",
}


# The account every kit client works in (Vortex scopes domains by key and account).
SAMPLE_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
_DOMAINS = f"/api/v1/accounts/{SAMPLE_ACCOUNT}/email-domains"


def sample_key(owner: int) -> str:
    """A key the official SDK's parser accepts, one per owner number."""
    key_id = base64.urlsafe_b64encode(uuid.UUID(int=owner + 1).bytes).decode().rstrip("=")
    return f"VRTX.{key_id}.sample-secret"


# --- its official Python SDK (sandbox.sdk) -------------------------------------------------------


def _vortex_sdk(found: dict):
    from vortex_sdk import Vortex

    return Vortex(api_key=found["api_key"], base_url=found["base_url"] + "/api/v1")


class Attrs(RecheckAttrs, total=False):
    """What Vortex keeps per domain (Domain.attrs)."""

    accountId: Required[str]
    description: Required[str | None]
    modifiedAt: Required[datetime | None]
    issued: Required[bool]  # the provider issued the token and DKIM token
    steps: Required[dict[str, datetime]]  # scheduled steps by name
    organizationId: Required[str]  # of the key's principal
    creatorId: Required[str]
    checks: Required[dict[str, dict]]  # each check's status, error, attempts and times, by kind


class Vortex(Provider):
    attrs_type = Attrs
    name = "vortex"
    mount = "/vortex"
    client_base = "/vortex"
    record_kinds = ("token", "dkim", "spf", "dmarc")
    document = "vortex.yaml"
    statuses = ("not_verified", "verified")
    name_rule = "Vortex holds a name once per key and account"
    # checkDkimStatus, the only check Vortex documents, answers the domain: a client may wait
    # by calling it until DKIM is verified
    polled_checks = ("check_dkim_status",)
    # What the client report counts: each check's status, under its own wire field, and
    # isVerified; "not_verified" and "verified" are only the dashboard's summary.
    state_words = tuple(
        f"{prefix}Status={status}"
        for prefix, has_provider in CHECKS.values()
        for status in (
            (WAITING_FOR_PROVIDER, WAITING_FOR_USER, VERIFIED, PROVIDER_FAILED, FAILED)
            if has_provider
            else (WAITING_FOR_USER, VERIFIED, FAILED)
        )
    ) + ("isVerified=true", "isVerified=false")
    settings_defaults = {
        "provider_setup_seconds": 0,
        "check_delay_seconds": 30,  # checkDkimStatus: DKIM reads waiting_for_provider meanwhile
        "recheck_interval_seconds": 300,
        "recheck_window_seconds": 72 * 3600,
        "require_api_key": 1,
    }
    kit = Kit(
        sample_key=sample_key,
        headers_for=lambda key: {"x-api-key": key},
        credential_headers=("x-api-key",),
        create=Op("POST", _DOMAINS, {"domain": "{name}", "description": "{name}"}),
        list=Op("GET", _DOMAINS),
        verify=Op("PATCH", _DOMAINS + "/{id}/checkDkimStatus"),
        id_at="id",
        status_at="isVerified",
        items_at="",
        page_query=lambda read: {"start": read},
        describe=Op("PATCH", _DOMAINS + "/{id}", {"description": "{description}"}),
        errors_at=("error",),
        # situations that, between them, reach every check status Vortex documents
        states={
            WAITING_FOR_PROVIDER: (Hold("provider_setup_seconds"),),
            WAITING_FOR_USER: (Verify(),),  # checked before anything is published
            VERIFIED: (Publish(), Verify()),
            FAILED: (Publish(corrupt=("token", "dkim", "spf", "dmarc")), Verify()),
            # the fault first: a re-check between the two would verify what was published
            PROVIDER_FAILED: (Fail("servfail"), Publish(), Verify()),
        },
        sdk_names=lambda provider, found: {"api_key": found["key"], "account_id": SAMPLE_ACCOUNT},
        sdk=PythonSdk("vortex-python-sdk", "vortex_sdk", _vortex_sdk),
    )

    def reset(self) -> None:
        # Each API key (by owner id) stands for one organization and one creating user, drawn
        # on its first create.
        self.principals: dict[str, dict] = {}

    def loaded_attrs(self, attrs: dict) -> dict:
        attrs = super().loaded_attrs(attrs)
        if attrs["issued"] and "recheck_until" not in attrs:
            raise ValueError("recheck_until: missing; an issued domain's re-checks end then")
        return attrs

    state_keys = ("principals",)

    def export_state(self) -> dict:
        return {"principals": self.principals} if self.principals else {}

    def load_state(self, state: dict) -> None:
        principals = state.get("principals", {})
        fields = {"organizationId", "creatorId"}
        if not isinstance(principals, dict) or not all(
            isinstance(p, dict) and set(p) == fields and all(isinstance(v, str) for v in p.values())
            for p in principals.values()
        ):
            raise ValueError("vortex: principals maps owners to an organizationId and a creatorId")
        self.principals = dict(principals)

    def verify_now(self, domain: Domain) -> None:
        """The control API's "verify now": tokens issued if need be, then every check runs."""
        if not domain.attrs["issued"]:
            self._issue(domain)
        domain.attrs["steps"].pop("recheck", None)
        self._recheck(domain)
        domain.due_at = min(domain.attrs["steps"].values(), default=None)

    # --- errors -------------------------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        return {"error": error.message}

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        if field and field.lower() == "x-api-key":
            return ProviderError(401, "A valid x-api-key header is required")
        if field == "domain" and "does not match" in message:  # the hostname pattern
            name = message.split(" does not match")[0]
            return ProviderError(400, _bad_domain(name), field=field)
        return ProviderError(400, f"Invalid request: {message}", field=field)

    # --- auth ---------------------------------------------------------------------------------

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        if problem := key_problem(key):
            raise ValueError(f"key: {problem}")
        return super().check_credential(key, secret)

    def _scope(self, request, account_id: str) -> tuple[str, str]:
        """(the key's owner id, the domain owner) of this call: a domain is reached only by its
        key and account."""
        key = (request.header("x-api-key") or "").strip()
        if self.setting("require_api_key") or self.sandbox.credentials.active(self.name):
            # the document leaves the key optional (for require_api_key 0): a client without
            # one, or with one the SDK's parser refuses, breaks the API's contract all the same
            if not key:
                raise ProviderError(401, "Missing x-api-key header", **_NO_KEY)
            if problem := key_problem(key):
                raise ProviderError(401, problem, **_NO_KEY)
            if problem := self.credential_problem(key):
                raise ProviderError(401, f"Invalid API key: {problem}")
        owner = self.owner_of(key or NO_KEY)
        return owner, f"{owner}|{account_id}"

    def authenticate(self, request) -> str:
        return self._scope(request, "")[0]

    def reader(self, request) -> str:
        """The key and account a request reads the domains of (the account its path names)."""
        return self._scope(request, request.params.get("accountId", ""))[1]

    def _principal(self, holder: str) -> dict:
        """The organization and creating user of a key (by its owner id `holder`)."""
        if holder not in self.principals:
            principal = {"organizationId": self.ids.uuid(), "creatorId": self.ids.uuid()}
            self.principals[holder] = principal
        return self.principals[holder]

    def _owned(self, request, account_id: str, domain_id: str) -> Domain:
        _, owner = self._scope(request, account_id)
        return self.owned(domain_id, owner, f"Email domain {domain_id} not found")

    # --- records ------------------------------------------------------------------------------

    def _records(self, name: str) -> list[RequiredRecord]:
        token = base64.b64encode(self.ids.random.getrandbits(256).to_bytes(32, "big")).decode()
        dkim = self.ids.token(32).lower()
        return [
            RequiredRecord("token", "TXT", f"{TOKEN_PREFIX}.{name}", token, Rule.TOKEN),
            dkim_cname("dkim", dkim, name),
            # checked and reported, but isVerified waits only for the token and DKIM (DECIDING)
            RequiredRecord(
                "spf", "TXT", name, SPF_VALUE, Rule.SPF, SPF_INCLUDE, level="recommended"
            ),
            RequiredRecord(
                "dmarc", "TXT", f"_dmarc.{name}", DMARC_VALUE, Rule.DMARC, level="recommended"
            ),
        ]

    # --- the wire object -----------------------------------------------------------------------

    def _wire(self, domain: Domain) -> dict:
        a = domain.attrs
        issued = a["issued"]
        dkim = domain.record("dkim")
        wire = {
            "id": domain.id,
            "organizationId": a["organizationId"],
            "accountId": a["accountId"],
            "creatorId": a["creatorId"],
            "createdAt": iso(domain.created_at),
            "modifiedAt": iso(a["modifiedAt"]),
            "domain": domain.name,
            "description": a["description"],
            "verificationToken": domain.record("token").value if issued else None,
        }
        wire |= self._wire_check(domain, "token", at_end=False)
        wire["dkimTokens"] = {"dkim": dkim.name.split(".", 1)[0]} if issued else None
        wire["isVerified"] = self._is_verified(domain)
        for kind in ("dkim", "spf", "dmarc"):
            wire |= self._wire_check(domain, kind)
        wire |= {"isDefault": False, "deactivated": False, "attributes": {}}
        return wire

    def _wire_check(self, domain: Domain, kind: str, at_end: bool = True) -> dict:
        prefix, _ = CHECKS[kind]
        state = domain.attrs["checks"][kind]
        timing = {
            f"{prefix}RequestedAt": iso(state["requestedAt"]),
            f"{prefix}CompletedAt": iso(state["completedAt"]),
        }
        # The documented field order differs: token times come first, the other checks' last.
        fields = {
            f"{prefix}Status": state["status"],
            f"{prefix}Error": state["error"],
            f"{prefix}Attempts": state["attempts"],
        }
        return fields | timing if at_end else timing | fields

    def _is_verified(self, domain: Domain) -> bool:
        return all(domain.attrs["checks"][k]["status"] == VERIFIED for k in DECIDING)

    def states(self, domain: Domain) -> tuple[str, ...]:
        checks = domain.attrs.get("checks")
        if checks is None:  # still being made: _new notes its states once they exist
            return ()
        verified = "true" if self._is_verified(domain) else "false"
        words = (f"{CHECKS[kind][0]}Status={state['status']}" for kind, state in checks.items())
        return (*words, f"isVerified={verified}")

    def tone(self, domain: Domain) -> str:
        """Vortex's domain has no status of its own for a fault (`not_verified` either way):
        bad once a check that decides `isVerified` failed."""
        if domain.status == "verified":
            return "ok"
        checks = domain.attrs.get("checks") or {}
        failed = any(
            checks[k]["status"] in (FAILED, PROVIDER_FAILED) for k in DECIDING if k in checks
        )
        return "bad" if failed else "pending"

    def _touch(self, domain: Domain) -> None:
        domain.attrs["modifiedAt"] = self.now()
        self.set_status(domain, "verified" if self._is_verified(domain) else "not_verified")

    # --- operations -----------------------------------------------------------------------------

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        return store.find_name(self.name, name, owner=owner)  # the key and account's, any case

    def create_email_domain(self, request, accountId: str, body: dict):
        holder, owner = self._scope(request, accountId)
        name = body["domain"].strip().lower()
        if not valid_hostname(name):
            raise ProviderError(400, _bad_domain(repr(name)), field="domain")
        with self.store.locked():
            if self.name_holder(self.store, name, owner) is not None:
                raise ProviderError(409, f"Email domain {name} already exists for this account")
            domain = self._new(accountId, holder, owner, name, body.get("description"))
            self.store.add(domain)
        return self._wire(domain), 201

    def _new(self, account_id: str, holder: str, owner: str, name: str, description) -> Domain:
        principal = self._principal(holder)
        domain = self.new_domain(
            self.unused_id(self.ids.uuid),
            name,
            owner,
            "not_verified",
            Attrs(
                accountId=account_id,
                description=description,
                modifiedAt=None,
                issued=False,
                steps={},
                **principal,
            ),
        )
        domain.records = self._records(domain.name)
        user = {"status": WAITING_FOR_USER, "error": None, "attempts": 0}
        domain.attrs["checks"] = {
            kind: dict(user, requestedAt=None, completedAt=None)
            | ({"status": WAITING_FOR_PROVIDER} if has_provider else {})
            for kind, (_, has_provider) in CHECKS.items()
        }
        setup = self.setting("provider_setup_seconds")
        if setup:
            self._plan(domain, "issue", setup)
        else:
            self._issue(domain, touch=False)
        self.note_states(domain)
        return domain

    def list_email_domains(self, request, accountId: str, start: int = 0):
        _, owner = self._scope(request, accountId)
        domains = self.store.list(self.name, owner)
        return [self._wire(d) for d in domains[start : start + PAGE_SIZE]]

    def later_page(self, request) -> bool:
        return (request.params.get("start") or 0) > 0

    def update_email_domain(self, request, accountId: str, id: str, body: dict):
        domain = self._owned(request, accountId, id)
        domain.attrs["description"] = body["description"]
        self._touch(domain)
        return self._wire(domain)

    @off_loop
    def check_dkim_status(self, request, accountId: str, id: str):
        """Ask the provider about DKIM now; before it issued the DKIM token nothing changes.
        A verified DKIM stays verified (and the domain with it) until the new result lands.
        Asked again while a check runs, it counts the attempt and leaves the check to land
        when it was to: a client asking more often than the check takes still sees it land."""
        domain = self._owned(request, accountId, id)
        if not domain.attrs["issued"]:
            return self._wire(domain)
        state = domain.attrs["checks"]["dkim"]
        state.update(attempts=state["attempts"] + 1, requestedAt=self.now())
        if state["status"] != VERIFIED:
            state.update(status=WAITING_FOR_PROVIDER, completedAt=None)
        delay = self.setting("check_delay_seconds")
        if "dkim" in domain.attrs["steps"]:  # a check under way: its result still lands then
            self._touch(domain)
        elif delay:
            self._plan(domain, "dkim", delay)
            self._touch(domain)  # the answer shows the check asked for
        else:
            self._dkim_landed(domain)
        return self._wire(domain)

    # --- the provider's own schedule ----------------------------------------------------------

    def _plan(self, domain: Domain, step: str, seconds: float) -> None:
        """Schedule one named step; the domain's due_at is its earliest step."""
        steps = domain.attrs["steps"]
        steps[step] = self.now() + timedelta(seconds=seconds)
        domain.due_at = min(steps.values())

    def on_due(self, domain: Domain) -> None:
        steps, now = domain.attrs["steps"], self.now()
        for step in ("issue", "dkim", "recheck"):
            if step in steps and steps[step] <= now:
                del steps[step]
                {"issue": self._issue, "dkim": self._dkim_landed, "recheck": self._recheck}[step](
                    domain
                )
        domain.due_at = min(steps.values(), default=None)

    def _issue(self, domain: Domain, touch: bool = True) -> None:
        """The provider hands out the verification and DKIM tokens; the user's turn begins."""
        domain.attrs["issued"] = True
        domain.attrs["recheck_until"] = self.now() + timedelta(
            seconds=self.setting("recheck_window_seconds")
        )
        # The DKIM record is the user's to publish now; the token check still waits for the
        # provider's first look (the docs' examples: token issued, `waiting_for_provider`).
        domain.attrs["checks"]["dkim"]["status"] = WAITING_FOR_USER
        self._plan(domain, "recheck", self.setting("recheck_interval_seconds"))
        if touch:
            self._touch(domain)

    def _window_open(self, domain: Domain) -> bool:
        return self.now() < domain.attrs["recheck_until"]

    def _recheck(self, domain: Domain) -> None:
        """Check every unverified check; again after the interval, until the window closes."""
        pending = [
            kind
            for kind, state in domain.attrs["checks"].items()
            if state["status"] != VERIFIED
            and not (kind == "dkim" and "dkim" in domain.attrs["steps"])
        ]
        for kind in pending:
            state = domain.attrs["checks"][kind]
            state.update(attempts=state["attempts"] + 1, requestedAt=self.now(), completedAt=None)
            self._land(domain, kind)
        if pending:
            self._touch(domain)
        self._recheck_later(domain)

    def _recheck_later(self, domain: Domain) -> None:
        """While the window is open, an unverified check is looked at again after the interval:
        also one that a checkDkimStatus found broken on a domain the re-checks had left."""
        unverified = any(s["status"] != VERIFIED for s in domain.attrs["checks"].values())
        if unverified and self._window_open(domain) and "recheck" not in domain.attrs["steps"]:
            left = (domain.attrs["recheck_until"] - self.now()).total_seconds()
            self._plan(domain, "recheck", min(self.setting("recheck_interval_seconds"), left))

    def _dkim_landed(self, domain: Domain) -> None:
        self._land(domain, "dkim")
        self._recheck_later(domain)
        self._touch(domain)

    def _land(self, domain: Domain, kind: str) -> None:
        """Ask DNS about one check's record and record the outcome in Vortex's words."""
        result = self.check(domain, [kind])[kind]
        state = domain.attrs["checks"][kind]
        _, has_provider = CHECKS[kind]
        status = self._status(result, self._window_open(domain))
        if status == PROVIDER_FAILED and not has_provider:
            status = state["status"]  # no word for it in this check's enum: keep the last one
        state.update(status=status, error=self._error(result, domain), completedAt=self.now())

    def _status(self, result: CheckResult, window_open: bool) -> str:
        if result.outcome is Outcome.VALID:
            return VERIFIED
        if result.outcome is Outcome.TEMPORARY_FAILURE:
            return PROVIDER_FAILED
        if result.outcome is Outcome.NOT_FOUND and window_open:
            return WAITING_FOR_USER
        return FAILED

    def _error(self, result: CheckResult, domain: Domain) -> dict | None:
        if result.valid:
            return None
        message = result.reason or "the record does not match"
        if not self._window_open(domain):
            hours = self.setting("recheck_window_seconds") / 3600
            message += (
                f"; the provider stopped re-checking {hours:g} hours after issuing the tokens"
            )
        return {
            "code": ERROR_CODES[result.outcome],
            "message": message,
            "record": {
                "type": result.record.type,
                "name": result.record.name,
                "value": result.record.value,
            },
            "found": list(result.found),
        }


_NO_KEY = {"field": "x-api-key", "violation": True}


def key_problem(key: str) -> str | None:
    """Why the official SDK's key parser refuses `key`, in its words, or None when it accepts it.

    Step for step the parser of vortex-python-sdk (`Vortex.generate_jwt`): three dot-separated
    parts, the first `VRTX`, the second the base64url form of a 16-byte UUID (padding optional);
    the secret may be anything.
    """
    parts = key.split(".")
    if len(parts) != 3:
        return "Invalid API key format. Expected: VRTX.{encodedId}.{key}"
    prefix, encoded_id, _secret = parts
    if prefix != "VRTX":
        return "Invalid API key prefix. Expected: VRTX"
    try:
        uuid.UUID(bytes=base64.urlsafe_b64decode(encoded_id + "=" * (-len(encoded_id) % 4)))
    except ValueError as exc:  # binascii.Error too
        return (
            f"Invalid UUID in API key: {exc} (the part between the dots is the key id, the "
            "base64url form of a 16-byte UUID)"
        )
    return None


def _bad_domain(quoted: str) -> str:
    return (
        f"domain: {quoted} is not a valid domain name: use letters, digits, '.' and '-', "
        f"in two or more labels, each starting and ending with a letter or digit, {LABEL_LIMITS}"
    )
