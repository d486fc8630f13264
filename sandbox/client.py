"""A small Python client for the control API, used by the CLI, the pytest plugin and tests.

It speaks HTTP with the standard library's http.client: every CLI command builds one, and
importing httpx would cost each command about 0.2 s before it sends anything.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

# What a reused keep-alive connection raises when the server closed it while it was idle.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class ControlError(Exception):
    """The control API refused a call, or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    """A control API answer: status, headers (lower-case names) and body."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.content)


class ControlClient:
    """Drive a running sandbox: `ControlClient("http://127.0.0.1:8080")`."""

    def __init__(self, url: str, timeout: float = 30.0, token: str | None = None):
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ControlError(f"{url!r} is not a sandbox URL such as http://127.0.0.1:8080")
        self._connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._address = (parts.hostname, parts.port)
        self._prefix = parts.path.rstrip("/") + "/_sandbox"
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._local = threading.local()  # one connection per thread: http.client is not shared

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs):
        """One control API call; returns the decoded JSON (None when empty)."""
        response = self.raw(method, path, **kwargs)
        return response.json() if response.content else None

    def raw(self, method: str, path: str, params=None, json=None, content=None, headers=None):
        """One control API call; returns the Response, or raises ControlError on failure."""
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        head = self._headers | (headers or {})
        if json is not None:
            content = jsonlib.dumps(json).encode()
            head = {"Content-Type": "application/json"} | head
        if isinstance(content, str):
            content = content.encode()
        try:
            response = self._send(method, target, content, head)
        except OSError as exc:
            raise ControlError(
                f"cannot reach the sandbox at {self.url} ({exc}); is `domainsandbox serve` running?"
            ) from None
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ControlError(f"{response.status_code}: {message}", response.status_code)
        return response

    def _send(self, method: str, target: str, body: bytes | None, headers: dict) -> Response:
        reused = getattr(self._local, "connection", None) is not None
        try:
            return self._exchange(method, target, body, headers)
        except _STALE:
            if not reused:
                raise
            # the server closed the kept-alive connection while it was idle: it never saw this
            return self._exchange(method, target, body, headers)

    def _exchange(self, method: str, target: str, body: bytes | None, headers: dict) -> Response:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connection_class(*self._address, timeout=self._timeout)
            self._local.connection = connection
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except OSError:
            self.close()
            raise
        if answer.will_close:
            self.close()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, content)

    # --- DNS --------------------------------------------------------------------------------

    def records(self, name: str | None = None, type: str | None = None) -> list[dict]:
        params = {k: v for k, v in {"name": name, "type": type}.items() if v}
        return self.call("GET", "/dns/records", params=params)["records"]

    def add_record(
        self, name: str, type: str, value, ttl: int = 300, visible_after_seconds: float = 0
    ) -> list[dict]:
        body = {"name": name, "type": type, "value": value, "ttl": ttl}
        if visible_after_seconds:
            body["visible_after_seconds"] = visible_after_seconds
        return self.call("POST", "/dns/records", json=body)["records"]

    def remove_records(self, name: str, type: str | None = None, value: str | None = None) -> int:
        """Remove the records at a name (of one type; only one value of it, if given)."""
        params = {"name": name} | ({"type": type} if type else {})
        params |= {"value": value} if value is not None else {}
        return self.call("DELETE", "/dns/records", params=params)["removed"]

    def add_fault(self, match: str, kind: str, **options) -> dict:
        body = {"match": match, "kind": kind} | {k: v for k, v in options.items() if v is not None}
        return self.call("POST", "/dns/faults", json=body)

    def faults(self) -> list[dict]:
        return self.call("GET", "/dns/faults")["faults"]

    def clear_faults(self) -> int:
        return self.call("DELETE", "/dns/faults")["removed"]

    def queries(self, limit: int = 1000) -> list[dict]:
        return self.call("GET", "/dns/queries", params={"limit": limit})["queries"]

    # --- domains ------------------------------------------------------------------------------

    def domains(self, provider: str | None = None) -> list[dict]:
        params = {"provider": provider} if provider else {}
        return self.call("GET", "/domains", params=params)["domains"]

    def domain(self, provider: str, domain_id: str) -> dict:
        return self.call("GET", f"/domains/{provider}/{domain_id}")

    def publish(
        self,
        provider: str,
        domain_id: str,
        omit=(),
        corrupt=(),
        visible_after_seconds: float = 0,
    ) -> list[dict]:
        """Write the domain's expected records into the fake DNS, less `omit`, `corrupt` broken."""
        body = {"omit": list(omit), "corrupt": list(corrupt)}
        if visible_after_seconds:
            body["visible_after_seconds"] = visible_after_seconds
        return self.call("POST", f"/domains/{provider}/{domain_id}/publish", json=body)["published"]

    def verify(self, provider: str, domain_id: str) -> dict:
        """Run the provider's own verification now; returns the domain's control view."""
        return self.call("POST", f"/domains/{provider}/{domain_id}/verify")

    def settings(self, provider: str, **changes) -> dict:
        path = f"/providers/{provider}/settings"
        return self.call("PATCH", path, json=changes) if changes else self.call("GET", path)

    # --- scenarios ---------------------------------------------------------------------------

    def export_scenario(self) -> str:
        """The whole world as scenario YAML."""
        return self.raw("GET", "/scenario").text

    def load_scenario(self, text: str | bytes) -> dict:
        """Replace the world by a scenario (YAML text); all or nothing."""
        headers = {"Content-Type": "application/yaml"}
        return self.call("POST", "/scenario", content=text, headers=headers)

    # --- HTTP faults and rate limits ---------------------------------------------------------

    def add_http_fault(self, provider: str, **options) -> dict:
        """Fail, slow or drop a provider's calls: status=, latency_ms=, abort=, operation=,
        count=, probability=."""
        body = {"provider": provider} | {k: v for k, v in options.items() if v is not None}
        return self.call("POST", "/http/faults", json=body)

    def http_faults(self) -> list[dict]:
        return self.call("GET", "/http/faults")["faults"]

    def clear_http_faults(self) -> int:
        return self.call("DELETE", "/http/faults")["removed"]

    def rate_limits(self, enabled: bool | None = None) -> dict:
        if enabled is None:
            return self.call("GET", "/rate-limits")
        return self.call("PUT", "/rate-limits", json={"enabled": enabled})

    # --- registered credentials ---------------------------------------------------------------

    def register_credential(self, provider: str, key: str, secret: str | None = None) -> dict:
        """Register a credential: from then on `provider` accepts only registered, unrevoked ones.

        `key` is a Monite client_id (its client_secret as `secret`), an AutoSend or Vortex API key,
        or a Scaleway secret key."""
        body = {"provider": provider, "key": key} | ({"secret": secret} if secret else {})
        return self.call("POST", "/credentials", json=body)

    def revoke_credential(self, provider: str, key: str) -> dict:
        """Revoke a registered credential: the provider answers it with its own 401 from now on."""
        return self.call("POST", "/credentials/revoke", json={"provider": provider, "key": key})

    def credentials(self, provider: str | None = None) -> list[dict]:
        params = {"provider": provider} if provider else {}
        return self.call("GET", "/credentials", params=params)["credentials"]

    def clear_credentials(self, provider: str | None = None) -> int:
        """Forget registered credentials (of one provider): any well-formed one works again."""
        params = {"provider": provider} if provider else {}
        return self.call("DELETE", "/credentials", params=params)["removed"]

    # --- clock, reset, requests ---------------------------------------------------------------

    def clock(self) -> dict:
        return self.call("GET", "/clock")

    def freeze(self, at: str | None = None) -> dict:
        return self.call("POST", "/clock", json={"freeze": True} | ({"set": at} if at else {}))

    def unfreeze(self) -> dict:
        return self.call("POST", "/clock", json={"freeze": False})

    def set_time(self, at: str) -> dict:
        return self.call("POST", "/clock", json={"set": at})

    def advance(self, seconds: float) -> dict:
        return self.call("POST", "/clock", json={"advance_seconds": seconds})

    def reset(self, seed: int | None = None) -> dict:
        return self.call("POST", "/reset", json={} if seed is None else {"seed": seed})

    def requests(self, provider: str | None = None) -> list[dict]:
        params = {"provider": provider} if provider else {}
        return self.call("GET", "/requests", params=params)["requests"]

    def report(self) -> dict:
        """The client conformance report: per provider, operations, statuses, states, violations."""
        return self.call("GET", "/report")

    @contextmanager
    def expecting_errors(self) -> Iterator[None]:
        """Within this block, the violations requests make are the test's own doing: the report
        lists them as expected, apart from the client's."""
        self.call("PUT", "/report/expecting-errors", json={"expecting": True})
        try:
            yield
        finally:
            self.call("PUT", "/report/expecting-errors", json={"expecting": False})

    def clear_report(self) -> None:
        """Start a new client conformance report (reset keeps it)."""
        self.call("DELETE", "/report")
