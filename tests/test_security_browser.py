"""A web page of another origin, open in the same browser, tries to drive the sandbox: headless
Chromium (Debian's, driven by Playwright, as tests/test_dashboard_browser.py) loads attack
pages from a server on another port, and from a name rebound to 127.0.0.1 (DNS rebinding).
Nothing they send changes the world; the dashboard keeps working."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright  # noqa: E402, I001  (after the skip)

from .helpers import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

REBOUND = "rebound.test"  # a name the attacker's DNS first gives its own address, then 127.0.0.1
AUTOSEND_KEY = {"Authorization": "Bearer as_browser_attack"}


@pytest.fixture(scope="module")
def attacker():
    """A web server on another port: `pages[path] = html` publishes an attack page."""
    pages: dict[str, str] = {}

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# Chromium's own guard for pages reaching loopback from a public address (Local/Private
# Network Access) would stop the rebinding page before the sandbox sees it. Firefox and Safari
# have none, nor does it cover a page first served from a private address: it is turned off
# here, so that what is tested is the sandbox's own refusal.
NO_BROWSER_GUARD = (
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
    "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"
)


@pytest.fixture(scope="module")
def browser():
    rebinding = f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rebinding, NO_BROWSER_GUARD]
        )
        context = chromium.new_context()
        yield context
        context.close()
        chromium.close()


@pytest.fixture
def world(urls, control):
    """A world worth wiping: a record and an AutoSend domain never verified."""
    control.add_record("kept.example.com", "TXT", "still here")
    created = httpx.post(
        urls["autosend"] + "/domains", json={"domain": "kept.example.com"}, headers=AUTOSEND_KEY
    )
    domain_id = created.json()["data"]["id"]

    def unchanged() -> bool:
        record = control.records("kept.example.com")
        domain = control.domain("autosend", domain_id)
        return bool(record) and domain["checks"] == 0 and len(control.domains()) == 1

    yield domain_id, unchanged
    assert unchanged()


def attack(browser, attacker, html: str):
    """Open the attacker's page (another port of 127.0.0.1) and wait for it to say it is done."""
    pages, origin = attacker
    pages["/attack.html"] = html
    page = browser.new_page()
    page.goto(f"{origin}/attack.html")
    return page


def script(body: str) -> str:
    """An attack page running `body`, then setting its title to "done: <what it learnt>"."""
    return f"""<!doctype html><title>attack</title><script>
    (async () => {{ let said = "";
      try {{ {body} }} catch (error) {{ said = "refused: " + error; }}
      document.title = "done: " + said; }})();
    </script>"""


def test_a_bodiless_no_cors_post_from_another_port_does_not_reset_the_sandbox(
    browser, attacker, world, server
):
    page = attack(
        browser,
        attacker,
        script(f'await fetch("{server.url}/_sandbox/reset", {{method: "POST", mode: "no-cors"}});'),
    )
    expect(page).to_have_title("done: ", timeout=WAIT_MS)
    page.close()


def test_a_json_post_from_another_port_is_stopped_by_the_browser(browser, attacker, world, server):
    body = f"""await fetch("{server.url}/_sandbox/reset", {{method: "POST",
        headers: {{"Content-Type": "application/json"}}, body: "{{}}"}});"""
    page = attack(browser, attacker, script(body))
    expect(page).to_have_title("done: refused: TypeError: Failed to fetch", timeout=WAIT_MS)
    page.close()


@pytest.mark.parametrize("enctype", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_form_posted_from_another_port_changes_nothing(browser, attacker, world, server, enctype):
    domain_id, _ = world
    targets = [
        "/_sandbox/reset",  # a text/plain form can spell a JSON body: {"seed": 7, "x": "="}
        f"/_sandbox/domains/autosend/{domain_id}/verify",  # a call that takes no body at all
        "/_sandbox/dns/faults",
    ]
    for path in targets:
        form = f"""<!doctype html><form method="post" enctype="{enctype}"
            action="{server.url}{path}"><input name='{{"seed": 7, "x": "' value='"}}'></form>
            <script>document.forms[0].submit()</script>"""
        page = attack(browser, attacker, form)
        page.wait_for_url(f"{server.url}{path}", timeout=WAIT_MS)  # the form's answer, shown
        assert "refused" in page.content() or "takes JSON" in page.content()
        page.close()


def test_a_page_on_a_name_rebound_to_127_0_0_1_cannot_drive_the_control_api(browser, world, server):
    origin = f"http://{REBOUND}:{server.port}"  # same origin as the sandbox, seen from the page
    page = browser.new_page()
    body = f"""const answer = await fetch("{origin}/_sandbox/reset", {{method: "POST",
        headers: {{"Content-Type": "application/json"}}, body: "{{}}"}});
        said = String(answer.status);"""
    # The attacker's server first answered for the name: its page is served from the origin.
    attack_page = script(body)
    page.route(
        f"{origin}/attack.html",
        lambda route: route.fulfill(body=attack_page, content_type="text/html"),
    )
    page.goto(f"{origin}/attack.html")
    expect(page).to_have_title("done: 403", timeout=WAIT_MS)
    refused = page.goto(f"{origin}/_sandbox/ui")
    assert refused.status == 403
    page.close()


def test_the_dashboard_opened_from_a_link_on_another_site_keeps_working(
    browser, attacker, server, control
):
    pages, origin = attacker
    pages["/links.html"] = f'<!doctype html><a href="{server.url}/_sandbox/ui?poll=200">dash</a>'
    page = browser.new_page()
    page.goto(f"{origin}/links.html")
    page.get_by_role("link", name="dash").click()
    expect(page.locator("#live")).to_contain_text("Live", timeout=WAIT_MS)
    page.locator("#freeze").click()  # its own calls come from its own origin: they are served
    expect(page.locator("#clock-mode")).to_have_text("(running)", timeout=WAIT_MS)
    assert control.clock()["frozen"] is False
    page.close()
