"""Drive a provider's API as its clients do, from its kit (sandbox.providers.kit): log in,
create, call, and bring a domain into any of the provider's states through its own flows.

Used by the tests that run for every provider, the benchmarks, the bundled scenarios and the
demo world: none of them knows a provider's paths, bodies or credentials.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from .client import ControlClient
from .providers.base import Provider
from .providers.kit import Call, Delete, Fail, Hold, Kit, Op, Publish, Verify, dig

# How long a held transient state lasts: a sandbox year.
HOLD_SECONDS = 365 * 86400
# The settings that time transient steps (Scaleway's creating, validating, provisioning,
# deleting; Vortex's checkDkimStatus; AutoSend's and Resend's verify).
TRANSIENT_SETTINGS = (
    "creating_seconds",
    "validating_seconds",
    "provisioning_seconds",
    "deleting_seconds",
    "check_delay_seconds",
    "verify_delay_seconds",
)


def at_once(settings: dict) -> dict:
    """A provider's `settings` with each transient step landing at the next request: for
    worlds built or checked where the states matter, not how long they last."""
    return settings | {key: 0 for key in TRANSIENT_SETTINGS if key in settings}


class Driver:
    """One client of one provider: `Driver(http, server_url, Provider, owner=0)`.

    `key` is the credential to use (default: the kit's sample key for `owner`); a provider that
    exchanges its credential for a token (Monite) logs in first, with `secret` (default: the
    kit's sample secret). `api`: the base URL of another of the provider's APIs (Mailgun's EU
    region, `/mailgun/eu`), relative to the server.
    """

    def __init__(
        self,
        http: httpx.Client,
        server_url: str,
        provider: type[Provider],
        owner: int = 0,
        key: str | None = None,
        secret: str | None = None,
        api: str = "",
    ):
        self.http, self.provider, self.kit = http, provider, provider.kit
        self.base = server_url.rstrip("/") + (api or provider.client_base)
        self.key = key if key is not None else self.kit.sample_key(owner)
        self.secret = secret if secret is not None else self.kit.sample_secret or ""
        # the credential as the API takes it (a Monite token once logged in)
        self.credential = self._credential()
        self.credential_headers = self.kit.headers_for(self.credential)
        self.headers = dict(self.kit.headers) | self.credential_headers

    def _credential(self) -> str:
        login = self.kit.login
        if login is None:
            return self.key
        body = login.op.body_for(key=self.key, secret=self.secret)
        answer = self.http.request(
            login.op.method, self.base + login.op.path, json=body, headers=self.kit.headers
        )
        answer.raise_for_status()
        return str(dig(answer.json(), login.token))

    def call(
        self, op: Op, domain_id: str = "", name: str = "", params=None, **values: str
    ) -> httpx.Response:
        """One call of the provider's API as its client makes it (`values` fill the body's other
        "{placeholders}")."""
        body = op.body_for(name=name, **values)
        sent = {"data": body} if op.form else {"json": body}
        return self.http.request(
            op.method, self.base + op.at(domain_id), **sent, headers=self.headers, params=params
        )

    def list_ids(self) -> list[str]:
        """The ids of every domain this client lists, page after page."""
        ids: list[str] = []
        while True:
            query = self.kit.page_query(len(ids)) if self.kit.page_query else None
            answer = self.call(self.kit.list, params=query)
            answer.raise_for_status()
            new = [i for i in self.kit.listed_ids(answer.json()) if i not in ids]
            ids += new
            if not new or query is None:
                return ids

    def create(self, name: str) -> str:
        """Create a domain through the provider's API; its id."""
        answer = self.call(self.kit.create, name=name)
        if answer.status_code >= 300:
            raise RuntimeError(f"{self.provider.name} create answered {answer.status_code}: "
                               f"{answer.text}")  # fmt: skip
        return self.kit.domain_id(answer.json(), name)


def reach(
    driver: Driver,
    control: ControlClient,
    situation: str,
    name: str,
    between: Callable[[], object] | None = None,
) -> str:
    """Create `name` and bring it into one of the provider's situations (its kit's `states`),
    through the provider's own flows. The provider's settings are back to what they were after.
    `between()`, if given, runs before each step after the create (a demo moves the clock on).

    Returns the domain's id.
    """
    provider, steps = driver.provider.name, driver.kit.states[situation]
    before = control.settings(provider)
    holds = {
        step.setting: HOLD_SECONDS if step.seconds is None else step.seconds
        for step in steps
        if isinstance(step, Hold)
    }
    if holds:
        control.settings(provider, **holds)
    try:
        domain_id = driver.create(name)
        for step in steps:
            if between and not isinstance(step, Hold):
                between()
            _run(step, driver, control, domain_id, name)
    finally:
        if holds:
            control.settings(provider, **{k: before[k] for k in holds})
    return domain_id


def _run(step, driver: Driver, control: ControlClient, domain_id: str, name: str) -> None:
    provider = driver.provider.name
    if isinstance(step, Publish):
        control.publish(provider, domain_id, omit=step.omit, corrupt=step.corrupt)
    elif isinstance(step, Verify):
        control.verify(provider, domain_id)
    elif isinstance(step, Call):
        driver.call(step.op, domain_id, name).raise_for_status()
    elif isinstance(step, Delete):
        driver.call(driver.kit.delete, domain_id).raise_for_status()
    elif isinstance(step, Fail):
        control.add_fault(name, step.kind)
        control.add_fault(f"*.{name}", step.kind)
    # Hold is applied before the domain exists (see reach)


__all__ = ["Driver", "Kit", "at_once", "reach"]
