"""What the dashboard does for someone presenting the sandbox, without a terminal: create a
domain through its provider's own API, and find the scenarios shipped with the package.

A domain is created exactly as a client creates it: a real HTTP call to the provider's API on
this sandbox's own front end, with the credentials its kit (sandbox.providers.kit) names, so
the request log, the client report and the ids are those any client's create would produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from . import bundled
from .driver import Driver
from .errors import ProviderError

if TYPE_CHECKING:
    from .core import Sandbox
    from .providers.base import Provider

# A create is one call (two for a provider that logs in first): a few ms, unless a fault slows it.
CREATE_SECONDS = 30.0


def create_domain(sandbox: Sandbox, provider: Provider, name: str, api: str = "") -> str:
    """Create domain `name` through `provider`'s own API, as its clients do; its id. `api`:
    the base URL of one of its APIs (`Provider.apis`: Mailgun's EU region), else its first.
    The provider's refusal (a bad name, a duplicate, a credential its login refuses) is a 400
    carrying its own message; its failure (a 5xx) a 502."""
    if not sandbox.http_url:
        raise ProviderError(409, "this sandbox is not served over HTTP: create through its API")
    with httpx.Client(timeout=CREATE_SECONDS) as http:
        try:
            driver = Driver(http, sandbox.http_url, type(provider), api=api)
            answer = driver.call(driver.kit.create, name=name)
        except httpx.HTTPStatusError as error:  # the login before the create (Monite's)
            message = _error_message(provider.kit, error.response)
            message = _sample_shut_out(sandbox, provider, message)
            refused = error.response.status_code < 500  # its credential, as a create's 401
            said = f"{provider.name}'s login answered {message}"
            raise ProviderError(400 if refused else 502, said) from None
        except httpx.HTTPError as error:
            raise ProviderError(502, f"{provider.name}'s API did not answer: {error}") from None
    if answer.status_code >= 300:
        message = _error_message(driver.kit, answer)
        if answer.status_code >= 500:  # an injected fault, say: the provider failed, not the name
            raise ProviderError(
                502, f"{provider.name}'s API answered the create of {name!r} {message}"
            )
        if answer.status_code in (401, 403):
            message = _sample_shut_out(sandbox, provider, message)
        raise ProviderError(400, f"{provider.name} refused to create {name!r}: {message}")
    if driver.kit.id_at is None:  # an API that names a domain by its name alone (SES): the
        # sandbox's id differs when the name is long or held elsewhere, so the one just added
        return sandbox.store.named(provider.name, name)[-1].id
    return driver.kit.domain_id(answer.json(), name)


def _sample_shut_out(sandbox: Sandbox, provider: Provider, message: str) -> str:
    """`message`, refusing the sample credential a create uses, and why when it is because
    credentials registered in the sandbox shut it out."""
    key, secret = provider.kit.sample_key(0), provider.kit.sample_secret
    problem = sandbox.credentials.problem(provider.name, key, secret)
    if problem is None:
        return message
    add = f"domainsandbox credentials add {provider.name} {key}" + (
        f" --secret {secret}" if secret else ""
    )
    return message.rstrip(".") + (
        f"; a create here uses {provider.name}'s sample credential {key}, and {problem}: "
        f"register it too (`{add}`), or clear the registered ones"
    )


def _error_message(kit, answer: httpx.Response) -> str:
    """`answer`'s status and the message in its body, as the provider's kit reads it."""
    try:
        message = kit.error_message(answer.json())
    except ValueError:
        message = None
    return f"{answer.status_code} {message or answer.text[:200]}"


def bundled_scenario(name: str) -> bytes:
    """The text of the bundled scenario `name` (never another file), or a 404 naming them."""
    names = bundled.names()
    if name not in names:
        raise ProviderError(404, f"no bundled scenario {name!r}; bundled: {', '.join(names)}")
    return bundled.find(name).read_bytes()
