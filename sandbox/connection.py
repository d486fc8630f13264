"""One HTTP connection as the sandbox reads it: uvicorn's httptools protocol, bounded.

uvicorn's fast HTTP parser takes request heads of any size and waits for ever on a client that
sends nothing. `http_protocol` gives uvicorn a subclass that, on each connection:

- answers 431 (in the shape of the API the path is under) once a request line plus headers
  pass MAX_HEAD_BYTES, before uvicorn parses a URL that large;
- closes a connection whose head has not come within HEAD_SECONDS, or whose whole request has
  not within BODY_SECONDS;
- answers requests over the connection limit (`limits.connection_limit`) 503, and bytes that
  are not HTTP 400, in their API's shape;
- answers the requests a half-closed client sent whole before closing (uvicorn dropped them);
- resets the connection when an injected fault asks (the scope's RESET_CONNECTION);
- notes the provider requests it answers itself (431, 400, 503) in the request journal, the
  client report and the access log, as the app notes those it refuses (`note`).

Imported only to serve, and only where httptools is installed: without it uvicorn parses with
h11, whose `h11_max_incomplete_event_size` (set by `server.uvicorn_config`) bounds the head.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import ProviderError
from .limits import CLOSE, DRAIN_BYTES, HEAD_TOO_LARGE, MAX_HEAD_BYTES
from .logs import printable
from .mounts import CONTROL_MOUNT
from .request import RESET_CONNECTION, send_answer

if TYPE_CHECKING:
    from .request import Answer

# How long a request's line and headers may take to arrive, from the connection (or the
# request's first byte): a client that connects and sends nothing, or trickles its head, must
# not hold a connection (and a file descriptor) for ever. Clients send a head at once.
HEAD_SECONDS = 5.0
# How long a whole request, its body included, may take to arrive: a client that sends its head
# and then holds back its body must not hold a connection for ever either. A body of the most a
# request may carry takes well under a second.
BODY_SECONDS = 10.0
# How long a connection refused for its head may keep sending before it is closed.
LINGER_SECONDS = 5.0
BUSY = "the sandbox is serving too many connections at once; try again shortly"
NOT_HTTP = "Invalid HTTP request received: the request is not HTTP/1.1 as RFC 9112 writes it"
# A request line, as far as its target: its method and where a refused one was sent.
_REQUEST_LINE = re.compile(rb"(?:^|\n)([A-Z]+) (/\S*)")
# How a request is noted (app.RequestRecorder.note): its scope as far as read, its status,
# when it began (time.monotonic()).
Note = Callable[[dict, int, float], Awaitable[None]]


def http_protocol(
    render: Callable[..., Answer], note: Note | None = None
) -> type[BoundedHeadProtocol]:
    """The protocol class uvicorn is given (`Config(http=...)`): BoundedHeadProtocol whose
    errors `render` writes (`app.ErrorRenderer.render`) and whose own answers `note` notes
    (`app.RequestRecorder.note`; None: not noted)."""
    attributes = {"render": staticmethod(render), "note": staticmethod(note) if note else None}
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), attributes)


class _HeadTooLarge(Exception):
    """Raised from the HTTP parser's callbacks to stop it at a head over MAX_HEAD_BYTES."""


_UVICORN = logging.getLogger("uvicorn.error")
# What uvicorn says of bytes its parser refused, naming no request: the protocol says its own
# line as it answers them, with their method and path (`_refuse_not_http`).
UVICORN_REFUSAL = "Invalid HTTP request received."


def unnamed_refusals_dropped(record: logging.LogRecord) -> bool:
    """A logging filter for uvicorn: UVICORN_REFUSAL is left out (said better, as answered)."""
    return record.msg != UVICORN_REFUSAL


