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

from sandbox.app import CONTROL_MOUNT, openapi_dir

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
    # Per-check configuration for Schemathesis, only for documented quirks of a provider.
    checks: dict[str, dict] = field(default_factory=dict)

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


# How to obtain credentials for each provider's API from an in-process sandbox.
CREDENTIALS: dict[str, Callable[[str], dict[str, str]]] = {"monite": _monite_token}

# Checks configured per provider, each with the documented reason (none needed so far).
CHECKS: dict[str, dict[str, dict]] = {}


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
            cls.name, cls.mount, cls.document, credentials, CHECKS.get(cls.name, {})
        )
    found[CONTROL] = Profile(CONTROL, CONTROL_MOUNT, "control.yaml")
    return found


def profile(name: str) -> Profile:
    """The profile of one API, or a ValueError naming the known ones."""
    known = profiles()
    if name not in known:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(known)}")
    return known[name]
