"""The HTTP front end, as served, outside in:

    RequestRecorder       notes the requests the world did not see (refused before Connexion)
    BrowserGuard          the control API and dashboard: no web page's requests (sandbox.limits)
    ControlToken          the control API's bearer token, once one is set (sandbox.limits)
    RequestLimits         bodies and heads too large: 413/431 in the provider's shape
    ShutdownAnswer        a 503 for requests cut off by the end of a graceful shutdown
    Front                 /_sandbox/ui: the dashboard (a Flask app); /_sandbox/events: its
                          event stream (sandbox.events); everything else:
    (escaped_slashes)     a `/` sent as `%2F` kept inside its path segment, for routing
    Repeats               a request head Connexion accepted before, sent again: its kept
                          verdict, straight to the Dispatcher (sandbox.verdicts); else:
    ConnexionMiddleware   Connexion, driven by the documents:
      Refusals              what the next three refuse, answered through the world
      RoutingMiddleware     each request's operationId, from its document
      SecurityMiddleware    a credential is present where the document asks for one
      RequestValidation     parameters, media type and body, against the document
      Dispatcher            the request as a Call to the world; its Answer back

Every API is served by the same stack: each provider's document under its mount, the control
API's at /_sandbox. No framework sits under Connexion: the dispatcher hands plain data to the
world (sandbox.world), which runs the provider's handler in this process, or in the serving
process under `serve --workers N`.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import unquote

from a2wsgi import WSGIMiddleware
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.main import API
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.resolver import Resolver
from starlette.routing import Mount, Router

from . import documents
from .apis import mounted
from .auth import SECURITY_MAP
from .dispatch import NOTED, RECEIVED_AT, Dispatcher, Refusals, headers_of
from .events import EVENTS_PATH, EventStreams
from .limits import BrowserGuard, ControlToken, RequestLimits, ShutdownAnswer
from .mounts import CONTROL_MOUNT, DASHBOARD_MOUNT
from .request import Answer, Request
from .ui import dashboard_app
from .validation import ESCAPED_SEGMENTS, CheckedSpecification, RequestValidation
from .verdicts import Repeats, Verdicts
from .world import LocalWorld

if TYPE_CHECKING:
    from .core import Sandbox
    from .errors import ProviderError

__all__ = ["build_asgi", "connexion_stack", "ErrorRenderer"]


def build_asgi(sandbox: Sandbox, world=None):
    """The ASGI app serving every API of `sandbox` and its dashboard, ready to take requests.

    `world`: by default the sandbox in this process (LocalWorld); a RemoteWorld in a
    `serve --workers` worker. The app's `events` are its event streams (sandbox.events): the
    server tells them when it stops (`app.events.stop_when(...)`).
    """
    world = world or LocalWorld(sandbox)
    render = ErrorRenderer(sandbox).render
    events = EventStreams(world, render)
    verdicts = Verdicts(
        frozenset().union(*(documents.headers_read(a.document) for a in world.apis.values()))
    )
    dispatcher = Dispatcher(world, world.apis, verdicts)
    apis = Repeats(
        connexion_stack(world, dispatcher), Refusals(dispatcher.decided, dispatcher), verdicts
    )
    front = Front(apis, WSGIMiddleware(dashboard_app()), events)
    guarded = RequestLimits(ShutdownAnswer(front, render), render)
    controlled = BrowserGuard(ControlToken(guarded, sandbox, render), sandbox, render)
    app = RequestRecorder(controlled, sandbox, world)
    app.events = events
    return app


def connexion_stack(world, dispatcher: Dispatcher | None = None) -> ConnexionMiddleware:
    """Connexion's middlewares over the dispatcher, every document added, the stack built: the
    part of the front end that decides on requests (bench/floor_server.py serves it alone)."""
    dispatcher = dispatcher or Dispatcher(world, world.apis)
    app = _Connexion(
        dispatcher,
        middlewares=[
            partial(Refusals, dispatcher=dispatcher),
            RoutingMiddleware,
            SecurityMiddleware,
            RequestValidation,
        ],
        security_map=SECURITY_MAP,
    )
    for api in mounted(world.apis):  # the longest mount first: Starlette takes the first match
        operations = api.operations
        app.add_api(
            CheckedSpecification(documents.fresh(api.document)),
            base_path=api.mount,
            resolver=Resolver(lambda operation_id, ops=operations: ops[operation_id].handler),
            # undeclared query parameters: refused, unless the provider's framework ignores them
            strict_validation=api.provider is None or api.provider.strict_query,
        )
    # Connexion builds its stack on the first request; build it now, before serving.
    app.app, app.middleware_stack = app._build_middleware_stack()
    for layer in app.middleware_stack:
        if isinstance(layer, RoutingMiddleware):
            _no_slash_redirects(layer.router)
    return app


def _no_slash_redirects(router: Router) -> None:
    """A path with a trailing slash is not the path without it: each API answers it with its
    own 404, not Starlette's bare 307 to the other (an SDK follows that, and a domain id left
    empty, `/domains/`, gets it the list of domains)."""
    router.redirect_slashes = False
    for route in router.routes:
        if isinstance(route, Mount):
            _no_slash_redirects(route.app)


class _Connexion(ConnexionMiddleware):
    """Connexion's middleware stack, taking documents already loaded (CheckedSpecification)."""

    def add_api(self, specification: CheckedSpecification, *, base_path: str, **options) -> None:
        options = self.options.replace(**options)
        self.apis.append(API(specification, base_path=base_path, name=None, **options.__dict__))


