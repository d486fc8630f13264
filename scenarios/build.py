"""Rebuild the bundled scenario files by driving a fresh sandbox through its real APIs.

Each scenario is the export of a world reached the way a user would reach it: domains created
through each provider's own API, records published (or broken) in the fake DNS, verification run.
Run `python scenarios/build.py` after changing a provider; the tests check every file loads and
round-trips byte for byte.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import httpx

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient
from sandbox.engine.clock import Clock

HERE = Path(__file__).parent
SEED = 2026
START = "2026-01-05T09:00:00Z"
PROVIDERS = ("monite", "autosend", "scaleway", "vortex")

MONITE_PARTNER = "eb959578-a74d-4ac3-8b25-bf0910027857"
AUTOSEND_KEY = "as_scenario_key"
SCALEWAY_KEY = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
VORTEX_KEY = "VRTX.ZG9tYWluc2FuZGJveC1zYw.scenario-secret"
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"


class Clients:
    """Create domains through each provider's own API, as its client would."""

    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        version = {"x-monite-version": "2024-05-25"}
        token = httpx.post(
            f"{urls['monite']}/auth/token",
            headers=version,
            json={
                "client_id": MONITE_PARTNER,
                "client_secret": "s",
                "grant_type": "client_credentials",
            },
        ).json()["access_token"]
        self.headers = {
            "monite": version | {"Authorization": f"Bearer {token}"},
            "autosend": {"Authorization": f"Bearer {AUTOSEND_KEY}"},
            "scaleway": {"X-Auth-Token": SCALEWAY_KEY},
            "vortex": {"x-api-key": VORTEX_KEY},
        }

    def create(self, provider: str, name: str) -> str:
        base, headers = self.urls[provider], self.headers[provider]
        path, body = {
            "monite": ("/mailbox_domains", {"domain": name}),
            "autosend": ("/domains", {"domain": name}),
            "scaleway": (
                "/mailbox/v1alpha1/domains",
                {"name": name, "project_id": SCALEWAY_PROJECT},
            ),
            "vortex": (
                f"/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains",
                {"domain": name, "description": f"{name} (scenario)"},
            ),
        }[provider]
        response = httpx.post(base + path, json=body, headers=headers)
        response.raise_for_status()
        data = response.json()
        return (data.get("data") or data)["id"]

    def delete(self, provider: str, domain_id: str) -> None:
        path = {"scaleway": f"/mailbox/v1alpha1/domains/{domain_id}"}[provider]
        httpx.delete(self.urls[provider] + path, headers=self.headers[provider]).raise_for_status()


def each_provider(clients: Clients, control: ControlClient, label: str, **publish) -> list:
    """One domain per provider named <label>.<provider>.example, published and verified."""
    made = []
    for provider in PROVIDERS:
        domain_id = clients.create(provider, f"{label}.{provider}.example")
        control.publish(provider, domain_id, **publish)
        made.append((provider, domain_id))
    return made


def verify_all(control: ControlClient, made) -> None:
    for provider, domain_id in made:
        control.verify(provider, domain_id)


def all_verified(clients, control):
    verify_all(control, each_provider(clients, control, "verified"))


def dkim_missing(clients, control):
    verify_all(control, each_provider(clients, control, "nodkim", omit=["dkim"]))


def spf_doubled(clients, control):
    made = each_provider(clients, control, "twospf")
    for provider, domain_id in made:
        spf = next(
            r for r in control.domain(provider, domain_id)["records"] if r["kind"].endswith("spf")
        )
        control.add_record(spf["name"], "TXT", "v=spf1 include:_spf.other-mail.example ~all")
    verify_all(control, made)


def propagation(clients, control):
    """Records published 30 minutes ahead: advance the clock to watch them land."""
    made = each_provider(clients, control, "propagating", visible_after_seconds=1800)
    verify_all(control, made)


def dns_outage(clients, control):
    """The provider's DNS lookups fail (SERVFAIL) until the fault is cleared."""
    made = each_provider(clients, control, "outage")
    control.add_fault("*", "servfail")
    verify_all(control, made)


