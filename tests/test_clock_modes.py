"""The clock's modes (frozen, real, fast, on-poll), advance_until, and rate limits that a client
honouring Retry-After gets through whatever the clock does."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import httpx
import pytest
from monite import Monite

from contracts import pytest_plugin
from sandbox import Sandbox, scenario
from sandbox.cli import CLOCK_MODES, main
from sandbox.client import ControlClient, ControlError
from sandbox.driver import Driver
from sandbox.engine.clock import DEFAULT_FAST_SPEED, LATEST, MODES, Clock, iso
from sandbox.engine.ids import DEFAULT_SEED
from sandbox.providers import PROVIDERS
from sandbox.providers.kit import dig

from .helpers import (
    PROVIDER_NAMES,
    Served,
    control_of,
    partner_headers,
    sample_headers,
    sesv2_client,
    wait_for,
)

pytestmark = pytest.mark.workers

START = "2026-01-01T09:00:00Z"
SCALEWAY = "/mailbox/v1alpha1/domains"
PROVIDERS_BY_NAME = {p.name: p for p in PROVIDERS}
PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
WAITING_FOR_USER = "5402a63e-7941-4868-b5de-2e6609c5a9b6"  # every-state: re-checked for 72 hours


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
def scaleway(urls):
    with httpx.Client(base_url=urls["scaleway"], headers={"X-Auth-Token": PROJECT}) as client:
        yield client


@pytest.fixture
def autosend(urls):
    headers = {"Authorization": "Bearer as_clock_modes"}
    with httpx.Client(base_url=urls["autosend"], headers=headers) as client:
        yield client


def scaleway_domain(scaleway, name: str) -> str:
    created = scaleway.post(SCALEWAY, json={"name": name, "project_id": PROJECT})
    assert created.status_code == 200, created.text
    return created.json()["id"]


# --- modes ----------------------------------------------------------------------------------------


def test_the_clock_says_its_mode_and_speed_and_switches_between_them(control):
    assert control.clock() == {"now": START, "frozen": True, "mode": "frozen", "speed": 1}
    assert control.set_clock_mode("on-poll") == {
        "now": START,
        "frozen": True,
        "mode": "on-poll",
        "speed": 1,
    }
    fast = control.set_clock_mode("fast", speed=36000)  # ten hours a second
    assert (fast["mode"], fast["speed"], fast["frozen"]) == ("fast", 36000, False)
    wait_for(lambda: control.clock()["now"] >= "2026-01-01T10:00:00Z", seconds=10)
    assert control.set_clock_mode("fast")["speed"] == 60  # a minute a second by default
    real = control.set_clock_mode("real")
    assert (real["mode"], real["speed"], real["frozen"]) == ("real", 1, False)
    assert control.freeze()["mode"] == "frozen"
    assert control.unfreeze()["mode"] == "real"


def test_unfreeze_runs_the_clock_as_it_last_ran(control):
    """Freeze then Unfreeze of a fast clock gave real time (the dashboard's two buttons)."""
    control.set_clock_mode("fast", speed=600)
    control.freeze()
    again = control.unfreeze()
    assert (again["mode"], again["speed"]) == ("fast", 600)
    control.set_clock_mode("on-poll")  # a presenter's Freeze, then Unfreeze: on-poll again
    control.freeze()
    assert control.unfreeze()["mode"] == "on-poll"  # it gave fast x600
    control.freeze()
    control.freeze()  # frozen twice: it still remembers it was polling
    assert control.unfreeze()["mode"] == "on-poll"  # it gave real time
    # on-poll stands still between polls: unfreeze runs it on
    assert (control.unfreeze()["mode"], control.clock()["speed"]) == ("fast", 600)
    control.reset()  # as the sandbox started (frozen, never run): the next test's clock
    assert control.unfreeze()["mode"] == "real"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"mode": "slow"}, "'slow' is not one of"),
        ({"mode": "fast", "speed": 0}, "speed"),
        ({"mode": "fast", "speed": 2_000_000}, "speed"),
        ({"mode": "frozen", "speed": 5}, "speed: only a fast clock has a speed"),
        ({"speed": 5}, "speed: give the mode too"),
        ({"mode": "real", "freeze": True}, "give a mode or freeze, not both"),
    ],
)
def test_a_bad_mode_or_speed_is_refused_and_changes_nothing(control, body, said):
    with pytest.raises(ControlError, match=said) as refused:
        control.call("POST", "/clock", json=body)
    assert refused.value.status == 400
    assert control.clock()["mode"] == "frozen"


def test_reset_puts_back_the_mode_the_sandbox_started_with():
    sandbox = Sandbox(clock=Clock(start=START, mode="on-poll"))
    sandbox.clock.set_mode("fast", 600)
    sandbox.reset()
    assert (sandbox.clock.mode, sandbox.clock.speed) == ("on-poll", 0)
    fast = Sandbox(clock=Clock(start=START, mode="fast", speed=120))
    fast.clock.freeze()
    fast.reset()
    assert (fast.clock.mode, fast.clock.speed) == ("fast", 120)


