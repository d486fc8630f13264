"""Ready credentials for each provider, and its official Python SDK configured against a running
sandbox: what the pytest fixture's `credentials(provider)` and `client(provider)` hand out.

The credentials are the provider's kit's (sandbox.providers.kit): the sample key of owner 0,
which every sandbox accepts while no key is registered, under the names the SDK's constructor
takes them by.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

import httpx

from .driver import Driver
from .providers.scaleway import SAMPLE_PROJECT
from .providers.ses import SAMPLE_REGION
from .providers.vortex import SAMPLE_ACCOUNT

if TYPE_CHECKING:
    from .server import SandboxServer

# SigV4 signs with the secret access key; the sandbox checks the access key id alone.
SES_SECRET = "sandbox-secret"
# Scaleway's SDK wants an access key beside the secret key; the API reads only the secret.
SCALEWAY_ACCESS_KEY = "SCWXXXXXXXXXXXXXXXXX"
SCALEWAY_REGION = "fr-par"


class NoSDK(LookupError):
    """The provider has no official Python SDK, or it is not installed; the message names it."""


class SampleRefused(LookupError):
    """The provider refuses the sample credential (registered credentials leave it out); the
    message says how to go on."""


def credentials(server: SandboxServer, provider: str) -> dict[str, Any]:
    """What a client of `provider` needs to talk to `server`: `base_url`, `key`, the ready
    `headers` (a Monite token among them, logged in for), and the SDK constructor's names."""
    if provider not in server.sandbox.providers:
        known = ", ".join(server.sandbox.providers)
        raise ValueError(f"unknown provider {provider!r}; known: {known}")
    cls = type(server.sandbox.providers[provider])
    # plain HTTP: no certificates to load (loading them would take a fifth of a second)
    try:
        with httpx.Client(timeout=10, verify=False) as http:
            driver = Driver(http, server.url, cls)
    except httpx.HTTPStatusError as refused:  # its login (Monite's token) was refused
        key, secret = cls.kit.sample_key(0), cls.kit.sample_secret
        raise SampleRefused(
            f"{provider} refused the sample {cls.credential_name} {key} "
            f"({refused.response.status_code}): once credentials are registered only those "
            f"work; register it too (register_credential({provider!r}, {key!r}, "
            f"secret={secret!r})), or log in with one you registered"
        ) from None
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
    named = _NAMED.get(provider)  # a provider without an SDK may have no names of its own
    return found | (named(server, found) if named else {})


def client(server: SandboxServer, provider: str) -> Any:
    """The official SDK of `provider`, configured against `server` with `credentials`.

    Monite: `monite.Monite` with a partner token; Vortex: `vortex_sdk.Vortex`; Scaleway: the
    `MailboxV1Alpha1API` over a `scaleway.Client`; Amazon SES: boto3's `sesv2` client; Mailgun:
    `mailgun.client.Client`; Resend: the `resend` module itself, its `api_key` and `api_url`
    set (Resend's SDK keeps its configuration in module globals). NoSDK for AutoSend (its
    official SDK is for Node) or an SDK that is not installed, naming the package to install.
    """
    if provider not in _SDKS:
        credentials(server, provider)  # an unknown provider: ValueError naming the known ones
        why = f" ({_ELSEWHERE[provider]})" if provider in _ELSEWHERE else ""
        raise NoSDK(
            f"{provider} has no official Python SDK{why}; use credentials({provider!r}) with "
            "your own HTTP client"
        )
    package, module, build = _SDKS[provider]
    try:
        importlib.import_module(module)
    except ImportError:
        raise NoSDK(
            f"the official {provider} SDK is not installed: pip install {package}"
        ) from None
    return build(credentials(server, provider))


def close(sdk) -> None:
    """Close the connections a client made by `client` holds: left to the garbage collector,
    each is a ResourceWarning, an error in a suite run with `-W error`. Vortex's `close` is a
    coroutine, its `close_sync` not; Scaleway's and Resend's hold no connection."""
    closing = getattr(sdk, "close_sync", None) or getattr(sdk, "close", None)
    if callable(closing) and not inspect.iscoroutinefunction(closing):
        closing()


# --- each provider's names for its credentials -----------------------------------------------


def _monite(server, found):
    return {
        "client_id": found["key"],
        "client_secret": found["secret"],
        "monite_version": found["headers"]["x-monite-version"],
    }


def _scaleway(server, found):
    return {
        "access_key": SCALEWAY_ACCESS_KEY,
        "secret_key": found["key"],
        "project_id": SAMPLE_PROJECT,
        "organization_id": server.sandbox.providers["scaleway"].organization_of(found["key"]),
        "region": SCALEWAY_REGION,
    }


def _ses(server, found):
    return {
        "aws_access_key_id": found["key"],
        "aws_secret_access_key": SES_SECRET,
        "region_name": SAMPLE_REGION,
        "endpoint_url": found["base_url"],
    }


def _api_key(server, found):
    return {"api_key": found["key"]}


def _vortex(server, found):
    return {"api_key": found["key"], "account_id": SAMPLE_ACCOUNT}


_NAMED = {
    "monite": _monite,
    "vortex": _vortex,
    "autosend": _api_key,
    "scaleway": _scaleway,
    "ses": _ses,
    "resend": _api_key,
    "mailgun": _api_key,
}


# --- each official SDK, configured -----------------------------------------------------------


def _monite_sdk(c):
    from monite import Monite

    http = httpx.Client(timeout=60)  # Monite's own default, held here so that it can be closed
    sdk = Monite(
        monite_version=c["monite_version"],
        token=c["token"],
        base_url=c["base_url"],
        httpx_client=http,
    )
    sdk.close = http.close  # the SDK has no close of its own
    return sdk


def _vortex_sdk(c):
    from vortex_sdk import Vortex

    return Vortex(api_key=c["api_key"], base_url=c["base_url"] + "/api/v1")


def _scaleway_sdk(c):
    from scaleway import Client
    from scaleway.mailbox.v1alpha1 import MailboxV1Alpha1API

    sdk = Client(
        access_key=c["access_key"],
        secret_key=c["secret_key"],
        default_project_id=c["project_id"],
        default_organization_id=c["organization_id"],
        default_region=c["region"],
        api_url=c["base_url"],
    )
    return MailboxV1Alpha1API(sdk)


def _ses_sdk(c):
    import boto3

    return boto3.client(
        "sesv2",
        endpoint_url=c["endpoint_url"],
        region_name=c["region_name"],
        aws_access_key_id=c["aws_access_key_id"],
        aws_secret_access_key=c["aws_secret_access_key"],
    )


def _mailgun_sdk(c):
    from mailgun.client import Client

    return Client(auth=("api", c["api_key"]), api_url=c["base_url"])


def _resend_sdk(c):
    import resend

    resend.api_key, resend.api_url = c["api_key"], c["base_url"]
    return resend


# Providers whose official SDKs are for other languages only.
_ELSEWHERE = {"autosend": "its official SDK is the Node package autosendjs"}
# provider -> (the package to install, the module it brings, how to build the client)
_SDKS = {
    "monite": ("monite", "monite", _monite_sdk),
    "vortex": ("vortex-python-sdk", "vortex_sdk", _vortex_sdk),
    "scaleway": ("scaleway", "scaleway.mailbox.v1alpha1", _scaleway_sdk),
    "ses": ("boto3", "boto3", _ses_sdk),
    "mailgun": ("mailgun", "mailgun.client", _mailgun_sdk),
    "resend": ("resend", "resend", _resend_sdk),
}
