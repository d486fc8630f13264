"""The dashboard of a sandbox served with a control token, in headless Chromium: opened once with
?token=..., it sends the token on every control call and takes it out of the address bar."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright  # noqa: E402, I001 (after the skip)

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient
from sandbox.engine.clock import Clock

from .conftest import START
from .helpers import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

TOKEN = "dashboard-token"


@pytest.fixture(scope="module")
def guarded():
    sandbox = Sandbox(seed=1, clock=Clock(start=START, frozen=True))
    sandbox.control_token = TOKEN
    with SandboxServer(sandbox) as running:
        yield running


@pytest.fixture
def context():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context()
        yield context
        chromium.close()


def test_the_dashboard_opened_with_the_token_drives_a_guarded_sandbox(guarded, context):
    tab = context.new_page()
    tab.goto(f"{guarded.url}/_sandbox/ui?poll=200&token={TOKEN}")
    expect(tab.locator("#clock-now")).to_have_text(START, timeout=WAIT_MS)
    assert "token" not in tab.url  # not left in the history or shared by copying the address

    tab.click("#advance-60")
    expect(tab.locator("#clock-now")).to_have_text("2026-01-01T09:01:00Z", timeout=WAIT_MS)
    assert ControlClient(guarded.url, token=TOKEN).clock()["now"] == "2026-01-01T09:01:00Z"

    tab.reload()  # the token stays with the tab
    expect(tab.locator("#clock-now")).to_have_text("2026-01-01T09:01:00Z", timeout=WAIT_MS)


def test_the_dashboard_without_the_token_shows_the_refusal(guarded, context):
    tab = context.new_page()
    tab.goto(f"{guarded.url}/_sandbox/ui?poll=200")
    expect(tab.locator("#live")).to_contain_text("needs Authorization: Bearer", timeout=WAIT_MS)
    expect(tab.locator("#live")).to_contain_text("open this page once as /_sandbox/ui?token=TOKEN")
    expect(tab.locator("#clock-now")).to_have_text("…")
