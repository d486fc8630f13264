"""The HTTP front end: one Connexion FlaskApp serving each provider's document under its mount.

Handlers are bound methods of the provider objects (operationId -> method name). Every error,
whether raised by a handler or by Connexion's own validation, is answered in the shape of the
provider whose mount the request hit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import connexion
import flask
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from jsonschema import Draft4Validator
from starlette.exceptions import HTTPException

from .gate import ProviderGate
from .providers.base import ProviderError
from .ui import mount as mount_dashboard
from .validation import VALIDATORS
from .world import CONTROL, LocalWorld

if TYPE_CHECKING:
    from .core import Sandbox

CONTROL_MOUNT = "/_sandbox"
# The documents are served at <mount>/openapi.json; no Swagger UI (it would need a CDN or an extra).
_NO_SWAGGER_UI = SwaggerUIOptions(swagger_ui=False)
# Compact JSON in the providers' field order, as their real APIs send it.
_COMPACT_JSON = Jsonifier(json, separators=(",", ":"), ensure_ascii=False)
log = logging.getLogger(__name__)


# Connexion validates with Draft 4, whose format checker knows no "uuid": without this, ids that
# are not UUIDs pass where the documents say `format: uuid` (found by Schemathesis).
@Draft4Validator.FORMAT_CHECKER.checks("uuid", raises=ValueError)
def _is_uuid(value) -> bool:
    if not isinstance(value, str):
        return True
    return str(uuid.UUID(value)) == value.lower()


def openapi_dir() -> Path:
    """The OpenAPI documents: packaged inside `sandbox/` in a wheel, at the repo root otherwise."""
    packaged = Path(__file__).parent / "openapi"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "openapi"


def _handled_by(world, target: str) -> Resolver:
    """Resolve each operationId to the world's handler of that name on `target`."""
    return Resolver(function_resolver=lambda operation_id: world.handler(target, operation_id))


def build_app(sandbox: Sandbox, world=None) -> connexion.FlaskApp:
    """The ASGI app serving every provider API and the control API of `sandbox`.

    `world` (sandbox.world) runs the handlers and the gate's checks: by default the sandbox in
    this process; a RemoteWorld in a `serve --workers` worker.
    """
    world = world or LocalWorld(sandbox)
    app = connexion.FlaskApp(
        __name__,
        specification_dir=openapi_dir(),
        swagger_ui_options=_NO_SWAGGER_UI,
        validator_map=VALIDATORS,
        jsonifier=_COMPACT_JSON,
    )
    for provider in sandbox.providers.values():
        app.add_api(
            provider.document,
            base_path=provider.mount,
            resolver=_handled_by(world, provider.name),
            strict_validation=True,
        )
    app.add_api(
        "control.yaml",
        base_path=CONTROL_MOUNT,
        resolver=_handled_by(world, CONTROL),
        strict_validation=True,
    )
    errors = _ErrorRenderer(sandbox)
    app.add_middleware(
        ProviderGate,
        position=MiddlewarePosition.BEFORE_SECURITY,
        world=world,
        sandbox=sandbox,
        render=errors.render,
    )
    app.add_error_handler(ProblemException, errors.http_problem)
    app.add_error_handler(HTTPException, errors.http_problem)
    app.add_error_handler(Exception, errors.unexpected)
    app.app.register_error_handler(ProviderError, errors.provider_error)
    app.app.json.sort_keys = False  # bodies keep the field order of the providers' docs
    mount_dashboard(app.app)  # the live dashboard at /_sandbox/ui
    return app


