"""The live dashboard in headless Chromium (Debian's `chromium`, driven by Playwright).

Domains are created through the providers' real APIs, the page is clicked like a person would,
and what it shows is checked against the control API: the page and the CLI never disagree.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from sandbox.client import ControlError

from .conftest import SEED, START
from .helpers import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
POLL_MS = 200  # the page's poll interval here (1 s by default): keeps the file fast

MONITE_VERSION = {"x-monite-version": "2024-05-25"}
MONITE_PARTNER = "eb959578-a74d-4ac3-8b25-bf0910027857"
AUTOSEND_KEY = {"Authorization": "Bearer as_test_project_key"}

if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)",
        allow_module_level=True,
    )

from playwright.sync_api import expect, sync_playwright  # noqa: E402

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium and one browsing context for the module; each test gets a tab."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        yield context
        context.close()
        chromium.close()


@pytest.fixture
def page(browser, server, control):
    """The dashboard open in a fresh tab, after its first poll has shown the empty sandbox."""
    ARTIFACTS.mkdir(exist_ok=True)
    tab = browser.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(error))
    tab.goto(f"{server.url}/_sandbox/ui?poll={POLL_MS}")
    expect(tab.locator("#live")).to_contain_text("Live")
    expect(tab.locator("#domains")).to_contain_text("No domains yet")
    yield tab
    tab.close()
    assert not errors, errors


# --- helpers: a client of each provider's API, and the page as a person reads it ------------


def monite_domain(urls, name: str = "mail.example.com") -> dict:
    base = urls["monite"]
    grant = {"client_id": MONITE_PARTNER, "client_secret": "s", "grant_type": "client_credentials"}
    token = httpx.post(f"{base}/auth/token", json=grant, headers=MONITE_VERSION).json()
    headers = MONITE_VERSION | {"Authorization": f"Bearer {token['access_token']}"}
    response = httpx.post(f"{base}/mailbox_domains", json={"domain": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def autosend_domain(urls, name: str = "news.example.org") -> dict:
    response = httpx.post(
        f"{urls['autosend']}/domains", json={"domain": name}, headers=AUTOSEND_KEY
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def card(page, name: str):
    return page.locator(f'article.domain[data-name="{name}"]')


def state_cell(page, name: str, kind: str):
    return card(page, name).locator(f'tr[data-kind="{kind}"] td.state')


def click(page, name: str, button: str):
    card(page, name).get_by_role("button", name=button).click()


# --- the story ---------------------------------------------------------------------------------


def test_domain_created_through_an_api_turns_verified_after_clicking_publish_and_verify(
    page, urls, control
):
    domain = monite_domain(urls)
    mail = card(page, "mail.example.com")
    expect(mail.locator(".status-word")).to_have_text("waiting_to_be_verified")
    expect(state_cell(page, "mail.example.com", "spf")).to_contain_text("not checked yet")

    click(page, "mail.example.com", "Publish all records")
    expect(page.get_by_role("status")).to_have_text("Published 5 records for mail.example.com.")
    click(page, "mail.example.com", "Verify now")

    expect(mail.locator(".status-word")).to_have_text("verified")
    for kind in ("spf", "dkim", "tracking", "mx_mxa", "mx_mxb"):
        expect(state_cell(page, "mail.example.com", kind)).to_contain_text("✓ valid")
    expect(mail.locator(".timeline li")).to_have_text(
        [f"{START} waiting_to_be_verified", f"{START} verified"]
    )
    assert control.domain("monite", domain["id"])["status"] == "verified"
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)


def test_one_page_shows_every_record_state_side_by_side_across_providers(page, urls, control):
    shop = monite_domain(urls, "shop.example.com")
    news = autosend_domain(urls, "news.example.org")
    control.publish("monite", shop["id"])
    control.verify("monite", shop["id"])
    control.publish("autosend", news["id"], omit=["dmarc"], corrupt=["mail_from_spf"])
    dkim = next(r for r in control.domain("autosend", news["id"])["records"] if r["kind"] == "dkim")
    control.add_fault(dkim["name"], "servfail")
    control.verify("autosend", news["id"])
    control.clear_faults()
    control.verify("monite", shop["id"])

    states = card(page, "news.example.org").locator("td.state strong")
    expect(card(page, "shop.example.com").locator(".status-word")).to_have_text("verified")
    expect(states).to_contain_text(["temporary failure"])
    shown = set(states.all_inner_texts())
    assert shown == {"valid", "invalid", "not found", "temporary failure"}, shown
    page.screenshot(path=ARTIFACTS / "dashboard-states.png", full_page=True)


def test_each_record_shows_the_exact_name_and_value_to_publish(page, urls, control):
    domain = monite_domain(urls)
    expected = control.domain("monite", domain["id"])["records"]
    rows = card(page, "mail.example.com").locator("tbody tr")
    expect(rows).to_have_count(len(expected))
    for record in expected:
        row = card(page, "mail.example.com").locator(f'tr[data-kind="{record["kind"]}"]')
        codes = row.locator("code")
        expect(codes).to_have_text([record["name"], record["value"]])


def test_corrupting_one_record_shows_it_invalid_with_the_verifiers_reason(page, urls, control):
    domain = monite_domain(urls)
    expect(card(page, "mail.example.com")).to_be_visible()
    card(page, "mail.example.com").get_by_role("button", name="Corrupt dkim").click()
    expect(page.get_by_role("status")).to_contain_text("dkim with a wrong value")
    click(page, "mail.example.com", "Verify now")
    dkim = state_cell(page, "mail.example.com", "dkim")
    expect(dkim).to_contain_text("invalid")

    reason = next(
        r["result"]["reason"]
        for r in control.domain("monite", domain["id"])["records"]
        if r["kind"] == "dkim"
    )
    expect(dkim.locator(".reason")).to_have_text(reason)
    expect(state_cell(page, "mail.example.com", "spf")).to_contain_text("✓ valid")
    expect(card(page, "mail.example.com").locator(".status-word")).to_have_text(
        "waiting_to_be_verified"
    )


def test_states_are_told_in_words_and_symbols_not_only_colour(page, urls, control):
    domain = monite_domain(urls)
    expect(card(page, "mail.example.com")).to_be_visible()
    card(page, "mail.example.com").get_by_role("button", name="Omit spf").click()
    expect(page.get_by_role("status")).to_contain_text("every record but spf")
    control.publish("monite", domain["id"], omit=["spf", "tracking"], corrupt=["dkim"])
    click(page, "mail.example.com", "Verify now")

    words = {
        "spf": "∅ not found",
        "dkim": "✗ invalid",
        "tracking": "∅ not found",
        "mx_mxa": "✓ valid",
    }
    for kind, text in words.items():
        expect(state_cell(page, "mail.example.com", kind)).to_contain_text(text)
    expect(card(page, "mail.example.com").locator(".status")).to_contain_text(
        "Status: ◔ waiting_to_be_verified"
    )
    current = card(page, "mail.example.com").locator('.vocabulary li[aria-current="true"]')
    expect(current).to_have_text("▶ waiting_to_be_verified")


def test_a_dns_fault_added_on_the_page_shows_as_temporary_failure(page, urls, control):
    domain = monite_domain(urls)
    control.publish("monite", domain["id"])
    page.get_by_label("Kind").select_option("servfail")
    page.get_by_label("Type").select_option("TXT")
    page.get_by_role("button", name="Add DNS fault").click()
    expect(page.locator("#faults")).to_contain_text("servfail for *, type TXT, until cleared")
    assert [(f["kind"], f["match"], f["qtype"]) for f in control.faults()] == [
        ("servfail", "*", "TXT")
    ]

    click(page, "mail.example.com", "Verify now")
    expect(state_cell(page, "mail.example.com", "spf")).to_contain_text("temporary failure")
    expect(state_cell(page, "mail.example.com", "mx_mxa")).to_contain_text("✓ valid")

    page.get_by_role("button", name="Clear all faults").click()
    expect(page.locator("#faults")).to_contain_text("No faults")
    assert control.faults() == []


def test_a_fault_the_control_api_refuses_shows_its_reason_on_the_page(page, control):
    with pytest.raises(ControlError) as refused:
        control.add_fault("bad..name", "servfail")
    page.get_by_label("Match").fill("bad..name")
    page.get_by_role("button", name="Add DNS fault").click()
    reason = str(refused.value).split(": ", 1)[1]
    expect(page.get_by_role("status")).to_have_text(f"Failed: {reason}")
    assert control.faults() == []


def test_removing_a_zone_record_on_the_page_removes_exactly_that_value(page, urls, control):
    domain = monite_domain(urls)
    control.publish("monite", domain["id"])
    before = control.records("mail.example.com")
    spf = next(r for r in before if r["type"] == "TXT")
    page.get_by_role("button", name=f"Remove TXT record {spf['value']} at mail.example.com").click()
    expect(page.get_by_role("status")).to_have_text("Removed 1 TXT record(s) at mail.example.com.")
    after = control.records("mail.example.com")
    assert [r for r in before if r != spf] == after
    expect(page.locator("#zone")).not_to_contain_text(spf["value"])


# --- the clock, reset, and changes made elsewhere ---------------------------------------------


def test_clock_buttons_move_the_sandbox_clock_and_freeze_it_again(page, control):
    expect(page.locator("#clock-now")).to_have_text(START)
    steps = [
        ("+1 minute", "2026-01-01T09:01:00Z"),
        ("+1 hour", "2026-01-01T10:01:00Z"),
        ("+72 hours", "2026-01-04T10:01:00Z"),
    ]
    for button, now in steps:
        page.get_by_role("button", name=button).click()
        expect(page.locator("#clock-now")).to_have_text(now)
        assert control.clock() == {"now": now, "frozen": True, "mode": "frozen", "speed": 1}

    page.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("#clock-mode")).to_have_text("(running)")
    assert control.clock()["frozen"] is False
    page.get_by_role("button", name="Freeze").click()
    expect(page.locator("#clock-mode")).to_have_text("(frozen)")
    assert control.clock()["frozen"] is True


def test_advancing_the_clock_runs_the_providers_recheck_and_the_timeline_shows_when(
    page, urls, control
):
    domain = monite_domain(urls)
    click(page, "mail.example.com", "Verify now")  # nothing published yet: a re-check is due
    expect(card(page, "mail.example.com").locator(".facts")).to_contain_text(
        "next scheduled step 2026-01-01T09:05:00Z"
    )
    control.publish("monite", domain["id"])
    page.get_by_role("button", name="+1 hour").click()
    expect(card(page, "mail.example.com").locator(".timeline li")).to_have_text(
        [f"{START} waiting_to_be_verified", "2026-01-01T09:05:00Z verified"]
    )


def test_reset_button_forgets_every_domain_and_record(page, urls, control):
    domain = monite_domain(urls)
    control.publish("monite", domain["id"])
    expect(card(page, "mail.example.com")).to_be_visible()
    page.get_by_role("button", name="Reset sandbox").click()
    expect(page.locator("#domains")).to_contain_text("No domains yet")
    expect(page.locator("#zone")).to_contain_text("The zone is empty")
    assert control.domains() == [] and control.records() == []


def test_changes_made_elsewhere_appear_without_a_reload(page, urls, control):
    page.evaluate("window.sameDocument = true")
    domain = monite_domain(urls)
    control.publish("monite", domain["id"])
    control.verify("monite", domain["id"])
    expect(card(page, "mail.example.com").locator(".status-word")).to_have_text("verified")
    expect(page.locator("#requests")).to_contain_text("POST /monite/v1/mailbox_domains → 201")
    assert page.evaluate("window.sameDocument") is True


def test_domains_of_each_provider_show_with_their_own_status_words(page, urls, control):
    monite_domain(urls)
    autosend_domain(urls)
    for view in control.domains():
        shown = card(page, view["name"])
        expect(shown.locator(".provider")).to_have_text(view["provider"])
        expect(shown.locator(".vocabulary li")).to_have_count(len(view["statuses"]))
        expect(shown.locator(".status-word")).to_have_text(view["status"])
        expect(shown.locator("tbody tr")).to_have_count(len(view["records"]))


# --- accessibility basics ---------------------------------------------------------------------


def focused_text(page) -> str:
    return page.evaluate("document.activeElement.textContent")


def tab_to(page, text: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_text(page) == text:
            return
    raise AssertionError(f"no control named {text!r} within {limit} presses of Tab")


def test_publish_and_verify_work_from_the_keyboard_alone(page, urls, control):
    monite_domain(urls)
    expect(card(page, "mail.example.com")).to_be_visible()
    tab_to(page, "Publish all records")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Published 5 records")
    page.keyboard.press("Tab")
    assert focused_text(page) == "Verify now"
    page.keyboard.press("Space")
    expect(card(page, "mail.example.com").locator(".status-word")).to_have_text("verified")


def test_keyboard_focus_stays_on_its_button_when_the_page_updates(page, urls, control):
    domain = monite_domain(urls)
    verify = card(page, "mail.example.com").get_by_role("button", name="Verify now")
    verify.focus()
    control.publish("monite", domain["id"])
    control.verify("monite", domain["id"])
    expect(card(page, "mail.example.com").locator(".status-word")).to_have_text("verified")
    assert focused_text(page) == "Verify now"
    assert page.evaluate("document.activeElement.closest('article').dataset.name") == (
        "mail.example.com"
    )


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_and_same_calls_show_the_same_page(page, urls, control):
    shown = []
    for _ in range(2):
        control.reset(seed=SEED)
        expect(page.locator("#domains")).to_contain_text("No domains yet")
        domain = monite_domain(urls)
        control.publish("monite", domain["id"], corrupt=["dkim"])
        expect(card(page, "mail.example.com")).to_be_visible()
        click(page, "mail.example.com", "Verify now")
        expect(state_cell(page, "mail.example.com", "dkim")).to_contain_text("invalid")
        shown.append(page.locator("main").inner_text())
    assert shown[0] == shown[1]
    assert "mail.example.com" in shown[0]