# Says nothing; not registered with logging, so no logging configuration turns it back on.
_QUIET = logging.Logger("domainsandbox.quiet", level=logging.CRITICAL + 1)


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds this module's docstring lists; `render`
    (set by `http_protocol`) writes an error in the shape of the API a path is under."""

    render: Callable[..., Answer]
    note: Note | None = None
    _in_head = False
    _head_bytes = 0  # bytes read while in a head: what the parser holds but has not said
    _parsed_bytes = 0  # the request line and headers the parser has handed over
    _discarding: int | None = None  # after a 431: bytes still read and thrown away
    _refused: dict | None = None  # the head due a 431 once the requests before it are answered
    _began = False  # a request began in the bytes being parsed
    _received = b""  # the bytes read last: where a request line the parser refused is
    # A connection whose request is late is closed: the request being read began at
    # `_head_since` (None between requests), its head is due HEAD_SECONDS on and the whole
    # of it BODY_SECONDS on, and one timer per connection looks, re-armed only if a request
    # is still being read then: a request costs no timer of its own.
    _head_since: float | None = None
    _head_timer: asyncio.TimerHandle | None = None
    _client_done = False  # the client half-closed: answer what it sent, then close
    _not_http = False  # what followed the requests being answered was not HTTP: a 400 next

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        """From now, or from the connection's start if no head came yet, a head is due."""
        if self._head_since is None:
            self._head_since = self.loop.time()
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_SECONDS, self._look_at_head)

    def _look_at_head(self) -> None:
        self._head_timer = None
        if self._head_since is None:
            return  # between requests: the next head arms the timer again
        due = HEAD_SECONDS if self._in_head else BODY_SECONDS
        left = self._head_since + due - self.loop.time()
        if left > 0:
            self._head_timer = self.loop.call_later(left, self._look_at_head)
        else:  # nothing to answer: a request not whole is not carried out (RFC 9112 6.3)
            self.transport.close()

    def on_message_complete(self) -> None:
        self._head_since = None
        super().on_message_complete()

    def eof_received(self):
        """The client will send no more (a half-close, as `nc -N` makes): the requests it
        sent whole are answered, then the connection closes. uvicorn closed it at once and
        dropped the answers of requests it went on to carry out. An answer already under
        way (an event stream) ends as before: its client has gone."""
        cycle = self.cycle
        waiting = cycle is not None and not cycle.response_started and not cycle.more_body
        if self.pipeline or waiting:
            self._client_done = True
            return True  # half-open: the answers still go out
        return None  # nothing to answer, or a body cut short: closed, not carried out

    def on_response_complete(self) -> None:
        super().on_response_complete()
        last = not self.pipeline and self.cycle.response_complete
        if not last or self.transport.is_closing():
            return
        if self._refused is not None:  # the head after the requests answered now
            self._send_431()
        elif self._not_http:  # what came after the requests answered now
            self._refuse_not_http()
        elif self._client_done:
            self.transport.close()

    def _reset(self) -> None:
        """Close the connection with a TCP reset, as a peer that crashed would: nothing
        more is sent, and the client reads "connection reset by peer" (an injected fault)."""
        sock = self.transport.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):  # not TCP: closed all the same
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def _unsupported_upgrade_warning(self) -> None:
        """A request asking to upgrade (to WebSocket) is answered as HTTP, as a server that
        speaks nothing else may (RFC 9110 7.8): nothing wrong to warn about."""

    def _start_asgi_task(self, cycle, app) -> None:
        # uvicorn's own 503 over limit_concurrency is plain text: answer in the API's shape
        super()._start_asgi_task(cycle, self._busy if app is service_unavailable else app)

    async def _busy(self, scope, receive, send) -> None:
        """What a request over the connection limit gets: a 503 in its API's shape."""
        error = ProviderError(503, BUSY)
        await send_answer(send, self.render(scope["path"], error, CLOSE, scope))
        self._journal(scope, 503)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {RESET_CONNECTION: self._reset}
        self._in_head, self._head_bytes, self._parsed_bytes = True, 0, 0
        self._began = True
        self._await_head()  # from the request's first byte, if not from the connection's

    # The request line and the headers are counted as the parser hands them over, so a head
    # read whole in one go is refused before uvicorn parses its URL: a URL over 64 KiB makes
    # that parse fail, which uvicorn answers with a plain-text 400.
    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        # RFC 9110 5.5: whitespace around a value is no part of it (the parser keeps what
        # follows it: `Content-Type: application/json ` was refused as another media type)
        super().on_header(name, value.rstrip(b" \t"))
        self._count(len(name) + len(value) + 4)

    def _count(self, size: int) -> None:
        self._parsed_bytes += size
        if self._parsed_bytes > MAX_HEAD_BYTES:
            # stops the parser; uvicorn then calls send_400_response, answered below. Its
            # "Invalid HTTP request received." warning would be wrong here: not logged.
            self.logger = _QUIET
            raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self.logger is _QUIET:
            self.logger = _UVICORN
            return self._refuse()
        if self._answering():  # the requests before it are answered first (RFC 9112 9.3.2)
            self._not_http = True
            return
        self._refuse_not_http()

    def _answering(self) -> bool:
        """Whether requests read whole before this point still wait for their answers (a
        request whose body is being read when the parser fails is the one at fault)."""
        cycle = self.cycle
        running = cycle is not None and not cycle.response_complete and not cycle.more_body
        return bool(self.pipeline) or running

    def _refuse_not_http(self) -> None:
        """uvicorn's plain-text 400, in the shape of the API the path is under."""
        # (set once a request has begun; not when the parser refused a byte of the URL)
        scope = self._scope_read(*self._request_line())
        self._answer(scope["path"], ProviderError(400, NOT_HTTP), b"400 Bad Request")
        self.transport.close()
        said = printable(" ".join(filter(None, (scope["method"], scope["path"]))))
        _UVICORN.warning("Invalid HTTP request received: %s is not HTTP/1.1 (answered 400)", said)
        self._journal(scope, 400)

    def _request_line(self) -> tuple[str, bytes]:
        """The method and target of the request being read, as far as the parser took them (a
        URL it gave comes after a method it read), else as the bytes read last write them."""
        if url := getattr(self, "url", b""):
            return self.parser.get_method().decode("latin-1"), url
        said = _REQUEST_LINE.findall(self._received)
        method, url = said[-1] if said else (b"", b"")
        return method.decode("latin-1"), url

    def _scope_read(self, method: str, url: bytes) -> dict:
        """What a note reads of a request whose head was refused: as far as it was read."""
        path, _, query = url.partition(b"?")
        headers = list(getattr(self, "headers", None) or ())
        return {"method": method, "path": path.decode("latin-1") or "/", "query_string": query,
                "headers": headers}  # fmt: skip

    def _journal(self, scope: dict, status: int) -> None:
        """Note a request this protocol answered itself, as the app notes those it refuses: a
        client sent it, and its journal, report and access log say so."""
        if self.note is None or scope["path"].startswith(CONTROL_MOUNT):
            return  # the control API's requests are not journaled
        waited = self.loop.time() - self._head_since if self._head_since is not None else 0.0
        task = self.loop.create_task(self.note(scope, status, time.monotonic() - waited))
        self.tasks.add(task)  # kept until done, and waited for as the server stops
        task.add_done_callback(self.tasks.discard)

    def on_headers_complete(self) -> None:
        self._in_head = False  # its body is due now, by BODY_SECONDS from its first byte
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._discarding is not None:
            self._discarding -= len(data)
            if self._discarding <= 0:
                self.transport.close()
            return
        self._began, self._received = False, data
        super().data_received(data)
        if self._in_head and self._discarding is None and not self.transport.is_closing():
            # Counted after parsing, so a body never counts; nor do the requests pipelined
            # before this head in the same bytes (where it began in them is not known, so
            # those bytes are not counted: the next read's are).
            self._head_bytes += 0 if self._began else len(data)
            if self._head_bytes > MAX_HEAD_BYTES:  # one header streamed without end
                self._refuse()

    def _answer(self, path: str, error: ProviderError, status: bytes) -> None:
        """Write `error` in the shape of the API `path` is under, past uvicorn's cycle."""
        answer = self.render(path, error, CLOSE)
        head = b"".join(k + b": " + v + b"\r\n" for k, v in answer.asgi_headers())
        self.transport.write(b"HTTP/1.1 " + status + b"\r\n" + head + b"\r\n" + answer.body)

    def _refuse(self) -> None:
        """431 to the head being read, once the requests read whole before it are answered
        (RFC 9112 9.3.2): what still comes is read and dropped meanwhile."""
        self._refused = self._scope_read(*self._request_line())
        self._discarding = DRAIN_BYTES
        if not self._answering():
            self._send_431()

    def _send_431(self) -> None:
        error = ProviderError(431, HEAD_TOO_LARGE)
        self._answer(self._refused["path"], error, b"431 Request Header Fields Too Large")
        # Closing now, with the client still sending, would reset the connection and lose the
        # answer: send it, half-close, and read (and drop) what still comes for a while.
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
        self._journal(self._refused, 431)
