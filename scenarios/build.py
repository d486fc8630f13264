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

HERE = Path(__file__).parent
# The checkout this file is in builds the files, not a domainsandbox installed elsewhere.
sys.path.insert(0, str(HERE.parent))

from sandbox import Sandbox, SandboxServer  # noqa: E402
from sandbox.client import ControlClient  # noqa: E402
from sandbox.driver import Driver, at_once, reach  # noqa: E402
from sandbox.engine.clock import Clock  # noqa: E402
from sandbox.providers import PROVIDERS  # noqa: E402

SEED = 2026
START = "2026-01-05T09:00:00Z"


class Clients:
    """One client of each provider (its kit's sample credential), as its SDK would drive it."""

    def __init__(self, http: httpx.Client, server_url: str):
        self.drivers = {cls.name: Driver(http, server_url, cls) for cls in PROVIDERS}

    def create(self, provider: str, name: str) -> str:
        return self.drivers[provider].create(name)


def each_provider(clients: Clients, control: ControlClient, label: str, **publish) -> list:
    """One domain per provider named <label>.<provider>.example, published."""
    made = []
    for provider in clients.drivers:
        domain_id = clients.create(provider, f"{label}.{provider}.example")
        control.publish(provider, domain_id, **publish)
        made.append((provider, domain_id))
    return made


def verify_all(control: ControlClient, made) -> None:
    for provider, domain_id in made:
        control.verify(provider, domain_id)


def all_verified(clients, control):
    """One verified domain per provider."""
    verify_all(control, each_provider(clients, control, "verified"))


def dkim_missing(clients, control):
    """Every record published but the DKIM ones (SES's three CNAMEs among them)."""
    made = []
    for provider in clients.drivers:
        domain_id = clients.create(provider, f"nodkim.{provider}.example")
        kinds = [r["kind"] for r in control.domain(provider, domain_id)["records"]]
        control.publish(provider, domain_id, omit=[k for k in kinds if k.startswith("dkim")])
        made.append((provider, domain_id))
    verify_all(control, made)


def spf_doubled(clients, control):
    """A second SPF record beside the expected one, for the providers that ask for SPF."""
    made = each_provider(clients, control, "twospf")
    for provider, domain_id in made:
        records = control.domain(provider, domain_id)["records"]
        for spf in [r for r in records if r["kind"].endswith("spf")][:1]:
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
    """One domain in each state of each provider, reached through its own flows (its kit)."""
    for provider, driver in clients.drivers.items():
        for situation in driver.kit.states:
            label = situation.lower().replace("_", "-")
            reach(driver, control, situation, f"{label}.{provider}.example")


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
    sandbox = server.sandbox
    # transient steps land at once while a scenario is built, so each domain is saved where
    # they land; the scenario keeps the default timings for whoever loads it
    for provider, defaults in sandbox.providers.items():
        sandbox.update_settings(provider, at_once(dict(defaults.settings_defaults)))
    with httpx.Client() as http:
        SCENARIOS[name](Clients(http, server.url), control)
    for provider, defaults in sandbox.providers.items():
        sandbox.update_settings(provider, dict(defaults.settings_defaults))
    text = control.export_scenario()
    control.close()
    return text


def header(name: str) -> str:
    """The comment a scenario file begins with: what it holds, and how it was made."""
    said = f"# {name}: {SCENARIOS[name].__doc__ or ''}".rstrip() + "\n"
    return said + "# Built by scenarios/build.py; load with `domainsandbox serve --scenario`.\n"


def main(names: list[str]) -> int:
    logging.getLogger("connexion").setLevel(logging.ERROR)
    with SandboxServer(Sandbox(seed=SEED, clock=Clock(start=START, frozen=True))) as server:
        for name in names or SCENARIOS:
            (HERE / f"{name}.yaml").write_text(header(name) + build(name, server))
            print(f"wrote scenarios/{name}.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
