"""Connexion's verdicts on reads, kept for the next identical read.

A client waiting on a domain sends the same GET again and again, and Connexion's routing,
security and validation decide the same each time: the operation, the credential present, the
parameters parsed. The first time, Connexion decides from the documents; its verdict is kept
under everything those three read of a GET (the path, the query, and the headers the documents
name: header parameters and credentials), and the same read again goes straight to the
dispatcher. Only accepted reads are kept: a refusal goes through Connexion each time.
"""

from __future__ import annotations

from typing import Any

# Verdicts kept at most; past that the one used longest ago goes (reads that never repeat, such
# as SES's, each signed anew, must not push out those of clients polling).
MAX_VERDICTS = 4096
# In the ASGI scope's extensions: the key of a read Connexion is deciding on; the verdict of one
# it decided on before.
KEY = "domainsandbox.verdict_key"
VERDICT = "domainsandbox.verdict"


class Verdicts:
    """Kept verdicts, `(operationId, parameters)` by request key. `headers_read`: the header
    names any document has Connexion read (documents.headers_read)."""

    def __init__(self, headers_read: frozenset[bytes]):
        self._headers_read = headers_read
        self._kept: dict[tuple, tuple[str, dict[str, Any]]] = {}

    def key(self, scope) -> tuple | None:
        """What Connexion reads of a GET, or None for any other method (they carry bodies)."""
        if scope["method"] != "GET":
            return None
        read = self._headers_read
        headers = tuple(header for header in scope["headers"] if header[0] in read)
        return scope["path"], scope.get("query_string", b""), headers

    def get(self, key: tuple) -> tuple[str, dict[str, Any]] | None:
        verdict = self._kept.pop(key, None)
        if verdict is not None:
            self._kept[key] = verdict  # the most recently used, last in line to go
        return verdict

    def keep(self, key: tuple, operation_id: str, params: dict[str, Any]) -> None:
        if len(self._kept) >= MAX_VERDICTS:
            del self._kept[next(iter(self._kept))]  # the one used longest ago
        self._kept[key] = (operation_id, params)


class Reads:
    """ASGI: a GET Connexion decided on before goes to `decided` with its verdict (in the
    scope's extensions); anything else to Connexion, which keeps what it decides on a GET."""

    def __init__(self, connexion, decided, verdicts: Verdicts):
        self.connexion, self.decided, self.verdicts = connexion, decided, verdicts

    async def __call__(self, scope, receive, send):
        key = self.verdicts.key(scope) if scope["type"] == "http" else None
        if key is not None:
            extensions = scope.setdefault("extensions", {})
            if (verdict := self.verdicts.get(key)) is not None:
                extensions[VERDICT] = verdict
                return await self.decided(scope, receive, send)
            extensions[KEY] = key  # for the dispatcher to keep Connexion's verdict under
        await self.connexion(scope, receive, send)
