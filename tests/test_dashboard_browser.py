"""The live dashboard in headless Chromium (Debian's `chromium`, driven by Playwright), at the
two widths a presenter meets: 1024 px (a projector) and 1440 px (a laptop).

One browser and one page per width for the whole module: the page is never reloaded, so every
change a test makes elsewhere (the control API, a provider's API) reaches it through the
server's event stream. What the page shows is checked against the control API.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient

from .conftest import START
from .helpers import CHROMIUM, CHROMIUM_ARGS, PROVIDER_NAMES, WAIT_MS, free_port

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = (1024, 1440)
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
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def pages(browser, server):
    """The dashboard open at each width, each in a window of its own (a tab in the background
    would be throttled); errors the pages raise fail the module."""
    opened, errors = {}, []
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("pageerror", lambda error: errors.append(error))
        page.goto(f"{server.url}/_sandbox/ui")
        expect(page.locator("#live")).to_contain_text("Live")
        page.evaluate("window.neverReloaded = true")
        opened[width] = page
    yield opened
    for page in opened.values():
        page.close()
    assert not errors, errors


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def page(request, pages, control):
    """The page at one width, its filters cleared and panels closed, once it shows the freshly
    reset sandbox (told by the event stream)."""
    return _ready(pages[request.param])


@pytest.fixture
def narrow(pages, control):
    """The page at 1024 px: what the controls are tested at (the tighter of the two)."""
    return _ready(pages[1024])


def _ready(page):
    page.evaluate("""() => {
        for (const id of ["filter-provider", "filter-status", "filter-name"]) {
            document.getElementById(id).value = "";
        }
        document.getElementById("filter-name").dispatchEvent(new Event("input"));
        for (const panel of document.querySelectorAll("details[open]")) panel.open = false;
        // what a test typed into a form is not the next one's: a refused -3 left in "Latency
        // ms" failed the next test that added a fault, unless a reload came between
        for (const form of document.querySelectorAll("form")) {
            form.reset();
            for (const choice of form.querySelectorAll("select")) {
                choice.dispatchEvent(new Event("change"));  // the fields a choice turns on
            }
        }
    }""")
    expect(page.locator("#domains")).to_contain_text("No domains yet")
    expect(page.locator("#clock-now")).to_have_text(START)
    return page


# --- helpers: the page as a person reads and drives it -----------------------------------------


def row(page, name: str):
    return page.locator(f'tr.domain-row[data-name="{name}"]')


def details(page, name: str):
    return page.locator(f'article.domain[data-name="{name}"]')


def open_details(page, name: str, provider: str):
    toggle = row(page, name).get_by_role("button", name=f"details of {name} ({provider})")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(details(page, name)).to_be_visible()
    return details(page, name)


def panel(page, summary: str):
    page.locator("summary", has_text=summary).click()


def said(page):
    return page.get_by_role("status")


def shown_rows(page) -> list[tuple[str, str, str]]:
    """(provider, name, status) of every row the overview shows."""
    rows = page.locator("tr.domain-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.provider, r.dataset.name,"
        " r.querySelector('.status').dataset.status])"
    )
    return [tuple(r) for r in rows]


def autosend_domain(urls, name: str = "news.example.org") -> dict:
    response = httpx.post(
        f"{urls['autosend']}/domains", json={"domain": name}, headers=AUTOSEND_KEY
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


# What a person cannot reach: controls shown past the page's right edge, or under something
# else where they are drawn. Each control is scrolled into view first, as a person would.
UNREACHABLE = """(within) => {
    const width = document.documentElement.clientWidth;
    const missed = [];
    const controls = document.querySelector(within).querySelectorAll(
        "button, input, select, summary, a[href]");
    for (const el of controls) {
        if (el.classList.contains("skip") || !el.checkVisibility()) continue;
        el.scrollIntoView({block: "center", inline: "nearest"});
        const box = el.getBoundingClientRect();
        const x = box.left + box.width / 2, y = box.top + box.height / 2;
        const top = document.elementFromPoint(x, y);
        const covered = !(top && (el === top || el.contains(top) || top.contains(el)
                                  || (el.labels && [...el.labels].some(l => l.contains(top)))));
        if (box.left < 0 || box.right > width + 0.5 || covered) {
            missed.push(`${el.tagName} ${el.id || el.textContent.trim().slice(0, 40)}`);
        }
    }
    window.scrollTo(0, 0);
    return missed;
}"""


def overflow(page) -> int:
    """How far the page reaches past the window's right edge, in px (0: no horizontal scroll)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# --- presenting: every width, every control, live ----------------------------------------------


