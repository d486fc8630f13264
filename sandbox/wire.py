"""The line between the processes of `serve --workers N`: each worker's calls to the world.

Frames are a 4-byte length and a pickle, over a Unix socket: on Linux an abstract one (no file:
nothing is left behind when the serving process is killed), elsewhere one in a private (0700)
folder. A client's first frame is the run's random key, compared before anything it sends is
unpickled; a connection that does not present it within AUTH_SECONDS is closed.
The serving process answers every worker from one asyncio loop: no thread per connection, so
calls do not pay for threads waking each other. A worker keeps one connection and many calls
in flight on it, each answered by its number.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import pickle
import socket
import struct
import threading
from collections.abc import Awaitable, Callable

from .errors import ProviderError

_LENGTH = struct.Struct("!I")
# A call carries one request (bodies are limited to 1 MiB, scenarios to 32 MiB): far below this.
MAX_FRAME_BYTES = 64 * 1024 * 1024
# How long a new connection may take to present the key before it is closed.
AUTH_SECONDS = 5.0
log = logging.getLogger(__name__)


class WireClosed(ProviderError):
    """The other end is gone (the serving process is stopping, or was killed): a 503."""

    def __init__(self):
        super().__init__(503, "the sandbox is shutting down; try again once it is back")


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if size > MAX_FRAME_BYTES:
        raise ConnectionError(f"a frame of {size} bytes is over the limit")
    return await reader.readexactly(size)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # uvicorn's loop where it is installed
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class WireServer:
    """Answers `calls[name](*args)` (coroutines) to clients holding `authkey`, from an asyncio
    loop of its own thread. Provider errors travel back and are raised at the caller."""

    def __init__(self, address: str, authkey: bytes, calls: dict[str, Callable[..., Awaitable]]):
        self.address, self.authkey, self.calls = address, authkey, calls
        self._loop = _new_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="world", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> WireServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = future.result()
        return self

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _listen(self) -> asyncio.AbstractServer:
        return await asyncio.start_unix_server(self._client, path=self.address)

    async def _close(self) -> None:
        self._server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    async def _client(self, reader, writer) -> None:
        try:
            key = await asyncio.wait_for(_read_frame(reader), AUTH_SECONDS)
            if not hmac.compare_digest(key, self.authkey):
                return  # a stranger: nothing it sends is unpickled
            while True:
                number, name, args = pickle.loads(await _read_frame(reader))
                asyncio.create_task(self._answer(writer, number, name, args))
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the worker is gone, or never said who it is
        finally:
            writer.close()

    async def _answer(self, writer, number: int, name: str, args: tuple) -> None:
        try:
            kind, value = "ok", await self.calls[name](*args)
        except ProviderError as error:
            kind, value = "raise", error
        except Exception as exc:  # a bug: say so in the log here, answer 500 there
            log.exception("world call %s failed", name)
            kind, value = "error", f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(ConnectionError):
            writer.write(_frame(pickle.dumps((number, kind, value), pickle.HIGHEST_PROTOCOL)))
            await writer.drain()


class WireClient:
    """A worker's line to the world: one connection per event loop, calls answered by number."""

    def __init__(self, address: str, authkey: bytes):
        self.address, self.authkey = address, authkey
        self._numbers = itertools.count()
        self._pending: dict[int, asyncio.Future] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._connecting = asyncio.Lock()

    async def ask(self, name: str, *args):
        """Call the world; its ProviderErrors are raised here, as if it had raised them here."""
        writer = await self._connected()
        number = next(self._numbers)
        answer = asyncio.get_running_loop().create_future()
        self._pending[number] = answer
        try:
            writer.write(_frame(pickle.dumps((number, name, args), pickle.HIGHEST_PROTOCOL)))
            await writer.drain()
        except ConnectionError:
            self._pending.pop(number, None)
            raise WireClosed from None
        kind, value = await answer
        if kind == "ok":
            return value
        if kind == "raise":
            raise value
        raise RuntimeError(f"the sandbox's world failed: {value}")

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                try:
                    reader, writer = await asyncio.open_unix_connection(sock=await self._dial())
                except OSError:
                    raise WireClosed from None
                writer.write(_frame(self.authkey))
                self._writer = writer
                asyncio.create_task(self._read_answers(reader))
            return self._writer

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

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                number, kind, value = pickle.loads(await _read_frame(reader))
                answer = self._pending.pop(number, None)
                if answer is not None and not answer.done():
                    answer.set_result((kind, value))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:  # the world is gone: every call still waiting gets a 503
            self._writer = None
            pending, self._pending = self._pending, {}
            for answer in pending.values():
                if not answer.done():
                    answer.set_exception(WireClosed())
