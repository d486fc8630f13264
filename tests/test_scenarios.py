"""Scenario files: bundled worlds load, round-trip byte for byte, and bad files change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.client import ControlError
from tests.test_serve import Served, serve_refused

SCENARIOS = Path(__file__).parent.parent / "scenarios"
BUNDLED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def body(path: Path) -> str:
    """The scenario without its header comment, as an export prints it."""
    return "".join(line for line in path.read_text().splitlines(True) if not line.startswith("#"))


def test_every_bundled_scenario_is_there():
    assert set(BUNDLED) >= {
        "all-verified",
        "dkim-missing",
        "spf-doubled",
        "propagation",
        "dns-outage",
        "every-state",
    }


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_scenario_loads_and_exports_the_same_bytes(control, name):
    text = (SCENARIOS / f"{name}.yaml").read_text()
    loaded = control.load_scenario(text)
    assert loaded["loaded"] is True and loaded["domains"] >= 4
    exported = control.export_scenario()
    assert exported == body(SCENARIOS / f"{name}.yaml")
    control.load_scenario(exported)
    assert control.export_scenario() == exported


def test_every_state_scenario_holds_each_status_word_of_each_provider(control):
    control.load_scenario((SCENARIOS / "every-state.yaml").read_text())
    for provider in ("monite", "autosend", "scaleway", "vortex"):
        domains = control.domains(provider)
        assert {d["status"] for d in domains} == set(domains[0]["statuses"]), provider


def test_the_loaded_world_goes_on_living_propagation_lands_on_the_clock(control):
    control.load_scenario((SCENARIOS / "propagation.yaml").read_text())
    assert {d["status"] for d in control.domains("monite")} == {"waiting_to_be_verified"}
    control.advance(3600)  # records appear after 30 minutes; the re-checks find them
    assert {d["status"] for d in control.domains("monite")} == {"verified"}
    assert {d["status"] for d in control.domains("autosend")} == {"VERIFIED"}


def test_the_dns_outage_ends_when_the_fault_is_cleared(control):
    control.load_scenario((SCENARIOS / "dns-outage.yaml").read_text())
    [domain] = control.domains("monite")
    assert {r["result"]["outcome"] for r in domain["records"]} == {"temporary_failure"}
    control.clear_faults()
    assert control.verify("monite", domain["id"])["status"] == "verified"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("type: MX", "type: MXX"),
            "domains[0] (monite verified.monite.example): unknown type 'MXX'",
        ),
        (
            ("provider: autosend", "provider: nope"),
            "domains[1] (nope verified.autosend.example): unknown provider",
        ),
        (("frozen: true", "frozen: [oops"), "not valid YAML"),
        (("seed: 2026", "seed: many"), "seed:"),
    ],
)
def test_a_bad_scenario_names_the_entry_and_changes_nothing(control, change, message):
    control.add_record("kept.example.com", "TXT", "still here")
    before = control.export_scenario()
    text = (SCENARIOS / "all-verified.yaml").read_text().replace(*change, 1)
    with pytest.raises(ControlError) as error:
        control.load_scenario(text)
    assert error.value.status == 400
    assert message in str(error.value)
    assert control.export_scenario() == before


def test_a_bad_dns_record_is_named_by_its_index(control):
    text = (SCENARIOS / "all-verified.yaml").read_text()
    broken = text.replace("value: 10 mxa.eu.mailgun.org", "value: ten mxa.eu.mailgun.org", 1)
    with pytest.raises(ControlError, match=r"dns.records\[\d+\] \(verified.monite.example\)"):
        control.load_scenario(broken)


def test_cli_exports_and_loads_scenario_files(server, control, tmp_path, capsys):
    control.load_scenario((SCENARIOS / "dkim-missing.yaml").read_text())
    out = tmp_path / "world.yaml"
    assert main(["scenario", "export", str(out), "--url", server.url]) == 0
    control.reset()
    assert control.domains() == []
    assert main(["scenario", "load", str(out), "--url", server.url]) == 0
    assert "loaded" in capsys.readouterr().out
    assert control.export_scenario() == out.read_text()
    assert main(["scenario", "load", str(tmp_path / "missing.yaml"), "--url", server.url]) == 2


def test_serve_starts_in_a_scenario_world():
    served = Served("--scenario", str(SCENARIOS / "all-verified.yaml"))
    try:
        from sandbox.client import ControlClient

        control = ControlClient(served.urls["control"].removesuffix("/_sandbox"))
        statuses = {d["provider"]: d["status"] for d in control.domains()}
        assert statuses["monite"] == "verified" and statuses["scaleway"] == "ready"
        assert control.clock() == {"now": "2026-01-05T09:00:00Z", "frozen": True}
        control.close()
    finally:
        served.stop()


def test_serve_refuses_a_bad_scenario_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains:\n  - provider: nope\n")
    result = serve_refused("--port", "0", "--dns-port", "0", "--scenario", str(bad))
    assert result.returncode == 2
    assert "domains[0]" in result.stderr and "unknown provider 'nope'" in result.stderr
