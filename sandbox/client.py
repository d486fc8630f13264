"""A small Python client for the control API, used by the CLI, the pytest plugin and tests.

Every control path and request body is written here, once: the CLI only calls these methods.
The answers are plain JSON data; the TypedDicts below name the main shapes for the reader and
type checkers (openapi/control.yaml is the reference).

It speaks HTTP with the standard library's http.client: every CLI command builds one, and
importing httpx would cost each command about 0.2 s before it sends anything.
"""

from __future__ import annotations

import argparse
import http.client
import json as jsonlib
import os
import select
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NotRequired, TypedDict
from urllib.parse import quote, urlencode, urlsplit

from .arguments import seconds_of, timeout
from .mounts import CONTROL_MOUNT
from .shipped import provider_names

# Where a running sandbox's control token is read from when none is given.
TOKEN_ENV = "DOMAINSANDBOX_TOKEN"
# How long a call (not a clock move: that one is waited for however long it takes) may go
# unanswered when no timeout is given: this variable's duration (90, 30s, 2m), else 30 s. The
# CLI's --timeout falls back on it too.
TIMEOUT_ENV = "DOMAINSANDBOX_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 30.0

# What a reused keep-alive connection raises when the server closed it while it was idle.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def sandbox_url(url: str) -> str:
    """`url` as ControlClient takes it: a running sandbox's address (its control API's, which
    `serve` prints, too), without a trailing slash. ValueError saying why when it is not one."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 -- urlsplit checks the port only when it is read
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a sandbox URL such as http://127.0.0.1:8080")
    path = parts.path.rstrip("/").removesuffix(CONTROL_MOUNT)
    if (first := path.strip("/").partition("/")[0]) in provider_names():
        raise ValueError(
            f"{url!r} is the sandbox's {first} API; give the sandbox's own address, "
            f"{parts.scheme}://{parts.netloc}"
        )
    return f"{parts.scheme}://{parts.netloc}{path}"


def default_timeout() -> float:
    """Seconds a control call may go unanswered when no timeout is given: $DOMAINSANDBOX_TIMEOUT,
    a duration as the CLI's --timeout takes it, else DEFAULT_TIMEOUT_SECONDS. ValueError naming
    the variable and its value when that is no duration."""
    if (text := os.environ.get(TIMEOUT_ENV)) is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        return timeout(text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"${TIMEOUT_ENV}={text!r}: {exc}; fix or unset it") from None


def _hidden_from_pytest(excinfo) -> bool:
    """pytest leaves this module's frames out of a ControlError's traceback: the test's own
    line says what was asked, the error what the sandbox answered. Other errors show them."""
    return excinfo is not None and excinfo.errisinstance(ControlError)


__tracebackhide__ = _hidden_from_pytest

# A span of sandbox time: seconds, a timedelta, or a duration as the CLI writes it ("1h30m").
Duration = float | timedelta | str


class _NoAnswer(Exception):
    """The sandbox took the request and did not answer it in time."""


class _NotHttp(Exception):
    """A new connection was taken and closed with no answer to a read: no HTTP server there."""


class _Dropped(Exception):
    """The connection closed after the request was sent, before any answer: the call may have
    been carried out."""


def _closed_by_server(sock) -> bool:
    """Whether an idle kept-alive connection has something to read: the server's close (or
    bytes it should not have sent). Such a connection is not reused."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _brief(text: str, most: int = 120) -> str:
    """The first line of `text`, cut short: enough to recognise what answered."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return repr(line if len(line) <= most else line[:most] + "…")


class PublishWarning(UserWarning):
    """A publish whose records cannot pass as published: a second SPF record at a name."""


class ControlError(Exception):
    """The control API refused a call, or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Unreachable(ControlError):
    """Nothing answered at the sandbox's URL."""


