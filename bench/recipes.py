"""How a client of each provider lists, gets, creates and verifies domains: what the benches drive.

One Recipe per provider: its credentials, its calls (paths as written in the provider's OpenAPI
document, so the same call can be sent to the sandbox under the provider's mount and to Prism at
the document's root), and how to read a created domain's id. A provider present in
sandbox.providers without a recipe here is reported as skipped by every bench.
BENCH_PROVIDERS=a,b (environment) limits every bench to those providers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import httpx
from _common import ROOT  # noqa: F401  (puts the project on sys.path)

# The create body's domain name; "{n}" is replaced by a label unique in the run.
NAME = "{n}.bench.example"


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
    provider: str
    ops: dict[str, Op]
    notes: dict[str, str] = field(default_factory=dict)

    def login(self, http: httpx.Client, base: str, owner: int) -> dict[str, str]:
        """Request headers carrying the credentials of owner number `owner`."""
        raise NotImplementedError

    def domain_id(self, created: dict) -> str:
        return created["id"]


class MoniteRecipe(Recipe):
    def login(self, http, base, owner):
        version = {"x-monite-version": "2024-05-25"}
        body = {
            "client_id": f"eb959578-a74d-4ac3-8b25-{owner:012x}",
            "client_secret": "bench",
            "grant_type": "client_credentials",
        }
        answer = http.post(f"{base}/auth/token", json=body, headers=version)
        answer.raise_for_status()
        return version | {"Authorization": f"Bearer {answer.json()['access_token']}"}


class AutoSendRecipe(Recipe):
    def login(self, http, base, owner):
        return {"Authorization": f"Bearer as_bench_project_{owner}"}

    def domain_id(self, created):
        return created["data"]["id"]


class ScalewayRecipe(Recipe):
    def login(self, http, base, owner):
        return {"X-Auth-Token": f"5f7e1a2b-3c4d-4e5f-8a9b-{owner:012x}"}


class VortexRecipe(Recipe):
    def login(self, http, base, owner):
        return {"x-api-key": f"VRTX.benchkey{owner:014d}.benchsecret"}


_SCALEWAY = "/mailbox/v1alpha1/domains"
_VORTEX = "/api/v1/accounts/bench/email-domains"

RECIPES: dict[str, Recipe] = {
    "monite": MoniteRecipe(
        "monite",
        {
            "list": Op("GET", "/mailbox_domains"),
            "create": Op("POST", "/mailbox_domains", f'{{"domain": "{NAME}"}}'),
            "verify": Op("POST", "/mailbox_domains/{id}/verify"),
        },
        {"get": "Monite's API has no single-domain GET"},
    ),
    "autosend": AutoSendRecipe(
        "autosend",
        {
            "list": Op("GET", "/domains"),
            "get": Op("GET", "/domains/{id}"),
            "create": Op("POST", "/domains", f'{{"domain": "{NAME}"}}'),
            "verify": Op("POST", "/domains/{id}/verify"),
        },
    ),
    "scaleway": ScalewayRecipe(
        "scaleway",
        {
            "list": Op("GET", _SCALEWAY),
            "get": Op("GET", _SCALEWAY + "/{id}"),
            "create": Op(
                "POST",
                _SCALEWAY,
                '{"project_id": "0b5c3d2e-1f4a-4b6c-8d7e-9f0a1b2c3d4e", "name": "' + NAME + '"}',
            ),
            "verify": Op("POST", _SCALEWAY + "/{id}/validate-records", "{}"),
        },
        {
            "verify": "validate-records only starts validation; the DNS check lands on the "
            "sandbox clock, and a ready domain is not validated again"
        },
    ),
    "vortex": VortexRecipe(
        "vortex",
        {
            "list": Op("GET", _VORTEX),
            "create": Op("POST", _VORTEX, f'{{"domain": "{NAME}"}}'),
            "verify": Op("PATCH", _VORTEX + "/{id}/checkDkimStatus"),
        },
        {
            "get": "Vortex's API has no single-domain GET",
            "verify": "checkDkimStatus checks the DKIM record only",
        },
    ),
}


def providers() -> list[tuple[type, Recipe | None]]:
    """Every provider the sandbox serves, with its recipe (None when no bench knows it yet)."""
    from sandbox.providers import PROVIDERS

    only = set(filter(None, os.environ.get("BENCH_PROVIDERS", "").split(",")))
    return [(cls, RECIPES.get(cls.name)) for cls in PROVIDERS if not only or cls.name in only]


def skipped(cls) -> str:
    return f"skipped: no bench recipe for provider {cls.name} (add one to bench/recipes.py)"


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
        op.method, base + op.path, content=body, headers=headers | _JSON, timeout=30
    )
    if answer.status_code >= 300:
        raise RuntimeError(f"{recipe.provider} create answered {answer.status_code}: {answer.text}")
    return recipe.domain_id(answer.json())


_JSON = {"Content-Type": "application/json"}


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
    base = served.url + cls.mount
    headers = recipe.login(http, base, owner)
    label = f"{cls.name[:3]}o{owner}d"  # names differ across providers: one DNS zone holds all
    ids = [create(http, base, recipe, headers, f"{label}{i}") for i in range(domains)]
    if publish and ids:
        control = served.control()
        try:
            control.publish(cls.name, ids[0])
        finally:
            control.close()
    return Prepared(recipe, base, headers, ids)


def each_prepared(http: httpx.Client, served, control, **prepare_options):
    """Each provider with a recipe, measured from a fresh world: the sandbox is reset and the
    provider prepared (`prepare_options` go to prepare()); providers without one are reported."""
    for cls, recipe in providers():
        if recipe is None:
            print(skipped(cls))
            continue
        control.reset()
        yield cls, recipe, prepare(http, served, cls, recipe, **prepare_options)


def send(http: httpx.Client, prepared: Prepared, op: str) -> httpx.Response:
    """One call of the prepared client (for checks before a load run)."""
    call = prepared.recipe.ops[op]
    body = call.body.replace("{n}", "probe" + str(id(http) % 997)) if call.body else None
    headers = prepared.headers | (_JSON if body is not None else {})
    return http.request(call.method, prepared.url(op), content=body, headers=headers, timeout=30)
