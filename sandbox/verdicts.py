"""Connexion's verdicts on requests, kept for the next request that reads the same.

A client sends the same request head again and again: a wait on a domain polls the same GET, a
loop of creates posts to the same path with the same credential. Connexion's routing, security
and parameter validation decide the same each time: the operation, the credential present, the
parameters parsed, the body's media type. The first time, Connexion decides from the documents;
its verdict is kept under everything those read of a request (the method, the path, the query,
and the headers the documents name: header parameters, credentials as far as security reads
them, and the body's media type), and the same head again goes straight to the dispatcher. A
body is never part of a verdict: it is read and validated each time, by the same validator
Connexion used. Only accepted requests are kept: a refusal goes through Connexion each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from .auth import security_reads

# Verdicts kept at most; past that the one used longest ago goes (heads that never repeat, such
# as a multipart form's, each with a boundary of its own, must not push out those of pollers).
MAX_VERDICTS = 4096
# In the ASGI scope's extensions: the key of a request Connexion is deciding on; the verdict of
# one it decided on before.
KEY = "domainsandbox.verdict_key"
VERDICT = "domainsandbox.verdict"

# How an operation reads its request's body: (receive, scope) -> the body validated, or raises
# what Connexion's validation raises. None: the operation takes no body.
BodyReader = Callable[[Any, Any], Awaitable[Any]] | None


class Verdicts:
    """Kept verdicts, `(operationId, parameters, body reader)` by request key. `headers_read`:
    the header names any document has Connexion read (documents.headers_read)."""

    def __init__(self, headers_read: frozenset[bytes]):
        self._headers_read = headers_read | {b"content-type"}  # the body's media type
        # An OrderedDict, not a dict: taking the first of a dict that has lost many from its
        # front walks past each lost one (1 us a request once full; 0.1 us here).
        self._kept: OrderedDict[tuple, tuple[str, dict[str, Any], BodyReader]] = OrderedDict()

    def key(self, scope) -> tuple:
        """What Connexion reads of a request before its body. The path as sent: two decode to
        the same text when one escapes a `/` (`a%2Fb`, routed as sent: app.escaped_slashes) and
        the other a `%` (`a%252Fb`)."""
        read = self._headers_read
        headers = tuple(
            (name, security_reads(value) if name == b"authorization" else value)
            for name, value in scope["headers"]
            if name in read
        )
        path = scope.get("raw_path") or scope["path"]
        return scope["method"], path, scope.get("query_string", b""), headers

    def get(self, key: tuple) -> tuple[str, dict[str, Any], BodyReader] | None:
        verdict = self._kept.get(key)
        if verdict is not None:
            self._kept.move_to_end(key)  # the most recently used, last in line to go
        return verdict

    def keep(
        self, key: tuple, operation_id: str, params: dict[str, Any], read_body: BodyReader = None
    ) -> None:
        if len(self._kept) >= MAX_VERDICTS:
            self._kept.popitem(last=False)  # the one used longest ago
        self._kept[key] = (operation_id, params, read_body)


class Repeats:
    """ASGI: a request whose head Connexion decided on before goes to `decided` with its verdict
    (in the scope's extensions); anything else to Connexion, which keeps what it accepts."""

    def __init__(self, connexion, decided, verdicts: Verdicts):
        self.connexion, self.decided, self.verdicts = connexion, decided, verdicts

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            key = self.verdicts.key(scope)
            extensions = scope.setdefault("extensions", {})
            if (verdict := self.verdicts.get(key)) is not None:
                extensions[VERDICT] = verdict
                return await self.decided(scope, receive, send)
            extensions[KEY] = key  # for the dispatcher to keep Connexion's verdict under
        await self.connexion(scope, receive, send)