class Front:
    """The dashboard's files under /_sandbox/ui and its event stream; every API through
    Connexion."""

    def __init__(self, apis, dashboard, events):
        self.apis, self.dashboard, self.events = apis, dashboard, events

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if path == DASHBOARD_MOUNT or path.startswith(DASHBOARD_MOUNT + "/"):
            return await self.dashboard(scope, receive, send)
        if path == EVENTS_PATH and scope["type"] == "http":
            return await self.events(scope, receive, send)
        await self.apis(escaped_slashes(scope), receive, send)


def escaped_slashes(scope) -> dict:
    """`scope`, or a copy whose path keeps a `/` a client sent as `%2F` inside its segment. An
    SES address may hold one (`a%2Fb%40example.com`); uvicorn decodes the path, and Connexion
    routes the decoded path by its slashes. Such a request is routed with `%` and `/` inside
    each segment escaped again; validation unescapes the path parameters
    (validation.ESCAPED_SEGMENTS), and the handler and the journal see the path as decoded
    (dispatch.request_of)."""
    raw = scope.get("raw_path") or b""
    if b"%2" not in raw or b"%2f" not in raw.lower() or scope["type"] != "http":
        return scope
    routed = "/".join(
        unquote(segment).replace("%", "%25").replace("/", "%2F")
        for segment in raw.decode("ascii").split("/")
    )
    scope.setdefault("extensions", {})[ESCAPED_SEGMENTS] = scope["path"]  # as uvicorn decoded it
    return dict(scope, path=routed)


class ErrorRenderer:
    """Errors decided before a request reaches Connexion, in the shape of the API it was for."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def render(
        self, path: str, error: ProviderError, headers: dict | None = None, scope=None
    ) -> Answer:
        """`error` in the shape of the API that serves `path`, with `headers` added, and the
        headers its provider puts on every answer (SES's x-amzn-RequestId, which the AWS SDKs
        read): a 413 or a 431 is an answer of that API too. `scope`: the request, where its
        head was read (a Monite answer echoes its x-monite-version)."""
        provider = self.sandbox.provider_for(path)
        answer = Answer.error(provider, error)
        answer.headers[:0] = (headers or {}).items()  # before the shape's own
        if provider is not None:
            request, elapsed = _as_request(scope, path)
            answer.headers.extend(provider.answer_headers(request, elapsed).items())
        return answer


def _as_request(scope, path: str) -> tuple[Request, float]:
    """The request a refusal answers, as a provider's `answer_headers` reads it, and the
    seconds spent on it; without a scope (a head refused while parsed), its path alone."""
    if scope is None:
        return Request("", path), 0.0
    arrived = scope.get("extensions", {}).get(RECEIVED_AT) or time.monotonic()
    return Request(scope["method"], path, headers=headers_of(scope)), time.monotonic() - arrived


class RequestRecorder:
    """ASGI wrapper: stamps each request's arrival and notes, in the request log, the provider
    requests refused before they reached the world (limits, shutdown, unknown paths)."""

    def __init__(self, app, sandbox: Sandbox, world):
        self.app, self.sandbox, self.world = app, sandbox, world

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extensions = scope.setdefault("extensions", {})  # shared by Connexion's scope copies
        extensions[RECEIVED_AT] = started = time.monotonic()
        unnoted = not scope["path"].startswith(CONTROL_MOUNT)
        status = {}

        async def note():
            nonlocal unnoted
            if unnoted and not extensions.get(NOTED):
                unnoted = False
                await self.note(scope, status.get("code"), started)

        async def noting_first(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif not extensions.get(NOTED) and not _cancelled():
                await note()  # before the client has its answer: its next call sees this
            await send(message)

        try:
            await self.app(scope, receive, noting_first)
        finally:
            await note()

    async def note(self, scope, status: int | None, started: float) -> None:
        """Note a provider request that did not reach the world in the journal, the client
        report and the access log: `scope` as far as it was read, `started` its arrival
        (time.monotonic()). The HTTP protocol notes those it answers itself so too."""
        provider = self.sandbox.provider_for(scope["path"])
        await self.world.note_request(
            {
                "provider": provider.name if provider else None,
                "operation": None,
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": headers_of(scope),  # who sent it (redacted when read)
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
                "violations": [],
            }
        )


def _cancelled() -> bool:
    """True in a request the server cancelled as it shut down: answer it first, note it after
    (a note may ask another process, and a shutting-down server will not wait for that)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
