"""The dashboard is served by the sandbox itself, offline, and its assets load over real HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

from sandbox.client import ControlError

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

UI = "/_sandbox/ui"
ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture
def page_html(urls) -> str:
    response = httpx.get(urls["server"] + UI)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_dashboard_page_is_served_at_sandbox_ui_with_and_without_trailing_slash(urls, page_html):
    again = httpx.get(urls["server"] + UI + "/")
    assert again.status_code == 200 and again.text == page_html
    assert "<title>domainsandbox dashboard</title>" in page_html


def test_every_asset_the_page_names_is_served_by_the_sandbox_itself(urls, page_html):
    assets = [a for a in ASSET.findall(page_html) if not a.startswith(("#", "data:"))]
    assert sorted(assets) == [f"{UI}/static/dashboard.css", f"{UI}/static/dashboard.js"]
    types = {".css": "text/css", ".js": "text/javascript"}
    for asset in assets:
        response = httpx.get(urls["server"] + asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(types[asset[asset.rfind(".") :]])


def test_page_script_and_style_reach_nothing_outside_the_sandbox(urls, page_html):
    files = [page_html] + [
        httpx.get(f"{urls['server']}{UI}/static/{name}").text
        for name in ("dashboard.js", "dashboard.css")
    ]
    for text in files:
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text, re.I)


def test_unknown_dashboard_file_is_a_json_404_in_the_control_shape(urls):
    response = httpx.get(f"{urls['server']}{UI}/static/nope.js")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "message": f"no dashboard file at {UI}/static/nope.js"}
    }


def test_removing_one_value_keeps_the_other_values_at_that_name(control):
    control.add_record("example.com", "TXT", ["v=spf1 -all", "site-verification=abc"])
    control.add_record("example.com", "MX", "10 mx.example.net")
    assert control.remove_records("example.com", "TXT", "site-verification=abc") == 1
    left = [(r["type"], r["value"]) for r in control.records("example.com")]
    assert sorted(left) == [("MX", "10 mx.example.net"), ("TXT", "v=spf1 -all")]


def test_removing_a_value_without_its_type_is_refused_with_a_reason(control):
    control.add_record("example.com", "TXT", "v=spf1 -all")
    with pytest.raises(ControlError) as error:
        control.remove_records("example.com", value="v=spf1 -all")
    assert error.value.status == 400
    assert "give the record type too" in str(error.value)
    assert len(control.records("example.com")) == 1