def test_a_scenario_keeps_the_mode_frozen_alone_cannot_say(control):
    control.set_clock_mode("fast", speed=30)
    fast = control.export_scenario()
    assert "mode: fast" in fast and "speed: 30" in fast
    control.set_clock_mode("on-poll")
    polling = control.export_scenario()
    control.freeze()
    control.load_scenario(fast)
    assert (control.clock()["mode"], control.clock()["speed"]) == ("fast", 30)
    control.load_scenario(polling)
    assert control.clock()["mode"] == "on-poll"


def test_an_on_poll_sandbox_loading_a_frozen_world_polls_on():
    sandbox = Sandbox(clock=Clock(start=START, mode="on-poll"))
    scenario.load_world(sandbox, {"clock": {"now": "2026-02-01T00:00:00Z", "frozen": True}})
    assert (sandbox.clock.mode, sandbox.clock.snapshot()["now"]) == (
        "on-poll",
        "2026-02-01T00:00:00Z",
    )


def test_the_cli_and_the_pytest_plugin_know_the_engines_modes_speed_and_seed():
    assert CLOCK_MODES == MODES
    assert sorted(pytest_plugin.CLOCK_MODES) == sorted(MODES)
    assert pytest_plugin.FAST_SPEED == DEFAULT_FAST_SPEED
    assert pytest_plugin.DEFAULT_SEED == DEFAULT_SEED


def test_a_fast_clock_lands_each_step_near_its_own_instant(control, scaleway):
    domain_id = scaleway_domain(scaleway, "fast.example.com")  # creating lasts 30 s
    control.set_clock_mode("fast", speed=120)  # a quarter of a second of real time
    wait_for(lambda: control.domain("scaleway", domain_id)["status"] == "waiting_validation")
    control.freeze()
    landed = control.domain("scaleway", domain_id)["timeline"][-1]["at"]
    # the ticker wakes at the step's instant (10 ms of real time is 1.2 s here), not every 0.25 s
    assert "2026-01-01T09:00:30Z" <= landed <= "2026-01-01T09:00:36Z"


# --- on-poll --------------------------------------------------------------------------------------


def test_on_poll_a_client_sees_every_scaleway_state_once_each_at_its_own_instant(control, scaleway):
    control.set_clock_mode("on-poll")
    domain_id = scaleway_domain(scaleway, "polled.example.com")
    url = f"{SCALEWAY}/{domain_id}"

    def poll() -> tuple[str, str]:
        answer = scaleway.get(url).json()
        return answer["status"], control.clock()["now"]

    assert poll() == ("creating", START)  # the first read shows the state as it is
    assert poll() == ("waiting_validation", "2026-01-01T09:00:30Z")
    assert poll() == ("waiting_validation", "2026-01-01T09:00:30Z")  # nothing scheduled
    control.publish("scaleway", domain_id)
    assert scaleway.post(f"{url}/validate-records").status_code == 200
    assert [poll() for _ in range(4)] == [
        ("validating", "2026-01-01T09:00:30Z"),
        ("provisioning", "2026-01-01T09:01:30Z"),
        ("ready", "2026-01-01T09:03:30Z"),
        ("ready", "2026-01-01T09:03:30Z"),
    ]
    timeline = [(t["status"], t["at"]) for t in control.domain("scaleway", domain_id)["timeline"]]
    assert timeline[-3:] == [
        ("validating", "2026-01-01T09:00:30Z"),
        ("provisioning", "2026-01-01T09:01:30Z"),
        ("ready", "2026-01-01T09:03:30Z"),
    ]


def test_on_poll_a_read_an_injected_fault_refused_showed_nothing_and_moves_nothing(
    control, scaleway
):
    """A client retrying a 429 saw the state after next: the refused read had counted as shown."""
    control.set_clock_mode("on-poll")
    domain_id = scaleway_domain(scaleway, "refused.example.com")
    url = f"{SCALEWAY}/{domain_id}"
    control.add_http_fault("scaleway", operation="get_domain", status=429, count=1)
    control.add_http_fault("scaleway", operation="get_domain", abort=True, count=1)
    assert scaleway.get(url).status_code == 429
    with pytest.raises(httpx.HTTPError):  # the connection dropped: nothing shown either
        scaleway.get(url)
    assert (scaleway.get(url).json()["status"], control.clock()["now"]) == ("creating", START)
    assert scaleway.get(url).json()["status"] == "waiting_validation"  # then one step a read


