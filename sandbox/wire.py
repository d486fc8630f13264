"""The line between the processes of `serve --workers N`: each worker's calls to the world.

Frames are a 4-byte length and a pickle, over a Unix socket: on Linux an abstract one (no file:
nothing is left behind when the serving process is killed), elsewhere one in a private (0700)
folder. A client's first frame is the run's random key, compared before anything it sends is
unpickled; a connection that does not present it within AUTH_SECONDS is closed.

The serving process answers every worker from one asyncio loop, no thread per connection. A
worker keeps one connection and many calls in flight on it, each answered by its number. Both
ends are asyncio protocols, not streams: a call the world answers at once (most of them) is
answered in the callback that read it, with no task, no buffered reader and no await between.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import itertools
import logging
import pickle
import socket
import struct
import threading
from collections.abc import Callable

from .errors import ProviderError, ShuttingDown

_LENGTH = struct.Struct("!I")
# A call carries one request (bodies are limited to 1 MiB, scenarios to 32 MiB): far below this.
MAX_FRAME_BYTES = 64 * 1024 * 1024
# How long a new connection may take to present the key before it is closed.
AUTH_SECONDS = 5.0
log = logging.getLogger(__name__)


class WireClosed(ShuttingDown):
    """The other end is gone (the serving process is stopping, or was killed): a 503."""


# A call in flight when the world went: it may have been carried out (and saved) or not.
CUT_OFF = (
    "the sandbox stopped while answering: the request may have been carried out; "
    "look before trying it again once the sandbox is back"
)


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


class _Frames:
    """Cuts the bytes a connection receives into frames, whatever pieces they arrive in."""

    def __init__(self):
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The frames `data` completes. Raises ConnectionError for a frame over the limit."""
        buffer = self._buffer
        buffer += data
        frames = []
        while len(buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer)
            if size > MAX_FRAME_BYTES:
                raise ConnectionError(f"a frame of {size} bytes is over the limit")
            end = _LENGTH.size + size
            if len(buffer) < end:
                break
            frames.append(bytes(buffer[_LENGTH.size : end]))
            del buffer[:end]
        return frames


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # uvicorn's loop where it is installed
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class WireServer:
    """Answers `calls[name](*args)` to clients holding `authkey`, from an asyncio loop of its own
    thread. A call returns its answer, or an awaitable of it when it must wait (for DNS, a
    thread, the disk). Provider errors travel back and are raised at the caller."""

    def __init__(self, address: str, authkey: bytes, calls: dict[str, Callable]):
        self.address, self.authkey, self.calls = address, authkey, calls
        self._loop = _new_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="world", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._ends: set[_ServerEnd] = set()  # the connections open, closed at stop()

    def start(self) -> WireServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result()
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return  # never started, or stopped already
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _listen(self) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        return await loop.create_unix_server(lambda: _ServerEnd(self), path=self.address)

    async def _close(self) -> None:
        self._server.close()
        for end in list(self._ends):
            end.transport.close()  # the workers' calls still waiting get a 503 there
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()