def every_state(clients, control):
    """One domain in each status word of each provider's vocabulary."""
    # Monite: waiting_to_be_verified, verified
    waiting = clients.create("monite", "waiting.monite.example")
    control.verify("monite", waiting)
    verified = clients.create("monite", "verified.monite.example")
    control.publish("monite", verified)
    control.verify("monite", verified)
    # AutoSend: PENDING_CONFIGURATION, PENDING, VERIFIED
    clients.create("autosend", "configuring.autosend.example")
    pending = clients.create("autosend", "pending.autosend.example")
    control.verify("autosend", pending)
    verified = clients.create("autosend", "verified.autosend.example")
    control.publish("autosend", verified)
    control.verify("autosend", verified)
    # Scaleway: every state, the transient ones held by long step timings on a frozen clock
    scaleway_states(clients, control)
    # Vortex: checks waiting_for_provider, waiting_for_user, verified, failed, provider_failed
    vortex_states(clients, control)


def scaleway_states(clients, control):
    hold = 365 * 86400  # a transient state that lasts a sandbox year
    ready = clients.create("scaleway", "ready.scaleway.example")
    control.publish("scaleway", ready)
    control.verify("scaleway", ready)
    failed = clients.create("scaleway", "failed.scaleway.example")
    control.publish("scaleway", failed, omit=["dkim"])
    control.verify("scaleway", failed)
    clients.create("scaleway", "waiting.scaleway.example")
    control.settings("scaleway", deleting_seconds=hold)
    deleting = clients.create("scaleway", "deleting.scaleway.example")
    clients.delete("scaleway", deleting)
    control.settings("scaleway", provisioning_seconds=hold)
    provisioning = clients.create("scaleway", "provisioning.scaleway.example")
    control.publish("scaleway", provisioning)
    control.verify("scaleway", provisioning)
    control.settings("scaleway", validating_seconds=hold)
    validating = clients.create("scaleway", "validating.scaleway.example")
    control.verify("scaleway", validating)
    control.settings("scaleway", creating_seconds=hold)
    clients.create("scaleway", "creating.scaleway.example")


def vortex_states(clients, control):
    verified = clients.create("vortex", "verified.vortex.example")
    control.publish("vortex", verified)
    control.verify("vortex", verified)
    failed = clients.create("vortex", "failed.vortex.example")
    control.publish("vortex", failed, corrupt=["token", "dkim", "spf", "dmarc"])
    control.verify("vortex", failed)
    outage = clients.create("vortex", "outage.vortex.example")
    control.publish("vortex", outage)
    control.add_fault("*.outage.vortex.example", "servfail")
    control.verify("vortex", outage)
    clients.create("vortex", "waiting.vortex.example")
    control.settings("vortex", provider_setup_seconds=365 * 86400)
    clients.create("vortex", "setting-up.vortex.example")


SCENARIOS = {
    "all-verified": all_verified,
    "dkim-missing": dkim_missing,
    "spf-doubled": spf_doubled,
    "propagation": propagation,
    "dns-outage": dns_outage,
    "every-state": every_state,
}


def build(name: str, server: SandboxServer) -> str:
    control = ControlClient(server.url)
    control.reset(seed=SEED)
    control.freeze(at=START)
    for provider, defaults in server.sandbox.providers.items():
        server.sandbox.update_settings(provider, dict(defaults.settings_defaults))
    SCENARIOS[name](Clients(server.base_urls()), control)
    text = control.export_scenario()
    control.close()
    return text


def main(names: list[str]) -> int:
    logging.getLogger("connexion").setLevel(logging.ERROR)
    with SandboxServer(Sandbox(seed=SEED, clock=Clock(start=START, frozen=True))) as server:
        for name in names or SCENARIOS:
            header = f"# {name}: {SCENARIOS[name].__doc__ or ''}".rstrip() + "\n"
            header += "# Built by scenarios/build.py; load with `domainsandbox serve --scenario`.\n"
            (HERE / f"{name}.yaml").write_text(header + build(name, server))
            print(f"wrote scenarios/{name}.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
