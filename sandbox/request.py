"""What crosses between the HTTP front end and the world, as plain data.

The front end (uvicorn, the limits, Connexion's routing, security and validation) turns each
request into a `Call`; the world answers it with an `Answer`. Neither holds a socket, a
framework object or a global, so under `serve --workers N` both travel between processes as
they are.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import ProviderError
from .logs import printable

JSON = "application/json"
# In the ASGI scope's extensions: whether the request's operation may change the world (set by
# the dispatcher; without it, the method says).
CHANGES = "domainsandbox.changes"
# In the ASGI scope's extensions: a callable that resets the connection, sending nothing (set by
# the HTTP protocol, sandbox.connection.http_protocol).
RESET_CONNECTION = "domainsandbox.reset_connection"
# How an answer's connection is dropped by an injected fault (`Answer.drop`): an abort sends a
# 200 head promising a body that never comes; a reset sends nothing (a TCP reset).
ABORT, RESET = "abort", "reset"


def json_bytes(data: Any) -> bytes:
    """Compact UTF-8 JSON in the providers' field order, as their real APIs send it."""
    return compact_json(data) + b"\n"


def compact_json(data: Any, default=None) -> bytes:
    """`json.dumps(data, separators=(",", ":"), ensure_ascii=False)`, as UTF-8.

    orjson writes the same bytes about ten times faster (for list answers that is most of a
    request), but no integer past 64 bits, which a client may send and an answer echo back:
    json writes those.
    """
    try:
        return orjson.dumps(data, default=default)
    except orjson.JSONEncodeError:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=default)
        return text.encode()


@dataclass(slots=True)
class Request:
    """A request as a handler reads it.

    `params` holds the path and query parameters the document declares, typed as it declares
    them; `body` the JSON body parsed (raw bytes for other media types, None when absent);
    `headers` every header, by lower-case name.

    Never changed once made. Neither it nor `Call` is a frozen dataclass: that sets each field
    through `object.__setattr__`, and the two then cost a microsecond a request, not 0.3.
    """

    method: str
    path: str
    operation: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def __reduce__(self):  # a plain tuple: ~3x faster to unpickle than a slots dataclass
        return Request, (
            self.method,
            self.path,
            self.operation,
            self.params,
            self.body,
            self.headers,
            self.query,
        )

    def path_values(self) -> list[str]:
        """The parameters' values that fill whole segments of the path: what the path names
        (an id, a domain's name, an SES address, which may hold a `/`)."""
        path = self.path + "/"
        return [v for v in self.params.values() if isinstance(v, str) and v and f"/{v}/" in path]

    @property
    def bearer_token(self) -> str | None:
        """The token of an `Authorization: Bearer ...` header, if there is one."""
        scheme, _, token = (self.header("authorization") or "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass(slots=True)
class Call:
    """One request for the world: `target` (a provider's name, or "control") to run it, or the
    `refusal` the front end already decided (routing, security or validation said no)."""

    target: str
    request: Request
    refusal: ProviderError | None = None
    violations: tuple[dict, ...] = ()  # how the request broke its document, for the report
    received_at: float = 0.0  # time.monotonic() when it arrived: the log's duration
    # the refusal is of the request's readable content (its parameters, its body's schema): the
    # provider's refusal of its credential goes first, as the real APIs check the key first
    content_refused: bool = False

    def __reduce__(self):  # see Request.__reduce__
        fields = (self.target, self.request, self.refusal, self.violations, self.received_at)
        return Call, (*fields, self.content_refused)


@dataclass(slots=True)
class Answer:
    """What to send back. `latency_ms` and `drop` (ABORT or RESET) carry an injected HTTP
    fault."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    latency_ms: int = 0
    drop: str = ""

    def __reduce__(self):  # see Request.__reduce__
        return Answer, (self.status, self.body, self.headers, self.latency_ms, self.drop)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict | None = None) -> Answer:
        extra = [(k, str(v)) for k, v in (headers or {}).items() if k.lower() != "content-type"]
        return cls(status, json_bytes(data), [("content-type", JSON), *extra])

    @classmethod
    def error(cls, provider, error: ProviderError) -> Answer:
        """`error` in the shape of `provider`'s API, or the control API's when it is None."""
        if provider is None:
            body = {"error": {"status": error.status, "message": error.message}}
            return cls.json(body, error.status)
        return cls.json(provider.error_body(error), error.status, provider.error_headers(error))

    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        return headers + [(b"content-length", str(len(self.body)).encode())]


# An aborted connection: headers promise a body that never comes, then the socket closes.
_ABORT_PROMISED_BYTES = b"1024"


class AbortConnection(Exception):
    """Raised mid-response so the server drops the connection (an injected network failure).
    The server logs it in one line, not as a traceback (sandbox.server.one_line_aborts)."""


async def send_answer(send, answer: Answer, what: str = "the request", reset=None) -> None:
    """Send `answer` on an ASGI channel: after its injected latency, or dropped as it says.
    `reset`: the scope's RESET_CONNECTION, if the server gave one."""
    if answer.latency_ms:
        await asyncio.sleep(answer.latency_ms / 1000)
    if answer.drop == RESET and reset is not None:
        reset()
        await asyncio.sleep(0)  # the server learns the client is gone, and sends it nothing
        raise AbortConnection(
            f"{printable(what)}: connection reset before any answer (an injected reset fault)"
        )
    if answer.drop:  # an abort, or a reset where the server cannot (uvicorn's h11): the nearest
        headers = [(b"content-length", _ABORT_PROMISED_BYTES)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        said = printable(what)  # a path as the client sent it: never a terminal's escapes
        raise AbortConnection(f"{said}: connection dropped mid-answer (an injected abort fault)")
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": answer.asgi_headers()}
    )
    await send({"type": "http.response.body", "body": answer.body})
