"""What keeps a shared sandbox safe from its callers: the control token, size limits on requests.

- `ControlToken`: once a token is set (`serve --control-token`), every call outside the provider
  APIs (the control API at /_sandbox, anything unknown) needs `Authorization: Bearer <token>`,
  or is answered 401 in the control API's error shape. The dashboard's page and static files
  stay open (they hold no data); the page sends the token on each control call it makes.
- `check_exposure`: `serve` bound to an address other than loopback refuses to start without one.
- `BrowserGuard`: the control API and the dashboard refuse what a web page could make a browser
  send them: a request whose Host is a name they do not answer at (DNS rebinding), one a
  browser marks as cross-site (Origin, Sec-Fetch-Site), and a state-changing control call whose
  body is not JSON (a form post).
- `RequestLimits`: request bodies over the limit are answered 413 in the shape of the provider
  whose mount the request hit, before any of the body reaches the app; heads too large, 431.
- `connection_limit`: how many connections `serve` takes at once (sandbox/connection.py bounds
  each one: its head's size and deadline, and the 503 past this limit).
- `ShutdownAnswer`: requests cut off by the end of a graceful shutdown get a 503, not a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import re
import resource
from typing import TYPE_CHECKING

from .errors import ProviderError, ShuttingDown
from .mounts import CONTROL_MOUNT, DASHBOARD_MOUNT, HEALTH_PATH
from .request import send_answer

if TYPE_CHECKING:
    from .core import Sandbox

# A provider request body: the largest real one is a few hundred bytes; 1 MiB leaves room.
MAX_BODY_BYTES = 1024 * 1024
# A control request body: scenario files of big worlds are loaded through it.
MAX_CONTROL_BODY_BYTES = 32 * 1024 * 1024
# Request line plus headers: SDKs send well under 8 KiB; proxies commonly allow 8-64 KiB.
MAX_HEAD_BYTES = 64 * 1024
# An oversized body is read and thrown away up to this much before the 413 is sent, so that a
# client which writes its whole body before reading the answer sees the 413 instead of a reset.
DRAIN_BYTES = 64 * 1024 * 1024

HEAD_TOO_LARGE = f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes"
# Connections served at once, at most; requests on connections beyond get a 503 in their API's
# shape. Lower when the process may open fewer files (see connection_limit).
MAX_CONNECTIONS = 4096
# File descriptors kept for everything else: the listening and DNS sockets, the state file,
# the workers' line to the world, the verifier's lookups.
RESERVED_FDS = 128
# The soft limit on open files is raised up to this (or the hard limit, if lower).
WANTED_FDS = 65536
CLOSE = {"connection": "close"}  # said on answers after which the connection is closed


class ExposedWithoutToken(ValueError):
    """`serve` was asked to listen beyond loopback without a control token."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'; any other name or address is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def check_exposure(host: str, token: str | None) -> None:
    """Refuse (ExposedWithoutToken) to serve the control API beyond loopback without a token."""
    if not token and not is_loopback(host):
        raise ExposedWithoutToken(
            f"refusing to listen on {host} without a control token: the control API can rewrite "
            "DNS and time for anyone who reaches the port. Pass --control-token TOKEN (or set "
            "DOMAINSANDBOX_TOKEN), or listen on 127.0.0.1."
        )


# A control token shorter than this, beyond loopback, is warned about at start.
STRONG_TOKEN_CHARS = 16


def weak_token(host: str, token: str | None) -> str | None:
    """A warning when the control API is served beyond loopback with a token short enough to
    guess (`--control-token x`); None otherwise (a longer token, or this machine only)."""
    if not token or is_loopback(host) or len(token) >= STRONG_TOKEN_CHARS:
        return None
    return (
        f"warning: the control token is shorter than {STRONG_TOKEN_CHARS} characters and other "
        "machines reach this one: a guess may find it (python3 -c 'import secrets; "
        "print(secrets.token_urlsafe())' makes one that will not)"
    )


def _normal_path(path: str) -> str:
    """`path` with each run of slashes as one slash."""
    return _SLASHES.sub("/", path) if "//" in path else path


_SLASHES = re.compile(r"/{2,}")


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


# --- the control token ---------------------------------------------------------------------------


def _refusal(given: bytes | None) -> str:
    """Why a control call was refused: no token sent, or the wrong one (a mistyped or stale
    token is then not mistaken for a missing header)."""
    if given is None:
        return "this sandbox's control API needs Authorization: Bearer <token>"
    return "this sandbox's control API refused the bearer token sent: it is not the sandbox's"