def test_at_each_width_nothing_is_cut_off_and_every_control_is_reachable(page, control):
    control.load_bundled_scenario("every-state")
    control.add_fault("*.dns-outage.example", "servfail")
    control.add_http_fault("mailgun", status=503, count=3)
    expect(page.locator("#tally")).to_contain_text(f"{len(control.domains())} of ")
    open_details(page, "failed.vortex.example", "vortex")
    open_details(page, "validation-failed.scaleway.example", "scaleway")
    assert overflow(page) == 0
    assert page.evaluate(UNREACHABLE, "body") == []
    for summary in ("New domain", "Scenario", "Clock mode", "Faults", "Settings"):
        panel(page, summary)  # one open at a time: each pushes the page down
        assert overflow(page) == 0, summary
        assert page.evaluate(UNREACHABLE, "nav.toolbar") == [], summary
    width = page.viewport_size["width"]
    page.screenshot(path=ARTIFACTS / f"dashboard-{width}.png")


def test_on_a_phone_the_overview_scrolls_in_its_own_box_and_names_stay_readable(
    browser, server, control
):
    """At 390 px the table ran past the page, its headings overlapped and a domain's name
    wrapped a letter a line: the docs promise 1024 px, but a presenter may hold up a phone."""
    control.load_bundled_scenario("every-state")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        phone.goto(f"{server.url}/_sandbox/ui")
        expect(phone.locator("#tally")).to_contain_text(f"{len(control.domains())} of ")
        assert overflow(phone) == 0
        name = row(phone, "failed.vortex.example").locator(".name")
        assert name.bounding_box()["width"] > 150  # a name, not a column of letters
        assert phone.locator("#clock-now").bounding_box()["height"] < 40  # on one line
        assert phone.evaluate(UNREACHABLE, "#domains") == []
        phone.screenshot(path=ARTIFACTS / "dashboard-390.png")
        panel(phone, "Scenario")  # its scenario list, descriptions and all, made it 680 px
        assert overflow(phone) == 0
    finally:
        phone.close()


@pytest.mark.parametrize("width", [1280, 1366])
def test_between_the_tested_widths_names_keep_room_beside_the_side_panels(
    browser, server, control, width
):
    """From 1201 px the side panels stood beside the overview and squeezed the name column to
    59 px at 1280: a name wrapped a few letters a line on a common projector."""
    control.load_bundled_scenario("every-state")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"{server.url}/_sandbox/ui")
        expect(page.locator("#tally")).to_contain_text(f"{len(control.domains())} of ")
        name = row(page, "waiting-to-be-verified.monite.example").locator(".name")
        assert name.bounding_box()["width"] > 150
        assert overflow(page) == 0
    finally:
        page.close()


# The lines an element's text is laid out in, as the reader sees them.
LINES = """el => {
    const lines = [""];
    let top = null;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = range.getClientRects()[0];
            if (rect && top !== null && rect.top - top > 2) lines.push("");
            if (rect) top = rect.top;
            lines[lines.length - 1] += node.data[i];
        }
    }
    return lines;
}"""


def test_names_wrap_after_their_dots_and_instants_between_date_and_time(page, control):
    """Zone names broke a letter anywhere (`verified.monite.ex` / `ample`), and the last
    check's instant inside its date (`2026-01-` / `05T09:00:00Z`)."""
    name = "mail.news.shop.eu.west.example.com"  # short labels: each fits its column
    control.load_bundled_scenario("every-state")
    control.add_record(name, "TXT", "v=spf1 include:mailgun.org ~all")
    expect(page.locator("#zone")).to_contain_text("mail.news.shop")
    shown = page.locator("#zone code.name", has_text="mail.news.shop").evaluate(LINES)
    assert "".join(shown) == name
    if page.viewport_size["width"] > 1200:  # the zone is a side panel, narrower than the name
        assert len(shown) > 1
    assert all(line.endswith(".") for line in shown[:-1]), shown
    checked = row(page, "verified.monite.example").locator(".checked time").evaluate(LINES)
    assert checked in (["2026-01-05T", "09:00:00Z"], ["2026-01-05T09:00:00Z"]), checked


def test_no_cell_of_a_domains_records_runs_into_the_next(page, control):
    """Scaleway's "domain_validation" ran past its cell into the type column."""
    control.load_bundled_scenario("every-state")
    open_details(page, "ready.scaleway.example", "scaleway")
    open_details(page, "mail-from-success.ses.example", "ses")
    over = page.locator("article.domain table th, article.domain table td").evaluate_all(
        "cells => cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)"
    )
    assert over == []


def test_a_change_made_elsewhere_appears_without_reload_or_polling(page, urls, control):
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.wait_for_timeout(500)  # what the reset before this test told is read by now
    asked.clear()
    page.wait_for_timeout(1500)  # a quiet sandbox: the page asks nothing
    assert asked == []

    domain = autosend_domain(urls)
    expect(row(page, "news.example.org").locator(".status")).to_have_attribute(
        "data-status", "PENDING_CONFIGURATION"
    )
    control.publish("autosend", domain["id"])
    control.verify("autosend", domain["id"])
    control.advance(3600)  # however long the provider takes to land its verdict
    expect(row(page, "news.example.org").locator(".status-word")).to_have_text("VERIFIED")
    expect(row(page, "news.example.org").locator(".records-valid")).to_have_text("5/5")
    expect(page.locator("#requests")).to_contain_text("POST /autosend/v1/domains → 200")
    assert page.evaluate("window.neverReloaded") is True
    assert not any("/_sandbox/events" in url for url in asked)  # the one stream stayed open


