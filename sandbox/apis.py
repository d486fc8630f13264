"""The APIs a sandbox serves: each provider's and the control API, with every operationId of
their documents bound, once, to the handler method of the same name."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import documents
from .control import Control
from .lanes import READ_ONLY_METHODS, WORLD
from .mounts import CONTROL_MOUNT

if TYPE_CHECKING:
    from .core import Sandbox
    from .providers.base import Provider
    from .request import Request

CONTROL = "control"  # the control API's name where a provider's name would be


@dataclass(frozen=True)
class Credential:
    """Where a document asks for a credential, and how a client writes it there."""

    name: str  # the header (or query parameter) that carries it
    written: str  # e.g. `Authorization: Bearer <token>`


def _credential(spec: dict, requirements: list[dict]) -> Credential | None:
    """The credential of the first security requirement that names one (Vortex's document
    also allows none)."""
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for name in (name for requirement in requirements for name in requirement):
        scheme = schemes[name]
        if scheme["type"] == "apiKey":
            where = scheme["name"]
            written = f"{where}: <key>" if scheme["in"] == "header" else f"?{where}=<key>"
            return Credential(where, written)
        if scheme["type"] == "http":
            word = scheme["scheme"]
            how = {"bearer": "Bearer <token>", "basic": "Basic <base64 of user:password>"}
            return Credential("Authorization", f"Authorization: {how.get(word, word + ' ...')}")
    return None


@dataclass(frozen=True)
class Operation:
    """One operation's handler and what it takes: the request, the body, which parameters."""

    handler: Callable
    params: frozenset[str]  # the path and query parameters the handler names
    defaults: dict[str, Any]  # the document's defaults for absent query parameters
    takes_request: bool
    takes_body: bool
    lane: str | None  # where it runs (sandbox.lanes); None: the event loop, unless steps are due
    changes: bool  # whether its call may change the world (then a state file saves it first)
    credential: Credential | None  # the credential its document asks for, if any

    def __call__(self, request: Request) -> Any:
        kwargs = {k: v for k, v in (self.defaults | request.params).items() if k in self.params}
        if self.takes_request:
            kwargs["request"] = request
        if self.takes_body:
            kwargs["body"] = request.body
        return self.handler(**kwargs)


@dataclass(frozen=True)
class Api:
    name: str  # a provider's name, or CONTROL
    mount: str
    document: str
    provider: Provider | None  # None for the control API
    operations: dict[str, Operation] = field(repr=False)


def mounted(apis: dict[str, Api]) -> list[Api]:
    """Each API once for every mount it is served at, the longest mount first (so that a mount
    inside another is matched before it): a provider's further mounts (`more_mounts`, Mailgun's
    EU region) serve the same operations."""
    each = [
        replace(api, mount=mount)
        for api in apis.values()
        for mount in (api.mount, *(api.provider.more_mounts if api.provider else ()))
    ]
    return sorted(each, key=lambda api: len(api.mount), reverse=True)


def build_apis(sandbox: Sandbox) -> dict[str, Api]:
    """Every API of `sandbox` by name, the control API last."""
    apis = {name: _api(name, p.mount, p.document, p, p) for name, p in sandbox.providers.items()}
    control = _api(CONTROL, CONTROL_MOUNT, "control.yaml", None, Control(sandbox))
    return apis | {CONTROL: control}


def _api(name: str, mount: str, document: str, provider, handlers) -> Api:
    spec = documents.load(document)
    operations = {}
    for operation_id, method, path in documents.operations(document):
        handler = getattr(handlers, operation_id, None)
        if handler is None:
            raise TypeError(f"{type(handlers).__name__} has no handler for {operation_id}")
        if provider is None:  # the control API: a provider named in any letter case
            handler = _provider_in_lower_case(handler)
        operation = spec["paths"][path][method.lower()]
        declared = spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
        declared = [documents.resolve(spec, p) for p in declared]
        credential = _credential(spec, operation.get("security", spec.get("security", [])))
        operations[operation_id] = _operation(
            handler, method, declared, None if provider else WORLD, credential
        )
    return Api(name, mount, document, provider, operations)


def _provider_in_lower_case(handler: Callable) -> Callable:
    """A control API handler given the provider it is asked about in lower case, as the
    sandbox names it: the document takes `Monite` for monite (documents.provider_name_schema),
    as a parameter or as a body's `provider`."""

    @functools.wraps(handler)  # its signature and marks (lane, reads) too
    def handle(**kwargs):
        if isinstance(named := kwargs.get("provider"), str):
            kwargs["provider"] = named.lower()
        body = kwargs.get("body")
        if isinstance(body, dict) and isinstance(named := body.get("provider"), str):
            kwargs["body"] = body | {"provider": named.lower()}
        return handler(**kwargs)

    return handle


def _operation(
    handler: Callable,
    method: str,
    declared: list[dict],
    lane: str | None,
    credential: Credential | None,
) -> Operation:
    """`lane`: where the handler runs unless it is marked (sandbox.lanes)."""
    names = set(inspect.signature(handler).parameters)
    defaults = {
        p["name"]: p["schema"]["default"]
        for p in declared
        if p.get("in") == "query" and "default" in p.get("schema", {})
    }
    return Operation(
        handler,
        frozenset(names - {"request", "body"}),
        defaults,
        takes_request="request" in names,
        takes_body="body" in names,
        lane=getattr(handler, "lane", lane),
        changes=not getattr(handler, "reads", method in READ_ONLY_METHODS),
        credential=credential,
    )


def changes(api: Api, request: Request) -> bool:
    """Whether `request`'s call may change the world: its operation's mark, else its method's."""
    operation = api.operations.get(request.operation)
    return operation.changes if operation else request.method not in READ_ONLY_METHODS