class ControlToken:
    """ASGI wrapper: with `sandbox.control_token` set, the control API needs the bearer token."""

    def __init__(self, app, sandbox: Sandbox, render):
        self.app, self.sandbox, self.render = app, sandbox, render

    async def __call__(self, scope, receive, send):
        token = self.sandbox.control_token
        if scope["type"] != "http" or not token or self._open(scope["path"]):
            return await self.app(scope, receive, send)
        given = _bearer(scope)
        if given is not None and hmac.compare_digest(given, token.encode()):
            return await self.app(scope, receive, send)
        error = ProviderError(401, _refusal(given))
        challenge = {"www-authenticate": 'Bearer realm="domainsandbox"'}
        await send_answer(send, self.render(CONTROL_MOUNT, error, challenge))

    def _open(self, path: str) -> bool:
        """Only the control API needs the token: provider APIs judge their own credentials, the
        dashboard's files hold no data, and a path nothing serves is told it is not found (a
        client's base URL without its version is not a token problem)."""
        path = _normal_path(path)
        if "/../" in path + "/" or "/./" in path + "/":
            return False  # no route has dot segments: never let one dodge the check
        if path == DASHBOARD_MOUNT or path.startswith(DASHBOARD_MOUNT + "/"):
            return True
        if path == HEALTH_PATH:  # what a CI job waits on, before it has any token to send
            return True
        if path == SCENARIO_SCHEMA_PATH:  # no data: what an editor's YAML support fetches
            return True
        return path != CONTROL_MOUNT and not path.startswith(CONTROL_MOUNT + "/")


def _bearer(scope) -> bytes | None:
    value = _header(scope, b"authorization") or b""
    scheme, _, token = value.partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" and token.strip() else None


# --- browsers ----------------------------------------------------------------------------------

# What a browser's Sec-Fetch-Site says of a request made by a page of another origin.
_CROSS_SITE = (b"cross-site", b"same-site")  # same-site: another port of the same host, too
_READ_ONLY = ("GET", "HEAD", "OPTIONS")
SCENARIO_PATH = CONTROL_MOUNT + "/scenario"
SCENARIO_SCHEMA_PATH = SCENARIO_PATH + "/schema"


class BrowserGuard:
    """ASGI wrapper keeping web pages away from the control API and the dashboard.

    A page on another origin, opened in a browser on the machine, can send requests to the
    sandbox: simple ones (a form post, a bodiless `fetch(..., {mode: "no-cors"})`) go without
    asking, and through DNS rebinding even as if from the sandbox's own origin. Browsers say
    where a request comes from (Origin, Sec-Fetch-Site) and which name it was sent to (Host);
    clients that are not browsers (the CLI, SDKs, curl) send neither Origin nor Sec-Fetch-Site.
    The providers' APIs are left alone: they answer any Host, as a real API behind a proxy does.
    """

    def __init__(self, app, sandbox: Sandbox, render):
        self.app, self.sandbox, self.render = app, sandbox, render

    async def __call__(self, scope, receive, send):
        path = _normal_path(scope["path"])
        if scope["type"] != "http" or path == HEALTH_PATH or self.sandbox.provider_for(path):
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope)
        if refusal is None:
            return await self.app(scope, receive, send)
        await send_answer(send, self.render(CONTROL_MOUNT, refusal))

    def _refusal(self, scope) -> ProviderError | None:
        host = (_header(scope, b"host") or b"").decode("latin-1")
        if host and not self._answers_at(host):
            return ProviderError(
                403,
                f"this sandbox's control API and dashboard answer at localhost, its IP addresses "
                f"and the names given with `serve --allowed-host`, not at {_host_name(host)!r}",
            )
        if self._cross_site(scope, host):
            return ProviderError(
                403,
                "a request from another site (a web page's) is refused: the control API and the "
                "dashboard take requests from their own pages and from clients such as the CLI",
            )
        if scope["method"] not in _READ_ONLY and not _json_or_nothing(scope):
            if _normal_path(scope["path"]).rstrip("/") == SCENARIO_PATH:
                media = "Content-Type: application/yaml or application/json"
                return ProviderError(415, f"a scenario is YAML or JSON: send it with {media}")
            what = f"JSON (YAML at {SCENARIO_PATH})"
            return ProviderError(415, f"the control API takes {what}; send no body, or that")
        return None

    def _answers_at(self, host: str) -> bool:
        """True for an IP address (a page cannot make a browser send one in place of its own
        host name), localhost and its subdomains (RFC 6761: never looked up in DNS), and the
        names this sandbox was told it is reached by."""
        name = _host_name(host)
        if name == "localhost" or name.endswith(".localhost"):
            return True
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(name)
            return True
        return name in self.sandbox.allowed_hosts

    @staticmethod
    def _cross_site(scope, host: str) -> bool:
        site = _header(scope, b"sec-fetch-site")
        if site in _CROSS_SITE and not _opens_the_dashboard(scope):
            return True
        origin = _header(scope, b"origin")
        own = (f"http://{host}".encode("latin-1"), f"https://{host}".encode("latin-1"))
        return origin is not None and origin.lower() not in own