class _ServerEnd(asyncio.Protocol):
    """The world's end of one worker's connection."""

    def __init__(self, server: WireServer):
        self.server, self.frames = server, _Frames()
        self.known = False  # until the first frame presents the key
        self.waiting: set[asyncio.Task] = set()  # calls that could not be answered at once

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.deadline = asyncio.get_running_loop().call_later(AUTH_SECONDS, self._close_stranger)
        self.server._ends.add(self)

    def connection_lost(self, exc) -> None:
        self.deadline.cancel()
        self.server._ends.discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            for payload in self.frames.feed(data):
                if not self.known:
                    self._check_key(payload)
                else:
                    self._call(*pickle.loads(payload))
        except Exception as exc:  # a frame over the limit, or one that is not a call
            log.warning("closing a connection to the world: %s", exc)
            self.transport.close()

    def _close_stranger(self) -> None:
        if not self.known:
            self.transport.close()

    def _check_key(self, key: bytes) -> None:
        if not hmac.compare_digest(key, self.server.authkey):
            raise ConnectionError("a client without the key")  # nothing it sent is unpickled
        self.known = True
        self.deadline.cancel()

    def _call(self, number: int, name: str, args: tuple) -> None:
        try:
            result = self.server.calls[name](*args)
        except Exception as exc:
            return self._send(number, *_failure(name, exc))
        if not inspect.isawaitable(result):
            return self._send(number, "ok", result)
        task = asyncio.ensure_future(self._await(number, name, result))
        self.waiting.add(task)
        task.add_done_callback(self.waiting.discard)

    async def _await(self, number: int, name: str, result) -> None:
        try:
            outcome = "ok", await result
        except Exception as exc:
            outcome = _failure(name, exc)
        self._send(number, *outcome)

    def _send(self, number: int, kind: str, value) -> None:
        try:
            payload = pickle.dumps((number, kind, value), -1)
        except Exception as exc:  # a bug: an answer that cannot travel fails its call alone
            payload = pickle.dumps((number, *_failure("an answer", exc)), -1)
        # No flow control: a worker reads every answer at once, and the answers in flight are
        # bounded by its requests in flight.
        if not self.transport.is_closing():
            self.transport.write(_frame(payload))


def _failure(name: str, exc: Exception) -> tuple[str, object]:
    """A failed call's answer: a ProviderError to raise at the caller, or a bug's description."""
    if isinstance(exc, ProviderError):
        return "raise", exc
    log.error("world call %s failed", name, exc_info=exc)  # the bug's traceback, here
    return "error", f"{type(exc).__name__}: {exc}"


class WireClient:
    """A worker's line to the world: one connection per event loop, calls answered by number."""

    def __init__(self, address: str, authkey: bytes):
        self.address, self.authkey = address, authkey
        self._numbers = itertools.count()
        self._end: _ClientEnd | None = None
        self._connecting = asyncio.Lock()

    async def ask(self, name: str, *args):
        """Call the world; its ProviderErrors are raised here, as if it had raised them here."""
        end = self._end
        if end is None or end.closed:
            end = await self._connected()
        kind, value = await end.ask(next(self._numbers), name, args)
        if kind == "ok":
            return value
        if kind == "raise":
            raise value
        raise RuntimeError(f"the sandbox's world failed: {value}")

    async def _connected(self) -> _ClientEnd:
        async with self._connecting:
            if self._end is None or self._end.closed:
                loop = asyncio.get_running_loop()
                try:
                    sock = await self._dial()
                    _, end = await loop.create_unix_connection(_ClientEnd, sock=sock)
                except OSError:
                    raise WireClosed from None
                end.transport.write(_frame(self.authkey))
                self._end = end
            return self._end

    async def _dial(self) -> socket.socket:
        """A socket connected to the world (uvloop cannot open an abstract address by name)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, self.address)
        except BaseException:
            sock.close()
            raise
        return sock


class _ClientEnd(asyncio.Protocol):
    """A worker's end of its connection: sends calls, hands each answer to its caller."""

    def __init__(self):
        self.frames, self.pending = _Frames(), {}
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def ask(self, number: int, name: str, args: tuple) -> asyncio.Future:
        """The future of call `number`'s (kind, value). Its writes need no flow control: the
        world reads every call at once, and the calls in flight are bounded by the requests."""
        if self.closed:
            raise WireClosed
        answer = asyncio.get_running_loop().create_future()
        self.pending[number] = answer
        self.transport.write(_frame(pickle.dumps((number, name, args), -1)))
        return answer

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.frames.feed(data)
        except ConnectionError:
            return self.transport.close()
        for payload in frames:
            number, kind, value = pickle.loads(payload)
            answer = self.pending.pop(number, None)
            if answer is not None and not answer.done():
                answer.set_result((kind, value))

    def connection_lost(self, exc) -> None:
        """The world is gone: every call still waiting gets a 503 that says it may be done."""
        self.closed = True
        pending, self.pending = self.pending, {}
        for answer in pending.values():
            if not answer.done():
                answer.set_exception(WireClosed(CUT_OFF))
