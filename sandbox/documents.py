"""The OpenAPI documents: where they are, each parsed once, and what their operations are."""

from __future__ import annotations

import copy
import re
from functools import cache

import yaml

from .shipped import CONTROL_DOCUMENT, openapi_dir, provider_names

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# libyaml's parser when PyYAML was built with it: it reads the five documents ~4x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load(document: str) -> dict:
    """The parsed document (e.g. "monite.yaml"). Shared: copy it before changing it.

    The control document's `ProviderName` is filled in here with `provider_names()`, so adding
    a provider never means editing it."""
    spec = yaml.load((openapi_dir() / document).read_text(encoding="utf-8"), Loader=_LOADER)
    if document == CONTROL_DOCUMENT:
        spec["components"]["schemas"]["ProviderName"].update(provider_name_schema())
    return spec


def provider_name_schema() -> dict:
    """The control API's `ProviderName` and the scenario schema's `provider`: a provider's name
    in any letter case (`Monite` is monite, as a record type `txt` is TXT), as the CLI takes it;
    the control API's handlers and a scenario's load get it in lower case (sandbox.apis,
    sandbox.scenario)."""
    names = provider_names()
    any_case = (
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in n) for n in names
    )
    return {
        "description": f"one of {', '.join(names)}, in any letter case",
        "pattern": f"^({'|'.join(any_case)})$",
    }


def fresh(document: str) -> dict:
    """A copy of the parsed document of one's own, to change or to hand to Connexion."""
    return copy.deepcopy(load(document))


@cache
def operations(document: str) -> tuple[tuple[str, str, str], ...]:
    """(operationId, METHOD, path) of every operation in the document, in document order."""
    return tuple(
        (operation["operationId"], method.upper(), path)
        for path, item in load(document).get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS and "operationId" in operation
    )


@cache
def common_start(document: str) -> tuple[str, ...]:
    """The segments every path of the document begins with (Vortex's `api`, `v1`,
    `accounts`), none of them a parameter, and never a whole path."""
    paths = [path.strip("/").split("/") for _, _, path in operations(document)]
    shared: list[str] = []
    for segments in zip(*paths, strict=False):
        if len(set(segments)) != 1 or segments[0].startswith("{"):
            break
        shared.append(segments[0])
    if paths and len(shared) == min(map(len, paths)):
        shared.pop()  # a path that is all shared (`/domains` alone): its last is no prefix
    return tuple(shared)


def operation_ids(document: str) -> set[str]:
    """The document's operationIds (what HTTP faults can target)."""
    return {operation_id for operation_id, _, _ in operations(document)}


@cache
def body_fields(document: str, operation_id: str, path: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The fields the operation's body declares (at `path` within it), for naming the one a
    client meant by a field the document does not declare."""
    spec = load(document)
    for _, method, template in operations(document):
        operation = spec["paths"][template][method.lower()]
        if operation["operationId"] == operation_id:
            break
    else:
        return ()
    content = resolve(spec, operation.get("requestBody", {})).get("content", {})
    schema = next((media.get("schema", {}) for media in content.values()), {})
    for name in path:
        schema = resolve(spec, schema).get("properties", {}).get(name, {})
    return tuple(resolve(spec, schema).get("properties", {}))


@cache
def query_parameters(document: str, operation_id: str) -> dict[str, dict]:
    """The operation's query parameters (its own and its path's) by name, in document order,
    for saying in words what one takes, or which ones there are."""
    spec = load(document)
    for _, method, template in operations(document):
        item = spec["paths"][template]
        if item[method.lower()]["operationId"] == operation_id:
            declared = item.get("parameters", []) + item[method.lower()].get("parameters", [])
            found = (resolve(spec, p) for p in declared)
            return {p["name"]: p for p in found if p.get("in") == "query"}
    return {}


def resolve(spec: dict, item: dict) -> dict:
    """`item` itself, or what its local `$ref` ("#/components/...") points to."""
    if "$ref" not in item:
        return item
    for part in item["$ref"].removeprefix("#/").split("/"):
        spec = spec[part]
    return spec


@cache
def headers_read(document: str) -> frozenset[bytes]:
    """The request headers the document has Connexion read: its header parameters and its
    security schemes' credentials (lowercase, as ASGI gives header names)."""
    spec = load(document)
    names = set()
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") == "http":
            names.add("authorization")
        elif scheme.get("in") == "header":
            names.add(scheme["name"])
    parameters = list(spec.get("components", {}).get("parameters", {}).values())
    for item in spec.get("paths", {}).values():
        parameters += item.get("parameters", [])
        parameters += [
            p for m, op in item.items() if m in HTTP_METHODS for p in op.get("parameters", [])
        ]
    names |= {
        resolve(spec, p)["name"] for p in parameters if resolve(spec, p).get("in") == "header"
    }
    return frozenset(name.lower().encode("latin-1") for name in names)


def allowed_methods(document: str, path: str) -> list[str]:
    """The methods the document declares for `path` (relative to its mount), for `Allow`."""
    methods = []
    for _, method, template in operations(document):
        if _template(template).fullmatch(path) and method not in methods:
            methods.append(method)
    return methods


@cache
def _template(path: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))
