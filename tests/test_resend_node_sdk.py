"""Resend's official Node.js SDK (`resend` on npm), unchanged, against the sandbox: pointed at it
with RESEND_BASE_URL, as a user points it anywhere.

Each call runs `node tests/node/resend_call.mjs METHOD ARGS...`, which prints the SDK's answer:
`{data, error}`, since the Node SDK never throws. The SDK is installed from npm into
tests/node/node_modules on first use; without Node.js and npm the tests are skipped (`.ci/run`
installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

NODE_DIR = Path(__file__).parent / "node"
KEY = "re_node_sdk_key"


@pytest.fixture(scope="module")
def node():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.skip("Node.js and npm are not installed (.ci/run installs them)")
    if not (NODE_DIR / "node_modules" / "resend").is_dir():
        npm_install = [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"]
        done = subprocess.run(
            npm_install, cwd=NODE_DIR, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"npm could not install the Resend SDK:\n{done.stderr}"
    return node


@pytest.fixture
def domains(node, urls):
    """`domains("get", id)`: resend.domains.get(id) through the Node SDK; returns {data, error}."""
    env = os.environ | {"RESEND_BASE_URL": urls["resend"], "RESEND_API_KEY": KEY}

    def call(method: str, *args) -> dict:
        argv = [node, str(NODE_DIR / "resend_call.mjs"), method, *map(json.dumps, args)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return call


def test_the_node_sdk_creates_publishes_verifies_lists_updates_and_removes_a_domain(
    domains, control
):
    control.settings("resend", verify_delay_seconds=30)  # a check that takes a while, as Resend's

    created = domains("create", {"name": "example.com", "region": "us-east-1"})
    assert created["error"] is None
    domain = created["data"]
    assert domain["status"] == "not_started"
    kinds = [(r["record"], r["type"]) for r in domain["records"]]
    assert kinds == [("SPF", "MX"), ("SPF", "TXT")] + [("DKIM", "CNAME")] * 3

    control.publish("resend", domain["id"])  # the records, in the sandbox's real DNS
    # verify and remove send Content-Type: application/json with no body; get and list too
    assert domains("verify", domain["id"]) == {
        "data": {"object": "domain", "id": domain["id"]},
        "error": None,
    }
    assert domains("get", domain["id"])["data"]["status"] == "pending"

    control.advance(30)  # the check lands on the sandbox clock
    verified = domains("get", domain["id"])["data"]
    assert verified["status"] == "verified"
    assert {r["status"] for r in verified["records"]} == {"verified"}

    page = domains("list", {"limit": 10})["data"]
    assert (page["object"], page["has_more"]) == ("list", False)
    assert [d["id"] for d in page["data"]] == [domain["id"]]

    # the SDK's camelCase options become the API's snake_case fields
    updated = domains("update", {"id": domain["id"], "openTracking": True, "tls": "enforced"})
    assert updated == {"data": {"object": "domain", "id": domain["id"]}, "error": None}
    assert domains("get", domain["id"])["data"]["open_tracking"] is True

    removed = domains("remove", domain["id"])["data"]
    assert (removed["id"], removed["deleted"]) == (domain["id"], True)
    assert domains("get", domain["id"]) == {
        "data": None,
        "error": {"statusCode": 404, "message": "Domain not found", "name": "not_found"},
    }


def test_the_node_sdk_reads_a_refusal_as_its_error_object(domains):
    refused = domains("create", {"name": "not a domain", "region": "us-east-1"})
    assert refused["data"] is None
    assert (refused["error"]["statusCode"], refused["error"]["name"]) == (422, "validation_error")
    assert "`name`" in refused["error"]["message"]
