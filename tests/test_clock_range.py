"""The sandbox clock stays within what the documents can write: four-digit years, with a year to
spare for scheduled steps. Instants outside are refused with a 400, and a clock at the end of its
range keeps the sandbox working (steps, resets, restarts)."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.engine.clock import LATEST, Clock

from .helpers import Served, autosend, control_of, wait_for

LAST = "9998-12-31T23:59:59Z"  # the clock's last instant
MAX_SETTING = 31536000  # a year: the longest delay a setting may schedule


def post_clock(server, body: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/_sandbox/clock", json=body)


@pytest.mark.parametrize(
    "instant",
    [
        "0415-05-25T23:06:36Z",  # was answered back as "415-05-25T23:06:36Z"
        "0999-12-31T23:59:59Z",
        "9999-12-31T23:59:58Z",  # no room left for a step scheduled after it
        "9999-12-31T23:59:59-01:00",  # past the last instant Python can hold, once in UTC
        "10000-01-01T00:00:00Z",  # was "not an ISO-8601 instant": Python holds no such year
    ],
)
def test_the_clock_refuses_an_instant_outside_its_range_with_a_400_and_keeps_its_time(
    server, control, instant
):
    before = control.clock()
    answer = post_clock(server, {"set": instant})
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert message.startswith("set: ") and "range" in message or "last instant" in message
    assert control.clock() == before


def test_the_last_instant_of_the_range_is_accepted(server, control):
    assert post_clock(server, {"set": LAST}).json() == {
        "now": LAST,
        "frozen": True,
        "mode": "frozen",
        "speed": 1,
    }
    answer = post_clock(server, {"set": "1000-01-01T00:00:00Z"})
    assert answer.json() == {
        "now": "1000-01-01T00:00:00Z",
        "frozen": True,
        "mode": "frozen",
        "speed": 1,
    }


def test_an_instant_in_lower_case_is_the_same_instant(server):
    """RFC 3339 5.6: "T" and "Z" may be written in lower case; `...z` was refused."""
    for written in ("2026-03-04t05:06:07z", "2026-03-04T05:06:07z", "2026-03-04t05:06:07Z"):
        answer = post_clock(server, {"set": written})
        assert answer.status_code == 200, answer.text
        assert answer.json()["now"] == "2026-03-04T05:06:07Z"


def test_a_clock_set_to_milliseconds_shows_them_and_whole_seconds_stay_whole(server, control):
    """The clock kept milliseconds but showed whole seconds: `.250` read back as `.000`."""
    assert post_clock(server, {"set": "2026-03-04T05:06:07.250Z"}).json()["now"] == (
        "2026-03-04T05:06:07.250Z"
    )
    assert control.clock()["now"] == "2026-03-04T05:06:07.250Z"
    control.advance(0.75)
    assert control.clock()["now"] == "2026-03-04T05:06:08Z"


def test_an_offset_of_a_day_or_more_is_refused_in_plain_words(server, control):
    """Python's own words named its types: "offset must be a timedelta strictly between
    -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=4, ...)"."""
    before = control.clock()
    answer = post_clock(server, {"set": "2026-01-01T09:00:00+99:00"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "set: '2026-01-01T09:00:00+99:00' is not an ISO-8601 instant (its UTC offset must be "
        "less than 24 hours either way)"
    )
    assert control.clock() == before


def test_an_advance_past_the_end_of_the_range_is_refused_and_nothing_is_half_applied(
    server, control
):
    control.set_time(LAST)
    answer = post_clock(server, {"freeze": False, "advance_seconds": 1})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("advance_seconds: ")
    assert control.clock() == {
        "now": LAST,
        "frozen": True,
        "mode": "frozen",
        "speed": 1,
    }  # still frozen: nothing applied
    control.unfreeze()
    answer = post_clock(server, {"freeze": True, "set": "0415-05-25T23:06:36Z"})
    assert answer.status_code == 400
    assert control.clock()["frozen"] is False


def test_at_the_last_instant_domains_are_created_verified_scheduled_and_reset(
    server, control, urls
):
    control.set_time(LAST)
    control.settings(
        "autosend", verify_delay_seconds=MAX_SETTING, recheck_window_seconds=MAX_SETTING
    )
    with httpx.Client(base_url=urls["autosend"], headers={"Authorization": "Bearer as_end"}) as api:
        created = api.post("/domains", json={"domain": "end.example.com"})
        assert created.status_code == 200, created.text
        domain_id = created.json()["data"]["id"]
        assert api.post(f"/domains/{domain_id}/verify").status_code == 200
        assert api.get(f"/domains/{domain_id}").status_code == 200
    [domain] = control.domains("autosend")
    assert domain["next_step_at"] == "9999-12-31T23:59:59Z"  # a year ahead: still four digits
    assert post_clock(server, {"advance_seconds": 1}).status_code == 400
    assert httpx.post(f"{server.url}/_sandbox/reset", json={}).status_code == 200
    assert control.clock() == {"now": LAST, "frozen": True, "mode": "frozen", "speed": 1}


def test_a_settings_value_over_a_year_is_refused(server, control):
    answer = httpx.patch(
        f"{server.url}/_sandbox/providers/monite/settings",
        json={"verify_delay_seconds": MAX_SETTING + 1},
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("provider", "setting"),
    [
        ("vortex", "recheck_interval_seconds"),
        ("mailgun", "recheck_first_seconds"),
        ("resend", "recheck_max_seconds"),
        ("ses", "recheck_first_seconds"),
    ],
)
def test_a_recheck_interval_of_0_is_refused_before_it_can_stall_the_clock(
    server, control, provider, setting
):
    """Re-checks 0 s apart land at the instant they were planned for, again and again: a
    clock move spun on them (tens of thousands of DNS lookups) instead of moving on."""
    before = control.settings(provider)
    answer = httpx.patch(f"{server.url}/_sandbox/providers/{provider}/settings", json={setting: 0})
    assert answer.status_code == 400, answer.text
    assert f"setting {setting} must be at least 1 second" in answer.text
    half = httpx.patch(f"{server.url}/_sandbox/providers/{provider}/settings", json={setting: 0.5})
    assert half.status_code == 400 and "at least 1 second" in half.text
    assert "not 0.5: re-checks closer together" in half.text  # it said "0 s apart"
    assert control.settings(provider) == before
    # 0 means "never" where a provider says so: a verified domain is not looked at again
    assert control.settings("resend", verified_recheck_seconds=0)["verified_recheck_seconds"] == 0


def test_a_running_clock_reaching_the_end_of_its_range_stops_there_and_the_state_still_loads(
    tmp_path,
):
    state = str(tmp_path / "end.db")
    served = Served("--state", state)
    try:
        control = control_of(served)
        control.settings("autosend", verify_delay_seconds=1)
        control.freeze(at="9998-12-31T23:59:58Z")
        with autosend(served, "as_end") as api:
            domain = api.post("/domains", json={"domain": "end.example.com"}).json()["data"]
            assert api.post(f"/domains/{domain['id']}/verify").status_code == 200
        control.unfreeze()  # runs into the end of the range; the step lands on the way
        wait_for(lambda: control.clock()["now"] == LAST)
        wait_for(lambda: control.domains("autosend")[0]["checks"] == 1)  # the step ran
        assert control.reset()["clock"]["now"] == LAST
        control.close()
    finally:
        served.process.send_signal(signal.SIGINT)
        _, errors = served.process.communicate(timeout=15)
    assert served.process.returncode == 0
    assert "Traceback" not in errors and "OverflowError" not in errors, errors
    again = Served("--state", state)
    try:
        assert any("restored the world" in line for line in again.banner)
        assert control_of(again).clock()["now"] == LAST
    finally:
        assert again.stop()[0] == 0


# Where a number goes in each body that takes one (every number of the control API).
N = "<number>"
NUMBERS = [
    ("/clock", {"advance_seconds": N}),
    ("/clock", {"freeze": True, "advance_seconds": N}),
    ("/clock", {"mode": "fast", "speed": N}),
    ("/dns/records", {"name": "n.example.com", "type": "TXT", "value": "v", "ttl": N}),
    (
        "/dns/records",
        {"name": "n.example.com", "type": "TXT", "value": "v", "visible_after_seconds": N},
    ),  # fmt: skip
    ("/dns/faults", {"match": "*", "kind": "delay", "delay_ms": N}),
    ("/dns/faults", {"match": "*", "kind": "servfail", "count": N}),
    ("/domains/monite/x/publish", {"visible_after_seconds": N}),
    ("/domains/monite/x/publish", {"ttl": N}),
    ("/http/faults", {"provider": "monite", "status": 500, "probability": N}),
    ("/http/faults", {"provider": "monite", "latency_ms": N}),
    ("/http/faults", {"provider": "monite", "status": 500, "count": N}),
    ("/providers/monite/settings", {"verify_delay_seconds": N}),
    ("/clock/advance-until", {"provider": "monite", "domain_id": "x", "limit_seconds": N}),
    ("/reset", {"seed": N}),
    ("/demo", {"domains": N}),
]


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("path", "body"), NUMBERS)
def test_nan_and_infinity_are_refused_with_a_400_naming_the_field(
    server, control, word, path, body
):
    """Not JSON numbers: they were taken (NaN passes every bound: a fault of probability NaN
    fired on every call) or failed as a 500 (advance_seconds)."""
    before = control.clock()
    answer = httpx.request(
        "PATCH" if path.endswith("/settings") else "POST",
        f"{server.url}/_sandbox{path}",
        content=json.dumps(body).replace(f'"{N}"', word),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    [field] = [key for key, value in body.items() if value == N]
    said = f"{field}: {word} is not a JSON number; give a finite number"
    assert answer.json()["error"]["message"] == said
    assert control.clock() == before and control.http_faults() == [] == control.faults()


def test_a_number_past_its_bound_or_a_name_off_its_pattern_is_said_in_a_persons_words(
    server, control, urls
):
    def refusal(path, body):
        answer = httpx.post(f"{server.url}/_sandbox{path}", json=body)
        assert answer.status_code == 400, answer.text
        return answer.json()["error"]["message"]

    assert refusal("/clock", {"advance_seconds": 863999913600.0}) == (
        "advance_seconds: at most 315360000 seconds (3650 days), not 863999913600"
    )
    assert (
        refusal("/clock", {"advance_seconds": -1}) == "advance_seconds: at least 0 seconds, not -1"
    )
    assert refusal("/clock", {"mode": "fast", "speed": 0}) == "speed: more than 0, not 0"
    assert refusal(
        "/clock/advance-until", {"provider": "monite", "domain_id": "x", "limit_seconds": 4e7}
    ) == ("limit_seconds: at most 31536000 seconds (365 days), not 40000000")
    assert refusal("/http/faults", {"provider": "monite", "latency_ms": 60001}) == (
        "latency_ms: at most 60000 ms (60 s), not 60001"  # it said no unit
    )
    assert refusal("/dns/faults", {"match": "a.example", "kind": "delay", "delay_ms": -5}) == (
        "delay_ms: at least 0 ms, not -5"
    )
    assert refusal("/demo", {"domains": 101}) == "domains: at most 100, not 101"
    # a pattern is said by its description, not as the regular expression
    assert refusal("/dns/faults", {"match": "bad name", "kind": "servfail"}) == (
        "match: 'bad name' is not a DNS name; labels of letters, digits, '-' and '_'; '*' only "
        "as the first label"
    )
    # a choice is said as a list of words, not as Python writes a list (nor as the pattern
    # that takes a record type in any letter case)
    assert refusal("/dns/records", {"name": "a.example", "type": "TXTX", "value": "v"}) == (
        "type: 'TXTX' is not one of A, AAAA, CNAME, MX, TXT, SRV, NS, CAA, PTR, in any letter case"
    )


@pytest.mark.parametrize(
    ("provider", "setting", "value", "said"),
    [
        ("vortex", "require_api_key", 2, "setting require_api_key must be 1 (on) or 0 (off)"),
        ("vortex", "require_api_key", 0.5, "setting require_api_key must be 1 (on) or 0 (off)"),
        ("ses", "max_identities", 2.5, "setting max_identities must be a whole number from 0"),
        ("resend", "rate_limit_per_second", 1.5, "rate_limit_per_second must be a whole number"),
        (
            "resend",
            "rate_limit_per_second",
            0,
            "rate_limit_per_second must be a whole number from 1",
        ),
    ],
)
def test_a_switch_or_a_count_takes_a_whole_number_not_seconds(
    server, control, provider, setting, value, said
):
    """Settings not in seconds were checked as seconds: a switch took 2, a count 2.5."""
    before = control.settings(provider)
    answer = httpx.patch(
        f"{server.url}/_sandbox/providers/{provider}/settings", json={setting: value}
    )
    assert answer.status_code == 400 and said in answer.text, answer.text
    assert control.settings(provider) == before
    assert control.settings("ses", max_identities=50)["max_identities"] == 50
    kept = control.settings("vortex", require_api_key=1.0)["require_api_key"]
    assert kept == 1 and isinstance(kept, int)  # a whole number kept as one, not 1.0


def test_a_real_time_clock_runs_with_the_wall_clock_and_stops_at_the_end_of_its_range():
    """Real time is the wall clock's time since the clock was set, added to where it was set;
    at the end of the range it stops there (real time's shortcut must not pass it)."""
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    before = datetime.now(UTC)
    clock = Clock(start=start, mode="real")
    shown = clock.now()
    after = datetime.now(UTC)
    assert timedelta(0) <= shown - start <= after - before
    clock.set(LATEST - timedelta(seconds=0.05))
    assert clock.now() < LATEST
    time.sleep(0.1)
    assert clock.now() == LATEST  # not past it
    clock.set_mode("fast", 1000)
    assert clock.now() == LATEST
    clock.set(start)
    clock.set_mode("real")
    assert start <= clock.now() < start + timedelta(seconds=5)