def _host_name(host: str) -> str:
    """The name or address of a Host header, lower-case, without port, brackets or final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    return (name if colon and port.isdigit() else host).rstrip(".")


def _opens_the_dashboard(scope) -> bool:
    """A link from another site to the dashboard's page opens it: the page holds no data, and
    what it asks the control API afterwards comes from its own origin."""
    return (
        scope["method"] == "GET"
        and _normal_path(scope["path"]).rstrip("/") == DASHBOARD_MOUNT
        and _header(scope, b"sec-fetch-mode") == b"navigate"
        and _header(scope, b"sec-fetch-dest") == b"document"
    )


def _json_or_nothing(scope) -> bool:
    """True when a request's body, if it has one, is declared JSON (or YAML for a scenario):
    what no HTML form can send (forms send urlencoded, multipart or text/plain bodies)."""
    kind = _header(scope, b"content-type")
    if kind is None:
        return _header(scope, b"content-length") in (None, b"0") and not _header(
            scope, b"transfer-encoding"
        )
    media = kind.split(b";")[0].strip().lower()
    if media == b"application/json" or media.endswith(b"+json"):
        return True
    yaml = media in (b"application/yaml", b"application/x-yaml", b"text/yaml")
    return yaml and _normal_path(scope["path"]).rstrip("/") == SCENARIO_PATH


# --- request bodies ------------------------------------------------------------------------------


def body_limit(path: str) -> int:
    """The largest body accepted at `path`."""
    return MAX_CONTROL_BODY_BYTES if path.startswith(CONTROL_MOUNT) else MAX_BODY_BYTES


def head_size(scope) -> int:
    """About the bytes of the request line and headers, as the client sent them."""
    line = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) + 16
    return line + sum(len(k) + len(v) + 4 for k, v in scope.get("headers", []))


class RequestLimits:
    """ASGI wrapper answering, in the provider's shape, 431 to heads over MAX_HEAD_BYTES and
    413 to bodies over `body_limit(path)`."""

    def __init__(self, app, render):
        self.app, self.render = app, render

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if head_size(scope) > MAX_HEAD_BYTES:  # what the parser let through in one read
            error = ProviderError(431, HEAD_TOO_LARGE)
            return await self._refuse(scope, receive, send, error)
        limit = body_limit(scope["path"])
        length = _header(scope, b"content-length")
        if length is not None:
            if int(length) > limit:  # the HTTP parser has already refused a non-number
                return await self._refuse(scope, receive, send, _too_large(limit))
        elif (_header(scope, b"transfer-encoding") or b"").lower() == b"chunked":
            # No length announced: read up to the limit, then hand the app what was read.
            messages, size = [], 0
            while True:
                message = await receive()
                messages.append(message)
                size += len(message.get("body", b""))
                if size > limit:
                    more = message.get("more_body", False)  # else the whole body is read: no drain
                    return await self._refuse(scope, receive, send, _too_large(limit), size, more)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            receive = _replay(messages, receive)
        await self.app(scope, receive, send)

    async def _refuse(
        self, scope, receive, send, error, already: int = 0, more: bool = True
    ) -> None:
        # Waiting for more of a body that has ended would wait for the client to give up.
        if more and (_header(scope, b"expect") or b"").lower() != b"100-continue":
            await _drain(receive, DRAIN_BYTES - already)
        await send_answer(send, self.render(scope["path"], error, CLOSE, scope))


def _too_large(limit: int) -> ProviderError:
    return ProviderError(413, f"the request body is larger than {limit} bytes", field="body")


async def _drain(receive, budget: int) -> None:
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body"):
            return


def _replay(messages: list[dict], receive):
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed


# --- shutdown ------------------------------------------------------------------------------------


class ShutdownAnswer:
    """ASGI wrapper: a request still running when the server's grace period ends is answered
    503 in the provider's shape, instead of uvicorn's plain-text 500.

    uvicorn cancels the requests left at the end of a graceful shutdown; nothing else cancels a
    request (a client going away does not), so a cancellation here means "shutting down".
    """

    def __init__(self, app, render):
        self.app, self.render = app, render

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def noting_start(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except asyncio.CancelledError:
            if started:
                raise
            error = ShuttingDown()
            await send_answer(send, self.render(scope["path"], error, CLOSE, scope))


# --- connections -------------------------------------------------------------------------------


def connection_limit() -> int:
    """How many connections to serve at once: raises this process's soft limit on open files
    as far as it may (the hard limit, up to WANTED_FDS), and keeps RESERVED_FDS of it aside."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_FDS if hard == resource.RLIM_INFINITY else min(hard, WANTED_FDS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return max(16, min(MAX_CONNECTIONS, soft - RESERVED_FDS))
