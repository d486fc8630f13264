"""A demo world: realistic companies and their domains, spread over every provider and every
state, each state reached through the provider's own flows (its kit, driven by sandbox.driver),
as `scenarios/build.py` builds the bundled `every-state` scenario.

`POST /_sandbox/demo`, `domainsandbox demo --domains 40 [--seed N]` and
`ControlClient.demo(...)` build it in a running sandbox. The world is replaced: it is reset
with the seed, the clock frozen at DEMO_START, so the same seed gives the same world. The
clock then moves on by a few minutes (drawn from the seed) before each domain is made and
between the steps that bring it to its state, so each domain's timeline reads as a story in
time, and stays frozen where the last one ended.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
from faker import Faker

from .client import DEFAULT_TIMEOUT_SECONDS, ControlClient, ControlError
from .driver import Driver, reach
from .providers import PROVIDERS

# Where the demo world's clock stands, frozen (the bundled scenarios' start).
DEMO_START = "2026-01-05T09:00:00Z"
DEFAULT_DOMAINS = 40
# A demo is a page's worth of domains; each takes a few calls, answered while the caller waits.
MAX_DOMAINS = 100
# Minutes the clock moves on before each domain but the first, and before each step that brings
# a domain to its state: 100 domains take under a day, far from any provider's timeout.
MINUTES_BEFORE_DOMAIN = (1, 10)
MINUTES_BETWEEN_STEPS = (1, 5)
# Words of a company's name left out of its domain name ("Smith, Lee and Ward" -> smith-lee-ward).
_NOT_IN_NAMES = {"and", "inc", "llc", "ltd", "plc", "group", "sons"}


def plan(count: int) -> list[tuple[str, str]]:
    """(provider, state word) of each of `count` domains: every provider's first state, then
    every provider's second, and so on, so that any count reaches as many providers as it can
    and enough of them (one per provider and state) reach every state; then round again."""
    states = {cls.name: list(cls.kit.states) for cls in PROVIDERS}
    pairs = [
        (provider, words[depth])
        for depth in range(max(map(len, states.values())))
        for provider, words in states.items()
        if depth < len(words)
    ]
    return [pairs[i % len(pairs)] for i in range(count)]


def pairs_count() -> int:
    """How many (provider, state) pairs there are: the domains it takes to show every one."""
    return sum(len(cls.kit.states) for cls in PROVIDERS)


class Names:
    """Companies, their domain names and a line about each, from a Faker seeded for the demo."""

    def __init__(self, seed: int):
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.taken: set[str] = set()

    def company(self) -> tuple[str, str, str]:
        """(company, domain name, description), the name new to this world."""
        company = self.fake.company()
        words = [w for w in re.findall(r"[a-z0-9]+", company.lower()) if w not in _NOT_IN_NAMES]
        stem, tld = "-".join(words) or "company", self.fake.tld()
        name, n = f"{stem}.{tld}", 1
        while name in self.taken:
            n += 1
            name = f"{stem}{n}.{tld}"
        self.taken.add(name)
        return company, name, self.fake.catch_phrase()


class DemoFailed(RuntimeError):
    """A call of the demo's was refused or went unanswered (the sandbox changed meanwhile)."""


def build(server_url: str, domains: int, seed: int | None, token: str | None,
          start: Callable[[int | None], int]) -> dict[str, Any]:  # fmt: skip
    """Replace the world of the sandbox at `server_url` with a demo world of `domains` domains:
    `start(seed)` replaces the world (seed: the sandbox's own when None) and says the seed,
    then the domains are made through the providers' APIs. Returns {"count", "seed",
    "domains": [...]}, each domain with its provider, id, name, status, state (the kit's word
    it was brought to), company and description."""
    if not 1 <= domains <= MAX_DOMAINS:
        raise ValueError(f"domains: from 1 to {MAX_DOMAINS}, not {domains}")
    try:
        return _build(server_url, domains, seed, token, start)
    except (ControlError, httpx.HTTPError, RuntimeError) as exc:
        raise DemoFailed(f"demo: the world could not be built: {exc}") from None


def _build(server_url: str, domains: int, seed: int | None, token: str | None, start) -> dict:
    classes = {cls.name: cls for cls in PROVIDERS}
    # the sandbox driving itself: not held to a client's $DOMAINSANDBOX_TIMEOUT set where it runs
    control = ControlClient(server_url, DEFAULT_TIMEOUT_SECONDS, token=token)
    with control, httpx.Client(timeout=DEFAULT_TIMEOUT_SECONDS) as http:
        rate_limits = control.rate_limits()["enabled"]  # as it is before the world is reset
        seed = start(seed)
        control.freeze(at=DEMO_START)
        control.rate_limits(False)  # a demo's burst of calls must not meet a quota
        names, drivers, made = Names(seed), {}, []
        pace = random.Random(f"{seed}/demo-pace")

        def wait(minutes: tuple[int, int]) -> None:
            control.advance(60 * pace.randint(*minutes))

        between_steps = partial(wait, MINUTES_BETWEEN_STEPS)
        try:
            for provider, state in plan(domains):
                if provider not in drivers:
                    drivers[provider] = Driver(http, server_url, classes[provider])
                if made:
                    wait(MINUTES_BEFORE_DOMAIN)
                domain = _domain(drivers[provider], control, state, between_steps, *names.company())
                made.append(domain)
        finally:
            control.rate_limits(rate_limits)
    return {"count": len(made), "seed": seed, "domains": made}


def _domain(
    driver: Driver, control: ControlClient, state: str, between, company, name, description
):
    """One demo domain brought to `state` (`between` its steps: the clock moves on), described
    where its API keeps a description."""
    domain_id = reach(driver, control, state, name, between)
    if driver.kit.describe is not None:
        driver.call(driver.kit.describe, domain_id, description=description).raise_for_status()
    provider = driver.provider.name
    return {
        "provider": provider,
        "id": domain_id,
        "name": name,
        "status": control.domain(provider, domain_id)["status"],
        "state": state,
        "company": company,
        "description": description,
    }