class _ErrorRenderer:
    """Turns any failure into the error body of the provider the request was for."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def render(self, path: str, error: ProviderError) -> tuple[bytes, int, dict]:
        """(body, status, headers) of `error` in the shape of the API that serves `path`."""
        provider = self.sandbox.provider_for(path)
        if provider is None:
            body = {"error": {"status": error.status, "message": error.message}}
            headers = {}
        else:
            body = provider.error_body(error)
            headers = provider.error_headers(error)
        return _COMPACT_JSON.dumps(body).encode(), error.status, headers

    def provider_error(self, error: ProviderError):
        """Errors raised by handlers, inside Flask."""
        body, status, headers = self.render(flask.request.path, error)
        return flask.Response(body, status, headers, mimetype="application/json")

    def http_problem(self, request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        """Connexion's validation problems and routing errors (404, 405)."""
        path = request.url.path
        status = exc.status_code
        message = str(getattr(exc, "detail", "") or getattr(exc, "title", "") or "")
        provider = self.sandbox.provider_for(path)
        if status in (400, 422) and provider is not None:
            error = provider.validation_error(message, _field_of(message))
        else:
            error = ProviderError(status, message or _reason(status))
        if status < 500:  # the document rejected the request: the conformance report says why
            reason = message or _reason(status)
            note_violation(request.scope, _field_of(message), reason, error.status)
        # a 405 lists the methods the document declares for the path (RFC 9110); Starlette's own
        # list names only the first route's methods, as Connexion routes each operation apart
        headers = {"Allow": ", ".join(self._allowed(path))} if status == 405 else None
        return self._response(path, error, headers)

    def _allowed(self, path: str) -> list[str]:
        from .report import allowed_methods

        provider = self.sandbox.provider_for(path)
        mount, document = (
            (provider.mount, provider.document) if provider else (CONTROL_MOUNT, "control.yaml")
        )
        return allowed_methods(document, path[len(mount) :])

    def unexpected(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        if isinstance(exc, ProviderError):
            return self._response(request.url.path, exc)
        # Connexion decodes and parses bodies before validating: bad bytes, or JSON nested so
        # deep that the parser runs out of stack, are the client's error
        if isinstance(exc, UnicodeDecodeError | RecursionError):
            provider = self.sandbox.provider_for(request.url.path)
            message = (
                "the request body is not valid UTF-8"
                if isinstance(exc, UnicodeDecodeError)
                else "the request body is nested too deeply"
            )
            error = (
                provider.validation_error(message, None)
                if provider
                else ProviderError(400, message)
            )
            note_violation(request.scope, "body", message, error.status)
            return self._response(request.url.path, error)
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return self._response(request.url.path, ProviderError(500, "internal error"))

    def _response(
        self, path: str, error: ProviderError, extra_headers: dict | None = None
    ) -> ConnexionResponse:
        body, status, headers = self.render(path, error)
        headers = {**(extra_headers or {}), **headers}
        return ConnexionResponse(
            status_code=status, body=body, headers=headers, mimetype="application/json"
        )


_FIELD_PATTERNS = (
    re.compile(r" - '([^']+)'$"),
    re.compile(r"^'([^']+)' is a required property"),
    re.compile(r"parameter '([^']+)'"),
    re.compile(r"parameter\(s\) ([^ ]+) not in spec"),
)


def _field_of(message: str) -> str | None:
    for pattern in _FIELD_PATTERNS:
        if match := pattern.search(message):
            return match.group(1)
    return None


# Where a request's document violations wait for the request recorder, in the ASGI scope.
VIOLATIONS_KEY = "domainsandbox.violations"


_UNEXPECTED = re.compile(r"\(((?:'[^']+'(?:, )?)+) (?:was|were) unexpected\)")


def note_violation(scope: dict, field: str | None, reason: str, status: int) -> None:
    """Keep a violation of the request against its document, for the conformance report."""
    if field is None and (match := _UNEXPECTED.search(reason)):  # unknown body fields
        field = match.group(1).replace("'", "")
    scope.setdefault("extensions", {}).setdefault(VIOLATIONS_KEY, []).append(
        {"field": field, "reason": reason, "status": status}
    )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class RequestRecorder:
    """ASGI wrapper that notes each provider API request in the world's request log."""

    def __init__(self, app, sandbox: Sandbox, world):
        self.app, self.sandbox, self.world = app, sandbox, world

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_MOUNT):
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), {}
        # Made here so that the scope copies made inside Connexion share it: the routing
        # middleware notes the operationId in it, the error renderer the violations.
        scope.setdefault("extensions", {})

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            if message["type"] == "http.response.body" and not _cancelled():
                await note()  # before the client has any of its answer: its next call sees this
            await send(message)

        async def note():
            if status.get("noted"):
                return
            status["noted"] = True
            provider = self.sandbox.provider_for(scope["path"])
            extensions = scope.get("extensions") or {}
            await self.world.note_request(
                {
                    "provider": provider.name if provider else None,
                    "operation": extensions.get("connexion_routing", {}).get("operation_id"),
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status.get("code"),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "violations": extensions.get(VIOLATIONS_KEY, []),
                }
            )

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            await note()


def _cancelled() -> bool:
    """True in a request the server cancelled as it shut down: answer it first, note it after
    (a note may ask another process, and a shutting-down server will not wait for that)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


# Control characters never occur in a valid path; Starlette's mounts do not match them (`.*`
# stops at a newline), and the request would then reach Flask without Connexion's context (500).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class PathGuard:
    """ASGI wrapper answering 404, in the right provider's shape, for paths no document has."""

    def __init__(self, app, sandbox: Sandbox):
        self.app, self.errors = app, _ErrorRenderer(sandbox)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _CONTROL_CHARACTERS.search(scope["path"]):
            return await self.app(scope, receive, send)
        reason = "no operation matches a path holding control characters"
        note_violation(scope, "path", reason, 404)
        body, status, headers = self.errors.render(scope["path"], ProviderError(404, reason))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")]
                + [(k.lower().encode(), str(v).encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})


def build_asgi(sandbox: Sandbox, world=None):
    """The app as served: the Connexion app behind the path guard, the request limits, the
    control token check and the request recorder. `world` as for `build_app`."""
    from .limits import ControlToken, RequestLimits, ShutdownAnswer

    world = world or LocalWorld(sandbox)
    render = _ErrorRenderer(sandbox).render
    connexion_app = build_app(sandbox, world)
    guarded = RequestLimits(ShutdownAnswer(PathGuard(connexion_app, sandbox), render), render)
    return RequestRecorder(ControlToken(guarded, sandbox, render), sandbox, world)