def test_on_poll_clients_polling_at_once_each_see_every_state_once(control, urls):
    """A poll that found another poll moving the clock, or landing the step its domain had due
    at the new instant, did not wait for it: it showed the state it had shown already, again and
    again, and a client's retry budget could run out. Each check is slowed by a DNS delay
    fault, so that the polls overlap. (The first poll that moves the clock brings every
    domain's check due: a client polling after it sees its domain verified at once.)"""
    resend = httpx.Client(base_url=urls["resend"], headers={"Authorization": "Bearer re_polls"})
    ids = []
    for n in range(4):
        ids.append(resend.post("/domains", json={"name": f"p{n}.polls.example"}).json()["id"])
        control.publish("resend", ids[-1])
        assert resend.post(f"/domains/{ids[-1]}/verify").status_code == 200
    control.add_fault("*.polls.example", "delay", delay_ms=30)  # a landing of 0.6 s in all
    control.set_clock_mode("on-poll")
    seen = {}

    def poll(domain_id: str) -> None:
        statuses = []
        while len(statuses) < 10 and "verified" not in statuses:
            statuses.append(resend.get(f"/domains/{domain_id}").json()["status"])
        seen[domain_id] = statuses

    pollers = [threading.Thread(target=poll, args=(domain_id,)) for domain_id in ids]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join()
    ways = (["pending", "verified"], ["verified"])
    assert all(statuses in ways for statuses in seen.values()), seen
    assert ["pending", "verified"] in seen.values(), seen  # one poll moved the clock
    assert control.clock()["now"] == START.replace("09:00:00", "09:00:30")  # once, as one would


def test_on_poll_steps_of_other_domains_on_the_way_land_at_their_own_instants(control, scaleway):
    control.set_clock_mode("on-poll")
    control.settings("scaleway", creating_seconds=300)
    slow = scaleway_domain(scaleway, "slow.example.com")  # its step: 09:05
    control.settings("scaleway", creating_seconds=60)
    quick = scaleway_domain(scaleway, "quick.example.com")  # its step: 09:01
    scaleway.get(f"{SCALEWAY}/{slow}")
    assert scaleway.get(f"{SCALEWAY}/{slow}").json()["status"] == "waiting_validation"
    assert control.domain("scaleway", quick)["timeline"][-1] == {
        "at": "2026-01-01T09:01:00Z",
        "status": "waiting_validation",
    }


def test_on_poll_at_the_end_of_the_clocks_range_leaves_a_step_it_cannot_reach(control, scaleway):
    """A step due after the clock's last instant (steps may be scheduled a year past it) is
    never reached: a poll shows the state as it is, where it answered 500 to every read."""
    control.set_time(iso(LATEST - timedelta(seconds=10)))
    control.set_clock_mode("on-poll")
    domain_id = scaleway_domain(scaleway, "end.example.com")  # its next step: 30 s on
    url = f"{SCALEWAY}/{domain_id}"
    answers = [scaleway.get(url) for _ in range(3)] + [scaleway.get(SCALEWAY)]
    assert [a.status_code for a in answers] == [200] * 4, answers[-1].text
    assert {a.json()["status"] for a in answers[:3]} == {"creating"}
    assert control.clock()["now"] == iso(LATEST - timedelta(seconds=10))


def test_on_poll_leaves_a_settled_domain_and_other_calls_alone(control, urls):
    control.set_clock_mode("on-poll")
    headers = sample_headers(PROVIDERS_BY_NAME["ses"])
    base = urls["ses"] + "/v2/email/identities"
    assert httpx.post(
        base, json={"EmailIdentity": "settled.example.com"}, headers=headers
    ).is_success
    control.publish("ses", "settled.example.com")
    control.advance(300)  # SES's first look: verified, and looked at again in a day
    assert control.domain("ses", "settled.example.com")["status"] == "SUCCESS"
    for _ in range(3):
        assert httpx.get(f"{base}/settled.example.com", headers=headers).is_success
    assert control.clock()["now"] == "2026-01-01T09:05:00Z"


def test_on_poll_leaves_a_state_a_scenario_holds_for_a_year_where_it_is(control, http, urls):
    """every-state holds Scaleway's creating for a sandbox year: one read moved the clock that
    year, and every other domain's steps with it (a demo's world gone in a poll)."""
    control.load_bundled_scenario("every-state")
    control.set_clock_mode("on-poll")
    before, count = control.clock()["now"], len(control.domains())
    [creating] = [d for d in control.domains("scaleway") if d["status"] == "creating"]
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME["scaleway"])
    for _ in range(3):
        answer = driver.call(driver.kit.get, creating["id"])
        assert answer.json()["status"] == "creating", answer.text
    assert control.clock()["now"] == before
    assert len(control.domains()) == count


# --- default timings: each transient state is visible after the call that starts it ----------


@pytest.mark.parametrize(
    ("provider", "status_at", "seen", "then", "after"),
    [
        ("autosend", "data.verificationStatus", "PENDING", "VERIFIED", "2026-01-01T09:05:00Z"),
        ("resend", "status", "pending", "verified", "2026-01-01T09:00:30Z"),
        ("ses", "DkimAttributes.Status", "PENDING", "SUCCESS", "2026-01-01T09:05:00Z"),
    ],
)
def test_by_default_a_pending_state_shows_until_an_on_poll_reader_moves_past_it(
    control, http, urls, provider, status_at, seen, then, after
):
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME[provider])
    kit = driver.kit
    control.set_clock_mode("on-poll")
    domain_id = driver.create("timed.example.com")
    control.publish(provider, domain_id)
    if kit.verify:
        assert driver.call(kit.verify, domain_id).is_success
    polls = [dig(driver.call(kit.get, domain_id).json(), status_at) for _ in range(3)]
    assert polls == [seen, then, then]
    assert control.clock()["now"] == after


