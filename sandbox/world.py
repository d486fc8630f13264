"""Where the world lives, as the HTTP front end sees it.

The front end turns each request into a `Call` (sandbox.request) and asks the world to serve
it, in one trip: land the steps due on the sandbox clock, admit the call (rate limits, injected
faults), run the operation's handler (or answer the refusal the front end decided), and note it
in the request log and the client report.

`LocalWorld` answers in this process: operations that only touch memory on the event loop,
those that ask DNS or wait for the world's lock in a thread, so a slow DNS answer holds up no
other request. With `serve --workers N` each worker process holds a `RemoteWorld`, which asks
the serving process's `WorldService` over a Unix socket (sandbox.wire). Every worker then
shares one world: one store, one clock, one sequence of seeded ids, one DNS server, one state
file.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .admission import admit
from .apis import build_apis, changes
from .clockwork import awaited_on_poll, on_poll, polled_domains, shown
from .durable import SaveFailed
from .errors import ProviderError, violation_of
from .lanes import DNS, HELD, LOOP, WORLD
from .logs import access_line
from .request import Answer, Call
from .wire import WireClient, WireClosed, WireServer

if TYPE_CHECKING:
    from .core import Sandbox
    from .durable import Durable

log = logging.getLogger(__name__)


# Threads for provider handlers that ask DNS (verifies). Bounded: during a DNS outage a flood
# of verifies queues here, and never takes the threads every other call needs.
DNS_THREADS = 8
# Threads for the rest of what runs off the event loop: control calls, landing due steps.
WORLD_THREADS = 16
# Threads for control calls that hold the world still, each waiting for the one before (a clock
# move may take minutes): enough that a reset asked behind many moves still starts at once,
# and stops the move under way.
HELD_THREADS = 64
# How long a request may spend landing steps that fell due (each may wait on DNS, up to the
# verifier's check budget); the rest are landed by the next request, or the ticker.
LANDING_SECONDS = 1.0


class World:
    """The sandbox's side of every call, whichever process the front end is in."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.apis = build_apis(sandbox)
        self._changes = itertools.count(1)
        self.changes = 0  # calls served that may have changed the world (the event streams')

    def changed(self) -> None:
        self.changes = next(self._changes)

    def note(self, entry: dict) -> None:
        """Note in the request log a request refused before it reached the world."""
        self.sandbox.note_request(entry)
        self.changed()

    def version(self) -> tuple:
        """Differs whenever anything the control API shows may have changed: calls that
        change the world, the steps the ticker lands, DNS faults used up by queries."""
        faults = tuple((f["id"], f["count"]) for f in self.sandbox.dns.faults.list())
        return self.changes, self.sandbox.steps_run, faults

    def due(self, call: Call) -> bool:
        """True when `call` would land steps, which may ask DNS: it polls a domain on an on-poll
        clock and moves it to a step, or a scheduled step is due and no clock move (or other
        request) is landing it already: then it leaves it to that."""
        sandbox = self.sandbox
        if sandbox.store.next_due(sandbox.clock.now()) is not None and sandbox.world_free():
            return True
        return awaited_on_poll(sandbox, polled_domains(sandbox, call))

    def threads_for(self, call: Call) -> str | None:
        """The lane `call` is served in (sandbox.lanes), or None: the event loop."""
        api = self.apis[call.target]
        lane = api.operations[call.request.operation].lane if call.refusal is None else None
        if lane:
            return None if lane == LOOP else lane
        return WORLD if self.due(call) else None

    def serve(self, call: Call, land: bool = True) -> Answer:
        """Land due steps, admit, run (or refuse), note: the answer to send. `land`: False on
        the event loop, which must not wait on DNS (threads_for decided nothing was due)."""
        polled = on_poll(self.sandbox, call, move=land)
        if land:
            self.sandbox.run_due(LANDING_SECONDS, wait=False)
        api = self.apis[call.target]
        provider = api.provider
        verdict = admit(self.sandbox, provider, call.request) if provider else None
        domain_id = None  # the domain the handler touched, if it ran
        violations = call.violations
        if verdict and verdict.error:
            answer = Answer.error(provider, verdict.error)
        elif call.refusal:
            answer = Answer.error(provider, _key_first(api, call))
        elif verdict and verdict.drops_the_call:
            answer = Answer(200)
        else:
            self.sandbox.store.forget_touched()
            answer, broken = self._run(api, call)
            violations += broken
            domain_id = self.sandbox.store.touched()
        if domain_id is None and provider:  # e.g. an injected fault answered: the path's domain
            domain_id = _named_domain(provider, call.request)
        if verdict:
            verdict.apply(answer)
        if polled and answer.status < 300 and not answer.drop:
            shown(self.sandbox, polled)
        if provider:
            elapsed = time.monotonic() - call.received_at
            answer.headers.extend(provider.answer_headers(call.request, elapsed).items())
            entry = self._entry(call, answer, domain_id, violations)
            if verdict and verdict.fault:  # a test's own fault, not the sandbox's doing
                entry["fault"] = verdict.fault.id
            self.sandbox.note_request(entry)
        elif not changes(api, call.request):
            return answer  # a control call that only reads
        elif self.sandbox.access_log:  # a shared sandbox's log says who reset it, moved its clock
            access_line(self._entry(call, answer, None, ()))
        self.changed()
        return answer

    def _run(self, api, call: Call) -> tuple[Answer, tuple[dict, ...]]:
        """The handler's answer, and how the request broke the API's contract, if it said so."""
        request = call.request
        try:
            return _answer_of(api.operations[request.operation](request)), ()
        except ProviderError as error:
            reason = error.violation if isinstance(error.violation, str) else error.message
            broken = error.violation and (violation_of(error.field, reason, error.status),)
            return Answer.error(api.provider, error), broken or ()
        except Exception:  # a bug: say so in the log here, answer 500 in the provider's shape
            log.exception("%s %s failed", request.method, request.path)
            return Answer.error(api.provider, ProviderError(500, "internal error")), ()

    def _entry(self, call: Call, answer: Answer, domain_id: str | None, violations) -> dict:
        """The call as the journal keeps it: references to what the request already holds."""
        request = call.request
        return {
            "provider": call.target,
            "operation": request.operation,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": request.headers,
            "body": request.body,
            "status": answer.status,
            "domain_id": domain_id,
            # an injected latency is waited after this note, but the client waits it too
            "duration_ms": round(
                (time.monotonic() - call.received_at) * 1000 + answer.latency_ms, 2
            ),
            "violations": list(violations),
            "aborted": bool(answer.drop),
        }


