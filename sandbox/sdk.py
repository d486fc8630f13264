"""Ready credentials for each provider, and its official Python SDK configured against a running
sandbox: what the pytest fixture's `credentials(provider)` and `client(provider)` hand out.

The credentials are the provider's kit's (sandbox.providers.kit): the sample key of owner 0,
which every sandbox accepts while no key is registered, under the names the SDK's constructor
takes them by (`Kit.sdk_names`); the kit's `sdk` says how the SDK is built from them.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

import httpx

from .driver import Driver

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import SandboxServer


class NoSDK(LookupError):
    """The provider has no official Python SDK, or it is not installed; the message names it."""


class SampleRefused(LookupError):
    """The provider refuses the sample credential (registered credentials leave it out); the
    message says how to go on."""


def credentials(server: SandboxServer, provider: str) -> dict[str, Any]:
    """What a client of `provider` needs to talk to `server`: `base_url`, `key`, the ready
    `headers` (a Monite token among them, logged in for), and the SDK constructor's names."""
    cls = _provider_class(server, provider)
    _sample_taken(server.sandbox.providers[provider])
    # plain HTTP: no certificates to load (loading them would take a fifth of a second)
    with httpx.Client(timeout=10, verify=False) as http:
        driver = Driver(http, server.url, cls)
    found = {
        "provider": provider,
        "base_url": server.url + cls.client_base,
        "key": driver.key,
        "headers": dict(driver.headers),
    }
    if cls.kit.sample_secret is not None:
        found["secret"] = cls.kit.sample_secret
    if cls.kit.login is not None:
        found["token"] = driver.credential
    return found | cls.kit.sdk_names(server.sandbox.providers[provider], found)


def _sample_taken(provider) -> None:
    """SampleRefused when registered credentials leave the sample out: every provider's first
    call would be refused (only Monite's login said so; the others' keys were handed out)."""
    key, secret = provider.kit.sample_key(0), provider.kit.sample_secret
    if problem := provider.credential_problem(provider.credential_key(key), secret):
        given = f", secret={secret!r}" if secret is not None else ""
        raise SampleRefused(
            f"{provider.name} refuses the sample {provider.credential_name} {key} ({problem}): "
            f"once credentials are registered only those work; register it too "
            f"(register_credential({provider.name!r}, {key!r}{given})), or use one you registered"
        )


def client(server: SandboxServer, provider: str) -> Any:
    """The official SDK of `provider`, configured against `server` with `credentials`.

    Monite: `monite.Monite` with a partner token; Vortex: `vortex_sdk.Vortex`; Scaleway: the
    `MailboxV1Alpha1API` over a `scaleway.Client`; Amazon SES: boto3's `sesv2` client; Mailgun:
    `mailgun.client.Client`; Resend: the `resend` module itself, its `api_key` and `api_url`
    set (Resend's SDK keeps its configuration in module globals). NoSDK for AutoSend (its
    official SDK is for Node) or an SDK that is not installed, naming the package to install.
    """
    kit = _provider_class(server, provider).kit
    if kit.sdk is None:
        why = f" ({kit.no_python_sdk})" if kit.no_python_sdk else ""
        raise NoSDK(
            f"{provider} has no official Python SDK{why}; use credentials({provider!r}) with "
            "your own HTTP client"
        )
    try:
        importlib.import_module(kit.sdk.module)
    except ImportError:
        raise NoSDK(
            f"the official {provider} SDK is not installed: pip install {kit.sdk.package}"
        ) from None
    return kit.sdk.build(credentials(server, provider))


def kept(server: SandboxServer, provider: str) -> Callable[[], None]:
    """What puts back the module globals `client(provider)` sets (Resend's SDK keeps its
    configuration there): the SDK's own `keep`, or nothing to do. Called before `client`."""
    sdk = _provider_class(server, provider).kit.sdk
    if sdk is None or sdk.keep is None:
        return lambda: None
    try:
        importlib.import_module(sdk.module)
    except ImportError:  # client() says which package to install
        return lambda: None
    return sdk.keep()


def _provider_class(server: SandboxServer, provider: str) -> type:
    """The class of `provider`, or a ValueError naming the known ones."""
    if provider not in server.sandbox.providers:
        known = ", ".join(server.sandbox.providers)
        raise ValueError(f"unknown provider {provider!r}; known: {known}")
    return type(server.sandbox.providers[provider])


def close(sdk) -> None:
    """Close the connections a client made by `client` holds: left to the garbage collector,
    each is a ResourceWarning, an error in a suite run with `-W error`. Vortex's `close` is a
    coroutine, its `close_sync` not; Scaleway's and Resend's hold no connection."""
    closing = getattr(sdk, "close_sync", None) or getattr(sdk, "close", None)
    if callable(closing) and not inspect.iscoroutinefunction(closing):
        closing()