def test_a_call_whose_connection_a_fault_dropped_is_listed_as_aborted(page, urls, control):
    control.add_http_fault("autosend", operation="list_domains", abort=True, count=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{urls['autosend']}/domains", headers={"Authorization": "Bearer as_key"})
    expect(page.locator("#requests")).to_contain_text("GET /autosend/v1/domains → aborted")
    expect(page.locator("#requests")).not_to_contain_text("GET /autosend/v1/domains → 200")


# --- the controls, at 1024 px ------------------------------------------------------------------


def test_a_domain_of_every_provider_is_created_from_the_page(narrow, control):
    providers = [p["name"] for p in control.providers()]
    assert providers and sorted(providers) == sorted(PROVIDER_NAMES)
    panel(narrow, "New domain")
    for provider in providers:
        narrow.locator("#create-provider").select_option(provider)
        narrow.get_by_label("Domain name").fill(f"demo.{provider}.example")
        narrow.get_by_role("button", name="Create domain").click()
        expect(said(narrow)).to_contain_text(f"Created demo.{provider}.example through {provider}")
    expected = [(d["provider"], d["name"], d["status"]) for d in control.domains()]
    assert len(expected) == len(providers)
    expect(narrow.locator("tr.domain-row")).to_have_count(len(providers))
    assert sorted(shown_rows(narrow)) == sorted(expected)


def test_a_mailgun_domain_is_created_in_the_eu_region_from_the_page(narrow, control):
    panel(narrow, "New domain")
    api = narrow.locator("#create-api")
    narrow.locator("#create-provider").select_option("autosend")
    expect(api).to_be_hidden()  # one API: nothing to choose
    narrow.locator("#create-provider").select_option("mailgun")
    expect(api).to_be_visible()
    api.select_option("/mailgun/eu")
    narrow.get_by_label("Domain name").fill("eu.example.net")
    narrow.get_by_role("button", name="Create domain").click()
    expect(said(narrow)).to_contain_text(
        "Created eu.example.net through mailgun's API at /mailgun/eu: status unverified"
    )
    assert control.domain("mailgun", "eu.example.net")["api"] == "/mailgun/eu"
    expect(open_details(narrow, "eu.example.net", "mailgun")).to_contain_text("API /mailgun/eu")


def test_a_refused_create_shows_the_providers_reason(narrow, control):
    panel(narrow, "New domain")
    narrow.locator("#create-provider").select_option("mailgun")
    narrow.get_by_label("Domain name").fill("not a domain")
    narrow.get_by_role("button", name="Create domain").click()
    expect(said(narrow)).to_contain_text("Failed: mailgun refused to create 'not a domain'")
    assert control.domains() == []


def test_a_bundled_scenario_loads_from_the_page_and_filters_narrow_the_overview(narrow, control):
    panel(narrow, "Scenario or demo")
    narrow.get_by_label("Bundled scenario").select_option("every-state")
    narrow.get_by_role("button", name="Load scenario").click()
    expect(said(narrow)).to_contain_text("Loaded scenario every-state")
    domains = control.domains()
    expect(narrow.locator("tr.domain-row")).to_have_count(len(domains))

    narrow.locator("#filter-provider").select_option("resend")
    resend = sorted(
        (d["provider"], d["name"], d["status"]) for d in domains if d["provider"] == "resend"
    )
    expect(narrow.locator("tr.domain-row")).to_have_count(len(resend))
    assert sorted(shown_rows(narrow)) == resend

    narrow.locator("#filter-status").select_option("tone:bad")
    bad = [r for r in resend if "fail" in r[2]]
    expect(narrow.locator("tr.domain-row")).to_have_count(len(bad))
    assert sorted(shown_rows(narrow)) == bad and bad
    expect(narrow.locator("#tally")).to_contain_text(f"{len(bad)} of {len(domains)} shown")

    narrow.locator("#filter-provider").select_option("")
    narrow.locator("#filter-status").select_option("tone:bad")  # as each provider judges it
    bad = sorted((d["provider"], d["name"], d["status"]) for d in domains if d["tone"] == "bad")
    expect(narrow.locator("tr.domain-row")).to_have_count(len(bad))
    assert ("vortex", "failed.vortex.example", "not_verified") in shown_rows(narrow)

    # one choice for a word in any case: Resend's `verified` and AutoSend's `VERIFIED`
    words = narrow.locator("#filter-status option").evaluate_all("os => os.map(o => o.value)")
    assert "word:verified" in words and "word:VERIFIED" not in words
    labels = narrow.locator("#filter-status option").evaluate_all(
        "os => Object.fromEntries(os.map(o => [o.value, o.textContent]))"
    )  # a word's symbol is its domains' tone; Vortex's not_verified is waiting or failed
    assert labels["word:not_verified"] == "not_verified"
    assert labels["word:verified"] == "✓ verified / VERIFIED"  # as each provider writes it
    assert labels["word:validation_failed"] == "✗ validation_failed"
    narrow.locator("#filter-status").select_option("word:verified")
    verified = sorted(
        (d["provider"], d["name"], d["status"])
        for d in domains
        if d["status"].lower() == "verified"
    )
    expect(narrow.locator("tr.domain-row")).to_have_count(len(verified))
    assert sorted(shown_rows(narrow)) == verified
    assert {status for _, _, status in verified} == {"verified", "VERIFIED"}


def test_a_status_word_no_domain_has_any_more_stays_chosen(narrow, control):
    """The filter fell back to "all" without a word once the clock moved every domain on."""
    control.create_domain("scaleway", "fresh.example.com")
    expect(narrow.locator("tr.domain-row")).to_have_count(1)
    narrow.locator("#filter-status").select_option("word:creating")
    control.advance(60)  # created, it waits for validation
    expect(narrow.locator("#tally")).to_contain_text("0 of 1 shown")
    assert narrow.locator("#filter-status").input_value() == "word:creating"


def test_the_demo_world_loads_from_the_page(narrow, control):
    panel(narrow, "Scenario or demo")
    narrow.get_by_label("Demo domains").fill("12")
    narrow.get_by_role("button", name="Load demo world").click()
    expect(said(narrow)).to_contain_text("Loaded the demo world: 12 domains")
    expect(narrow.locator("tr.domain-row")).to_have_count(len(control.domains()))


def test_details_say_where_a_domain_stands_in_its_providers_own_fields(narrow, control):
    """Vortex's every-state domains all read `not_verified`: its token and DKIM statuses, which
    tell them apart, were nowhere on the page."""
    control.load_bundled_scenario("every-state")
    shown = open_details(narrow, "waiting-for-provider.vortex.example", "vortex")
    expect(shown.locator(".own-words")).to_have_text(
        "vortex says: tokenVerificationStatus=waiting_for_provider · "
        "dkimStatus=waiting_for_provider · spfCheckStatus=waiting_for_user · "
        "dmarcStatus=waiting_for_user · isVerified=false"
    )
    monite = open_details(narrow, "verified.monite.example", "monite")
    expect(monite.locator(".own-words")).to_have_count(0)  # its status says it all


def test_details_open_in_place_with_each_records_level_as_the_provider_decides(narrow, control):
    vortex = control.create_domain("vortex", "mail.example.com")
    expect(row(narrow, "mail.example.com").locator(".required-valid")).to_have_text(
        "● required 0/2"
    )
    shown = open_details(narrow, "mail.example.com", "vortex")
    levels = shown.locator("tbody tr").evaluate_all(
        "rows => Object.fromEntries(rows.map(r => [r.dataset.kind, r.dataset.level]))"
    )
    assert levels == {r["kind"]: r["level"] for r in vortex["records"]}
    assert levels["spf"] == levels["dmarc"] == "recommended"
    expect(shown.locator('tr[data-kind="spf"] .level')).to_have_text("○ recommended")
    expect(shown.locator('tr[data-kind="token"] .level')).to_have_text("● required")

    shown.get_by_role("button", name="Omit spf").click()
    expect(said(narrow)).to_contain_text("every record but spf")
    shown.get_by_role("button", name="Verify now").click()
    expect(row(narrow, "mail.example.com").locator(".status-word")).to_have_text("verified")
    expect(row(narrow, "mail.example.com").locator(".required-valid")).to_have_text(
        "✓ required 2/2"
    )
    expect(shown.locator('tr[data-kind="spf"] td.state')).to_contain_text("∅ not found")
    row(narrow, "mail.example.com").get_by_role("button", name="Hide details").click()
    expect(details(narrow, "mail.example.com")).to_have_count(0)


def test_corrupting_a_record_shows_it_invalid_with_the_verifiers_reason(narrow, control):
    domain = control.create_domain("monite", "mail.example.com")
    shown = open_details(narrow, "mail.example.com", "monite")
    shown.get_by_role("button", name="Corrupt dkim").click()
    expect(said(narrow)).to_contain_text("dkim with a wrong value")
    shown.get_by_role("button", name="Verify now").click()
    dkim = shown.locator('tr[data-kind="dkim"] td.state')
    expect(dkim).to_contain_text("✗ invalid")
    reason = next(
        r["result"]["reason"]
        for r in control.domain("monite", domain["id"])["records"]
        if r["kind"] == "dkim"
    )
    expect(dkim.locator(".reason")).to_have_text(reason)
    expect(shown.locator('tr[data-kind="spf"] td.state')).to_contain_text("✓ valid")
    shown.get_by_role("button", name="Publish all records").click()
    expect(said(narrow)).to_have_text("Published 5 records for mail.example.com.")
    control.add_record("mail.example.com", "TXT", "v=spf1 include:other.example ~all")
    shown.get_by_role("button", name="Publish all records").click()  # kept, and said to fail
    expect(said(narrow)).to_contain_text("Warning: mail.example.com holds 2 SPF records now")


def test_a_second_click_on_an_action_under_way_is_not_a_second_call(narrow, control):
    """A double click on "+72 hours" moved the clock 144 hours, and said 72."""
    narrow.locator("#advance-259200").dblclick()
    expect(said(narrow)).to_contain_text("Clock advanced 72 hours")
    narrow.wait_for_timeout(300)  # a second call, had there been one, has landed by now
    assert control.clock()["now"] == "2026-01-04T09:00:00Z"
    expect(narrow.locator("#advance-259200")).not_to_have_attribute("aria-busy", "true")


def test_what_the_page_said_goes_once_the_world_changes_from_elsewhere(narrow, control):
    """ "Checked ... now", not "Verified", for a check that verified nothing; and once the
    world changes later from elsewhere, the line no longer stands under the toolbar as if it
    said how things are now."""
    control.create_domain("monite", "mail.example.com")
    shown = open_details(narrow, "mail.example.com", "monite")
    shown.get_by_role("button", name="Verify now").click()
    checked = "Checked mail.example.com now: status waiting_to_be_verified."
    expect(said(narrow)).to_have_text(checked)
    narrow.wait_for_timeout(700)  # the check's own change has been told by now: it stays
    expect(said(narrow)).to_have_text(checked)
    control.add_record("elsewhere.example.com", "TXT", "a change made elsewhere")  # at once
    expect(said(narrow)).to_have_text("")  # (it stood for good when this came within 2 s)


def test_a_row_says_which_records_dns_could_not_answer_for(narrow, control):
    """During a DNS outage a status may stay as it was (AutoSend keeps VERIFIED): the row says
    that records went unread, so "verified, 0/5 valid" does not stand unexplained."""
    domain = control.create_domain("monite", "mail.example.com")
    control.publish("monite", domain["id"])
    control.verify("monite", domain["id"])
    expect(row(narrow, "mail.example.com").locator(".records-valid")).to_have_text("5/5")
    expect(row(narrow, "mail.example.com").locator(".unread")).to_have_count(0)
    control.add_fault("*", "servfail", qtype="TXT")
    control.verify("monite", domain["id"])
    unread = row(narrow, "mail.example.com").locator(".unread")
    expect(unread).to_have_text("⚠ 2 not read: DNS failed")  # SPF's and DKIM's TXT records
    expect(row(narrow, "mail.example.com").locator(".records-valid")).to_have_text("3/5")


def test_verify_now_says_when_the_check_runs_where_the_provider_checks_later(narrow, control):
    """AutoSend checks 5 minutes after a verify: the page said "Checked ... now" before any
    record had been looked at."""
    control.create_domain("autosend", "later.example.com")
    shown = open_details(narrow, "later.example.com", "autosend")
    shown.get_by_role("button", name="Verify now").click()
    expect(said(narrow)).to_have_text(
        "Verification of later.example.com started: status PENDING; its check runs at "
        "2026-01-01T09:05:00Z on the sandbox clock."
    )


def test_verify_now_on_a_domain_its_provider_checks_no_more_says_it_changed_nothing(
    narrow, control
):
    """ "Verification of verified.vortex.example started": nothing was scheduled, nothing ran."""
    control.load_bundled_scenario("all-verified")
    shown = open_details(narrow, "verified.vortex.example", "vortex")
    shown.get_by_role("button", name="Verify now").click()
    expect(said(narrow)).to_have_text(
        "Verify now changed nothing for verified.vortex.example: vortex does not check a "
        "domain that is verified again."
    )


def test_the_clock_moves_from_the_page_and_its_mode_is_set_there(narrow, control):
    narrow.get_by_role("button", name="+1 hour").click()
    expect(narrow.locator("#clock-now")).to_have_text("2026-01-01T10:00:00Z")
    assert control.clock()["now"] == "2026-01-01T10:00:00Z"
    panel(narrow, "Clock mode")
    narrow.get_by_label("Mode").select_option("fast")
    narrow.get_by_label("Speed").fill("60")
    narrow.get_by_role("button", name="Set mode").click()
    expect(narrow.locator("#clock-mode")).to_contain_text("fast")
    # not "now ...": that instant is behind a running clock at once
    expect(said(narrow)).to_contain_text("Clock mode fast ×60: running from 2026-01-01T10:00:00")
    clock = control.clock()
    assert (clock["mode"], clock["speed"], clock["frozen"]) == ("fast", 60, False)
    control.freeze(at=START)


def test_a_speed_left_in_its_field_never_stops_another_mode_from_being_set(narrow, control):
    """A speed the browser refuses (-5) blocked frozen and on-poll too, with nothing said."""
    control.set_clock_mode("fast", 3600)
    panel(narrow, "Clock mode")
    expect(narrow.get_by_label("Mode")).to_have_value("fast")
    narrow.get_by_label("Speed").fill("-5")
    narrow.get_by_role("button", name="Set mode").click()
    expect(said(narrow)).to_contain_text("Not sent: Speed: ")  # and the browser's reason
    assert control.clock()["speed"] == 3600
    narrow.get_by_label("Mode").select_option("frozen")
    expect(narrow.get_by_label("Speed")).to_be_disabled()
    narrow.get_by_role("button", name="Set mode").click()
    expect(narrow.locator("#clock-mode")).to_have_text("(frozen)")
    assert control.clock()["mode"] == "frozen"
    control.freeze(at=START)


def test_a_form_the_browser_refuses_says_so_in_place_of_the_last_result(narrow, control):
    narrow.get_by_role("button", name="+1 hour").click()
    expect(said(narrow)).to_contain_text("Clock advanced 1 hour")
    panel(narrow, "Faults")
    narrow.locator("#http-latency").fill("-3")
    narrow.locator("#http-fault-form button[type=submit]").click()
    expect(said(narrow)).to_contain_text("Not sent: Latency ms: ")
    assert control.http_faults() == []


def test_an_on_poll_clock_is_shown_as_such_and_freeze_freezes_it(narrow, control):
    control.set_clock_mode("on-poll")
    narrow.reload()
    expect(narrow.locator("#clock-mode")).to_have_text("(on-poll: moves when a client polls)")
    narrow.get_by_role("button", name="Freeze").click()  # not "Unfreeze": it would run it
    expect(narrow.locator("#clock-mode")).to_have_text("(frozen)")
    assert control.clock()["mode"] == "frozen"
    narrow.get_by_role("button", name="Unfreeze").click()  # on-poll again, and said so
    expect(said(narrow)).to_contain_text("Clock on-poll again at ")
    expect(narrow.locator("#clock-mode")).to_have_text("(on-poll: moves when a client polls)")
    assert control.clock()["mode"] == "on-poll"


@pytest.mark.parametrize("summary", ["New domain", "Clock mode", "Faults"])
def test_a_panel_opens_under_the_bar_and_its_button_stays_where_it_was_clicked(narrow, summary):
    """On a projector the button just clicked must not jump onto a line of its own."""
    button = narrow.locator("summary", has_text=summary)
    before = button.bounding_box()
    button.click()
    expect(narrow.locator("details[open] summary")).to_have_text(button.inner_text())
    after = button.bounding_box()
    assert (after["x"], after["y"]) == (before["x"], before["y"])
    form = narrow.locator("details[open] .panel-form").first
    assert form.bounding_box()["y"] > after["y"] + after["height"]  # the panel, under the bar


def test_the_http_fault_form_suggests_the_chosen_providers_operations(narrow, control):
    """An operation is named by its operationId, which the page's request log does not show."""
    panel(narrow, "Faults")
    suggested = narrow.locator("#http-operations option")
    for provider in ("mailgun", "ses"):
        narrow.locator("#http-provider").select_option(provider)
        operations = next(p["operations"] for p in control.providers() if p["name"] == provider)
        expect(suggested).to_have_count(len(operations))
        assert suggested.evaluate_all("os => os.map(o => o.value)") == operations
    assert "get_domain_v3" not in operations and "GetEmailIdentity" in operations


def test_http_and_dns_faults_are_added_and_cleared_from_the_page(narrow, urls, control):
    panel(narrow, "Faults")
    narrow.locator("#http-provider").select_option("autosend")
    narrow.locator("#http-status").select_option("503")
    narrow.locator("#http-count").fill("2")
    narrow.get_by_role("button", name="Add HTTP fault").click()
    expect(narrow.locator("#faults")).to_contain_text(
        "HTTP: autosend every operation, answers 503, 2 left"
    )
    fault = control.http_faults()[0]
    assert (fault["provider"], fault["status"], fault["count"]) == ("autosend", 503, 2)
    refused = httpx.get(urls["autosend"] + "/domains", headers=AUTOSEND_KEY)
    assert refused.status_code == 503
    expect(narrow.locator("#faults")).to_contain_text("answers 503, 1 left")

    narrow.get_by_label("Kind").select_option("servfail")
    narrow.get_by_label("Type").select_option("TXT")
    narrow.get_by_role("button", name="Add DNS fault").click()
    expect(narrow.locator("#faults")).to_contain_text(
        "DNS: servfail for *, type TXT, until cleared"
    )
    assert [(f["kind"], f["match"], f["qtype"]) for f in control.faults()] == [
        ("servfail", "*", "TXT")
    ]
    # said in the top bar too: the list sits below the domains, off screen in a big world
    expect(narrow.locator("#faults-on")).to_have_text("⚠ 2 faults on")
    assert narrow.locator("#faults-on").bounding_box()["y"] < 100
    narrow.get_by_role("button", name="Clear DNS faults").click()
    expect(narrow.locator("#faults-on")).to_have_text("⚠ 1 fault on")
    narrow.get_by_role("button", name="Clear HTTP faults").click()
    expect(narrow.locator("#faults")).to_contain_text("No faults")
    expect(narrow.locator("#faults-on")).to_be_hidden()
    assert control.faults() == [] and control.http_faults() == []


def test_a_drop_fault_is_added_from_the_page(narrow, control):
    """What a client's retry of a create must survive: the call made, its answer lost."""
    panel(narrow, "Faults")
    narrow.locator("#http-provider").select_option("ses")
    narrow.locator("#http-status").select_option("")
    narrow.locator("#http-latency").fill("")  # what an earlier test left in the form
    narrow.locator("#http-count").fill("")
    narrow.get_by_label("Drop the connection").select_option("reset after carrying the call out")
    narrow.get_by_role("button", name="Add HTTP fault").click()
    expect(narrow.locator("#faults")).to_contain_text(
        "HTTP: ses every operation, carries the call out, then resets the connection"
    )
    (fault,) = control.http_faults()
    assert fault["reset_after"] is True and fault["status"] is None and "abort_after" not in fault
    control.clear_http_faults()


def test_the_dns_fault_delay_is_asked_for_a_delay_fault_alone(narrow, control):
    """A delay left in the form went with a servfail, which the API refused; a delay fault with
    none was refused in the API's words ("delay_ms: a delay fault needs one")."""
    panel(narrow, "Faults")
    delay = narrow.get_by_label("Delay ms")
    expect(delay).to_be_disabled()  # servfail, the first kind
    narrow.get_by_label("Kind").select_option("delay")
    narrow.get_by_role("button", name="Add DNS fault").click()
    expect(said(narrow)).to_contain_text("Not sent: Delay ms: ")  # the browser's reason
    delay.fill("50")
    narrow.get_by_label("Kind").select_option("servfail")
    expect(delay).to_be_disabled()
    narrow.get_by_role("button", name="Add DNS fault").click()
    expect(narrow.locator("#faults")).to_contain_text("DNS: servfail for *, until cleared")
    (fault,) = control.faults()
    assert fault["kind"] == "servfail" and not fault.get("delay_ms")
    control.clear_faults()


def test_one_fault_is_removed_by_its_button_and_the_others_stay(narrow, control):
    """On a shared sandbox, "Clear" removed a teammate's faults with one's own."""
    panel(narrow, "Faults")
    kept = control.add_http_fault("mailgun", status=503)
    gone = control.add_http_fault("ses", reset=True, count=1)
    dns = control.add_fault("gone.example", "servfail")
    expect(narrow.locator("#faults")).to_contain_text("HTTP: ses every operation, resets the")
    narrow.get_by_role("button", name=f"Remove HTTP fault {gone['id']}").click()
    expect(narrow.locator("#faults")).not_to_contain_text("resets the connection")
    assert [f["id"] for f in control.http_faults()] == [kept["id"]]
    narrow.get_by_role("button", name=f"Remove DNS fault {dns['id']}").click()
    expect(narrow.locator("#faults")).not_to_contain_text("servfail for gone.example")
    assert control.faults() == []
    expect(said(narrow)).to_contain_text(f"Removed DNS fault {dns['id']}.")
    control.clear_http_faults()


def test_a_fault_the_control_api_refuses_shows_its_reason(narrow, control):
    panel(narrow, "Faults")
    narrow.get_by_label("DNS fault for").fill("bad..name")
    narrow.get_by_role("button", name="Add DNS fault").click()
    expect(said(narrow)).to_contain_text("Failed: ")
    assert control.faults() == []


def test_a_providers_settings_change_from_the_page(narrow, control):
    panel(narrow, "Settings")
    narrow.locator("#settings-provider").select_option("monite")
    before = control.settings("monite")
    name = next(iter(before))
    field = narrow.locator(f"#setting-{name}")
    expect(field).to_have_value(str(before[name]).removesuffix(".0"))
    field.fill("42")
    narrow.get_by_role("button", name="Save settings").click()
    expect(said(narrow)).to_have_text(f"Saved monite's settings: {name} = 42.")
    assert control.settings("monite") == before | {name: 42}
    field.fill("")  # an emptied field was saved as 0
    narrow.get_by_role("button", name="Save settings").click()
    expect(said(narrow)).to_have_text(f"Failed: {name}: give a number (it was left empty)")
    assert control.settings("monite") == before | {name: 42}
    field.fill("42")  # as saved, and left: no longer edited, so the panel follows the sandbox
    field.blur()
    control.reset()  # settings back to their defaults: the open panel shows them
    expect(field).to_have_value(str(before[name]).removesuffix(".0"))


def test_zone_records_are_removed_one_value_at_a_time_and_reset_forgets_all(narrow, control):
    domain = control.create_domain("monite", "mail.example.com")
    control.publish("monite", domain["id"])
    before = control.records("mail.example.com")
    spf = next(r for r in before if r["type"] == "TXT")
    narrow.get_by_role(
        "button", name=f"Remove TXT record {spf['value']} at mail.example.com"
    ).click()
    expect(said(narrow)).to_have_text("Removed 1 TXT record(s) at mail.example.com.")
    assert [r for r in before if r != spf] == control.records("mail.example.com")
    narrow.get_by_role("button", name="Reset sandbox").click()
    expect(said(narrow)).to_contain_text("no domains, records or faults; clock 2026-01-01T")
    expect(said(narrow)).to_contain_text("(frozen)")  # the mode the sandbox started in, said
    expect(narrow.locator("#domains")).to_contain_text("No domains yet")
    expect(narrow.locator("#zone")).to_contain_text("The zone is empty")
    assert control.domains() == [] and control.records() == []


def test_a_txt_record_of_several_strings_is_shown_and_removed_as_a_zone_file_writes_it(
    narrow, control
):
    """It showed as "onetwo" and its Remove button removed nothing; a value holding quotes of
    its own is removed too."""
    control.add_record("q.example.com", "TXT", '"one" "two"')  # two strings
    control.add_record("q.example.com", "TXT", '"\\"x\\""')  # the string "x", quotes and all
    zone = narrow.locator("#zone")
    expect(zone).to_contain_text('"one" "two"')
    for value in ('"one" "two"', '"x"'):
        zone.get_by_role("button", name=f"Remove TXT record {value} at q.example.com").click()
        expect(said(narrow)).to_have_text("Removed 1 TXT record(s) at q.example.com.")
    assert control.records("q.example.com") == []


def test_the_page_shows_text_from_the_api_as_text(narrow, control):
    control.add_record("x.example.com", "TXT", '<img src=x onerror="window.owned=1">')
    expect(narrow.locator("#zone")).to_contain_text('<img src=x onerror="window.owned=1">')
    assert narrow.evaluate("window.owned") is None
    assert narrow.locator("#zone img").count() == 0


def test_text_that_would_mislead_or_overrun_the_page_is_shown_plainly(page, urls, control):
    """U+202E showed a record's "include:malgun.com ~all" as "include:malgun.com lla~"
    reversed; a 60,000-character path made its entry of recent calls thousands of pixels tall;
    a 253-character name widened its records' table past the window."""
    control.add_record("bidi.example.com", "TXT", "v=spf1 include:\u202emoc.nuglam ~all")
    expect(page.locator("#zone")).to_contain_text("v=spf1 include:\\u202emoc.nuglam ~all")
    key = {"Authorization": "Bearer as_key"}
    assert httpx.get(f"{urls['autosend']}/domains/{'Z' * 60_000}", headers=key).status_code == 400
    calls = page.locator("#requests")
    expect(calls).to_contain_text("ZZZ… (60021 characters) → 400")
    assert calls.bounding_box()["height"] < 400
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])
    control.create_domain("autosend", name)
    table = open_details(page, name, "autosend").locator("table.records")
    assert table.bounding_box()["width"] <= page.viewport_size["width"]