def _key_first(api, call: Call) -> ProviderError:
    """The front end's refusal of `call`, unless the provider refuses its credential: the real
    APIs look at the key before the content (a wrong key and a bad body: 401, not 422)."""
    operation = api.operations.get(call.request.operation)
    if call.content_refused and api.provider and operation and operation.credential:
        try:
            api.provider.authenticate(call.request)
        except ProviderError as error:
            return error
    return call.refusal


def _named_domain(provider, request) -> str | None:
    """The id of the provider's domain the request's path names, for the journal of a call
    whose handler did not run: the caller's, as its API reads it (SES's name held by several
    accounts), else the one of that id whoever holds it (a call refused for its key), else
    the one domain of that name."""
    store = provider.store
    for value in request.path_values():
        if (domain := provider.read_domain(request, value)) is not None:
            return domain.id
        if store.get(provider.name, value) is not None:
            return value
        if len(named := store.named(provider.name, value)) == 1:
            return named[0].id
    return None


def _answer_of(result: Any) -> Answer:
    """A handler's return value as an Answer: data, (data, status) or (data, status, headers);
    None data is an empty body (204 unless a status says otherwise)."""
    if isinstance(result, Answer):
        return result
    data, status, headers = result, None, {}
    if isinstance(result, tuple):
        data, status, *rest = result
        headers = rest[0] if rest else {}
    if data is None:
        return Answer(status or 204, b"", list(headers.items()))
    return Answer.json(data, status or 200, headers)


class LocalWorld:
    """The world in this process: the sandbox itself."""

    def __init__(self, sandbox: Sandbox):
        self.world = World(sandbox)
        self.apis = self.world.apis
        self._threads = {
            DNS: ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="world-dns"),
            WORLD: ThreadPoolExecutor(WORLD_THREADS, thread_name_prefix="world"),
            HELD: ThreadPoolExecutor(HELD_THREADS, thread_name_prefix="world-held"),
        }

    async def serve(self, call: Call) -> Answer:
        threads = self.world.threads_for(call)
        if threads is None:
            return self.world.serve(call, land=False)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads[threads], self.world.serve, call)

    async def note_request(self, entry: dict) -> None:
        self.world.note(entry)

    async def version(self) -> tuple:
        return self.world.version()


class RemoteWorld:
    """The world of the serving process, from a front-end worker process."""

    def __init__(self, address: str, authkey: bytes, sandbox: Sandbox):
        self.wire = WireClient(address, authkey)
        self.apis = build_apis(sandbox)  # this worker's own: documents, mounts, error shapes

    async def serve(self, call: Call) -> Answer:
        return await self.wire.ask("serve", call)

    async def note_request(self, entry: dict) -> None:
        # on the way to an answer: if the world is gone the answer still goes
        with contextlib.suppress(WireClosed):
            await self.wire.ask("note_request", entry)

    async def version(self) -> tuple:
        return await self.wire.ask("version")


class WorldService:
    """The serving process's side: answers the workers from the one sandbox, exactly as a
    single process answers its own front end (a LocalWorld), on the wire's event loop.

    A call that only touches memory is answered at once, in the loop callback that read it.
    Any other is awaited: one that asks DNS or lands steps runs in the world's threads, and
    each answer that changed the world is saved to the state file (if any) before it is sent,
    so a worker acknowledges nothing that is not on disk.
    """

    def __init__(self, sandbox: Sandbox, durable: Durable | None = None):
        self.local, self.durable = LocalWorld(sandbox), durable
        self.world = self.local.world

    def serving(self, address: str, authkey: bytes) -> WireServer:
        """A server of this service on a Unix socket at `address` (not yet started)."""
        calls = {
            "serve": self.serve,
            "note_request": self.world.note,
            "version": self.world.version,
        }
        return WireServer(address, authkey, calls)

    def serve(self, call: Call) -> Answer | Awaitable[Answer]:
        """The answer to `call`, or when it must wait for a thread or the disk, its awaitable."""
        if self.durable is None and self.world.threads_for(call) is None:
            return self.world.serve(call, land=False)
        return self._serve_waiting(call)

    async def _serve_waiting(self, call: Call) -> Answer:
        since = self.durable.undos if self.durable else None
        answer = await self.local.serve(call)
        changed = changes(self.local.apis[call.target], call.request)
        if self.durable and self.durable.owed(changed):
            try:
                await asyncio.to_thread(self.durable.save, since)  # fsync: off the loop
            except SaveFailed as error:  # undone: say so in the API's own shape
                return Answer.error(self.local.apis[call.target].provider, error)
        return answer
