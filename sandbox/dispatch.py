"""The bottom of the front end: each request becomes a `Call` for the world, and the world's
`Answer` goes back to the client.

Connexion's middlewares above the `Dispatcher` route each request by its document, check its
credentials and validate it. What they refuse reaches `Refusals`, which hands the refusal to the
world in place of the call: the world still counts it against rate limits, may still inject a
fault, and notes it in the request log, so an accepted and a refused request cost one trip each.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from connexion.jsonifier import Jsonifier
from starlette.exceptions import HTTPException

from fake_dns.rdata import brief

from . import documents
from .apis import changes, mounted
from .errors import (
    ProviderError,
    hinted,
    reason_phrase,
    said_request,
    unexpected_fields,
    violation_of,
)
from .mounts import CONTROL_MOUNT as CONTROL
from .request import CHANGES, JSON, RESET_CONNECTION, Answer, Call, Request, send_answer
from .validation import (
    ESCAPED_SEGMENTS,
    RAW_BODY,
    CheckedSpecification,
    ClientGone,
    UnreadableBody,
    parsed,
    read_body,
)
from .verdicts import KEY, VERDICT, Verdicts

if TYPE_CHECKING:
    from .apis import Api, Credential

log = logging.getLogger(__name__)

# In the ASGI scope's extensions: when the request arrived, and whether the world noted it.
RECEIVED_AT = "domainsandbox.received_at"
NOTED = "domainsandbox.noted"


class Dispatcher:
    """The ASGI app under Connexion's middlewares. `world`: a LocalWorld or RemoteWorld."""

    def __init__(self, world, apis: dict[str, Api], verdicts: Verdicts | None = None):
        self.world, self.apis, self.verdicts = world, apis, verdicts
        self._mounts = mounted(apis)  # each API at each of its mounts, the longest first
        self._documents = {f"{api.mount}/openapi.json": api for api in self._mounts}

    def api_for(self, path: str) -> Api | None:
        """The API whose mount serves `path`, if any."""
        for api in self._mounts:
            if path.startswith(api.mount) and path[len(api.mount) : len(api.mount) + 1] in "/":
                return api
        return None

    async def __call__(self, scope, receive, send):
        operation_id = _operation_id(scope)
        if operation_id is None:
            return await self.unrouted(scope, receive, send)
        given = parsed(scope)
        key = scope["extensions"].get(KEY)  # Connexion's verdict is kept for the same head again
        if self.verdicts is not None and key is not None:
            self.verdicts.keep(key, operation_id, given.params, given.read_body)
        await self._dispatch(scope, send, operation_id, given.params, given.body)

    async def decided(self, scope, receive, send):
        """A request whose head Connexion decided on before (sandbox.verdicts): its body read
        and validated as Connexion did, its verdict dispatched."""
        operation_id, params, read_body = scope["extensions"][VERDICT]
        body = await read_body(receive, scope) if read_body else None
        await self._dispatch(scope, send, operation_id, dict(params), body)

    async def _dispatch(self, scope, send, operation_id: str, params: dict, body=None) -> None:
        request = request_of(scope, operation_id, params, body)
        api = self.api_for(scope["path"])
        await self._answer(scope, send, api, Call(api.name, request, received_at=_arrival(scope)))

    async def refuse(
        self,
        scope,
        receive,
        send,
        error: ProviderError,
        violation: dict | None,
        headers=(),
        api: Api | None = None,
        content: bool = False,
    ) -> None:
        """Answer a request the front end refused, through the world like any other. `api`: the
        API it is counted for, when no mount serves its path; `content`: the refusal is of the
        request's readable content (sandbox.request.Call.content_refused)."""
        api = api or self.api_for(scope["path"])
        if api is None:  # outside every API: nothing to count, nobody to note it for
            answer = Answer.error(None, error)
            answer.headers.extend(headers)
            return await send_answer(send, answer)
        body = await _refused_body(scope, receive)  # the journal shows what was refused
        call = Call(
            api.name,
            request_of(scope, _operation_id(scope), body=body),
            refusal=error,
            violations=(violation,) if violation else (),
            received_at=_arrival(scope),
            content_refused=content,
        )
        await self._answer(scope, send, api, call, headers)

    async def unrouted(self, scope, receive, send) -> None:
        """No operation of any document matches: the document itself, a 405 or a 404."""
        path, api = scope["path"], self.api_for(scope["path"])
        if scope["method"] == "GET" and path in self._documents:
            api = self._documents[path]
            scope["extensions"][NOTED] = True  # no call of the API: neither journal nor report
            body = _served_document(api.document, api.mount)
            return await send_answer(send, Answer(200, body, [("content-type", JSON)]))
        if api is None:
            return await self.outside(scope, receive, send)
        below = path[len(api.mount) :]  # the path as the API's document writes it
        allowed = documents.allowed_methods(api.document, below)
        # Starlette's routes match no control character: such a path is simply not found
        status = 405 if allowed and scope["method"] not in allowed else 404
        error = _unserved(api, scope["method"], path, status)  # a `%2F` said as sent
        if hint := _inside_hint(api, scope["method"], path, status):
            error = _hinted(api, error, hint)
        # RFC 9110: a 405 lists the methods the document declares for the path
        headers = [("allow", ", ".join(allowed))] if allowed and error.status == 405 else []
        violation = violation_of(None, error.message, error.status)
        await self.refuse(scope, receive, send, error, violation, headers)

    async def outside(self, scope, receive, send) -> None:
        """A path under no mount: counted for the provider it names (`/AutoSend/v1/...`) or,
        failing that, the one provider that serves it under its mount (`/v4/domains`, an SDK
        given the sandbox's URL without Mailgun's mount), and answered in its shape; else the
        404 every SDK can read, saying where each API is and which paths were likely meant."""
        method, path = scope["method"], scope["path"]
        named = self._named_by(path)
        if named is None:
            meant = self._served_elsewhere(method, path)
        else:  # `/Resend/domains`: the path in the mount's own case, if that is served
            meant = [(named, fixed)] if (fixed := _in_mount_case(named, method, path)) else []
        if named is None and len(meant) == 1:
            named = meant[0][0]
        if named is None or named.provider is None:
            said = self._outside(method, path)
            if meant:
                said += f"; did you mean {_either(there for _, there in meant)}?"
            return await send_answer(send, _lost(ProviderError(404, said)))
        hint = _whose(named) + (f"; did you mean {meant[0][1]}?" if meant else "")
        error = _hinted(named, named.provider.unserved(method, path, 404), hint)
        violation = violation_of(None, error.message, error.status)
        await self.refuse(scope, receive, send, error, violation, api=named)

    def _outside(self, method: str, path: str) -> str:
        """Why a path outside every API is not found, and where the APIs are: most often a
        base URL without its version (`/autosend/domains` for `/autosend/v1/domains`)."""
        said = f"Not Found: domainsandbox does not serve {said_request(method, path)}"
        if api := self._named_by(path):
            return f"{said}; {_whose(api)}"
        mounts = ", ".join(api.mount for api in self.apis.values() if api.provider is not None)
        return f"{said}; the providers' APIs are under {mounts}, the control API under {CONTROL}"

    def _named_by(self, path: str) -> Api | None:
        """The API whose mount begins with the path's first segment, in any case: a client of
        AutoSend's that asks `/autosend/v2/domains` or `/AutoSend/v1/domains`."""
        first = "/" + path.lstrip("/").split("/")[0].lower() + "/"
        return next(
            (api for api in self.apis.values() if (api.mount + "/").startswith(first)), None
        )

    def _served_elsewhere(self, method: str, path: str) -> list[tuple[Api, str]]:
        """Each API that serves `method` on `path` (or on it without its final slash) under its
        mount, with that path: what a client that left the mount out meant (`/domains`, or
        `/v1/mailbox_domains` where the mount `/monite/v1` ends with its version)."""
        meant = []
        for api in self.apis.values():
            for below in _below_a_mount(api.mount, path):
                if method in documents.allowed_methods(api.document, below):
                    meant.append((api, api.mount + below))
                    break
        return meant

    async def _answer(self, scope, send, api: Api, call: Call, headers=()) -> None:
        try:
            answer = await self.world.serve(call)
        except ProviderError as error:  # the world is gone (serve --workers): a 503
            answer = Answer.error(api.provider, error)
        answer.headers.extend(headers)
        scope["extensions"][NOTED] = True  # noted by the world, and being answered
        scope["extensions"][CHANGES] = changes(api, call.request)
        reset = scope["extensions"].get(RESET_CONNECTION)
        await send_answer(send, answer, f"{scope['method']} {scope['path']}", reset)