def test_by_default_vortex_checks_dkim_for_half_a_minute(control, http, urls):
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME["vortex"])
    domain_id = driver.create("timed.example.com")
    control.publish("vortex", domain_id)
    assert driver.call(driver.kit.verify, domain_id).json()["dkimStatus"] == "waiting_for_provider"
    control.advance(29)
    listed = driver.call(driver.kit.list).json()  # Vortex's clients read a domain through list
    assert [d["dkimStatus"] for d in listed if d["id"] == domain_id] == ["waiting_for_provider"]
    assert control.advance_until("vortex", domain_id, status="verified")["clock"]["now"] == (
        "2026-01-01T09:05:00Z"  # DKIM at 09:00:30, the token at the provider's first look
    )


def test_on_poll_a_vortex_client_reading_the_list_sees_dkim_checked_then_verified(
    control, http, urls
):
    driver = Driver(http, urls["server"], PROVIDERS_BY_NAME["vortex"])
    control.set_clock_mode("on-poll")
    domain_id = driver.create("listed.example.com")
    control.publish("vortex", domain_id)
    assert driver.call(driver.kit.verify, domain_id).json()["dkimStatus"] == "waiting_for_provider"
    polls = []
    for _ in range(4):  # Vortex's clients read a domain through the list: each read one step
        (listed,) = [d for d in driver.call(driver.kit.list).json() if d["id"] == domain_id]
        polls.append((listed["dkimStatus"], listed["isVerified"], control.clock()["now"]))
    assert polls == [
        ("waiting_for_provider", False, "2026-01-01T09:00:00Z"),
        ("verified", False, "2026-01-01T09:00:30Z"),  # DKIM checked; the token not yet
        ("verified", True, "2026-01-01T09:05:00Z"),  # the provider's first look at the token
        ("verified", True, "2026-01-01T09:05:00Z"),  # nothing left to move to
    ]


def test_on_poll_a_client_calling_autosends_verify_until_verified_sees_its_check_land(
    control, autosend
):
    """AutoSend's verify answers the domain: a client may wait by calling it again and again.
    On-poll, a check call moved no clock, and PENDING (the check under way) was its answer for
    ever; the same loop after a read did not move on either."""
    control.set_clock_mode("on-poll")
    domain_id = autosend.post("/domains", json={"domain": "verify.example.com"}).json()["data"][
        "id"
    ]
    control.publish("autosend", domain_id)

    def verify() -> tuple[str, bool, str]:
        answer = autosend.post(f"/domains/{domain_id}/verify").json()["data"]["domain"]
        return (
            answer["verificationStatus"],
            answer["verificationInProgress"],
            control.clock()["now"],
        )

    assert verify() == ("PENDING", True, START)
    assert verify() == ("VERIFIED", True, "2026-01-01T09:05:00Z")  # landed, and asked again
    assert autosend.get(f"/domains/{domain_id}").json()["data"]["verificationStatus"] == "VERIFIED"
    assert control.clock()["now"] == "2026-01-01T09:05:00Z"  # the read showed what verify had

    other = autosend.post("/domains", json={"domain": "read.example.com"}).json()["data"]["id"]
    control.publish("autosend", other)
    assert autosend.post(f"/domains/{other}/verify").status_code == 200
    read = autosend.get(f"/domains/{other}").json()["data"]
    assert (read["verificationStatus"], read["verificationInProgress"]) == ("PENDING", True)
    again = autosend.post(f"/domains/{other}/verify").json()["data"]["domain"]
    assert again["verificationStatus"] == "VERIFIED"  # the state a read showed: the clock moved
    assert control.clock()["now"] == "2026-01-01T09:10:00Z"


def monite_sdk(urls) -> Monite:
    """Monite's official SDK with a partner token, as a client waiting on a domain builds it."""
    base = urls["monite"]
    token = partner_headers(base)["Authorization"].split()[1]
    return Monite(monite_version="2024-05-25", token=token, base_url=base)


def test_on_poll_a_client_calling_monites_delayed_verify_until_verified_sees_its_check_land(
    control, urls
):
    """With verify_delay_seconds Monite's verify schedules its check: a loop calling verify
    until verified read waiting_to_be_verified for ever, no call moving the clock and each
    scheduling the check again. A verify asked again while its check is pending leaves it to
    land when it was to, and on-poll moves the clock there as a read of the list does."""
    control.set_clock_mode("on-poll")
    control.settings("monite", verify_delay_seconds=300)
    sdk = monite_sdk(urls)
    domain = sdk.mailbox_domains.create(domain="loop.example.com")
    control.publish("monite", domain.id)
    seen = []
    for _ in range(5):  # the client's own bound: it ends sooner
        status = sdk.mailbox_domains.verify_by_id(domain.id).status
        seen.append((status, control.clock()["now"]))
        if status == "verified":
            break
    assert seen == [("waiting_to_be_verified", START), ("verified", "2026-01-01T09:05:00Z")]

    # verify once, then read the list until verified: the same instant
    other = sdk.mailbox_domains.create(domain="listed.example.com")
    control.publish("monite", other.id)
    assert sdk.mailbox_domains.verify_by_id(other.id).status == "waiting_to_be_verified"
    polls = []
    for _ in range(3):
        (listed,) = [d for d in sdk.mailbox_domains.get().data if d.id == other.id]
        polls.append((listed.status, control.clock()["now"]))
    assert polls == [
        ("waiting_to_be_verified", "2026-01-01T09:05:00Z"),
        ("verified", "2026-01-01T09:10:00Z"),
        ("verified", "2026-01-01T09:10:00Z"),
    ]


