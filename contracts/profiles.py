"""What a contract run must know about each API: its document, where it is served, how a test
client gets credentials from an in-process sandbox, and any check that is genuinely wrong for it.

Every provider in `sandbox.providers.PROVIDERS` gets a profile automatically; the entries of
`CREDENTIALS` and `CHECKS` below are only for providers that need more than the defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from sandbox.apis import CONTROL_MOUNT
from sandbox.documents import openapi_dir
from sandbox.providers.ses import sigv4_header

CONTROL = "control"
# A placeholder credential for providers that accept any well-formed key in the sandbox.
PLACEHOLDER_CREDENTIAL = "domainsandbox-contract"
# A fixed partner identity, so contract runs against a seeded sandbox are reproducible.
MONITE_CLIENT_ID = "6f1d9a52-3c1e-4a8b-9d0e-2b7c4f5a1e90"
MONITE_VERSION = "2024-05-25"


@dataclass(frozen=True)
class Profile:
    """One API as the contract runner sees it."""

    name: str
    mount: str  # where the sandbox serves the document; the paths in it are relative to this
    document: str  # file under openapi/
    credentials: Callable[[str], dict[str, str]] | None = None  # sandbox base URL -> headers
    # Per-operation Schemathesis settings, only for documented quirks of an API.
    operations: list[dict] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return openapi_dir() / self.document


def _monite_token(base_url: str) -> dict[str, str]:
    """A partner token from POST /auth/token, as Monite's SDK obtains one."""
    response = httpx.post(
        base_url + "/auth/token",
        headers={"x-monite-version": MONITE_VERSION},
        json={
            "client_id": MONITE_CLIENT_ID,
            "client_secret": "contract-secret",
            "grant_type": "client_credentials",
        },
        timeout=10,
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# How to obtain credentials for each provider's API from an in-process sandbox; providers not
# listed get a placeholder credential for each security scheme of their document.
CREDENTIALS: dict[str, Callable[[str], dict[str, str]]] = {
    "monite": _monite_token,
    # AutoSend keys look like `as_...`; each key is its own project
    "autosend": lambda _base: {"Authorization": "Bearer as_domainsandbox_contract"},
}
# Scaleway secret keys are UUIDs (the SDK refuses anything else); any UUID is accepted.
CREDENTIALS["scaleway"] = lambda _base: {"X-Auth-Token": "5e7a1c3d-9b2f-4d6e-8a0c-1f3b5d7e9a2c"}
# Vortex keys must look like VRTX.<key id>.<secret>; any well-formed one is accepted.
CREDENTIALS["vortex"] = lambda _base: {"x-api-key": "VRTX.ZG9tYWluc2FuZGJveC1jdA.contract-secret"}
# Amazon SES: a SigV4 Authorization header (the sandbox reads the access key and region from its
# credential scope and checks no signature); each access key is its own account.
CREDENTIALS["ses"] = lambda _base: {"Authorization": sigv4_header("AKIACONTRACT00000000")}

# What positive_data_acceptance expects by default, plus 400 for the quirks below.
_ACCEPT_OR_400 = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# Schemathesis settings per API, only for rules OpenAPI 3.0 cannot state; each says why.
OPERATIONS: dict[str, list[dict]] = {
    CONTROL: [
        {
            # Cross-field rules the document can only describe in words: a record's value must
            # suit its type (an A record holds an IPv4 address), delay_ms belongs to delay
            # faults only, deleting one value needs its type, setting names depend on the provider (GET lists them; unknown
            # names are refused so a typo never silently does nothing), an HTTP fault's
            # operation must be one of that provider's operationIds, and a registered credential
            # must be one that provider's clients can send (its own key format; a secret for
            # Monite only). A scenario file is checked against its own JSON Schema
            # (GET /scenario/schema: draft 7, stricter than OpenAPI 3.0 can state) and each
            # provider's vocabulary. A schema-valid request breaking one of them is answered 400
            # with a sentence naming the rule.
            "include-operation-id": [
                "add_dns_record",
                "delete_dns_records",
                "add_dns_fault",
                "update_settings",
                "add_http_fault",
                "register_credential",
                "load_scenario",
            ],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        }
    ],
    "ses": [
        {
            # SES answers 400 where a schema cannot say why: an identity created twice
            # (AlreadyExistsException, which the stateful phase does), reserved `aws:` tag keys,
            # a private key that is base64 but no RSA key, a MAIL FROM domain outside the
            # identity, DKIM or MAIL FROM on an identity that does not exist (SES's own 400s),
            # a NextToken it never issued (docs/ses.md).
            "include-operation-id": [
                "CreateEmailIdentity",
                "ListEmailIdentities",
                "ListEmailIdentitiesGet",
                "PutEmailIdentityDkimAttributes",
                "PutEmailIdentityDkimSigningAttributes",
                "PutEmailIdentityMailFromAttributes",
            ],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        }
    ],
    "autosend": [
        {
            # A domain already added to the project is a 400: AutoSend's errors page lists no
            # 409, and the stateful phase adds the same name twice (docs/autosend.md).
            "include-operation-id": ["create_domain"],
            "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPT_OR_400}},
        }
    ],
}


def _placeholder_credentials(document: Path) -> Callable[[str], dict[str, str]] | None:
    """Headers satisfying the document's security schemes with a placeholder credential."""
    spec = yaml.safe_load(document.read_text())
    headers = {}
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
            headers["Authorization"] = f"Bearer {PLACEHOLDER_CREDENTIAL}"
        elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            headers[scheme["name"]] = PLACEHOLDER_CREDENTIAL
    return (lambda _base: dict(headers)) if headers else None


def profiles() -> dict[str, Profile]:
    """Every API the sandbox serves: each provider, then the control API."""
    from sandbox.providers import PROVIDERS

    found = {}
    for cls in PROVIDERS:
        document = openapi_dir() / cls.document
        credentials = CREDENTIALS.get(cls.name) or _placeholder_credentials(document)
        found[cls.name] = Profile(
            cls.name, cls.mount, cls.document, credentials, OPERATIONS.get(cls.name, [])
        )
    found[CONTROL] = Profile(CONTROL, CONTROL_MOUNT, "control.yaml", operations=OPERATIONS[CONTROL])
    return found


def profile(name: str) -> Profile:
    """The profile of one API, or a ValueError naming the known ones."""
    known = profiles()
    if name not in known:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(known)}")
    return known[name]
