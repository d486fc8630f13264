"""Remake the dashboard's screenshots in docs/: `python docs/screenshots.py`.

Serves a sandbox in this process, loads the bundled `every-state` scenario from the page (as a
presenter would), opens one domain's details in place and photographs the page in headless
Chromium (Debian's, driven by Playwright) at 1440 and 1024 px wide: docs/dashboard.png and
docs/dashboard-1024.png.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox, SandboxServer  # noqa: E402
from sandbox.engine.clock import Clock  # noqa: E402

CHROMIUM = os.environ.get("DOMAINSANDBOX_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SHOTS = {1440: ROOT / "docs" / "dashboard.png", 1024: ROOT / "docs" / "dashboard-1024.png"}
PROVIDER, OPEN = "vortex", "failed.vortex.example"  # the domains shown, the one open
HEIGHT = 1100  # one screen of a projector-sized window: what the room sees first


def shoot(page, path: Path) -> None:
    """Load every-state from the page, keep one provider's domains, open one, photograph the
    first screen."""
    page.get_by_text("▶ Scenario or demo").click()
    page.get_by_label("Bundled scenario").select_option("every-state")
    page.get_by_role("button", name="Load scenario").click()
    expect(page.get_by_role("status")).to_contain_text("Loaded scenario every-state")
    page.get_by_text("▶ Scenario or demo").click()  # closed again: the overview is the subject
    page.locator("#filter-provider").select_option(PROVIDER)
    page.get_by_role("button", name=f"Show details of {OPEN} ({PROVIDER})").click()
    expect(page.locator("article.domain")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path)


def main() -> None:
    sandbox = Sandbox(seed=2026, clock=Clock(start="2026-01-05T09:00:00Z", frozen=True))
    with SandboxServer(sandbox) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width, path in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": HEIGHT})
            page.goto(f"{server.url}/_sandbox/ui")
            expect(page.locator("#live")).to_contain_text("Live")
            shoot(page, path)
            print(f"wrote {path.relative_to(ROOT)}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