def test_on_poll_monites_verify_of_a_domain_that_does_not_verify_sees_each_check_land(
    control, urls
):
    """Records missing: each verify after the first moves the clock to the check the one before
    asked for, which finds them missing again; without a verify delay the call answers its own
    check and moves no clock, as before."""
    control.set_clock_mode("on-poll")
    sdk = monite_sdk(urls)
    domain = sdk.mailbox_domains.create(domain="unpublished.example.com")

    def verify() -> tuple[str, int, str]:
        answer = sdk.mailbox_domains.verify_by_id(domain.id)
        checks = control.domain("monite", domain.id)["checks"]
        return answer.status, checks, control.clock()["now"]

    waiting = "waiting_to_be_verified"
    assert [verify() for _ in range(2)] == [(waiting, 1, START), (waiting, 2, START)]
    control.settings("monite", verify_delay_seconds=300)
    assert [verify() for _ in range(3)] == [
        (waiting, 2, START),  # the check asked for lands at 09:05
        (waiting, 3, "2026-01-01T09:05:00Z"),
        (waiting, 4, "2026-01-01T09:10:00Z"),
    ]


def test_a_verify_asked_again_never_puts_off_the_check_a_delayed_verify_scheduled(control, urls):
    """On any clock: verify, 4 minutes, verify again, 1 minute: the first verify's check has
    landed (the second had put it off to 09:09)."""
    control.settings("mailgun", verify_delay_seconds=300)
    with httpx.Client(auth=("api", "key-verify-again")) as mailgun:
        base = urls["mailgun"] + "/v4/domains"
        assert mailgun.post(base, data={"name": "again.example.com"}).status_code == 200
        control.publish("mailgun", "again.example.com")
        for advance in (240, 60):
            state = mailgun.put(f"{base}/again.example.com/verify").json()["domain"]["state"]
            assert state == "unverified"
            control.advance(advance)
        read = mailgun.get(f"{base}/again.example.com").json()["domain"]
    assert read["state"] == "active"
    assert control.domain("mailgun", "again.example.com")["checks"] == 1


# --- advance_until --------------------------------------------------------------------------------


def test_a_refused_advance_until_says_where_the_steps_it_took_left_the_clock(control, autosend):
    created = autosend.post("/domains", json={"domain": "never.example.com"}).json()
    domain_id = created["data"]["id"]
    assert autosend.post(f"/domains/{domain_id}/verify").status_code == 200  # nothing published
    with pytest.raises(ControlError, match="no step scheduled") as stuck:  # re-checks run out
        control.advance_until("autosend", domain_id, status="VERIFIED")
    now = control.clock()["now"]
    assert stuck.value.status == 409 and now > START  # the steps ran: the clock stays there
    said = str(stuck.value)  # the clock's move said first, what stopped the domain after
    assert re.search(rf"^409: the clock moved [0-9]+ s \([0-9]+ h( [0-9]+ min)?\) to {now}", said)
    assert "landing every step on the way; then autosend domain " in said, said


def test_advance_until_steps_to_the_status_and_says_where_a_domain_is_stuck(control, autosend):
    created = autosend.post("/domains", json={"domain": "until.example.com"}).json()
    domain_id = created["data"]["id"]
    assert autosend.post(f"/domains/{domain_id}/verify").status_code == 200  # 5 minutes
    with pytest.raises(ControlError, match=r"'PENDING'.*no step scheduled|next step") as stuck:
        control.advance_until("autosend", domain_id, status="VERIFIED", limit=60)
    assert stuck.value.status == 409
    assert "past the limit of 2026-01-01T09:01:00Z" in str(stuck.value)
    assert control.clock()["now"] == START  # nothing moved

    control.publish("autosend", domain_id)
    reached = control.advance_until("autosend", domain_id, status="VERIFIED")
    assert (reached["status"], reached["steps"], reached["advanced_seconds"]) == (
        "VERIFIED",
        1,
        300,
    )
    assert reached["clock"]["now"] == "2026-01-01T09:05:00Z"
    assert autosend.get(f"/domains/{domain_id}").json()["data"]["verificationStatus"] == "VERIFIED"