def test_the_new_domain_panel_works_from_the_keyboard_alone(narrow, control):
    narrow.locator("summary", has_text="New domain").focus()
    narrow.keyboard.press("Enter")
    narrow.keyboard.press("Tab")  # the provider
    narrow.keyboard.press("Tab")  # the name
    narrow.keyboard.type("keys.example.com")
    narrow.keyboard.press("Enter")
    expect(said(narrow)).to_contain_text("Created keys.example.com")
    assert [d["name"] for d in control.domains()] == ["keys.example.com"]


def test_the_page_reconnects_to_a_restarted_sandbox_and_shows_its_world(browser):
    tab = browser.new_page()  # a window of its own, on a sandbox of its own
    port = free_port()
    first = SandboxServer(Sandbox(seed=1), port=port).start()
    tab.goto(f"{first.url}/_sandbox/ui")
    expect(tab.locator("#live")).to_contain_text("Live")
    first.stop()
    expect(tab.locator("#live")).to_contain_text("✗ Disconnected")
    second = SandboxServer(Sandbox(seed=1), port=port).start()
    try:
        ControlClient(second.url).create_domain("mailgun", "back.example.com")
        expect(row(tab, "back.example.com")).to_be_visible()
        expect(tab.locator("#live")).to_contain_text("● Live")
    finally:
        second.stop()
        tab.close()
