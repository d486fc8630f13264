"""Worlds an earlier domainsandbox wrote load in this one: each client, with the credential it
used, sees its own domains again; a world written by a newer one is refused in one line."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
import yaml

from sandbox.client import ControlError

from .helpers import (
    PARTNER_A,
    VERSION,
    Served,
    autosend,
    control_of,
    partner_headers,
    serve_refused,
)
from .test_durable import state_file

DATA = Path(__file__).parent / "data"
OLD_DB, OLD_YAML = DATA / "format1-world.db", DATA / "format1-world.yaml"
# The credentials tests/data/make_format1_world.py used with the 7ab896f sandbox
AUTOSEND_KEY, AUTOSEND_OTHER_KEY = "as_test_project_key", "as_other_project_key"
SCALEWAY_SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"
VORTEX_KEY = "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
OLD_MONITE_TOKEN = next(iter(yaml.safe_load(OLD_YAML.read_text())["providers"]["monite"]["tokens"]))
SECRETS = (AUTOSEND_KEY, AUTOSEND_OTHER_KEY, SCALEWAY_SECRET, VORTEX_KEY, OLD_MONITE_TOKEN)


def names(answer: httpx.Response, *path: str) -> list[str]:
    assert answer.status_code == 200, answer.text
    found = answer.json()
    for key in path:
        found = found[key]
    return found


def assert_each_client_sees_its_own_domains(served: Served) -> None:
    with autosend(served, AUTOSEND_KEY) as api:
        domains = names(api.get("/domains"), "data", "domains")
        assert [d["domainName"] for d in domains] == ["autosend.example.com"]
    with autosend(served, AUTOSEND_OTHER_KEY) as api:
        domains = names(api.get("/domains"), "data", "domains")
        assert [d["domainName"] for d in domains] == ["other.example.com"]
    with httpx.Client(
        base_url=served.urls["scaleway"] + "/mailbox/v1alpha1",
        headers={"X-Auth-Token": SCALEWAY_SECRET.upper()},  # Scaleway's keys ignore case
    ) as scaleway:
        domains = names(scaleway.get("/domains"), "domains")
        assert [d["name"] for d in domains] == ["scaleway.example.com"]
        assert scaleway.get(f"/domains/{domains[0]['id']}").status_code == 200  # was a 403
    vortex = f"{served.urls['vortex']}/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains"
    answer = httpx.get(vortex, headers={"x-api-key": VORTEX_KEY})
    assert [d["domain"] for d in names(answer)] == ["vortex.example.com"]
    # a new domain of the same key: the same organization and creator as its first one
    made = httpx.post(vortex, headers={"x-api-key": VORTEX_KEY}, json={"domain": "n.example.com"})
    assert made.status_code == 201, made.text
    first = names(answer)[0]
    assert (made.json()["organizationId"], made.json()["creatorId"]) == (
        first["organizationId"],
        first["creatorId"],
    )
    monite = served.urls["monite"]
    old = httpx.get(
        f"{monite}/mailbox_domains",
        headers=VERSION | {"Authorization": f"Bearer {OLD_MONITE_TOKEN}"},
    )
    assert old.status_code == 401  # said at restore: the client logs in again
    answer = httpx.get(f"{monite}/mailbox_domains", headers=partner_headers(monite, PARTNER_A))
    assert [d["domain"] for d in names(answer, "data")] == ["monite.example.com"]


def saved_body(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT body FROM world").fetchone()[0]
    finally:
        db.close()


def test_a_state_file_of_the_first_serve_state_is_upgraded_and_each_client_sees_its_domains(
    tmp_path,
):
    state = tmp_path / "world.db"
    shutil.copy(OLD_DB, state)
    served = Served("--state", str(state))
    try:
        assert_each_client_sees_its_own_domains(served)
        said = "\n".join(served.banner)
        assert re.search(
            rf"^domainsandbox: restored the world saved in {re.escape(str(state))} at "
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, 5 domains$",
            said,
            re.M,
        ), said
        assert (
            f"domainsandbox: {state} was written by an earlier domainsandbox (format 1): upgraded "
            "to format 3; the owners of 4 domains are kept as owner ids, not credentials"
        ) in served.banner, said
        assert (
            "domainsandbox: 1 Monite access token issued before the upgrade no longer works: "
            "Monite clients get a new one with their client credentials (POST /auth/token)"
        ) in served.banner, said
        exported = control_of(served).export_scenario()
    finally:
        assert served.stop()[0] == 0
    body = saved_body(state)
    assert '"format":3' in body.replace(" ", "")
    for secret in (*SECRETS, SCALEWAY_SECRET.upper()):
        assert secret not in body and secret not in exported, secret
    assert '"organizations"' not in body and '"tokens"' not in body

    again = Served("--state", str(state))  # upgraded once: nothing more to say
    try:
        assert not any("earlier domainsandbox" in line for line in again.banner), again.banner
        with autosend(again, AUTOSEND_KEY) as api:
            assert len(names(api.get("/domains"), "data", "domains")) == 1
    finally:
        again.stop()


def test_a_scenario_exported_before_owner_ids_loads_with_each_client_seeing_its_domains():
    served = Served("--scenario", str(OLD_YAML))
    try:
        assert_each_client_sees_its_own_domains(served)
        assert (
            f"domainsandbox: the scenario {OLD_YAML} was written by an earlier domainsandbox "
            "(format 1): upgraded to format 3; the owners of 4 domains are kept as owner ids, "
            "not credentials"
        ) in served.banner, served.banner
        control = control_of(served)
        control.load_scenario(OLD_YAML.read_text())  # the control API's load upgrades it too
        assert all(
            d["owner"].startswith("owner-") for d in control.domains() if d["provider"] != "monite"
        )
        assert_each_client_sees_its_own_domains(served)
    finally:
        served.stop()


FORMAT_2_YAML = DATA / "format2-world.yaml"


def test_a_scenario_of_format_2_loads_as_it_was_and_keeps_the_places_deleted_from_then_on(
    urls, control
):
    """Format 2 kept no deleted domain's place: its domains load as they were, a cursor naming
    the domain deleted before it was written is refused as unknown (as a load did then), and
    domains deleted after the load keep theirs in the next export."""
    world = yaml.safe_load(FORMAT_2_YAML.read_text())
    assert world["format"] == 2 and "deleted_places" not in world
    control.load_scenario(FORMAT_2_YAML.read_text())
    resend = httpx.Client(
        base_url=urls["resend"], headers={"Authorization": "Bearer re_format2_team"}, timeout=10
    )
    with resend:
        listed = names(resend.get("/domains"), "data")
        assert [d["name"] for d in listed] == ["r2.example.com", "r0.example.com"]
        newest, oldest = (d["id"] for d in listed)
        assert resend.get("/domains", params={"after": UNKNOWN_TO_IT}).status_code == 422
        assert resend.delete(f"/domains/{newest}").status_code == 200
        exported = yaml.safe_load(control.export_scenario())
        assert exported["format"] == 3
        assert [(p["id"], p["after"]) for p in exported["deleted_places"]] == [(newest, 1)]
        control.load_scenario(yaml.safe_dump(exported))
        older = names(resend.get("/domains", params={"after": newest}), "data")
        assert [d["id"] for d in older] == [oldest]


# the Resend domain (r1) deleted before tests/data/format2-world.yaml was written
UNKNOWN_TO_IT = "f8c4ae48-ab6f-4844-9ac7-14e993575973"

NEWER = "written by a newer domainsandbox (format 4); this one reads formats 1 to 3: upgrade domainsandbox"


def test_a_state_file_of_a_newer_format_is_refused_in_one_line_and_left_as_it_was(tmp_path):
    world = {"format": 4, "seed": 1, "what_format_4_adds": {"x": 1}, "http_fault_draws": 2}
    path = state_file(tmp_path / "newer.db", json.dumps(world))
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")  # as serve leaves its files
    db.close()
    before = Path(path).read_bytes()
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", path)
    assert result.returncode == 2
    assert result.stderr == f"domainsandbox: {path}: {NEWER}\n"
    assert Path(path).read_bytes() == before


def test_a_scenario_of_a_newer_format_is_refused_in_one_line(control):
    before = control.export_scenario()
    with pytest.raises(ControlError) as error:
        control.load_scenario("format: 4\nseed: 5\nsomething_new: true\n")
    assert error.value.status == 400
    assert str(error.value).endswith(f"scenario: {NEWER}"), str(error.value)
    assert control.export_scenario() == before


def test_a_scenario_sent_as_json_loads_in_this_format_and_is_refused_in_a_newer_one(urls, control):
    """The control document still said `format: enum [1]`: this version's own JSON export came
    back "format: 2 is not one of 1", and a newer one did not say it was newer."""
    url = urls["control"] + "/scenario"
    exported = httpx.get(url, params={"format": "json"}).json()
    loaded = httpx.post(url, json=exported)
    assert loaded.status_code == 200, loaded.text
    newer = httpx.post(url, json=exported | {"format": 4})
    assert newer.status_code == 400
    assert newer.json()["error"]["message"] == f"scenario: {NEWER}"
