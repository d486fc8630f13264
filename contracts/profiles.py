"""What a contract run must know about each API: its document, where it is served, how a test
client gets credentials from an in-process sandbox, and any check that is genuinely wrong for it.

Every provider in `sandbox.providers.PROVIDERS` gets a profile automatically, its credentials
from the provider's kit; the entries of `OPERATIONS` below are only for documented quirks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sandbox.documents import openapi_dir, operation_ids
from sandbox.driver import Driver
from sandbox.mounts import CONTROL_MOUNT
from sandbox.providers import PROVIDERS
from sandbox.providers.base import Provider

from .defaults import CONTROL_REQUEST_TIMEOUT_SECONDS, DEFAULT_REQUEST_TIMEOUT_SECONDS

CONTROL = "control"


@dataclass(frozen=True)
class Profile:
    """One API as the contract runner sees it."""

    name: str
    mount: str  # where the sandbox serves the document; the paths in it are relative to this
    document: str  # file under openapi/
    # (server URL, key=None, secret=None) -> headers; the kit's sample key unless one is given
    credentials: Callable[..., dict[str, str]] | None = None
    # Per-operation Schemathesis settings, only for documented quirks of an API.
    operations: list[dict] = field(default_factory=list)
    # Operations generated data can rarely make succeed ("METHOD /path": why): a run may see
    # no 2xx of theirs.
    unsatisfiable: dict[str, str] = field(default_factory=dict)
    # Operations whose body carries a client's own credentials ("METHOD /path"): generated,
    # they are refused by a sandbox that accepts only registered credentials.
    credentials_in_body: tuple[str, ...] = ()
    # How long one request may take before the run records it as an error, unless told.
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    more_mounts: tuple[str, ...] = ()  # where the sandbox serves it too (Mailgun's EU region)

    @property
    def path(self) -> Path:
        return openapi_dir() / self.document


# Contract runs act as this owner of each provider's kit (its sample credential), so runs
# against a seeded sandbox are reproducible.
CONTRACT_OWNER = 7


def _credentials(provider: type[Provider]) -> Callable[..., dict[str, str]]:
    """The provider's credential headers as its clients obtain them (logged in where the
    provider logs in), from a sandbox at the given server URL: for a given key (and secret),
    or the kit's sample one."""

    def credentials(server_url: str, key: str | None = None, secret: str | None = None):
        with httpx.Client(timeout=10) as http:
            driver = Driver(http, server_url, provider, CONTRACT_OWNER, key, secret)
            return driver.credential_headers

    return credentials


# What positive_data_acceptance expects by default, plus 400 for the quirks below.
_ACCEPT_OR_400 = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# The control API's operations that replace the whole world (its domains and their ids).
WORLD_REPLACING = frozenset({"build_demo", "load_bundled_scenario", "load_scenario", "reset"})