@dataclass(frozen=True)
class Response:
    """A control API answer: status, headers (lower-case names) and body."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


# --- the main answers' shapes ------------------------------------------------------------------


class ClockState(TypedDict):
    now: str  # ISO-8601, UTC
    frozen: bool  # moves only when told (frozen, on-poll)
    mode: NotRequired[str]  # frozen, real, fast or on-poll
    speed: NotRequired[float]  # sandbox seconds per real second; 1 unless fast


class JournalEntry(TypedDict):
    seq: int
    at: str  # on the sandbox clock
    provider: str | None
    operation: str | None  # the operationId
    method: str
    path: str
    query: str
    headers: dict[str, str]  # credentials redacted
    body: Any  # JSON or form data, or text; cut at 8 KiB (body_truncated)
    body_truncated: bool
    status: int | None
    domain_id: str | None  # the domain the request touched
    duration_ms: float
    violations: list[dict[str, Any]]
    aborted: NotRequired[bool]  # an injected fault dropped the connection
    fault: NotRequired[str]  # the id of the injected HTTP fault applied to the call


class DnsRecord(TypedDict):
    name: str
    type: str
    value: str
    ttl: int
    visible_after: str | None  # hidden from DNS answers until then


class DnsFault(TypedDict):
    id: str
    match: str
    kind: str
    qtype: str | None
    count: int | None  # matches left; None: until cleared
    delay_ms: int | None


class HttpFault(TypedDict):
    id: str
    provider: str
    operation: str | None  # None: every operation
    status: int | None
    latency_ms: int
    abort: bool
    count: int | None  # calls left; None: until cleared
    probability: float | None
    abort_after: NotRequired[bool]  # present (true) when the call is carried out, then dropped
    reset: NotRequired[bool]  # present (true) when the connection is reset before any answer
    reset_after: NotRequired[bool]  # present (true): the call carried out, then the reset
    # in the answer to an added fault only: what the fault does not meet (Mailgun's SDKs each
    # take one of the two routes of a call)
    note: NotRequired[str]


class Quota(TypedDict):
    requests: int
    window_seconds: float


class RateLimits(TypedDict):
    enabled: bool
    quotas: dict[str, Quota]  # by provider


class Credential(TypedDict):
    provider: str
    key: str
    secret: NotRequired[str]  # Monite's client_secret
    revoked: bool


class PublishedRecord(TypedDict):
    kind: str
    name: str
    type: str
    value: str
    corrupted: NotRequired[bool]


class DomainView(TypedDict):
    """A domain of any provider as the control API shows it."""

    provider: str
    id: str
    name: str
    owner: str
    status: str  # in the provider's own vocabulary, one of `statuses`
    api: str  # the base URL of the API that knows it: Mailgun's EU region's, /mailgun/eu
    statuses: list[str]
    states: list[str]  # in the provider's own fields, as the client report counts them
    tone: str  # ok, bad or pending, as the provider judges the status (the dashboard's colour)
    created_at: str
    updated_at: str
    last_checked_at: str | None
    checks: int
    next_step_at: str | None
    records: list[dict[str, Any]]  # each required record with its last check's result
    timeline: list[dict[str, Any]]


class ResetResult(TypedDict):
    seed: int
    clock: ClockState


class ScenarioLoaded(TypedDict):
    loaded: bool
    domains: int
    dns_records: int
    clock: ClockState


class ControlClient:
    """Drive a running sandbox (`token`: its control token, if it has one; by default
    $DOMAINSANDBOX_TOKEN, which `serve` and the other commands read too):

        with ControlClient("http://127.0.0.1:8080") as control:
            control.freeze("2026-01-01T09:00:00Z")

    It keeps one connection per thread, closed on leaving the block or by close(). A refusal
    (4xx, 5xx), an unreachable sandbox or one that does not answer within `timeout` seconds
    raises ControlError. `timeout` is by default $DOMAINSANDBOX_TIMEOUT, a duration as the CLI's
    --timeout takes it (90, 30s, 2m), else 30 s; a value there that is no duration raises
    ControlError. Calls that move the clock wait for their answer however long the move takes:
    every scheduled step on the way runs its real DNS checks, and a move of years over a busy
    world takes minutes.
    """

    # How a refused token is given: said after the control API's 401 (the CLI says its flag).
    token_hint = f"give it with ControlClient(url, token=...) or ${TOKEN_ENV}"

    def __init__(self, url: str, timeout: float | None = None, token: str | None = None) -> None:
        try:
            self.url = sandbox_url(url)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        try:
            self._timeout = default_timeout() if timeout is None else timeout
        except ValueError as exc:
            raise ControlError(f"{exc}, or give ControlClient(url, timeout=...)") from None
        parts = urlsplit(self.url)
        self._connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._address = (parts.hostname, parts.port)
        self._prefix = parts.path + CONTROL_MOUNT
        token = (os.environ.get(TOKEN_ENV) if token is None else token) or ""
        token = token.strip()  # a token read from a file may end in a line break
        if any(not " " <= character <= "~" for character in token):
            raise ControlError(  # not a character of the server's: said before it is asked
                "the control token holds a character an HTTP header cannot carry (a line "
                "break, a control character, a letter beyond ASCII)"
            )
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._local = threading.local()  # one connection per thread: http.client is not shared

    def close(self) -> None:
        """Close this thread's connection (the next call opens another)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One control API call (`raw`'s arguments); returns the decoded JSON (None when empty).

        The methods below name every call of the control API: prefer them."""
        response = self.raw(method, path, **kwargs)
        if not response.content:
            return None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # every answer of the control API is a JSON object
            said = f"{method} {self._prefix}{path} answered {_brief(response.text)}"
            raise self.not_a_sandbox(said)
        return answer

    def raw(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        moves_clock: bool = False,
    ) -> Response:
        """One control API call to `path` (under /_sandbox); returns the Response, or raises
        ControlError on failure. `moves_clock`: wait for the answer without a time limit."""
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        head = self._headers | dict(headers or {})
        if json is not None:
            content = jsonlib.dumps(json).encode()
            head = {"Content-Type": "application/json"} | head
        if isinstance(content, str):
            content = content.encode()
        wait = None if moves_clock else self._timeout
        try:
            response = self._send(method, target, content, head, wait)
        except _NoAnswer:
            raise ControlError(
                f"the sandbox at {self.url} did not answer {method} {self._prefix}{path} within "
                f"{self._timeout:g} s; it may still be working on it"
            ) from None
        except _Dropped:
            raise ControlError(
                f"the connection to the sandbox at {self.url} closed before it answered {method} "
                f"{self._prefix}{path}: the call may have been carried out, or not. Look (a "
                "`domainsandbox domains`, `clock`, ...) before sending it again"
            ) from None
        except _NotHttp:
            raise Unreachable(
                f"the server at {self.url} took the connection and closed it without an HTTP "
                "answer: is that the sandbox's DNS port? Its HTTP port is the one `serve` lists "
                "the APIs at."
            ) from None
        except OSError as exc:
            raise Unreachable(
                f"cannot reach the sandbox at {self.url} ({exc}); is `domainsandbox serve` running?"
            ) from None
        except (http.client.HTTPException, ValueError) as exc:  # a broken answer, a bad header
            raise self.not_a_sandbox(f"{type(exc).__name__}: {_brief(str(exc))}") from None
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):  # another server: not a refusal of ours
                said = f"{method} {self._prefix}{path} answered {response.status_code}: "
                said += _brief(response.text)
                raise self.not_a_sandbox(said) from None
            if response.status_code == 401:  # the control token: say how to send it
                message = f"{message}; {self.token_hint}"
            raise ControlError(f"{response.status_code}: {message}", response.status_code)
        return response

    def answers_as_sandbox(self) -> bool:
        """True if the server at `url` answers the health check as a domainsandbox does."""
        try:
            health = self.health()
        except ControlError:
            return False
        return {"ready", "version", "providers"} <= health.keys()

    def not_a_sandbox(self, what: str) -> ControlError:
        """The error of a server at `url` that answers as something else: `what` it answered."""
        return ControlError(f"the server at {self.url} does not answer as a domainsandbox: {what}")

    def _send(
        self, method: str, target: str, body: bytes | None, headers: dict, wait: float | None
    ) -> Response:
        reused = getattr(self._local, "connection", None) is not None
        try:
            return self._exchange(method, target, body, headers, wait)
        except _STALE:
            if method != "GET":  # a change sent again may be made twice: never sent again
                raise _Dropped from None
            if not reused:
                raise _NotHttp from None
            return self._exchange(method, target, body, headers, wait)  # a read changes nothing

    def _exchange(
        self, method: str, target: str, body: bytes | None, headers: dict, wait: float | None
    ) -> Response:
        """One request and its answer; `wait`: seconds the answer may take (None: no limit)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connection_class(*self._address, timeout=self._timeout)
            self._local.connection = connection
        if connection.sock is not None and _closed_by_server(connection.sock):
            connection.close()  # while it was idle: a new one, rather than a request lost
        try:
            if connection.sock is None:
                connection.connect()  # within `timeout`: a sandbox not there says so at once
            connection.sock.settimeout(wait)
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except OSError as exc:
            connected = connection.sock is not None
            self.close()
            if connected and isinstance(exc, TimeoutError):
                raise _NoAnswer from None
            raise
        if answer.will_close:
            self.close()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, content)

    # --- DNS --------------------------------------------------------------------------------

    def records(self, name: str | None = None, type: str | None = None) -> list[DnsRecord]:
        """The records in the fake DNS zone (at one name, of one type, if given)."""
        params = {k: v for k, v in {"name": name, "type": type}.items() if v}
        return self.call("GET", "/dns/records", params=params)["records"]

    def add_record(
        self,
        name: str,
        type: str,
        value: str | list[str],
        ttl: int = 300,
        visible_after_seconds: Duration = 0,
    ) -> list[DnsRecord]:
        """Add a record (a list of values adds several); hidden for `visible_after_seconds`
        (seconds, a timedelta or a duration such as "5m")."""
        body = {"name": name, "type": type, "value": value, "ttl": ttl}
        if visible_after_seconds:
            body["visible_after_seconds"] = _seconds(visible_after_seconds)
        return self.call("POST", "/dns/records", json=body)["records"]

    def remove_records(self, name: str, type: str | None = None, value: str | None = None) -> int:
        """Remove the records at a name (of one type; only one value of it, if given)."""
        params = {"name": name} | ({"type": type} if type else {})
        params |= {"value": value} if value is not None else {}
        return self.call("DELETE", "/dns/records", params=params)["removed"]

    def add_fault(
        self,
        match: str,
        kind: str,
        *,
        qtype: str | None = None,
        count: int | None = None,
        delay_ms: int | None = None,
    ) -> DnsFault:
        """Make the fake DNS misbehave for queries matching `match` (a name, *.suffix or *):
        `kind` is servfail, refused, nxdomain, drop, delay (with `delay_ms`) or truncate."""
        options = {"qtype": qtype, "count": count, "delay_ms": delay_ms}
        return self.call(
            "POST", "/dns/faults", json={"match": match, "kind": kind} | _given(options)
        )

    def faults(self) -> list[DnsFault]:
        return self.call("GET", "/dns/faults")["faults"]

    def remove_fault(self, fault_id: str) -> None:
        """Remove one DNS fault by its id (`f1`); ControlError 404 if there is none."""
        self.call("DELETE", f"/dns/faults/{_segment(fault_id)}")

    def clear_faults(self) -> int:
        return self.call("DELETE", "/dns/faults")["removed"]

    def queries(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The fake DNS query log, oldest first: the last `limit` queries."""
        return self.call("GET", "/dns/queries", params={"limit": limit})["queries"]

    def clear_queries(self) -> None:
        self.call("DELETE", "/dns/queries")

    # --- domains ------------------------------------------------------------------------------

    def domains(self, provider: str | None = None) -> list[DomainView]:
        """Every provider's domains (or one provider's), with their records and checks."""
        params = {"provider": provider} if provider else {}
        return self.call("GET", "/domains", params=params)["domains"]

    def domain(self, provider: str, domain_id: str) -> DomainView:
        return self.call("GET", _domain_path(provider, domain_id))

    def publish(
        self,
        provider: str,
        domain_id: str,
        omit: Iterable[str] | str = (),
        corrupt: Iterable[str] | str = (),
        visible_after_seconds: Duration = 0,
        ttl: int | None = None,
    ) -> list[PublishedRecord]:
        """Write the domain's expected records into the fake DNS, less `omit`, `corrupt` broken
        (record kinds: a list, or "spf,dkim_1" as the CLI takes them), hidden for
        `visible_after_seconds` (seconds, a timedelta or a duration such as "5m")."""
        body: dict[str, Any] = {"omit": _kinds(omit), "corrupt": _kinds(corrupt)}
        if visible_after_seconds:
            body["visible_after_seconds"] = _seconds(visible_after_seconds)
        if ttl is not None:
            body["ttl"] = ttl
        path = _domain_path(provider, domain_id) + "/publish"
        answer = self.call("POST", path, json=body)
        for said in answer.get("warnings", ()):  # a second SPF record beside ours, say
            warnings.warn(said, PublishWarning, stacklevel=2)
        return answer["published"]

    def verify(self, provider: str, domain_id: str) -> DomainView:
        """Run the provider's own verification now; returns the domain's control view."""
        return self.call("POST", _domain_path(provider, domain_id) + "/verify")

    def create_domain(self, provider: str, name: str, api: str | None = None) -> DomainView:
        """Create a domain through `provider`'s own API, as its clients do (the dashboard's
        "New domain"); a 400 carries the provider's refusal. `api`: one of the provider's
        `apis` (see providers()), for another region's (Mailgun's EU: "/mailgun/eu")."""
        body = {"provider": provider, "name": name} | ({"api": api} if api else {})
        return self.call("POST", "/domains", json=body)

    def providers(self) -> list[dict[str, Any]]:
        """The providers served, each with its APIs' base URLs (`apis`), its status words and
        its operations (operationIds: what an HTTP fault may name)."""
        return self.call("GET", "/providers")["providers"]

    def settings(self, provider: str, **changes: float) -> dict[str, float]:
        """A provider's timings in seconds; with `name=seconds`, changes them first."""
        if changes:
            return self.update_settings(provider, changes)
        return self.call("GET", f"/providers/{_segment(provider)}/settings")

    def update_settings(self, provider: str, changes: Mapping[str, float]) -> dict[str, float]:
        """Change some of a provider's timings (seconds by name); returns them all."""
        path = f"/providers/{_segment(provider)}/settings"
        return self.call("PATCH", path, json=dict(changes))

    # --- scenarios ---------------------------------------------------------------------------

    def export_scenario(self, format: str = "yaml") -> str:  # noqa: A002 (the API's name)
        """The whole world as scenario YAML (or, with format="json", JSON)."""
        params = {"format": format} if format != "yaml" else None
        return self.raw("GET", "/scenario", params=params).text

    def load_scenario(self, text: str | bytes, format: str = "yaml") -> ScenarioLoaded:  # noqa: A002
        """Replace the world by a scenario (YAML text, or with format="json" JSON, read as
        JSON: a trailing comma is refused, where YAML would take it); all or nothing."""
        headers = {"Content-Type": f"application/{format}"}
        return self.call("POST", "/scenario", content=text, headers=headers)

    def bundled_scenarios(self) -> list[dict[str, str]]:
        """The scenarios shipped with the sandbox: each one's name and description."""
        return self.call("GET", "/scenarios")["scenarios"]

    def load_bundled_scenario(self, name: str) -> ScenarioLoaded:
        """Replace the world by the bundled scenario `name` (`every-state`)."""
        return self.call("POST", f"/scenarios/{_segment(name)}/load")

    # --- HTTP faults and rate limits ---------------------------------------------------------

    def add_http_fault(
        self,
        provider: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        latency_ms: int | None = None,
        abort: bool | None = None,
        count: int | None = None,
        probability: float | None = None,
        abort_after: bool | None = None,
        reset: bool | None = None,
        reset_after: bool | None = None,
    ) -> HttpFault:
        """Fail (`status`), slow (`latency_ms`) or drop a provider's calls (of one `operation`),
        for the next `count` of them or until cleared, with a `probability`.

        `abort`: a 200 head, then the connection closes with no body. `reset`: the connection
        is reset (TCP RST) before any answer, which clients retry. Neither carries the call out;
        `abort_after` and `reset_after` carry it out first (the change is made and the client
        never learns it: what retries of a create must survive)."""
        options = {
            "operation": operation,
            "status": status,
            "latency_ms": latency_ms,
            "abort": abort,
            "count": count,
            "probability": probability,
            "abort_after": abort_after,
            "reset": reset,
            "reset_after": reset_after,
        }
        return self.call("POST", "/http/faults", json={"provider": provider} | _given(options))

    def http_faults(self) -> list[HttpFault]:
        return self.call("GET", "/http/faults")["faults"]

    def remove_http_fault(self, fault_id: str) -> None:
        """Remove one HTTP fault by its id (`h1`), leaving the others (a shared sandbox's
        other tests' faults); ControlError 404 if there is none."""
        self.call("DELETE", f"/http/faults/{_segment(fault_id)}")

    def clear_http_faults(self) -> int:
        return self.call("DELETE", "/http/faults")["removed"]

    def rate_limits(self, enabled: bool | None = None) -> RateLimits:
        """The providers' documented rate limits; `enabled` turns them on or off first."""
        if enabled is None:
            return self.call("GET", "/rate-limits")
        return self.call("PUT", "/rate-limits", json={"enabled": enabled})

    # --- registered credentials ---------------------------------------------------------------

    def register_credential(self, provider: str, key: str, secret: str | None = None) -> Credential:
        """Register a credential: from then on `provider` accepts only registered, unrevoked ones.

        `key` is a Monite client_id (its client_secret as `secret`), an AutoSend, Vortex, Mailgun
        or Resend API key, a Scaleway secret key, or an SES access key ID."""
        body = {"provider": provider, "key": key} | _given({"secret": secret})
        return self.call("POST", "/credentials", json=body)

    def revoke_credential(self, provider: str, key: str) -> Credential:
        """Revoke a registered credential: the provider refuses it from now on, in its own words
        (401; SES and Resend: 403; Monite's /auth/token: 400)."""
        return self.call("POST", "/credentials/revoke", json={"provider": provider, "key": key})

    def credentials(self, provider: str | None = None) -> list[Credential]:
        """The registered credentials (of one provider), each saying whether it was revoked."""
        params = {"provider": provider} if provider else {}
        return self.call("GET", "/credentials", params=params)["credentials"]

    def clear_credentials(self, provider: str | None = None) -> int:
        """Forget registered credentials (of one provider): any well-formed one works again."""
        params = {"provider": provider} if provider else {}
        return self.call("DELETE", "/credentials", params=params)["removed"]

    # --- clock, reset, requests ---------------------------------------------------------------

    def health(self) -> dict:
        """Whether the sandbox serves: ready, version, uptime_seconds, dns {host, port},
        providers (`GET /_sandbox/health`, which needs no control token)."""
        return self.call("GET", "/health")

    def clock(self) -> ClockState:
        return self.call("GET", "/clock")

    def freeze(self, at: str | None = None) -> ClockState:
        """Stop the clock: now, or at the ISO-8601 instant `at`."""
        body = {"freeze": True} | ({"set": at} if at else {})
        return self.call("POST", "/clock", json=body, moves_clock=True)

    def unfreeze(self) -> ClockState:
        return self.call("POST", "/clock", json={"freeze": False})

    def set_time(self, at: str) -> ClockState:
        """Move the clock to the ISO-8601 instant `at`."""
        return self.call("POST", "/clock", json={"set": at}, moves_clock=True)

    def advance(self, seconds: Duration) -> ClockState:
        """Move the clock forward (seconds, a timedelta or a duration such as "1h30m"), running
        every scheduled step at its own instant."""
        body = {"advance_seconds": _seconds(seconds)}
        return self.call("POST", "/clock", json=body, moves_clock=True)

    def set_clock_mode(self, mode: str, speed: float | None = None) -> ClockState:
        """Switch the clock to `mode`, from the instant it shows: "frozen" (moves only when
        told), "real" (wall time), "fast" (`speed` sandbox seconds per real second, default 60)
        or "on-poll" (a client reading a domain it has seen moves the clock to its next step)."""
        return self.call("POST", "/clock", json={"mode": mode} | _given({"speed": speed}))

    def advance_until(
        self,
        provider: str,
        domain_id: str,
        status: str | None = None,
        predicate: Callable[[DomainView], bool] | None = None,
        limit: Duration | None = None,
    ) -> dict[str, Any]:
        """Move the clock step by step, each step at its own instant, until the domain's status
        is `status` or `predicate(view)` holds, at most `limit` (seconds, a timedelta or a
        duration such as "3d"; default: the provider's verification window) ahead. The view is
        the control API's (`domain()`: `status`, `states` such as
        "VerificationStatus=SUCCESS", `records`), not the provider's own answer.
        ControlError (409) says where the domain got stuck. Returns the status,
        advanced_seconds, steps, clock and domain."""
        if (status is None) == (predicate is None):
            raise ValueError("advance_until: give a status or a predicate (one of them)")
        if limit is not None:
            limit = _seconds(limit)
        body = {"provider": provider, "domain_id": domain_id}
        if predicate is None:
            return self.call(
                "POST",
                "/clock/advance-until",
                json=body | _given({"status": status, "limit_seconds": limit}),
                moves_clock=True,
            )
        view, steps, advanced = self.domain(provider, domain_id), 0, 0.0
        reached = {"clock": self.clock()}
        while not predicate(view):
            left = None if limit is None else max(0.0, limit - advanced)
            try:
                reached = self.call(
                    "POST",
                    "/clock/advance-until",
                    json=body | _given({"limit_seconds": left}),
                    moves_clock=True,
                )
            except ControlError as stuck:  # said of the domain: say first that it never held
                if stuck.status != 409:
                    raise
                raise ControlError(
                    f"the predicate never held (it is given the control API's view: status, "
                    f"states, records); {stuck}",
                    409,
                ) from None
            limit = reached["limit_seconds"] if limit is None else limit
            steps, advanced = steps + 1, advanced + reached["advanced_seconds"]
            if reached["domain"] is None:
                raise ControlError(f"{provider} domain {domain_id} was deleted before it got there")
            view = reached["domain"]
        return {
            "status": view["status"],
            "advanced_seconds": advanced,
            "steps": steps,
            "clock": reached["clock"],
            "domain": view,
        }

    def reset(self, seed: int | None = None, restore_clock: bool = False) -> ResetResult:
        """Forget every domain, record, fault and request (not the report); reseed if given;
        `restore_clock`: put the clock back where and as it started, too."""
        body = _given({"seed": seed}) | ({"restore_clock": True} if restore_clock else {})
        return self.call("POST", "/reset", json=body)

    def demo(self, domains: int = 40, seed: int | None = None) -> dict[str, Any]:
        """Replace the world with a demo world of `domains` realistic domains over every
        provider and state (sandbox.demo); the same seed gives the same world."""
        return self.call("POST", "/demo", json=_given({"domains": domains, "seed": seed}))

    def requests(
        self, provider: str | None = None, limit: int | None = None, **filters: Any
    ) -> list[JournalEntry]:
        """The request journal, oldest first: the provider API requests received that match
        every filter given (provider, operation, status: 404, "4xx" or "aborted", domain: a
        domain id, since/until: ISO-8601 instants of the sandbox clock, or datetimes, a naive
        one read as UTC), the last `limit` of them. An entry a fault dropped says `aborted`; a
        status code or class never matches it."""
        params = _journal_query({"provider": provider or None, "limit": limit} | filters)
        return self.call("GET", "/requests", params=params)["requests"]

    def count_requests(self, provider: str | None = None, **filters: Any) -> int:
        """How many journal entries match the filters (those of `requests`)."""
        params = _journal_query({"provider": provider or None} | filters)
        return self.call("GET", "/requests/count", params=params)["count"]

    def clear_requests(self) -> None:
        self.call("DELETE", "/requests")

    def report(self) -> dict[str, Any]:
        """The client conformance report: per provider, operations, statuses, states, violations."""
        return self.call("GET", "/report")

    def expecting_errors(self) -> _Expecting:
        """From now until the end of this `with` block, the violations requests make are the
        test's own doing: the report lists them as expected, apart from the client's. Called
        without `with`, it lasts until the next reset (under the fixture: the test's end)."""
        self.call("PUT", "/report/expecting-errors", json={"expecting": True})
        return _Expecting(self)

    def running_test(self, name: str | None) -> None:
        """Name the test whose requests follow (None: none), until named again or a reset: the
        report's violations name the tests that sent them. The pytest fixture does it for you;
        another test runner's per-test set-up can call it."""
        self.call("PUT", "/report/test", json={"test": name})

    def clear_report(self) -> None:
        """Start a new client conformance report (reset keeps it)."""
        self.call("DELETE", "/report")