def _moving_slowly(control, server, move) -> threading.Thread:
    """A move over the every-state world while each DNS answer takes 0.3 s (hours for a year),
    returned once it is under way; what the move answered or raised is in `mover.outcome`."""
    loaded = control.load_bundled_scenario("every-state")["clock"]["now"]
    control.add_fault("*", "delay", delay_ms=300)

    def run():
        with ControlClient(server.url) as client:
            try:
                mover.outcome = move(client)
            except ControlError as exc:
                mover.outcome = exc

    mover = threading.Thread(target=run, daemon=True)
    mover.start()
    wait_for(lambda: control.clock()["now"] != loaded)  # a step landed: the move is under way
    return mover


@pytest.mark.parametrize(
    ("move", "replace", "domains"),
    [
        (lambda client: client.advance(365 * 86400), ControlClient.reset, 0),
        (lambda client: client.set_time("2027-01-01T09:00:00Z"), ControlClient.reset, 0),
        (
            lambda client: client.advance_until("vortex", WAITING_FOR_USER, status="verified"),
            lambda client: client.load_bundled_scenario("propagation"),
            len(PROVIDER_NAMES),  # one domain of each
        ),
    ],
    ids=["advance, then a reset", "set ahead, then a reset", "advance_until, then a scenario"],
)
def test_a_new_world_stops_a_clock_move_under_way_instead_of_waiting_for_it(
    control, server, move, replace, domains
):
    mover = _moving_slowly(control, server, move)
    try:
        with ControlClient(server.url, timeout=30) as impatient:
            replace(impatient)  # waiting for the rest of the move: hours
    finally:
        control.clear_faults()  # a move left running finishes in seconds, not hours
    mover.join(timeout=30)
    assert not mover.is_alive()
    assert len(control.domains()) == domains and control.faults() == []
    # a 409 saying why it stopped: a 200 would claim a move that did not happen
    assert isinstance(mover.outcome, ControlError) and mover.outcome.status == 409
    if domains:  # advance_until, whose domain is gone
        assert "the sandbox was reset while the clock moved to it" in str(mover.outcome)
    else:  # advance or set: where the clock stood when the move stopped
        said = str(mover.outcome)
        assert "the move stopped because the world was replaced" in said
        assert "the clock stood at 2026-" in said
        assert f"of {365 * 86400} seconds on" in said or "on its way to 2027-01-01" in said


def test_advance_until_names_what_the_last_checks_found_when_nothing_is_scheduled(
    control, autosend
):
    domain_id = autosend.post("/domains", json={"domain": "never.example.com"}).json()["data"]["id"]
    control.publish("autosend", domain_id, omit=["dkim"])
    control.settings("autosend", verify_delay_seconds=0, recheck_window_seconds=0)
    autosend.post(f"/domains/{domain_id}/verify")
    with pytest.raises(ControlError) as stuck:
        control.advance_until("autosend", domain_id, status="VERIFIED")
    said = str(stuck.value)
    assert "autosend domain" in said and "is 'PENDING' and has no step scheduled:" in said
    assert "dkim:" in said  # the reason of the check that failed


def test_advance_until_a_failed_ses_identity_cannot_leave_says_how_ses_starts_over(control):
    control.create_domain("ses", "forgot.example.org")  # no record published: FAILED in 72 h
    with pytest.raises(ControlError) as stuck:
        control.advance_until("ses", "forgot.example.org", status="SUCCESS")
    said = str(stuck.value)
    assert "ses domain forgot.example.org is 'FAILED' and has no step scheduled" in said, said
    assert (
        "(SES no longer looks at a FAILED identity: PutEmailIdentityDkimSigningAttributes " in said
    )
    assert "verify it" not in said


def test_advance_until_takes_a_predicate_and_refuses_an_unknown_status(control, scaleway):
    domain_id = scaleway_domain(scaleway, "predicate.example.com")
    control.publish("scaleway", domain_id)
    reached = control.advance_until(
        "scaleway", domain_id, predicate=lambda d: d["status"] == "waiting_validation"
    )
    assert (reached["steps"], reached["advanced_seconds"]) == (1, 30)
    control.verify("scaleway", domain_id)
    reached = control.advance_until(
        "scaleway", domain_id, predicate=lambda d: all(r["result"] for r in d["records"])
    )
    assert reached["status"] in ("provisioning", "ready")
    with pytest.raises(ControlError, match=r"^the predicate never held \(it is given the") as never:
        control.advance_until("scaleway", domain_id, predicate=lambda d: "Status" in d, limit=60)
    assert never.value.status == 409 and "past the limit" in str(never.value)
    with pytest.raises(ControlError, match="'verified' is not a status of scaleway") as bad:
        control.advance_until("scaleway", domain_id, status="verified")
    assert bad.value.status == 400
    with pytest.raises(ControlError, match="no scaleway domain") as missing:
        control.advance_until("scaleway", "nope", status="ready")
    assert missing.value.status == 404


