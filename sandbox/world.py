"""Where the world lives, as the HTTP front end sees it.

The front end (uvicorn, the request limits, Connexion's routing and validation, the providers'
error shapes) asks the world for four things: land the steps due on the sandbox clock, admit a
provider call (rate limits, injected faults), run an operation's handler, and note a finished
request for the request log and the report.

`LocalWorld` answers from the sandbox in this process. With `serve --workers N` each worker
process holds a `RemoteWorld`, which asks the serving process's `WorldService` over a Unix
socket (`multiprocessing.connection`, authenticated). Every worker then shares one world: one
store, one clock, one sequence of seeded ids, one DNS server, one state file.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener
from typing import TYPE_CHECKING

import flask

from .control import Control
from .durable import READ_ONLY_METHODS
from .gate import Admission, admit
from .providers.base import ProviderError

if TYPE_CHECKING:
    from .core import Sandbox
    from .durable import Durable

CONTROL = "control"  # the handler target serving control.yaml; the others are provider names
log = logging.getLogger(__name__)


class WorldGone(ProviderError):
    """The serving process no longer answers (it is stopping, or was killed): a 503."""

    def __init__(self):
        super().__init__(503, "the sandbox is shutting down; try again once it is back")


def handler_targets(sandbox: Sandbox) -> dict:
    """The objects whose methods are the operations: each provider, and the control API."""
    return {**sandbox.providers, CONTROL: Control(sandbox)}


class LocalWorld:
    """The world in this process: the sandbox itself."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.targets = handler_targets(sandbox)

    async def land_due_steps(self) -> None:
        # steps verify over DNS: off the event loop, and only when one is due
        if self.sandbox.store.next_due(self.sandbox.clock.now()) is not None:
            await asyncio.to_thread(self.sandbox.run_due)

    async def admit(self, path: str, operation_id: str | None, credential: str) -> Admission:
        await self.land_due_steps()
        return admit(self.sandbox, path, operation_id, credential)

    async def note_request(self, entry: dict) -> None:
        self.sandbox.note_request(entry)

    def handler(self, target: str, operation_id: str):
        return getattr(self.targets[target], operation_id)


class RemoteWorld:
    """The world of the serving process, from a front-end worker.

    `sandbox` is this worker's own and never started: the front end takes mounts and error
    shapes from it, and this the handlers' signatures (Connexion passes each handler the
    parameters it names). Its state is never read.
    """

    def __init__(self, address: str, authkey: bytes, sandbox: Sandbox):
        self.wire = WorldClient(address, authkey)
        self.signatures = handler_targets(sandbox)

    async def land_due_steps(self) -> None:
        await asyncio.to_thread(self.wire.ask, "land_due_steps")

    async def admit(self, path: str, operation_id: str | None, credential: str) -> Admission:
        return await asyncio.to_thread(self.wire.ask, "admit", path, operation_id, credential)

    async def note_request(self, entry: dict) -> None:
        # on the way to an answer: if the world is gone the answer still goes (and says 503
        # itself where it needed the world)
        with contextlib.suppress(WorldGone):
            await asyncio.to_thread(self.wire.ask, "note_request", entry)

    def handler(self, target: str, operation_id: str):
        @functools.wraps(getattr(self.signatures[target], operation_id))
        def forward(**params):
            request = flask.request
            context = RequestContext(
                request.method, request.path, list(request.headers.items()), request.get_data()
            )
            answer = self.wire.ask("call", target, operation_id, params, context)
            return answer.to_flask() if isinstance(answer, RawResponse) else answer

        return forward