class _Expecting:
    """What `expecting_errors()` returns: leaving its `with` block stops expecting errors."""

    def __init__(self, control: ControlClient):
        self._control = control

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._control.call("PUT", "/report/expecting-errors", json={"expecting": False})


def _seconds(value: Duration) -> float:
    """Seconds, from a number, a timedelta or a duration as the CLI writes it ("1h30m")."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        return seconds_of(value)  # ValueError saying what a duration looks like
    return value


def _kinds(value: Iterable[str] | str) -> list[str]:
    """Record kinds, from a list or from "spf,dkim_1" (a string is not split into letters)."""
    if isinstance(value, str):
        return [kind.strip() for kind in value.split(",") if kind.strip()]
    return list(value)


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options that were given: a None is left out of the request, for the API's default."""
    return {k: v for k, v in options.items() if v is not None}


def _journal_query(filters: dict[str, Any]) -> dict[str, Any]:
    """The journal's filters as a query: `since`/`until` may be datetimes (ISO-8601 sent)."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in _given(filters).items()}


def _segment(value: str) -> str:
    """A value as one path segment: a space, '?' or '/' in an id must not change the path."""
    return quote(value, safe="")


def _domain_path(provider: str, domain_id: str) -> str:
    return f"/domains/{_segment(provider)}/{_segment(domain_id)}"
