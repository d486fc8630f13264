"""What the dashboard does for someone presenting the sandbox, without a terminal: create a
domain through its provider's own API, and find the scenarios shipped with the package.

A domain is created exactly as a client creates it: a real HTTP call to the provider's API on
this sandbox's own front end, with the credentials its kit (sandbox.providers.kit) names, so
the request log, the client report and the ids are those any client's create would produce.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from .driver import Driver
from .errors import ProviderError

if TYPE_CHECKING:
    from .core import Sandbox
    from .providers.base import Provider

# A create is one call (two for a provider that logs in first): a few ms, unless a fault slows it.
CREATE_SECONDS = 30.0
# Where the bundled scenarios are: shipped inside the package, or beside it in a checkout.
SCENARIO_FOLDERS = (
    Path(__file__).resolve().parent / "scenarios",
    Path(__file__).resolve().parent.parent / "scenarios",
)
_DESCRIPTION = re.compile(r"^#\s*[\w-]+:\s*(.*)$")


def create_domain(sandbox: Sandbox, provider: Provider, name: str) -> str:
    """Create domain `name` through `provider`'s own API, as its clients do; its id.
    The provider's refusal (a bad name, a duplicate) is a 400 carrying its own message."""
    if not sandbox.http_url:
        raise ProviderError(409, "this sandbox is not served over HTTP: create through its API")
    with httpx.Client(timeout=CREATE_SECONDS) as http:
        try:
            driver = Driver(http, sandbox.http_url, type(provider))
            answer = driver.call(driver.kit.create, name=name)
        except httpx.HTTPError as error:
            raise ProviderError(502, f"{provider.name}'s API did not answer: {error}") from None
    if answer.status_code >= 300:
        message = _error_message(driver, answer)
        raise ProviderError(400, f"{provider.name} refused to create {name!r}: {message}")
    return driver.kit.domain_id(answer.json(), name)


def _error_message(driver: Driver, answer: httpx.Response) -> str:
    try:
        message = driver.kit.error_message(answer.json())
    except ValueError:
        message = None
    return f"{answer.status_code} {message or answer.text[:200]}"


def bundled_scenarios() -> dict[str, Path]:
    """The scenario files shipped with the sandbox, by name (`every-state`)."""
    for folder in SCENARIO_FOLDERS:
        files = sorted(folder.glob("*.yaml"))
        if files:
            return {path.stem: path for path in files}
    return {}


def scenario_listing() -> list[dict]:
    """Each bundled scenario's name and the one-line description its first comment gives."""
    listing = []
    for name, path in bundled_scenarios().items():
        with path.open(encoding="utf-8") as lines:
            match = _DESCRIPTION.match(lines.readline().strip())
        listing.append({"name": name, "description": match.group(1) if match else ""})
    return listing


def bundled_scenario(name: str) -> bytes:
    """The text of the bundled scenario `name`, or a 404 naming the known ones."""
    files = bundled_scenarios()
    if name not in files:
        known = ", ".join(files) or "none"
        raise ProviderError(404, f"no bundled scenario {name!r}; bundled: {known}")
    return files[name].read_bytes()