def test_the_cli_advances_until_a_status_and_switches_modes(control, server, capsys, scaleway):
    domain_id = scaleway_domain(scaleway, "cli.example.com")
    control.publish("scaleway", domain_id)
    control.advance(30)
    control.verify("scaleway", domain_id)
    args = ["clock", "advance", "--until", "ready", "--domain", f"scaleway/{domain_id}"]
    assert main([*args, "--limit", "1h", "--url", server.url]) == 0
    said = capsys.readouterr().out
    assert said == (
        f"scaleway {domain_id}: ready after 2 step(s), 180s; clock 2026-01-01T09:03:30Z  (frozen)\n"
    )
    assert main(["clock", "mode", "fast", "--speed", "90", "--url", server.url]) == 0
    assert "(fast, 90x)" in capsys.readouterr().out
    assert main(["clock", "mode", "on-poll", "--url", server.url]) == 0
    assert capsys.readouterr().out.endswith("(on-poll)\n")
    assert main(["clock", "advance", "--until", "ready", "--url", server.url]) == 2
    assert "--domain PROVIDER/ID" in capsys.readouterr().err


# --- rate limits and Retry-After ---------------------------------------------------------------


def test_a_client_sleeping_retry_after_gets_through_a_frozen_clock(control, autosend):
    control.rate_limits(True)
    try:
        answers = [autosend.get("/domains") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        waits = 0
        answer = answers[-1]
        while answer.status_code == 429 and waits < 3:  # a client as the docs ask for one
            time.sleep(int(answer.headers["Retry-After"]))
            waits += 1
            answer = autosend.get("/domains")
        assert answer.status_code == 200 and waits == 1
        assert control.clock()["now"] == START  # nobody moved the clock
    finally:
        control.rate_limits(False)


def test_the_official_monite_sdk_retries_through_a_rate_limit_under_a_frozen_clock(control, urls):
    base = urls["monite"]
    headers = partner_headers(base)
    sdk = Monite(
        monite_version="2024-05-25", token=headers["Authorization"].split()[1], base_url=base
    )
    control.rate_limits(True)
    try:
        for _ in range(30):  # the second's quota
            sdk.mailbox_domains.get()
        # the next call is refused with Retry-After: 1; the SDK sleeps it and tries again
        assert sdk.mailbox_domains.get(request_options={"max_retries": 3}).data == []
        statuses = [r["status"] for r in control.requests("monite")[-2:]]
        assert statuses == [429, 200]
    finally:
        control.rate_limits(False)


def test_retry_after_stays_true_when_a_client_asks_again_too_soon(control, autosend):
    control.rate_limits(True)
    try:
        for _ in range(2):
            autosend.get("/domains")
        first, refused_at = autosend.get("/domains"), time.monotonic()
        time.sleep(0.2)
        again = autosend.get("/domains")  # too soon: refused, told to wait what is left
        assert (first.status_code, again.status_code) == (429, 429)
        assert again.headers["Retry-After"] == "1"
        time.sleep(max(0.0, refused_at + 1.1 - time.monotonic()))  # the first promise holds
        assert autosend.get("/domains").status_code == 200
    finally:
        control.rate_limits(False)


# --- serve --clock --------------------------------------------------------------------------------


def test_serve_starts_in_the_clock_mode_it_is_given_and_polls_across_workers():
    served = Served("--clock", "on-poll", "--workers", "2")
    try:
        control = control_of(served)
        assert control.clock()["mode"] == "on-poll"
        with httpx.Client(
            base_url=served.urls["scaleway"], headers={"X-Auth-Token": PROJECT}
        ) as scaleway:
            domain_id = scaleway_domain(scaleway, "workers.example.com")
            statuses = [scaleway.get(f"{SCALEWAY}/{domain_id}").json()["status"] for _ in range(2)]
        assert statuses == ["creating", "waiting_validation"]
        control.set_clock_mode("real")
        control.reset()
        assert control.clock()["mode"] == "on-poll"
        control.close()
    finally:
        assert served.stop()[0] == 0


def test_serve_refuses_a_speed_for_a_clock_that_is_not_fast(capsys):
    assert main(["serve", "--clock", "frozen", "--clock-speed", "5", "--port", "0"]) == 2
    assert "--clock-speed: only a fast clock has a speed" in capsys.readouterr().err


def test_a_running_clock_verifies_an_autosend_domain_at_the_instant_it_was_checked(
    control, autosend
):
    """verifiedAt is the instant of the check that verified it, not a moment after."""
    control.settings("autosend", verify_delay_seconds=0)
    control.set_clock_mode("fast", speed=1000)  # every read of the clock is a new instant
    domain_id = autosend.post("/domains", json={"domain": "now.example.com"}).json()["data"]["id"]
    control.publish("autosend", domain_id)
    assert autosend.post(f"/domains/{domain_id}/verify").status_code == 200
    domain = autosend.get(f"/domains/{domain_id}").json()["data"]
    assert domain["verificationStatus"] == "VERIFIED"
    assert domain["verifiedAt"] == domain["lastCheckedAt"]


def _paged_at_one_instant(control, first_page, later_page) -> None:
    """On-poll: a later page of a list shows its domains without moving the clock (every
    domain shown by the first page, it moved it), and the first page read again moves it."""
    control.set_clock_mode("on-poll")
    shown = first_page()
    later_page(shown)
    assert control.clock()["now"] == START
    first_page()  # a wait loop reads the first page again: that moves on
    assert control.clock()["now"] != START


def test_on_poll_a_resend_client_paging_after_a_cursor_reads_the_list_at_one_instant(urls, control):
    key = {"Authorization": "Bearer re_paging_key"}
    with httpx.Client(base_url=urls["resend"], headers=key) as resend:
        for n in range(2):
            made = resend.post("/domains", json={"name": f"page{n}.example.com"}).json()
            assert resend.post(f"/domains/{made['id']}/verify").status_code == 200

        def first_page():
            return resend.get("/domains", params={"limit": 1}).json()["data"][0]["id"]

        def later_page(last):
            page = resend.get("/domains", params={"limit": 1, "after": last})
            assert len(page.json()["data"]) == 1, page.text

        _paged_at_one_instant(control, first_page, later_page)


def test_on_poll_a_mailgun_client_skipping_to_a_later_page_reads_the_list_at_one_instant(
    urls, control
):
    with httpx.Client(base_url=urls["mailgun"], auth=("api", "key-paging")) as mailgun:
        for n in range(2):
            name = f"page{n}.example.com"
            assert mailgun.post("/v4/domains", data={"name": name}).status_code == 200
            assert mailgun.put(f"/v4/domains/{name}/verify").status_code == 200  # re-checks

        def first_page():
            return mailgun.get("/v4/domains", params={"limit": 1}).json()

        def later_page(_):
            page = mailgun.get("/v4/domains", params={"limit": 1, "skip": 1})
            assert len(page.json()["items"]) == 1, page.text

        _paged_at_one_instant(control, first_page, later_page)


def test_on_poll_an_ses_client_following_a_next_token_reads_the_list_at_one_instant(urls, control):
    ses = sesv2_client(urls["ses"], "AKIAPAGINGKEY0000001")
    for n in range(2):
        ses.create_email_identity(EmailIdentity=f"page{n}.example.com")

    def first_page():
        return ses.list_email_identities(PageSize=1)["NextToken"]

    def later_page(token):
        assert len(ses.list_email_identities(PageSize=1, NextToken=token)["EmailIdentities"]) == 1

    _paged_at_one_instant(control, first_page, later_page)


def ses_get_list(urls, owner: int = 0):
    """GET /v2/email/identities, the list route of botocore <= 1.43.104, signed as it signs;
    and a create in the same account and region."""
    headers = sample_headers(PROVIDERS_BY_NAME["ses"], owner)
    base = f"{urls['ses']}/v2/email/identities"

    def listed(**params) -> dict:
        answer = httpx.get(base, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def create(name: str) -> None:
        answer = httpx.post(base, json={"EmailIdentity": name}, headers=headers)
        assert answer.status_code == 200, answer.text

    return listed, create


def test_on_poll_a_wait_loop_on_the_older_botocore_get_list_sees_each_state_once(urls, control):
    """botocore <= 1.43.104 lists identities with a GET: on-poll that read moved no clock, and
    a wait loop on it read PENDING for ever. Another account's list shows none of mine and moves
    no clock for them."""
    (mine, create), (theirs, _) = ses_get_list(urls), ses_get_list(urls, owner=1)
    create("get.example.com")
    control.publish("ses", "get.example.com")
    control.set_clock_mode("on-poll")
    for _ in range(2):
        assert theirs()["EmailIdentities"] == []
    assert control.clock()["now"] == START
    polls = []
    for _ in range(3):
        [identity] = mine()["EmailIdentities"]
        polls.append((identity["VerificationStatus"], control.clock()["now"]))
    assert polls == [
        ("PENDING", START),
        ("SUCCESS", "2026-01-01T09:05:00Z"),  # SES's first look
        ("SUCCESS", "2026-01-01T09:05:00Z"),  # at rest: nothing to move to
    ]


def test_on_poll_a_next_token_on_the_older_botocore_get_list_reads_it_at_one_instant(urls, control):
    listed, create = ses_get_list(urls)
    for n in range(2):
        create(f"page{n}.example.com")

    def first_page():
        return listed(PageSize=1)["NextToken"]

    def later_page(token):
        assert len(listed(PageSize=1, NextToken=token)["EmailIdentities"]) == 1

    _paged_at_one_instant(control, first_page, later_page)


def test_on_poll_mailgun_s_eu_list_moves_no_clock_for_the_account_s_us_domains(urls, control):
    """Each region's API lists its own domains: a read of the EU list moved the clock to the
    steps of the account's US domains, which it does not show, and counted them as seen."""
    key = ("api", "key-regions")
    with httpx.Client(auth=key) as mailgun:
        us, eu = urls["mailgun"], urls["mailgun"] + "/eu"
        assert mailgun.post(f"{us}/v4/domains", data={"name": "us.example.com"}).status_code == 200
        assert mailgun.put(f"{us}/v4/domains/us.example.com/verify").status_code == 200
        control.set_clock_mode("on-poll")
        for _ in range(2):
            assert mailgun.get(f"{eu}/v4/domains").json()["items"] == []
        assert control.clock()["now"] == START
