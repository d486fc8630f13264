"""GET /_sandbox/events: server-sent events telling the dashboard that the world changed.

A stream says `event: change` once when it opens and again whenever the world's version
(sandbox.world: a count of the calls that changed something, the scheduled steps run, the DNS
faults' remaining counts) differs from the last one it told; the page then reads the control
API. One cheap question to the world per stream every CHECK_SECONDS, in this process or, under
`serve --workers N`, over the wire to the serving process: nothing is pushed while nothing
changes, and a quiet stream only sends a comment now and then to stay open.

It is served before Connexion (a streamed answer, with no document to check), behind the same
control token and browser guards as the control API. A stream ends when its client goes away
or the server begins to stop (`stop_when`), so it never holds up a shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .errors import ProviderError
from .mounts import CONTROL_MOUNT
from .request import send_answer
from .wire import WireClosed

EVENTS_PATH = CONTROL_MOUNT + "/events"
# How often an open stream asks the world whether anything changed: a change shows within it.
CHECK_SECONDS = 0.25
# A quiet stream sends a comment this often, so proxies and browsers do not drop it as idle.
KEEPALIVE_SECONDS = 15.0
# How long a browser waits before reconnecting a stream that ended (the sandbox restarted).
RETRY_MS = 1000

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # a proxy in front must not hold the events back
]


class EventStreams:
    """The ASGI app of GET /_sandbox/events over `world` (a LocalWorld or a RemoteWorld)."""

    def __init__(self, world, render):
        self.world, self.render = world, render
        self.open = 0  # streams being served now
        self._stopping: Callable[[], bool] = lambda: False

    def stop_when(self, stopping: Callable[[], bool]) -> None:
        """End every stream as soon as `stopping()` is true (the server's should_exit)."""
        self._stopping = stopping

    async def __call__(self, scope, receive, send):
        if scope["method"] != "GET":
            error = ProviderError(405, "the event stream is read with GET")
            return await send_answer(send, self.render(EVENTS_PATH, error, {"allow": "GET"}))
        self.open += 1
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            await _say(send, f"retry: {RETRY_MS}\n\n")
            await self._stream(send, gone)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            self.open -= 1

    async def _stream(self, send, gone: asyncio.Future) -> None:
        told, number, quiet = None, 0, 0.0
        while not gone.done() and not self._stopping():
            try:
                version = await self.world.version()
            except WireClosed:
                return  # the world is gone: the browser reconnects to the next one
            if version != told:
                told, number, quiet = version, number + 1, 0.0
                await _say(send, f"id: {number}\nevent: change\ndata: {number}\n\n")
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                await _say(send, ": nothing new\n\n")
            await asyncio.wait({gone}, timeout=CHECK_SECONDS)
            quiet += CHECK_SECONDS


async def _say(send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _disconnected(receive) -> None:
    """Returns once the client has gone away."""
    while (await receive())["type"] != "http.disconnect":
        pass
