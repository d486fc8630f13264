"""The demo world: realistic companies and domains over every provider and every state, each
reached through the provider's own flows, the same world for the same seed."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from sandbox.cli import main
from sandbox.client import ControlClient, ControlError
from sandbox.demo import DEMO_START, pairs_count, plan
from sandbox.driver import Driver
from sandbox.providers import PROVIDERS

CLASSES = {cls.name: cls for cls in PROVIDERS}


def every_pair() -> set[tuple[str, str]]:
    return {(cls.name, state) for cls in PROVIDERS for state in cls.kit.states}


def test_a_plan_of_as_many_domains_as_pairs_holds_every_provider_and_state():
    assert set(plan(pairs_count())) == every_pair()
    assert {provider for provider, _ in plan(len(PROVIDERS))} == set(CLASSES)
    assert plan(pairs_count() + 2)[-2:] == plan(2)


def test_demo_reaches_every_provider_and_state_through_the_providers_own_flows(server, control):
    world = control.demo(domains=40, seed=7)

    assert world["count"] == 40 == len(control.domains())
    assert {(d["provider"], d["state"]) for d in world["domains"]} == every_pair()
    # a story in time: each domain made minutes after the one before, from DEMO_START, its
    # client's steps minutes apart, the clock frozen where the last one ended
    views = {d["id"]: d for d in control.domains()}
    made = [views[d["id"]]["created_at"] for d in world["domains"]]
    assert made[0] == DEMO_START and made == sorted(set(made))
    clock = control.clock()
    assert clock["now"] >= made[-1] and clock["frozen"] is True
    [verified] = [
        d for d in world["domains"] if (d["provider"], d["state"]) == ("monite", "verified")
    ]
    instants = [t["at"] for t in views[verified["id"]]["timeline"]]
    assert len(instants) == 2 and instants[0] < instants[1], instants
    with httpx.Client(timeout=10) as http:
        for domain in world["domains"]:
            cls = CLASSES[domain["provider"]]
            if domain["state"] in cls.statuses:  # a status word: the domain's own status
                assert domain["status"] == domain["state"], domain
            if cls.kit.get and domain["status"] != "deleting":  # the provider's API shows it
                answer = Driver(http, server.url, cls).call(cls.kit.get, domain["id"])
                assert answer.status_code == 200, answer.text
    # made-up companies with their own names, descriptions kept where the API has a field
    names = [d["name"] for d in world["domains"]]
    assert len(set(names)) == 40 and all("." in n and " " not in n for n in names)
    described = {d["id"]: d["description"] for d in world["domains"] if d["provider"] == "vortex"}
    with httpx.Client(timeout=10) as http:
        vortex = Driver(http, server.url, CLASSES["vortex"])
        listed = vortex.call(vortex.kit.list).json()
    assert {d["id"]: d["description"] for d in listed} == described
    # the demo's own calls are the providers' real API calls, in the request journal
    assert {r["provider"] for r in control.requests()} == set(CLASSES)


@pytest.mark.parametrize("seed", [2, 3, 7])
def test_a_vortex_domain_is_in_the_state_the_demo_says_whatever_the_seed(control, seed):
    """With seeds 2, 3 and 7 the domain said provider_failed was verified: its records were
    published, and the token re-check verified them before the servfail fault came."""
    world = control.demo(domains=40, seed=seed)
    views = {d["id"]: d for d in control.domains("vortex")}
    for domain in (d for d in world["domains"] if d["provider"] == "vortex"):
        words = views[domain["id"]]["states"]  # Vortex's own fields: tokenVerificationStatus=...
        assert f"tokenVerificationStatus={domain['state']}" in words, (domain, words)


def test_the_same_seed_gives_the_same_world_another_seed_another(control):
    first = control.demo(domains=12, seed=3)
    exported = control.export_scenario()
    control.advance(3600)  # whatever happened since, the demo starts its world again
    assert control.demo(domains=12, seed=3) == first
    assert control.export_scenario() == exported
    other = control.demo(domains=12, seed=4)
    assert [d["name"] for d in other["domains"]] != [d["name"] for d in first["domains"]]


def test_two_demos_at_once_are_built_one_after_the_other(server, control):
    """Each resets the world then fills it: at once, the world held both demos' domains."""
    finished = []

    def build(domains: int, seed: int) -> None:
        with ControlClient(server.url) as client:
            finished.append(client.demo(domains=domains, seed=seed))

    builders = [threading.Thread(target=build, args=args) for args in ((12, 3), (14, 4))]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(timeout=120)
    assert len(finished) == 2  # both built, none refused
    last = finished[-1]
    world = {(d["provider"], d["id"]) for d in control.domains()}
    assert world == {(d["provider"], d["id"]) for d in last["domains"]}
    assert control.demo(domains=last["count"], seed=last["seed"]) == last  # as if alone


def test_a_reset_or_a_scenario_while_a_demo_is_built_is_refused_and_the_demo_completes(
    server, control
):
    """A reset in the middle of a demo used to leave half a demo world and fail the demo."""
    built = []

    def build() -> None:
        with ControlClient(server.url) as client:
            built.append(client.demo(domains=100))

    builder = threading.Thread(target=build)
    builder.start()
    while not control.domains() and builder.is_alive():  # the demo has begun filling the world
        time.sleep(0.005)
    refusals = []
    for replace in (control.reset, lambda: control.load_bundled_scenario("every-state")):
        with pytest.raises(ControlError) as refused:
            replace()
        refusals.append((refused.value.status, str(refused.value)))
    builder.join(timeout=120)
    assert [status for status, _ in refusals] == [409, 409]
    assert "reset: a demo world is being built" in refusals[0][1]
    assert "scenario: a demo world is being built" in refusals[1][1]
    assert built[0]["count"] == 100 and len(control.domains()) == 100
    assert control.reset()["seed"] == built[0]["seed"]  # once it is done, resets go through


def test_demo_keeps_the_rate_limit_switch_and_refuses_bad_counts(control):
    control.rate_limits(True)
    assert control.demo(domains=3)["count"] == 3
    assert control.rate_limits()["enabled"] is True
    for wrong in (0, 101):
        with pytest.raises(ControlError, match="domains"):
            control.demo(domains=wrong)


def test_demo_is_built_whatever_domainsandbox_timeout_says_where_the_sandbox_runs(
    control, monkeypatch
):
    """The demo drives the sandbox through a ControlClient of its own, inside the sandbox: a
    client's $DOMAINSANDBOX_TIMEOUT (ControlClient's default) must not fail or hurry it."""
    monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "soon")
    assert control.demo(domains=2, seed=1)["count"] == 2


def test_demo_works_behind_a_control_token(server):
    server.sandbox.control_token = "demo-token"
    try:
        with ControlClient(server.url, token="demo-token") as control:
            assert control.demo(domains=2, seed=1)["count"] == 2
    finally:
        server.sandbox.control_token = None


def test_cli_demo_prints_the_domains(server, control, capsys):
    assert main(["demo", "--domains", "3", "--seed", "9", "--url", server.url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["PROVIDER", "ID", "NAME", "STATUS", "COMPANY"]
    assert len(out.splitlines()) == 4
    assert main(["demo", "--domains", "2", "--json", "--url", server.url]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 2
