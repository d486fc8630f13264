"""How a client of each provider lists, gets, creates and verifies domains: what the benches drive.

Every recipe comes from the provider's own kit (sandbox.providers.kit): its credentials, its
calls (paths as written in the provider's OpenAPI document, so the same call can be sent to the
sandbox under the provider's mount and to Prism at the document's root), where an answer keeps
a domain's id. A new provider is benched without a line here.
BENCH_PROVIDERS=a,b (environment) limits every bench to those providers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from _common import ROOT  # noqa: F401  (puts the project on sys.path)

from sandbox.driver import Driver

# The create body's domain name; "{n}" is replaced by a label unique in the run.
NAME = "{n}.bench.example"
OPS = ("list", "get", "create", "verify")


@dataclass(frozen=True)
class Op:
    """One call: "{id}" in the path stands for a domain id, "{n}" in the body for a unique label."""

    method: str
    path: str
    body: str | None = None

    def at(self, domain_id: str) -> str:
        return self.path.replace("{id}", domain_id)


@dataclass
class Recipe:
    provider: type
    ops: dict[str, Op]
    notes: dict[str, str] = field(default_factory=dict)

    def login(self, http: httpx.Client, server_url: str, owner: int) -> dict[str, str]:
        """Request headers carrying the credentials of owner number `owner` (and, for an API
        that takes forms, the form's Content-Type: its bodies are sent as forms)."""
        headers = Driver(http, server_url, self.provider, owner).headers
        return headers | (_FORM if self.provider.kit.create.form else {})

    def domain_id(self, created: dict, name: str = "") -> str:
        return self.provider.kit.domain_id(created, name)


def recipe(cls) -> Recipe:
    """The bench's recipe of a provider, from its kit."""
    ops, notes = {}, {}
    for name in OPS:
        op = getattr(cls.kit, name)
        if op is None:
            notes[name] = f"{cls.name}'s API has no {name} call"
            continue
        body = op.body_for(name=NAME)
        if body is not None and op.form:  # urlencoded, with "{n}" kept bare for the load tools
            ops[name] = Op(op.method, op.path, urlencode(body).replace("%7Bn%7D", "{n}"))
        else:
            ops[name] = Op(op.method, op.path, json.dumps(body) if body is not None else None)
    return Recipe(cls, ops, notes)


def providers() -> list[tuple[type, Recipe]]:
    """Every provider the sandbox serves (BENCH_PROVIDERS: some of them), with its recipe."""
    from sandbox.providers import PROVIDERS

    only = set(filter(None, os.environ.get("BENCH_PROVIDERS", "").split(",")))
    return [(cls, recipe(cls)) for cls in PROVIDERS if not only or cls.name in only]


@dataclass
class Prepared:
    """A provider's client, logged in, with some domains created (the first one published)."""

    recipe: Recipe
    base: str  # the provider's mount on the sandbox
    headers: dict[str, str]
    ids: list[str]

    def url(self, op: str, root: str | None = None) -> str:
        """The call's URL on the sandbox, or on another server whose paths start at `root`."""
        path = self.recipe.ops[op].at(self.ids[0])
        return (root if root is not None else self.base) + path


def create(http: httpx.Client, base: str, recipe: Recipe, headers: dict, label: str) -> str:
    """Create one domain named after `label`; return its id."""
    op = recipe.ops["create"]
    body = op.body.replace("{n}", label)
    answer = http.request(
        op.method, base + op.path, content=body, headers=_JSON | headers, timeout=30
    )
    if answer.status_code >= 300:
        raise RuntimeError(
            f"{recipe.provider.name} create answered {answer.status_code}: {answer.text}"
        )
    return recipe.domain_id(answer.json(), NAME.replace("{n}", label))


_JSON = {"Content-Type": "application/json"}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def prepare(
    http: httpx.Client,
    served,
    cls,
    recipe: Recipe,
    domains: int = 10,
    owner: int = 0,
    publish: bool = True,
) -> Prepared:
    """Log in as `owner`, create `domains` domains, publish every record of the first one."""
    base = served.url + cls.client_base
    headers = recipe.login(http, served.url, owner)
    label = f"{cls.name[:3]}o{owner}d"  # names differ across providers: one DNS zone holds all
    ids = [create(http, base, recipe, headers, f"{label}{i}") for i in range(domains)]
    if publish and ids:
        control = served.control()
        try:
            control.publish(cls.name, ids[0])
        finally:
            control.close()
    return Prepared(recipe, base, headers, ids)


# What a provider's quotas (settings named max_*, such as SES's 10,000 identities per account)
# are raised to: a bench measures the calls, and a refused create is a fast error that would
# pass for throughput.
BENCH_QUOTA = 10_000_000


def each_prepared(http: httpx.Client, served, control, **prepare_options):
    """Each provider, measured from a fresh world: the sandbox is reset, the provider's quotas
    raised and the provider prepared (`prepare_options` go to prepare())."""
    for cls, recipe in providers():
        control.reset()
        quotas = [name for name in control.settings(cls.name) if name.startswith("max_")]
        if quotas:
            control.update_settings(cls.name, dict.fromkeys(quotas, BENCH_QUOTA))
        yield cls, recipe, prepare(http, served, cls, recipe, **prepare_options)


def send(http: httpx.Client, prepared: Prepared, op: str) -> httpx.Response:
    """One call of the prepared client (for checks before a load run)."""
    call = prepared.recipe.ops[op]
    body = call.body.replace("{n}", "probe" + str(id(http) % 997)) if call.body else None
    headers = (_JSON if body is not None else {}) | prepared.headers
    return http.request(call.method, prepared.url(op), content=body, headers=headers, timeout=30)
