"""How a client drives a provider's API, declared by the provider itself: its credentials, its
calls, where an answer keeps a domain's id and status and an error's message, and how each of
its states is reached through its own flows.

Everything that acts as a client (the tests that run for every provider, the benchmarks, the
bundled scenarios, the demo world, the contract runs) and the gate's rate-limit keys read it
from here, so a new provider is covered by all of them without editing any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Op:
    """One call, relative to the provider's base URL. In `path`, "{id}" stands for a domain id;
    in the string values of `body`, "{name}" for a domain name (and, in a login, "{key}" and
    "{secret}" for the credential). `form`: the body travels as a form
    (application/x-www-form-urlencoded, Mailgun's way), not as JSON."""

    method: str
    path: str
    body: dict | None = None
    form: bool = False

    def at(self, domain_id: str = "") -> str:
        return self.path.replace("{id}", domain_id)

    def body_for(self, **values: str) -> dict | None:
        return _filled(self.body, values) if self.body is not None else None


@dataclass(frozen=True)
class Login:
    """A credential exchanged for a token first (Monite's POST /auth/token)."""

    op: Op
    token: str  # where the answer keeps the token (a dotted path)


# --- the steps that reach a state (run by sandbox.driver) --------------------------------------


@dataclass(frozen=True)
class Hold:
    """Before the domain is created: the provider's `setting` lasts a sandbox year, so the
    state it times (a transient one) holds; or `seconds`, e.g. 0 for a window that is over at
    once (Resend's 72 hours of re-checks, after which a domain is failed)."""

    setting: str
    seconds: float | None = None  # None: a sandbox year


# A verify that lands its verdict within the call, for a provider whose verify_delay_seconds
# keeps a domain pending a while after a verify (AutoSend, Resend): the kit's way to a verdict.
VERIFY_AT_ONCE = Hold("verify_delay_seconds", 0)


@dataclass(frozen=True)
class Publish:
    """Publish the domain's records in the sandbox DNS, less `omit`, with `corrupt` broken."""

    omit: tuple[str, ...] = ()
    corrupt: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verify:
    """Run the provider's own verification now (the control API's verify)."""


@dataclass(frozen=True)
class Call:
    """Make one more call of the provider's API, as a client would (SES's MAIL FROM setting)."""

    op: Op


@dataclass(frozen=True)
class Delete:
    """Delete the domain through the provider's own API."""


@dataclass(frozen=True)
class Fail:
    """Make every DNS lookup under the domain fail with `kind` (servfail, drop...)."""

    kind: str = "servfail"


Step = Hold | Publish | Verify | Call | Delete | Fail


@dataclass(frozen=True)
class PythonSdk:
    """The provider's official Python SDK, as the pytest plugin's `client(provider)` hands it
    out (sandbox.sdk): the `package` to pip install, the `module` it brings, and `build`, which
    makes a client from the provider's credentials (`sandbox.sdk.credentials`: `base_url`,
    `key`, `token`... and the `Kit.sdk_names`)."""

    package: str
    module: str
    build: Callable[[dict[str, Any]], Any]
    # For an SDK configured through its module's globals: saves them now, and returns what puts
    # them back (the pytest plugin calls it when the test ends).
    keep: Callable[[], Callable[[], None]] | None = None


def api_key_names(provider, found: dict[str, Any]) -> dict[str, Any]:
    """The credential as most SDK constructors take it: `api_key`."""
    return {"api_key": found["key"]}


@dataclass(frozen=True)
class Kit:
    """What it takes to drive one provider's API as its clients do."""

    sample_key: Callable[[int], str]  # a well-formed credential for owner number n
    headers_for: Callable[[str], dict[str, str]]  # the credential (or login token) as headers
    credential_headers: tuple[str, ...]  # where the credential travels (rate limits count it)
    create: Op
    list: Op
    # Where a create's answer keeps the new domain's id (a dotted path); None when the API
    # addresses a domain by its name and answers a create without an id (Amazon SES).
    id_at: str | None
    status_at: str  # where a create's or get's answer keeps the domain's status
    errors_at: tuple[str, ...]  # where an error body keeps its message, in the order to try
    items_at: str  # where a list's answer keeps the domains ("" for the answer itself)
    # The provider's state words (its report words), each with the steps that reach it.
    states: dict[str, tuple[Step, ...]]
    get: Op | None = None
    verify: Op | None = None
    delete: Op | None = None
    login: Login | None = None
    sample_secret: str | None = None  # the secret that goes with every sample key, if any
    headers: dict[str, str] = field(default_factory=dict)  # sent with every call
    item_id_at: str = "id"  # where a listed domain keeps its id
    # State words no step of a client's reaches, each with why (a scenario file can hold them).
    unreachable: dict[str, str] = field(default_factory=dict)
    # The query of the list page after `read` domains were read, if lists come in pages.
    page_query: Callable[[int], dict[str, Any]] | None = None
    # The call that gives a domain a "{description}", where the API keeps one (the demo world).
    describe: Op | None = None
    # The names its SDK's constructor takes the credential by, from (the provider, the
    # credentials found): what `sandbox.sdk.credentials` adds to them.
    sdk_names: Callable[[Any, dict[str, Any]], dict[str, Any]] = api_key_names
    # Its official Python SDK, if it has one; if it has one for other languages only, which.
    sdk: PythonSdk | None = None
    no_python_sdk: str | None = None

    def domain_id(self, answer: Any, name: str = "") -> str:
        """The id of the domain a create answered (`name`: the domain it created)."""
        return name.lower() if self.id_at is None else str(dig(answer, self.id_at))

    def status(self, answer: Any) -> Any:
        return dig(answer, self.status_at)

    def listed_ids(self, answer: Any) -> list[str]:
        """The ids of the domains in a list's answer."""
        return [str(dig(item, self.item_id_at)) for item in dig(answer, self.items_at) or []]

    def error_message(self, body: Any) -> str | None:
        """The message of an error body in the provider's shape, or None if it is not one."""
        for path in self.errors_at:
            found = dig(body, path)
            if isinstance(found, str) and found:
                return found
        return None


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path ("data.id", "detail.0.msg"; "" is `data`), or None."""
    for part in path.split(".") if path else ():
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _filled(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, values) for v in value]
    return value