def _below_a_mount(mount: str, path: str) -> list[str]:
    """What `path`, given without `mount`, may be below it: itself, without its final slash,
    and without the mount's last segments where it begins with them (`/v1/domains` for a mount
    `/autosend/v1`: a base URL without the provider's name)."""
    paths = [path]
    segments = mount.strip("/").split("/")
    for first in range(1, len(segments)):
        tail = "/" + "/".join(segments[first:])
        if path.startswith(tail + "/"):
            paths.append(path[len(tail) :])
    return [each for p in paths for each in (p, _final_slash_dropped(p)) if each]


def _final_slash_dropped(path: str) -> str | None:
    """`path` without its final slash, if it has one (and is more than `/`)."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else None


def _inside_hint(api: Api, method: str, path: str, status: int) -> str | None:
    """What a request under the API's mount that no operation matches likely meant: the path
    in a further mount's case, without its final slash or without a version it does not have;
    for a 405, where another version of the paths serves the method."""
    below = path[len(api.mount) :]
    if status == 405:
        there = _other_version(api, method, below)  # Mailgun's v3 and v4
        return f"{method} is served at {there}" if there else None
    if meant := _further_mount(api, path):
        return f"did you mean {meant}?"  # `/mailgun/EU/...`: a region's mount
    if found := _with_a_parameter(api, method, below, empty=True):
        # `/vortex/api/v1/accounts//email-domains`: an empty account id, not a doubled slash
        meant, wrong = found
        return f"{wrong}: did you mean {meant}?"
    if meant := _one_slash_each(api, below):
        return f"did you mean {meant}, with single slashes?"  # a base URL ending in /, joined
    if meant := _without_final_slash(api, below):
        return f"did you mean {meant}, without the final slash?"
    if meant := _one_segment_less(api, below):
        return f"did you mean {meant}?"  # `/resend/v1/domains`: no version
    if meant := _with_the_paths_start(api, below):
        return f"did you mean {meant}?"  # `/vortex/accounts/...`: a base URL without /api/v1
    if found := _with_a_parameter(api, method, below, empty=False):
        meant, wrong = found  # `/vortex/api/v1/email-domains`: the account left out
        return f"{wrong}: did you mean {meant}?"
    return None


def _hinted(api: Api, error: ProviderError, hint: str) -> ProviderError:
    """The hint where the API's clients read it: the provider says where; the control API's
    message ends with it."""
    return api.provider.hinted(error, hint) if api.provider else hinted(error, hint)


def _mounts(api: Api) -> tuple[str, ...]:
    """Where the API is served: its mount, and its provider's further ones (Mailgun's EU)."""
    return (api.mount, *(api.provider.more_mounts if api.provider else ()))


def _whose(api: Api) -> str:
    """Where the API is served: `autosend's API is under /autosend/v1`."""
    whose = f"{api.name}'s API" if api.provider else "the control API"
    return f"{whose} is under {' and '.join(_mounts(api))}"


def _either(paths) -> str:
    """`/a`, `/a or /b`, `/a, /b or /c`."""
    *rest, last = paths
    return f"{', '.join(rest)} or {last}" if rest else last


def _in_mount_case(api: Api, method: str, path: str) -> str | None:
    """`path` with the API's mount in its own letter case (`/Resend/domains`: `/resend/domains`),
    when the API serves `method` there."""
    for mount in _mounts(api):
        fixed = _recased(mount, path)
        if fixed and method in documents.allowed_methods(api.document, fixed[len(mount) :]):
            return fixed
    return None


def _recased(mount: str, path: str) -> str | None:
    """`path` under `mount` in any letter case, with the mount as it is written; else None."""
    return mount + path[len(mount) :] if path.lower().startswith(mount.lower() + "/") else None


def _further_mount(api: Api, path: str) -> str | None:
    """`path` under a further mount of the API (Mailgun's EU region), when it names one in
    another letter case: `/mailgun/EU/v4/domains`, not a segment to drop."""
    for mount in api.provider.more_mounts if api.provider else ():
        if not path.startswith(mount + "/") and (fixed := _recased(mount, path)):
            return fixed
    return None


def _one_slash_each(api: Api, path: str) -> str | None:
    """The path the API serves once each run of slashes in `path` (under its mount) is one, if
    it serves one: `//domains`, a base URL given with a final slash that the client joined
    `/domains` to (the final slash dropped too, if it serves that)."""
    if "//" not in path:
        return None
    single = re.sub("/{2,}", "/", path)
    for served in (single, _final_slash_dropped(single)):
        if served and documents.allowed_methods(api.document, served):
            return api.mount + served
    return None


def _without_final_slash(api: Api, path: str) -> str | None:
    """The path the API serves once the final slash of `path` (under its mount) is dropped, if
    it serves one (`/domains/`: never redirected, as an empty id is not the list)."""
    shorter = _final_slash_dropped(path)
    if shorter and documents.allowed_methods(api.document, shorter):
        return api.mount + shorter
    return None


def _one_segment_less(api: Api, path: str) -> str | None:
    """The path the API serves once the first segment of `path` (under its mount) is dropped,
    if it serves one: a version the API's paths do not have."""
    rest = "/" + path.lstrip("/").partition("/")[2]
    if rest != "/" and documents.allowed_methods(api.document, rest):
        return api.mount + rest
    return None


def _with_the_paths_start(api: Api, path: str) -> str | None:
    """The path the API serves once some of the segments every path of its document begins
    with are put before `path` (under its mount), if it serves one: Vortex's `/api/v1`, left
    out of a client's base URL, which its paths then lack."""
    shared = documents.common_start(api.document)
    for count in range(len(shared), 0, -1):
        start = "/" + "/".join(shared[:count])
        if not path.startswith(start + "/") and documents.allowed_methods(
            api.document, start + path
        ):
            return api.mount + start + path
    return None


def _with_a_parameter(api: Api, method: str, path: str, empty: bool) -> tuple[str, str] | None:
    """The path of the API's that serves `method` where `path` (under its mount) sent a path
    parameter empty (`empty`) or left out segments holding one, written with its placeholders,
    and what is wrong: Vortex's `/api/v1/accounts//email-domains`, `{accountId} is empty`;
    `/api/v1/email-domains`, `accounts/{accountId} is missing` (a client that left the account
    out). Of several, the template with the fewest segments is meant. A parameter sent empty
    where only other methods are served is told that path, with its methods (a GET of
    Mailgun's `/v4/domains//verify`: `PUT /mailgun/v4/domains/{name}/verify`), as the same
    path with single slashes is another (`/v4/domains/verify`, a domain named `verify`)."""
    given = path.strip("/").split("/")
    found = []
    for _, declared, template in documents.operations(api.document):
        if declared != method and not empty:
            continue
        wanted = template.strip("/").split("/")
        wrong = _parameter_empty(wanted, given) if empty else _parameter_missing(wanted, given)
        if wrong:
            found.append((declared != method, len(wanted), template, wrong))
    if not found:
        return None
    other, _, template, wrong = min(found)
    if not other:
        return api.mount + template, wrong
    methods = [declared for _, declared, t in documents.operations(api.document) if t == template]
    return f"{_either(methods)} {api.mount}{template}", wrong


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{")


def _fits(wanted: list[str], given: list[str]) -> bool:
    """The segments `given` are the template's `wanted`, a parameter's any but empty."""
    return len(wanted) == len(given) and all(
        w == g or (_is_parameter(w) and g) for w, g in zip(wanted, given, strict=True)
    )


def _parameter_empty(wanted: list[str], given: list[str]) -> str | None:
    """`{accountId} is empty` where `given` is the template `wanted` but for that parameter
    sent empty (`accounts//email-domains`)."""
    if len(wanted) != len(given):
        return None
    empty = [w for w, g in zip(wanted, given, strict=True) if _is_parameter(w) and not g]
    filled = [w if _is_parameter(w) and not g else g for w, g in zip(wanted, given, strict=True)]
    return f"{empty[0]} is empty" if empty and _fits(wanted, filled) else None


def _parameter_missing(wanted: list[str], given: list[str]) -> str | None:
    """`accounts/{accountId} is missing` where `given` is the template `wanted` but for one run
    of its segments, a parameter among them, left out."""
    gap = len(wanted) - len(given)
    for start in range(len(given) + 1) if gap > 0 else ():
        left_out = wanted[start : start + gap]
        rest = wanted[:start] + wanted[start + gap :]
        if any(map(_is_parameter, left_out)) and _fits(rest, given):
            return f"{'/'.join(left_out)} is missing"
    return None


def _other_version(api: Api, method: str, path: str) -> str | None:
    """Where the API serves `method` on `path` (under its mount) under another version of its
    paths, if it does: Mailgun deletes a domain under v3 and lists them under v4."""
    if not (version := _VERSION.match(path)):
        return None
    for n in range(1, 10):
        other = f"/v{n}{path[version.end() :]}"
        if other != path and method in documents.allowed_methods(api.document, other):
            return api.mount + other
    return None


_VERSION = re.compile(r"/v\d+(?=/)")  # a version as a path's first segment


def _lost(error: ProviderError) -> Answer:
    """The 404 of a path under no API, most often a provider's SDK given the sandbox's URL
    without the provider's mount: its message at the top level too, where the SDKs read one
    (Resend's, botocore's `message`), beside the control API's shape."""
    shaped = {"error": {"status": error.status, "message": error.message}}  # Answer.error's
    return Answer.json({"message": error.message} | shaped, error.status)


def _unserved(api: Api | None, method: str, path: str, status: int) -> ProviderError:
    """The error of a request no operation matches: the provider's words, or the reason phrase."""
    if api is None or api.provider is None:
        return ProviderError(status, reason_phrase(status))
    return api.provider.unserved(method, path[len(api.mount) :] or "/", status)


def request_of(scope, operation_id: str | None, params=None, body=None) -> Request:
    """The Request a handler reads, from the ASGI scope and what validation parsed."""
    return Request(
        scope["method"],
        asked_path(scope),
        operation_id,
        params or {},
        body,
        headers_of(scope),
        scope.get("query_string", b"").decode("latin-1"),
    )


def headers_of(scope) -> dict[str, str]:
    """The request's headers by name (lower case, as ASGI gives them), the first of a name."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


class Refusals:
    """Connexion's first middleware: turns what routing, security and validation refuse (and
    unreadable bodies) into the provider's own error, answered through the dispatcher."""

    def __init__(self, next_app, dispatcher: Dispatcher):
        self.next_app, self.dispatcher = next_app, dispatcher

    async def __call__(self, scope, receive, send):
        try:
            await self.next_app(scope, receive, send)
        except ClientGone:
            return  # its body never came whole: nothing carried out, nobody to answer
        except (HTTPException, UnicodeDecodeError, RecursionError) as problem:
            if _answering(scope):
                raise
            if isinstance(problem, HTTPException) and problem.status_code == 405:
                return await self.dispatcher.unrouted(scope, receive, send)  # the router's check
            error, violation = self._refusal(scope, problem)
            content = error.status in (400, 422) and not isinstance(problem, UNREADABLE)
            await self.dispatcher.refuse(scope, receive, send, error, violation, content=content)
        except Exception:
            if _answering(scope):
                raise
            log.exception("unexpected error on %s", scope["path"])
            api = self.dispatcher.api_for(scope["path"])
            provider = api.provider if api else None
            await send_answer(send, Answer.error(provider, ProviderError(500, "internal error")))

    def _refusal(self, scope, problem: Exception) -> tuple[ProviderError, dict | None]:
        """The provider's error for a refused request, and the violation the report keeps."""
        api = self.dispatcher.api_for(scope["path"])
        provider = api.provider if api else None
        if isinstance(problem, HTTPException):
            status = problem.status_code
            detail = str(problem.detail or getattr(problem, "title", "") or "")
            message = detail or reason_phrase(status)
            field = noted_field = _field_of(message)
        else:  # the body could not be read at all: no one field of it is to blame
            status, message = 400, _unreadable(problem)
            field, noted_field = None, "body"
        if status in (400, 422) and provider is not None:
            error = provider.validation_error(message, field)
        elif status == 401 and provider is not None:
            error = provider.missing_credential(message)
        elif api and status == 400:  # the control API's: Connexion's words, made plainer
            error = ProviderError(status, _plain_query(api, _operation_id(scope), message))
        else:
            error = ProviderError(status, message)
        if status == 401 and api and (asked := _credential_asked(api, scope)):
            noted_field, message = asked.name, f"{message}: {_credential_said(asked, scope)}"
        elif api and (unexpected := unexpected_fields(message)):
            message += _meant(api, _operation_id(scope), message, unexpected)
        violation = violation_of(noted_field, message, error.status) if status < 500 else None
        return error, violation


# A body no server could read: refused before its key is looked at.
UNREADABLE = (UnreadableBody, UnicodeDecodeError, RecursionError)


# Connexion's words for query parameters the document does not declare, and for a value its
# pattern refuses (the regular expression itself, which helps nobody).
_UNKNOWN_QUERY = re.compile(r"^Extra query parameter\(s\) (.*) not in spec$")
_UNMATCHED = re.compile(r"^([\w-]+): (.*) does not match '.*'$", re.S)


def _plain_query(api: Api, operation_id: str | None, message: str) -> str:
    """A control call's refused query in words: `operaton: not a query parameter of this
    call (it takes provider, operation, ...); did you mean 'operation'?`, or `status: '2xxx'
    is not a status code (404), ...` from the parameter's description."""
    taken = documents.query_parameters(api.document, operation_id or "")
    if unknown := _UNKNOWN_QUERY.search(message):
        names = unknown[1].split(",")
        listed = ", ".join(names)
        said = f"{brief(listed, text=listed)}: not a query parameter"
        said += (
            f" of this call (it takes {', '.join(taken)})" if taken else "; this call takes none"
        )
        meant = [c[0] for n in names if (c := difflib.get_close_matches(n, taken, 1, 0.6))]
        return said + (f"; did you mean {', '.join(map(repr, meant))}?" if meant else "")
    unmatched = _UNMATCHED.search(message)
    if unmatched and (described := taken.get(unmatched[1], {}).get("description")):
        return f"{unmatched[1]}: {unmatched[2]} is not {described}"
    return message


def _meant(api: Api, operation_id: str | None, message: str, unexpected: list[str]) -> str:
    """`; did you mean 'domain'?` after a body field the document does not declare, when it
    declares one spelt alike there (`domainName`, `Domain`), else nothing."""
    where = _AT_PATH.search(message)  # the object that holds them
    path = tuple(where[1].split(".")) if where else ()
    declared = documents.body_fields(api.document, operation_id or "", path)
    by_lower = {name.lower(): name for name in declared}
    meant = [
        by_lower[close[0]]
        for name in unexpected
        if (close := difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=0.6))
    ]
    return f"; did you mean {', '.join(repr(name) for name in meant)}?" if meant else ""