# Schemathesis settings per API, only for rules OpenAPI 3.0 cannot state; each says why.
OPERATIONS: dict[str, list[dict]] = {
    CONTROL: [
        {
            # Cross-field rules the document can only describe in words: a record's value must
            # suit its type (an A record holds an IPv4 address), delay_ms belongs to delay
            # faults only, deleting one value needs its type, setting names depend on the provider (GET lists them; unknown
            # names are refused so a typo never silently does nothing), an HTTP fault's
            # operation, and the request journal's operation filter, must be one of that
            # provider's operationIds (of any provider without one), and a registered credential
            # must be one that provider's clients can send (its own key format; a secret for
            # Monite only). A scenario file is checked against its own JSON Schema
            # (GET /scenario/schema: draft 7, stricter than OpenAPI 3.0 can state) and each
            # provider's vocabulary. A schema-valid request breaking one of them is answered 400
            # with a sentence naming the rule. A domain created through its provider's API
            # (create_domain) gets that provider's refusal of a name it does not take as a 400,
            # and a publish may omit or corrupt only kinds of records that domain asks for.
            "include-operation-id": [
                "create_domain",
                "publish_domain",
                "add_dns_record",
                "delete_dns_records",
                "add_dns_fault",
                "update_settings",
                "add_http_fault",
                "list_requests",
                "count_requests",
                "register_credential",
                "load_scenario",
                # a clock's speed belongs to a fast clock, a mode and freeze are one choice, an
                # instant must be in the clock's range; advance-until's status must be one of
                # the provider's words
                "set_clock",
                "advance_clock_until",
            ],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        },
        {
            # A demo world is a few calls per domain (up to a hundred domains): its examples and
            # the coverage phase's boundaries are enough (tests/test_demo.py tests it).
            "include-operation-id": ["build_demo"],
            "generation": {"max-examples": 2},
        },
        {
            # These replace the world, so they run in no stateful sequence: one that created a
            # domain, then loaded a scenario, would ask for that domain in a world without it
            # and read the 404 as a resource lost after its creation (ensure_resource_availability).
            "include-operation-id": sorted(WORLD_REPLACING),
            "phases": {"stateful": {"enabled": False}},
        },
    ],
    "resend": [
        {
            # Rules across fields and across calls, which OpenAPI 3.0 cannot state: `after` and
            # `before` are not given together, and an update may not leave the domain with no
            # capability enabled (an absent one keeps its value). Both are 422, as Resend
            # answers field errors (docs/resend.md).
            "include-operation-id": ["list_domains", "update_domain"],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400 + ["422"]}},
        }
    ],
    "ses": [
        {
            # SES answers 400 where a schema cannot say why: an identity created twice
            # (AlreadyExistsException, which the stateful phase does), reserved `aws:` tag keys,
            # a private key that is base64 but no RSA key, a MAIL FROM domain outside the
            # identity, DKIM or MAIL FROM on an identity that does not exist (SES's own 400s),
            # a NextToken it never issued, more than 50 tags on an identity (docs/ses.md).
            "include-operation-id": [
                "CreateEmailIdentity",
                "ListEmailIdentities",
                "ListEmailIdentitiesGet",
                "PutEmailIdentityDkimAttributes",
                "PutEmailIdentityDkimSigningAttributes",
                "PutEmailIdentityMailFromAttributes",
                "TagResource",
            ],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        },
        {
            # AWS answers a call with no Authorization header 403
            # MissingAuthenticationTokenException "Missing Authentication Token" (docs/ses.md,
            # Sources), where this check takes 401 as the only answer any API may give.
            "include-operation-id": sorted(operation_ids("ses.yaml")),
            "checks": {"missing_required_header": {"enabled": False}},
        },
    ],
    "autosend": [
        {
            # A domain already added to the project is a 400: AutoSend's errors page lists no
            # 409, and the stateful phase adds the same name twice (docs/autosend.md).
            "include-operation-id": ["create_domain"],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        }
    ],
    "scaleway": [
        {
            # A deleted domain reads `deleting` for `deleting_seconds` (10 by default) before it
            # is gone, as on Scaleway, whose delete answers `deleting` (docs/scaleway.md): a
            # read right after the delete still finds it.
            "include-operation-id": ["get_domain", "get_domain_records"],
            "checks": {"use_after_free": {"enabled": False}},
        }
    ],
    "mailgun": [
        {
            # A name already taken is a 400 (the stateful phase creates the same name twice),
            # and dkim_host_name must be the domain, its root or a subdomain, never with the
            # force_* switches: cross-field rules a form schema cannot state (docs/mailgun.md).
            "include-operation-id": ["create_domain", "create_domain_v3"],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        }
    ],
}


UNSATISFIABLE: dict[str, dict[str, str]] = {
    "ses": {
        "PUT /v2/email/identities/{EmailIdentity}/mail-from": "MailFromDomain must be a "
        "subdomain of the identity in the path: a rule across parameters no schema states",
        "PUT /v2/email/identities/{EmailIdentity}/dkim/signing": "a 2xx needs a path naming "
        "a domain identity the run created and a body without BYODKIM's key: a seeded run "
        "meets both once or never (tests/test_ses.py drives the call through boto3)",
    },
}


CREDENTIALS_IN_BODY: dict[str, tuple[str, ...]] = {
    "monite": ("POST /auth/token", "POST /auth/revoke"),  # client_id and client_secret
}


def profiles() -> dict[str, Profile]:
    """Every API the sandbox serves: each provider, then the control API."""
    found = {}
    for cls in PROVIDERS:
        found[cls.name] = Profile(
            cls.name,
            cls.mount,
            cls.document,
            _credentials(cls),
            OPERATIONS.get(cls.name, []),
            UNSATISFIABLE.get(cls.name, {}),
            CREDENTIALS_IN_BODY.get(cls.name, ()),
            more_mounts=cls.more_mounts,
        )
    found[CONTROL] = Profile(
        CONTROL,
        CONTROL_MOUNT,
        "control.yaml",
        operations=OPERATIONS[CONTROL],
        request_timeout=CONTROL_REQUEST_TIMEOUT_SECONDS,
    )
    return found


def profile(name: str) -> Profile:
    """The profile of one API, or a ValueError naming the known ones."""
    known = profiles()
    if name not in known:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(known)}")
    return known[name]