@dataclass(frozen=True)
class RequestContext:
    """What a handler may read of its request besides its parameters (credentials, raw body)."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class RawResponse:
    """A response a handler built itself (a YAML export), as it crosses between processes."""

    body: bytes
    status: int
    headers: list[tuple[str, str]]

    @classmethod
    def of(cls, response: flask.Response) -> RawResponse:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return cls(response.get_data(), response.status_code, headers)

    def to_flask(self) -> flask.Response:
        return flask.Response(self.body, self.status, self.headers)


class WorldService:
    """The serving process's side: answers front-end workers from the one sandbox.

    Each answer that changed the world is saved to the state file (if any) before it is sent,
    so a worker acknowledges nothing that is not on disk.
    """

    CALLS = ("land_due_steps", "admit", "call", "note_request")

    def __init__(self, sandbox: Sandbox, durable: Durable | None = None):
        self.sandbox, self.durable = sandbox, durable
        self.targets = handler_targets(sandbox)
        self._flask = flask.Flask(__name__)  # handlers read headers through flask.request

    def land_due_steps(self) -> None:
        self.sandbox.run_due()
        self._save(changed=False)

    def admit(self, path: str, operation_id: str | None, credential: str) -> Admission:
        self.sandbox.run_due()
        verdict = admit(self.sandbox, path, operation_id, credential)
        self._save(changed=bool(verdict.error or verdict.latency_ms or verdict.abort))  # a fault
        return verdict

    def call(self, target: str, operation_id: str, params: dict, request: RequestContext):
        handler = getattr(self.targets[target], operation_id)
        context = self._flask.test_request_context(
            request.path, method=request.method, headers=request.headers, data=request.body
        )
        try:
            with context:
                answer = handler(**params)
            return RawResponse.of(answer) if isinstance(answer, flask.Response) else answer
        finally:
            self._save(changed=request.method not in READ_ONLY_METHODS)

    def note_request(self, entry: dict) -> None:
        self.sandbox.note_request(entry)

    def _save(self, changed: bool) -> None:
        if self.durable and (changed or self.durable.behind()):
            self.durable.save()


class WorldServer:
    """Serves a WorldService on a Unix socket: one thread per connected worker thread."""

    def __init__(self, service: WorldService, address: str, authkey: bytes):
        self.service = service
        self.listener = Listener(address, "AF_UNIX", authkey=authkey)
        self._closed = threading.Event()

    @property
    def address(self) -> str:
        return self.listener.address

    def start(self) -> WorldServer:
        threading.Thread(target=self._accept, name="world-server", daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection = self.listener.accept()
            except (OSError, EOFError, AuthenticationError):  # closed, or a stranger: not served
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection) -> None:
        with connection:
            while True:
                try:
                    name, args = connection.recv()
                except (EOFError, OSError):
                    return  # the worker thread or process is gone
                answer = self._answer(name, args)
                try:
                    connection.send(answer)
                except (TypeError, AttributeError, ValueError) as exc:  # could not be pickled
                    connection.send(("error", f"{name} answered what cannot be sent: {exc}"))

    def _answer(self, name: str, args: tuple) -> tuple[str, object]:
        if name not in WorldService.CALLS:
            return "error", f"no world call named {name!r}"
        try:
            return "ok", getattr(self.service, name)(*args)
        except ProviderError as error:
            return "raise", error
        except Exception as exc:  # a bug: say so in the log here, answer 500 there
            log.exception("world call %s failed", name)
            return "error", f"{type(exc).__name__}: {exc}"


class WorldClient:
    """A worker's line to the world: one connection per thread, so calls never interleave."""

    def __init__(self, address: str, authkey: bytes):
        self.address, self.authkey = address, authkey
        self._local = threading.local()

    def ask(self, name: str, *args):
        """Call the world; its ProviderErrors are raised here, as if it had raised them here."""
        try:
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = Client(self.address, "AF_UNIX", authkey=self.authkey)
                self._local.connection = connection
            connection.send((name, args))
            kind, value = connection.recv()
        except (OSError, EOFError):  # the serving process is stopping or gone
            self._local.connection = None
            raise WorldGone from None
        if kind == "ok":
            return value
        if kind == "raise":
            raise value
        raise RuntimeError(f"the sandbox's world failed: {value}")