def _credential_asked(api: Api, scope) -> Credential | None:
    operation = api.operations.get(_operation_id(scope))
    return operation.credential if operation else None


# Headers and query parameters a client may have put its key in: said by name, never by value.
_KEY_LIKE = re.compile(r"(?i)^(x-)?(api[_-]?key|key|token|access[_-]?token|auth[_-]?token)$")
# Authorization's first words that are scheme names (RFC 7235 and those APIs use): the only
# word of the header ever said back. Anything else may be the key itself.
_SCHEMES = frozenset(
    ("basic", "bearer", "digest", "token", "apikey", "api-key", "aws4-hmac-sha256", "negotiate")
)


def _credential_said(asked: Credential, scope) -> str:
    """What the document asks for beside what the request sent (a scheme word, a name: never
    a credential), for the report of a request Connexion refused as carrying none."""
    said = f"expected {asked.written}; the request sent "
    headers = headers_of(scope)
    if sent := headers.get("authorization", "").split(None, 1):
        if sent[0].lower() not in _SCHEMES:  # a key alone, most likely: never said back
            return said + "Authorization with no scheme word before its value (a key alone?)"
        after = " ..." if len(sent) > 1 else ", nothing after it"
        return said + f"Authorization: {sent[0]}{after}"
    if asked.name.lower() in headers:
        return said + f"an empty {asked.name}"
    if keys := [name for name in headers if _KEY_LIKE.match(name)]:
        return said + f"its key in {', '.join(keys)}, a header this API does not read"
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if keys := [name for name in query if _KEY_LIKE.match(name)]:
        return said + f"its key in the query string ({', '.join(keys)}), where it is not read"
    return said + "no credential"


def _unreadable(problem: UnicodeDecodeError | RecursionError) -> str:
    """Why a body could not be read: Connexion decodes it (in its charset: UTF-8 unless the
    Content-Type says another) and parses it before validating it."""
    if isinstance(problem, UnicodeDecodeError):
        return f"the request body is not valid {problem.encoding.upper()}"
    return "the request body is nested too deeply"


# Where in the body a validation message is about: `... - 'a.b'`.
_AT_PATH = re.compile(r" - '([^']+)'$")
_FIELD_PATTERNS = (
    _AT_PATH,
    re.compile(r"^'([^']+)' is a required property"),
    re.compile(r"parameter '([^']+)'"),
    re.compile(r"parameter\(s\) ([^ ]+) not in spec"),
)


def _field_of(message: str) -> str | None:
    for pattern in _FIELD_PATTERNS:
        if match := pattern.search(message):
            return match.group(1)
    return None


def _answering(scope) -> bool:
    """True once the dispatcher has begun to answer: too late to answer anything else."""
    return scope.get("extensions", {}).get(NOTED, False)


def asked_path(scope) -> str:
    """The request's path as uvicorn decoded it (routing may have escaped a `%2F` again)."""
    return scope.get("extensions", {}).get(ESCAPED_SEGMENTS) or scope["path"]


def _operation_id(scope) -> str | None:
    """The operationId Connexion's router found for this request, or kept from before."""
    extensions = scope.get("extensions", {})
    if verdict := extensions.get(VERDICT):
        return verdict[0]
    return extensions.get("connexion_routing", {}).get("operation_id")


async def _refused_body(scope, receive) -> bytes | None:
    """The body of a refused request as sent: as read before the refusal, or read now (a
    refusal of its head leaves it unread); None when there is none."""
    kept = scope.get("extensions", {}).get(RAW_BODY)
    if kept is None and _may_have_body(scope):
        try:
            kept = await read_body(receive)
        except ClientGone:  # refused all the same: the journal shows no body
            return None
    return kept or None


def _may_have_body(scope) -> bool:
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


def _arrival(scope) -> float:
    return scope.get("extensions", {}).get(RECEIVED_AT) or time.monotonic()


@cache
def _served_document(document: str, mount: str) -> bytes:
    """The document as served at <mount>/openapi.json: its servers point at the mount."""
    spec = CheckedSpecification(documents.fresh(document)).with_base_path(mount).spec
    return Jsonifier().dumps(spec).encode()
