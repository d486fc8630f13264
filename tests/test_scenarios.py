"""Scenario files: bundled worlds load, round-trip byte for byte, and bad files change nothing."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Required, get_origin, get_type_hints

import httpx
import pytest
import yaml
from jsonschema import Draft7Validator

from sandbox import scenario
from sandbox.cli import main
from sandbox.client import ControlClient, ControlError
from sandbox.driver import Driver
from sandbox.providers import PROVIDERS

from .helpers import PROVIDER_NAMES, PROVIDERS_BY_NAME, SCENARIOS, Served, serve_refused

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers

BUNDLED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
SCHEMA = Path(__file__).parent.parent / "sandbox" / "schemas" / "scenario.schema.json"


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


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_every_state_scenario_holds_each_status_word_of_each_provider(control, provider):
    control.load_scenario((SCENARIOS / "every-state.yaml").read_text())
    domains = control.domains(provider)
    assert domains, f"no {provider} domain in every-state.yaml: run scenarios/build.py"
    unreachable = set(PROVIDERS_BY_NAME[provider].kit.unreachable)  # by no client's steps
    assert {d["status"] for d in domains} == set(domains[0]["statuses"]) - unreachable


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
            "domains[0] (monite verified.monite.example): records[3].type: 'MXX' is not one of A,",
        ),
        (
            ("provider: autosend", "provider: nope"),
            "domains[1] (nope verified.autosend.example): provider: 'nope' is not one of autosend,",
        ),
        # YAML's own report is four lines: said in one, where the parser stopped
        (("frozen: true", "frozen: [oops"), "not valid YAML: line "),
        # a date that is none was said to be "a number of more than 4300 digits"; dates and
        # instants are read as the text written
        (("seed: 2026", "seed: 2026-13-45"), "seed: '2026-13-45' is not of type 'integer'"),
        (("seed: 2026", "seed: many"), "seed:"),
        # JSON Schema counts 2.0 as an integer: the load then failed halfway, with a 500, and
        # left no domain behind
        (("ids_drawn: 33", "ids_drawn: 33\nhttp_fault_draws: 2.0"), "http_fault_draws: 2.0 is"),
        (("seed: 2026", "seed: 3.0"), "seed: 3.0 is not of type 'integer'"),
        (("ids_drawn: 33", "ids_drawn: 33.0"), "ids_drawn: 33.0 is not of type 'integer'"),
        # an entry without its name was labelled "(monite None)"
        (("name: verified.monite.example", "nam: x"), "domains[0] (monite): nam: unknown key"),
        # the last of a key written twice won, without a word
        (
            ("seed: 2026", "seed: 2026\nseed: 7"),
            "line 5, column 1: the key 'seed' is written twice",
        ),
        # a key a provider's state does not keep was dropped without a word
        (
            ("    issued: 1", "    isued: 1"),
            "providers.monite: 'isued' is not part of monite's state, which keeps issued, revoked",
        ),
        (("providers:\n", "providers:\n  ses: {quota: 5}\n"), "which keeps nothing (leave it out)"),
        # Python's words alone named neither the value nor what it should be
        (
            ("now: '2026-01-05T09:00:00Z'", "now: '2026-13-05T09:00:00Z'"),
            "clock.now: '2026-13-05T09:00:00Z' is not an ISO-8601 instant (month must be in 1..12)",
        ),
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


@pytest.mark.parametrize("drawn", ["", "ids_drawn: 0\n"], ids=["left out", "0"])
def test_a_create_never_replaces_a_domain_a_scenario_without_its_ids_drawn_loaded(control, drawn):
    """The next create drew the first id of the seed again, that of a domain the file holds, and
    replaced it without a word."""
    text = (SCENARIOS / "all-verified.yaml").read_text().replace("ids_drawn: 33\n", drawn, 1)
    control.load_scenario(text)
    before = {(d["provider"], d["id"]): d["name"] for d in control.domains()}
    for provider in PROVIDER_NAMES:
        if provider != "mailgun":  # its ids are its names
            control.create_domain(provider, f"another.{provider}.example")
    after = {(d["provider"], d["id"]): d["name"] for d in control.domains()}
    assert before.items() <= after.items()
    assert len(after) == len(before) + len(PROVIDER_NAMES) - 1


def test_a_file_that_is_no_text_is_said_in_one_line():
    """YAML's reader said it in two lines, the second "in "<byte string>", position 2"."""
    with pytest.raises(scenario.ScenarioError) as error:
        scenario.parse(b"seed: \xf9\x00\x81 binary")
    said = str(error.value)
    assert said.startswith("not valid YAML: ") and "\n" not in said and "line 1, column 7" in said


@pytest.mark.parametrize(
    "text, said",
    [
        (b"seed: 1\n# caf\xc3\xa9 caf\xe9\n", "line 2, column 11: byte 0xe9 is not UTF-8"),
        ("seed: 1\nids_drawn: \x07\n", "line 2, column 12: the character U+0007 may not be"),
    ],
    ids=["not UTF-8", "a control character"],
)
def test_text_the_reader_refuses_is_placed_by_line_and_column(text, said):
    """A byte offset ("position 20") left the writer counting bytes; an editor shows lines."""
    with pytest.raises(scenario.ScenarioError, match=re.escape(said)):
        scenario.parse(text)


def test_a_bad_dns_record_is_named_by_its_index(control):
    text = (SCENARIOS / "all-verified.yaml").read_text()
    broken = text.replace("value: 10 mxa.eu.mailgun.org", "value: ten mxa.eu.mailgun.org", 1)
    with pytest.raises(ControlError, match=r"dns.records\[\d+\] \(verified.monite.example\)"):
        control.load_scenario(broken)


def test_dns_records_take_a_zone_files_values_one_record_each(control):
    world = {
        "dns": {
            "records": [
                {"name": "example.com", "type": "MX", "values": ["10 mxa.example.net", "20 mxb.x"]},
                {"name": "example.com", "type": "TXT", "value": ["one", "two"]},  # one record
            ]
        }
    }
    control.load_scenario(yaml.safe_dump(world))
    records = [(r["type"], r["value"]) for r in control.records()]
    assert sorted(records) == [
        ("MX", "10 mxa.example.net"),
        ("MX", "20 mxb.x"),
        ("TXT", ["one", "two"]),
    ]
    exported = yaml.safe_load(control.export_scenario())["dns"]["records"]
    assert len(exported) == 3 and all("value" in r and "values" not in r for r in exported)

    both = {"name": "example.org", "type": "TXT", "value": "a", "values": ["b"]}
    with pytest.raises(ControlError, match=r"records\[0\] \(example.org\): give value or values"):
        control.load_scenario(yaml.safe_dump({"dns": {"records": [both]}}))
    neither = {"name": "example.org", "type": "TXT"}
    with pytest.raises(ControlError, match=r"\(example.org\): missing value or values$"):
        control.load_scenario(yaml.safe_dump({"dns": {"records": [neither]}}))
    bad = {"name": "example.org", "type": "MX", "values": ["10 mx.example.net", "ten mx"]}
    with pytest.raises(ControlError, match=r"dns.records\[0\] \(example.org\)"):
        control.load_scenario(yaml.safe_dump({"dns": {"records": [bad]}}))
    assert len(control.records()) == 3  # nothing changed


def test_record_types_load_in_any_letter_case_and_export_upper_case(control):
    """The schema's enum refused `txt`, which the CLI and fake_dns take."""
    world = yaml.safe_load((SCENARIOS / "all-verified.yaml").read_text())
    world["dns"]["records"][0]["type"] = world["dns"]["records"][0]["type"].lower()
    world["domains"][0]["records"][0]["type"] = world["domains"][0]["records"][0]["type"].title()
    control.load_scenario(yaml.safe_dump(world))
    exported = yaml.safe_load(control.export_scenario())
    assert all(r["type"].isupper() for r in exported["dns"]["records"])
    assert all(r["type"].isupper() for d in exported["domains"] for r in d["records"])

    world["dns"]["records"][0]["type"] = "soa"
    with pytest.raises(ControlError, match=r"type: 'soa' is not one of A, AAAA, .*, PTR, in any"):
        control.load_scenario(yaml.safe_dump(world))


# A provider's name as a person may write it, each naming one provider.
IN_ANY_CASE = {
    "monite": "Monite",
    "autosend": "AutoSend",
    "scaleway": "SCALEWAY",
    "vortex": "vOrTeX",
    "mailgun": "MailGun",
    "resend": "Resend",
    "ses": "SES",
}


def test_providers_load_in_any_letter_case_and_export_lower_case(control):
    """The CLI and the control API take `Monite` for monite; a scenario file refused it ("is
    not one of autosend, ..."). Every section naming a provider now reads it in lower case."""
    written = (SCENARIOS / "all-verified.yaml").read_text()
    world = yaml.safe_load(written)
    for section in ("settings", "providers"):
        world[section] = {IN_ANY_CASE[name]: v for name, v in world[section].items()}
    for entry in world["domains"]:
        entry["provider"] = IN_ANY_CASE[entry["provider"]]
    world["http_faults"] = [{"provider": "Monite", "status": 503, "count": 1}]
    world["credentials"] = {"SES": [{"key": "AKIASANDBOX000000000"}]}
    place = {"provider": "RESEND", "id": "gone", "owner": world["domains"][5]["owner"], "after": 1}
    world["deleted_places"] = [place]
    control.load_scenario(yaml.safe_dump(world, sort_keys=False))
    exported = yaml.safe_load(control.export_scenario())
    assert [d["provider"] for d in exported["domains"]] == list(IN_ANY_CASE)
    assert exported["http_faults"][0]["provider"] == "monite"
    assert list(exported["credentials"]) == ["ses"]
    assert exported["deleted_places"] == [place | {"provider": "resend"}]
    added = ("http_faults", "credentials", "deleted_places")
    same = yaml.safe_load(written) | {k: exported[k] for k in added}
    assert exported == same

    before = control.export_scenario()
    world["http_faults"][0]["provider"] = "Monit"
    with pytest.raises(ControlError) as refused:
        control.load_scenario(yaml.safe_dump(world))
    assert str(refused.value).endswith(
        "scenario: http_faults[0].provider: 'Monit' is not one of autosend, mailgun, monite, "
        "resend, scaleway, ses, vortex, in any letter case"
    )
    world["http_faults"] = []
    world["settings"]["monite"] = world["settings"]["Monite"]  # which one to keep: a guess
    with pytest.raises(ControlError, match="settings: 'Monite' and 'monite' both name monite; "):
        control.load_scenario(yaml.safe_dump(world, sort_keys=False))
    assert control.export_scenario() == before


def test_cli_exports_and_loads_scenario_files(server, control, tmp_path, capsys):
    control.load_scenario((SCENARIOS / "dkim-missing.yaml").read_text())
    out = tmp_path / "world.yaml"
    assert main(["scenario", "export", str(out), "--url", server.url]) == 0
    control.reset()
    assert control.domains() == []
    assert main(["scenario", "load", str(out), "--url", server.url]) == 0
    assert "loaded" in capsys.readouterr().out
    assert control.export_scenario() == out.read_text()


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_an_export_holding_registered_keys_is_written_owner_only(
    server, control, tmp_path, capsys, form
):
    control.register_credential("monite", "11111111-1111-4111-8111-111111111111", "TopSecret99")
    out = tmp_path / f"world.{form}"
    out.write_text("old")
    out.chmod(0o644)  # a file that was there: its mode is narrowed too
    json_flag = ["--json"] if form == "json" else []
    assert main(["scenario", "export", str(out), *json_flag, "--url", server.url]) == 0
    assert "(owner-only: it holds registered keys)" in capsys.readouterr().out
    assert "TopSecret99" in out.read_text() and out.stat().st_mode & 0o777 == 0o600
    control.clear_credentials()
    assert main(["scenario", "export", str(tmp_path / "plain.yaml"), "--url", server.url]) == 0
    assert "owner-only" not in capsys.readouterr().out
    assert main(["scenario", "load", str(tmp_path / "missing.yaml"), "--url", server.url]) == 2


def test_a_key_registered_twice_is_refused_naming_both_entries(control):
    """Two entries of one key, the second revoked, loaded as one of them without a word. A
    Scaleway secret key is one key in any letter case."""
    control.add_record("kept.example.com", "TXT", "still here")
    before = control.export_scenario()
    secret = "11111111-1111-4111-8111-111111111111"
    for first, second in ((secret, secret), (secret, secret.upper())):
        world = {"credentials": {"scaleway": [{"key": first}, {"key": second, "revoked": True}]}}
        with pytest.raises(ControlError) as error:
            control.load_scenario(yaml.safe_dump(world))
        assert error.value.status == 400
        said = f"credentials.scaleway[1]: key {second} is credentials.scaleway[0] already"
        assert said in str(error.value)
    assert control.export_scenario() == before


LONGEST_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters, DNS's most


@pytest.mark.parametrize("provider", ["resend", "scaleway", "vortex"])
def test_a_domain_whose_records_dns_cannot_hold_exports_and_loads_again(control, provider):
    control.create_domain(provider, LONGEST_NAME)  # its records' names pass 253 characters
    exported = control.export_scenario()
    control.reset()
    control.load_scenario(exported)
    assert [d["name"] for d in control.domains()] == [LONGEST_NAME]
    assert control.export_scenario() == exported


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_a_world_written_when_an_ip_address_was_taken_for_a_name_still_loads(control, provider):
    """Creates refuse `192.168.0.1` now; a state file or an export that holds one, made when
    they took it, must not stop `serve --state` from starting."""
    control.create_domain(provider, "old.example.com")
    written = json.dumps(control.export_scenario()).replace("old.example.com", "192.168.0.1")
    control.reset()
    control.load_scenario(json.loads(written))
    assert [d["name"] for d in control.domains()] == ["192.168.0.1"]


def test_txt_values_holding_quotes_export_and_load_as_they_are(control, resolver):
    """The control API reads a TXT value in quotes as a DNS host does; a saved world holds each
    value literally, so one that holds quotes itself comes back with them."""
    control.add_record("lit.example.com", "TXT", '"\\"x\\""')  # the string "x", quotes in it
    control.add_record("spf.example.com", "TXT", '"v=spf1 ~all"')  # the string v=spf1 ~all
    exported = control.export_scenario()
    control.reset()
    control.load_scenario(exported)
    assert control.export_scenario() == exported
    values = {r["name"]: r["value"] for r in control.records()}
    assert values["lit.example.com"] == '"x"' and values["spf.example.com"] == "v=spf1 ~all"
    (answer,) = resolver.resolve("lit.example.com", "TXT")
    assert answer.strings == (b'"x"',)


def test_text_yaml_reads_as_a_line_break_exports_and_loads_as_it_is(control, resolver):
    """NEL (U+0085) was written raw, and YAML reads it as a line break folded into a space."""
    control.add_record("nel.example.com", "TXT", "a\x85b")
    exported = control.export_scenario()
    assert "\\N" in exported  # escaped, in double quotes
    control.reset()
    control.load_scenario(exported)
    (answer,) = resolver.resolve("nel.example.com", "TXT")
    assert answer.strings == ("a\x85b".encode(),)


def test_serve_starts_in_a_scenario_world():
    served = Served("--scenario", str(SCENARIOS / "all-verified.yaml"))
    try:
        from sandbox.client import ControlClient

        control = ControlClient(served.urls["control"].removesuffix("/_sandbox"))
        statuses = {d["provider"]: d["status"] for d in control.domains()}
        assert statuses["monite"] == "verified" and statuses["scaleway"] == "ready"
        assert control.clock() == {
            "now": "2026-01-05T09:00:00Z",
            "frozen": True,
            "mode": "frozen",
            "speed": 1,
        }
        control.close()
    finally:
        served.stop()


def test_serve_reads_its_scenario_from_a_pipe(tmp_path):
    """`serve --scenario <(make-world)`: a pipe was refused as "no such file"."""
    pipe = tmp_path / "world.yaml"
    os.mkfifo(pipe)
    writer = threading.Thread(
        target=pipe.write_bytes,
        args=((SCENARIOS / "all-verified.yaml").read_bytes(),),
        daemon=True,  # refused, nobody would ever read it
    )
    writer.start()
    served = Served("--scenario", str(pipe))
    try:
        control = ControlClient(served.urls["control"].removesuffix("/_sandbox"))
        assert control.clock()["now"] == "2026-01-05T09:00:00Z"
        assert {d["status"] for d in control.domains() if d["provider"] == "monite"} == {"verified"}
        control.close()
    finally:
        served.stop()
        writer.join(timeout=10)


def test_a_clock_mode_given_beside_a_scenario_runs_the_clock_from_its_instant():
    """The scenario's `frozen: true` silently won over `--clock fast`: a presenter asking for
    a fast clock got a frozen one until a reset."""
    served = Served("--scenario", "all-verified", "--clock", "fast", "--clock-speed", "120")
    try:
        from sandbox.client import ControlClient

        with ControlClient(served.urls["control"].removesuffix("/_sandbox")) as control:
            clock = control.clock()
            assert (clock["mode"], clock["speed"]) == ("fast", 120)
            assert clock["now"] >= "2026-01-05T09:00:00Z"  # the scenario's instant, running
            assert control.reset()["clock"]["mode"] == "fast"  # as serve started it
    finally:
        served.stop()


def test_serve_says_the_scenarios_seed_wins_over_a_seed_given_beside_it():
    served = Served("--seed", "7", "--scenario", str(SCENARIOS / "all-verified.yaml"))
    try:
        assert "domainsandbox serving (seed 2026)" in served.banner  # all-verified.yaml's
        note = f"the scenario {SCENARIOS / 'all-verified.yaml'} brings its seed, 2026 "
        assert any(note in line and "wins over --seed 7" in line for line in served.banner)
    finally:
        served.stop()


def test_a_restored_world_is_the_only_one_serve_speaks_of(tmp_path):
    """A state file's world wins over --scenario and --seed: the banner says so, and not that
    the scenario's seed won too."""
    state, scenario = str(tmp_path / "world.db"), str(SCENARIOS / "all-verified.yaml")
    assert Served("--state", state, "--seed", "5").stop()[0] == 0  # a world of seed 5 is saved
    served = Served("--state", state, "--seed", "7", "--scenario", scenario)
    try:
        assert not any("brings its seed" in line for line in served.banner), served.banner
        assert any("restored the world saved in" in line for line in served.banner)
        assert "domainsandbox serving (seed 5)" in served.banner
    finally:
        served.stop()


def test_serve_refuses_a_bad_scenario_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains:\n  - provider: nope\n")
    result = serve_refused("--port", "0", "--dns-port", "0", "--scenario", str(bad))
    assert result.returncode == 2
    assert "domains[0] (nope): missing id, name, owner, status, created_at" in result.stderr
    assert "domains[0] (nope): provider: 'nope' is not one of autosend" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    bad.write_text("\n")  # said as `scenario load` says it
    result = serve_refused("--port", "0", "--dns-port", "0", "--scenario", str(bad))
    assert result.returncode == 2
    mapping = "a scenario is a YAML or JSON mapping (seed, clock, domains, dns, ...)"
    assert f"it is empty; {mapping}" in result.stderr


# --- the published schema, and files it or a provider's vocabulary refuses -------------------

MONITE = "domains[0] (monite verified.monite.example)"


def test_the_scenario_schema_is_served_as_published_in_the_package(server, control):
    answer = httpx.get(f"{server.url}/_sandbox/scenario/schema")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/schema+json"
    published = json.loads(SCHEMA.read_text())
    assert "pattern" not in published["definitions"]["provider"]  # filled in from the documents
    names = ", ".join(sorted(p.name for p in PROVIDERS))
    served = answer.json()["definitions"]["provider"]
    assert served["description"] == f"one of {names}, in any letter case"
    assert re.fullmatch(served["pattern"], "MoNiTe") and not re.fullmatch(served["pattern"], "mon")
    published["definitions"]["provider"] |= served
    assert answer.json() == published


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_scenario_fits_the_published_schema(name):
    world = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    errors = list(Draft7Validator(scenario.schema()).iter_errors(world))
    assert errors == []
    # as it was written before format 2, by hand or by an export: it fits as it always did
    errors = list(Draft7Validator(scenario.schema()).iter_errors(world | {"format": 1}))
    assert errors == []


@pytest.mark.parametrize("written", ["format: 1\n", ""], ids=["format 1", "no format"])
def test_a_scenario_written_as_format_1_or_without_a_format_still_loads(control, written):
    """Scenarios users wrote by hand before format 2 (the bundled ones were format 1 too)."""
    text = (SCENARIOS / "every-state.yaml").read_text()
    assert "\nformat: 3\n" in text
    control.load_scenario(text.replace("format: 3\n", written, 1))
    assert control.export_scenario() == body(SCENARIOS / "every-state.yaml")


@pytest.mark.parametrize(
    ("dns", "said"),
    [
        ([{"name": "a.example", "type": "TXT", "value": "v"}] * 15_000, "(15000 entries)"),
        (
            {"records": [{"name": "a.example", "type": "TXT", "value": "x" * 5000}]},
            "(5000 characters) is too long (at most 4000 characters)",
        ),
        (
            {"records": [{"name": "a.example", "type": "TXT", "value": ["x" * 5000]}]},
            "value[0]: 'xxx",
        ),
    ],
)
def test_a_huge_value_in_a_scenario_is_echoed_short_with_its_size(control, dns, said):
    with pytest.raises(ControlError) as error:
        control.load_scenario(yaml.safe_dump({"dns": dns}))
    assert said in str(error.value)
    assert len(str(error.value)) < 300


def test_a_scenario_with_a_record_beside_a_cname_is_refused(control):
    records = [
        {"name": "x.example.com", "type": "CNAME", "value": "y.example.com"},
        {"name": "x.example.com", "type": "TXT", "value": "never served"},
    ]
    with pytest.raises(ControlError, match=r"dns.records\[1\] \(x.example.com\): .*alias"):
        control.load_scenario(yaml.safe_dump({"dns": {"records": records}}))


def test_a_misspelt_domains_key_is_refused_and_the_world_is_kept(control):
    control.load_scenario((SCENARIOS / "all-verified.yaml").read_text())
    before = control.export_scenario()
    typo = (SCENARIOS / "dkim-missing.yaml").read_text().replace("\ndomains:", "\ndomainz:")
    with pytest.raises(ControlError) as error:
        control.load_scenario(typo)
    assert error.value.status == 400
    said = str(error.value)
    assert "domainz: unknown key; use one of clock, credentials, deleted_places, dns," in said
    assert control.export_scenario() == before
    assert len(control.domains()) == len(PROVIDER_NAMES)  # one each


def test_a_domain_written_by_hand_is_refused_saying_how_to_make_its_entry(control):
    """A newcomer writes the domains they want; an entry is all the sandbox keeps of a domain
    (records, results, owner id), so the refusal says where such entries come from."""
    hand_written = "domains:\n  - {provider: ses, name: shop.example.com, status: SUCCESS}\n"
    with pytest.raises(ControlError) as error:
        control.load_scenario(hand_written)
    said = str(error.value)
    assert "domains[0] (ses shop.example.com): missing id, owner, created_at" in said
    assert said.endswith(
        "; a domain entry is written whole by `domainsandbox scenario export`: make the domain "
        "through its provider's API (or `domainsandbox demo`), then export the world"
    )
    with pytest.raises(ControlError) as error:  # a file without domain entries: no such words
        control.load_scenario("domainz: []\n")
    assert "scenario export" not in str(error.value)
    control.load_scenario((SCENARIOS / "all-verified.yaml").read_text())
    before = control.export_scenario()
    misspelt = before.replace("\n  owner: ", "\n  ownr: ", 1)  # an exported entry's owner
    with pytest.raises(ControlError) as error:
        control.load_scenario(misspelt)
    assert "ownr: unknown key; use one of" in str(error.value)
    assert "scenario export" not in str(error.value)  # the key to use is the fix
    assert control.export_scenario() == before


def test_an_instant_written_without_quotes_is_read_as_the_instant_written(control):
    """YAML reads `2026-01-05T10:00:00Z` unquoted as a timestamp: it was refused as
    "datetime.datetime(2026, 1, 5, 10, 0, tzinfo=...) is not of type 'string'"."""
    loaded = control.load_scenario("format: 2\nseed: 7\nclock: {now: 2026-01-05T10:00:00Z}\n")
    assert loaded["clock"]["now"] == "2026-01-05T10:00:00Z"
    with pytest.raises(ControlError, match="clock.now: '2026-01-05' is not") as refused:
        control.load_scenario("format: 2\nclock: {now: 2026-01-05}\n")  # a date: no instant
    assert "datetime" not in str(refused.value)


def test_yaml_aliases_that_expand_a_small_file_enormously_are_refused_at_once(control):
    """A 'billion laughs': nine aliases of nine aliases, eight deep, is 43 million values from
    under a kilobyte. Checking it held every copy: gigabytes, for most of a minute."""
    control.load_scenario((SCENARIOS / "all-verified.yaml").read_text())
    before = control.export_scenario()
    laughs = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for n in range(1, 9):
        laughs += f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n"
    with pytest.raises(ControlError) as error:
        control.load_scenario(laughs + "http_faults: *a8\n")
    assert error.value.status == 400
    assert "aliases expand it to more values than it has characters" in str(error.value)
    assert control.export_scenario() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  status: verified\n", "  status: verifiedd\n"),
            f"{MONITE}: status: 'verifiedd' is not a status of monite; use one of "
            "waiting_to_be_verified, verified",
        ),
        (
            ("  name: verified.monite.example\n", "  name: bad domain!\n"),
            "domains[0] (monite bad domain!): name: 'bad domain!' is not a host name",
        ),
        (
            ("  - kind: dkim\n", "  - kind: dkimm\n"),
            f"{MONITE}: records[1].kind: 'dkimm' is not a record kind of monite; use one of spf, dkim,",
        ),
        (
            ("    status: waiting_to_be_verified\n", "    status: pending\n"),
            f"{MONITE}: timeline[0].status: 'pending' is not a status of monite",
        ),
        (
            ("  status: verified\n", "  status: verified\n  statuss: verified\n"),
            f"{MONITE}: statuss: unknown key; use one of attrs, checks,",
        ),
        (
            ("  frozen: true\n", "  frozn: true\n"),
            "clock.frozn: unknown key; use one of frozen, mode, now, speed",
        ),
        (
            ("  now: '2026-01-05T09:00:00Z'", "  now: '0415-05-25T23:06:36Z'"),
            "clock.now: 0415-05-25T23:06:36Z is outside the sandbox clock's range",
        ),
        (
            ("  now: '2026-01-05T09:00:00Z'", "  now: '9999-12-31T23:59:58Z'"),
            "clock.now: 9999-12-31T23:59:58Z is outside the sandbox clock's range",
        ),
        (
            ("    verify_delay_seconds: 0\n", "    verify_delay_secs: 0\n"),
            "settings.monite: unknown setting(s) verify_delay_secs",
        ),
        (
            ("    verify_delay_seconds: 0\n", "    verify_delay_seconds: 1.0e+30\n"),
            "settings.monite.verify_delay_seconds: 1e+30 is greater than the maximum of 31536000",
        ),
        (
            ("http_faults: []", "http_faults: [{provider: monite, operation: nope, status: 500}]"),
            "http_faults[0]: operation: 'nope' is not an operation of monite's API; use: "
            "create_domain, create_token, delete_domain,",
        ),
        (  # the id `--remove ID` names: once each
            (
                "http_faults: []",
                "http_faults: [{id: h2, provider: monite, status: 500}, "
                "{id: h2, provider: vortex, status: 503}]",
            ),
            "http_faults[1]: fault id h2 is given twice",
        ),
        (
            (
                "  faults: []",
                "  faults: [{id: f1, name: a.example, kind: drop}, {id: f1, name: b.example, kind: drop}]",
            ),
            "dns.faults[1]: fault id f1 is given twice",
        ),
        (
            ("http_faults: []", "http_faults: [{id: f2, provider: monite, status: 500}]"),
            "http_faults[0].id: 'f2' is not an HTTP fault's id: h and a number, such as h3",
        ),
        (
            ("  created_at: '2026-01-05T09:00:00Z'", "  created_at: 'yesterday'"),
            f"{MONITE}: created_at: 'yesterday' is not an RFC 3339 date-time (four-digit year)",
        ),
        (("format: 3", "format: 0"), "format: 0 is not one of 1, 2, 3"),
    ],
)
def test_a_scenario_the_schema_or_a_providers_vocabulary_refuses_changes_nothing(
    control, change, message
):
    control.add_record("kept.example.com", "TXT", "still here")
    before = control.export_scenario()
    text = (SCENARIOS / "all-verified.yaml").read_text()
    assert change[0] in text
    with pytest.raises(ControlError) as error:
        control.load_scenario(text.replace(*change, 1))
    assert error.value.status == 400
    assert message in str(error.value)
    assert control.export_scenario() == before


WITHOUT_ATTRS = {  # the first key each provider's domain needs
    "monite": "dedicated_ip",
    "autosend": "region",
    "scaleway": "project_id",
    "vortex": "accountId",
    "mailgun": "mailgun_id",
    "resend": "region",
    "ses": "type",
}


@pytest.mark.parametrize("provider", sorted(WITHOUT_ATTRS))
def test_a_domain_whose_attrs_lack_what_its_provider_keeps_is_refused(control, provider):
    """A hand-edited domain without its attrs loaded, then failed its provider's answers (500)
    and the world's export (a state file's save)."""
    control.add_record("kept.example.com", "TXT", "still here")
    before = control.export_scenario()
    world = yaml.safe_load((SCENARIOS / "all-verified.yaml").read_text())
    place, entry = next((i, e) for i, e in enumerate(world["domains"]) if e["provider"] == provider)
    for attrs in ({}, None):  # empty, or no `attrs:` at all
        entry.pop("attrs")
        if attrs is not None:
            entry["attrs"] = attrs
        with pytest.raises(ControlError) as error:
            control.load_scenario(yaml.safe_dump(world))
        assert error.value.status == 400
        # every key it lacks in one refusal: one a time took a dozen tries for a domain
        kept = get_type_hints(PROVIDERS_BY_NAME[provider].attrs_type, include_extras=True)
        lacks = ", ".join(k for k, hint in kept.items() if get_origin(hint) is Required)
        assert lacks.startswith(WITHOUT_ATTRS[provider])
        said = f"domains[{place}] ({provider} {entry['name']}): attrs: {lacks}: "
        assert said + "missing; the provider keeps each for every domain" in str(error.value)
        assert control.export_scenario() == before


@pytest.mark.parametrize(
    ("provider", "key", "value", "said"),
    [
        ("vortex", "recheck_until", "2026-01-02T00:00:00Z",
         "'2026-01-02T00:00:00Z' is not an instant ({$time: ISO-8601})"),
        ("vortex", "steps", {"recheck": "soon"},
         "{\"recheck\": \"soon\"} is not a mapping, each value an instant ({$time: ISO-8601})"),
        ("autosend", "in_progress", "no", "'no' is not true or false"),
        ("mailgun", "message_ttl", 1.5, "1.5 is not a whole number"),
        ("scaleway", "record_ids", None, "null needs record_ids_from"),
        ("ses", "dkim", None, "null is not a mapping"),
        ("ses", "type", "DOMAINS", "'DOMAINS' is not DOMAIN or EMAIL_ADDRESS"),
        ("ses", "dkim", ..., "missing; every DOMAIN identity keeps one"),
        ("vortex", "recheck_until", ..., "missing; an issued domain's re-checks end then"),
    ],
)  # fmt: skip
def test_a_domain_whose_attrs_mistype_a_key_is_refused_naming_it(
    control, provider, key, value, said
):
    world = yaml.safe_load((SCENARIOS / "all-verified.yaml").read_text())
    entry = next(e for e in world["domains"] if e["provider"] == provider)
    if value is ...:  # the key left out
        del entry["attrs"][key]
    else:
        entry["attrs"][key] = value
    with pytest.raises(ControlError) as error:
        control.load_scenario(yaml.safe_dump(world))
    assert f"({provider} {entry['name']}): attrs: {key}: {said}" in str(error.value)
    assert control.domains() == []


@pytest.mark.parametrize(
    ("clock", "said"),
    [
        ("{mode: fast, speed: 50, frozen: true}", "frozen: true contradicts mode: fast (it runs)"),
        ("{mode: on-poll, frozen: false}", "frozen: false contradicts mode: on-poll (it stands"),
        ("{frozen: true, speed: 50}", "speed: only a fast clock has a speed; give mode: fast"),
    ],
)
def test_a_clock_whose_fields_contradict_each_other_is_refused(control, clock, said):
    """A fast clock said frozen loaded running, and a speed beside no mode was dropped."""
    before = control.clock()
    with pytest.raises(ControlError) as error:
        control.load_scenario(f"clock: {clock}\n")
    assert f"clock: {said}" in str(error.value)
    assert control.clock() == before


def test_an_export_to_a_json_file_is_written_as_json(server, control, tmp_path, capsys):
    control.add_record("kept.example.com", "TXT", "still here")
    target = tmp_path / "world.json"
    assert main(["scenario", "export", str(target), "--url", server.url]) == 0
    written = json.loads(target.read_text())  # not YAML
    assert written["dns"]["records"][0]["name"] == "kept.example.com"
    assert main(["scenario", "load", str(target), "--url", server.url]) == 0


@pytest.mark.parametrize(("mode", "speed"), [("frozen", None), ("on-poll", None), ("fast", 60)])
def test_a_scenario_that_says_nothing_of_the_clock_leaves_its_mode_as_it_found_it(
    control, mode, speed
):
    """A frozen demo loaded a file of DNS records only, and its clock ran from then on."""
    control.set_clock_mode(mode, speed=speed)
    before = control.clock()
    loaded = control.load_scenario("seed: 5\ndns:\n  records: []\n")
    assert (loaded["clock"]["mode"], loaded["clock"]["speed"]) == (mode, speed or 1)
    assert loaded["clock"]["now"] >= before["now"]
    # a clock the file names is the file's
    assert control.load_scenario("clock: {frozen: false}\n")["clock"]["mode"] == "real"


def test_a_bad_provider_state_is_refused_before_the_world_changes(control):
    before = control.export_scenario()
    text = (SCENARIOS / "every-state.yaml").read_text()
    broken = text.replace("  monite:\n    issued: ", "  monite:\n    issued: many\n    was: ", 1)
    with pytest.raises(ControlError, match=r"providers\.monite: "):
        control.load_scenario(broken)
    assert control.export_scenario() == before


def _world_made_through_the_api(urls, control, provider: str, names: list[str]) -> dict:
    """The exported world after owner n created names[n] through the provider's API."""
    with httpx.Client(timeout=30) as http:
        for owner, name in enumerate(names):
            Driver(http, urls["server"], PROVIDERS_BY_NAME[provider], owner=owner).create(name)
    return json.loads(control.export_scenario("json"))


# What each provider's API holds once, as a refusal to load a world holding it twice says it.
ONCE_PER_OWNER = {
    "resend": "Resend holds a name once per team",
    "autosend": "AutoSend holds a name once per project",
    "vortex": "Vortex holds a name once per key and account",
    "ses": "SES holds an identity once per account and region",
}
ONCE_FOR_ALL = {
    "monite": "Monite holds a name once, whichever partner adds it",
    "scaleway": "Scaleway holds a name once, whichever organization registers it",
    "mailgun": "Mailgun holds a name once, whichever account adds it",
}


@pytest.mark.parametrize("provider", ONCE_PER_OWNER)
def test_a_name_held_twice_by_one_owner_is_refused_and_by_two_owners_loads(urls, control, provider):
    """Resend answers a team's second create of a name 403 (AutoSend, Vortex and SES refuse
    it per project, per key and account, per account and region): a world holding it twice
    for one owner is one the API could never have built. Two owners may each hold it."""
    world = _world_made_through_the_api(urls, control, provider, ["shop.example.com"] * 2)
    control.load_scenario(json.dumps(world))  # as the API built it: two owners, a name each
    assert [d["name"] for d in control.domains(provider)] == ["shop.example.com"] * 2
    world["domains"][1]["owner"] = world["domains"][0]["owner"]
    _refused_leaving_the_world(
        control,
        world,
        f"scenario: domains[1] ({provider} shop.example.com): name: domains[0] ({provider} "
        f"shop.example.com) holds it already; {ONCE_PER_OWNER[provider]}",
    )


@pytest.mark.parametrize("provider", ONCE_FOR_ALL)
def test_a_name_held_twice_is_refused_where_the_provider_holds_it_once_for_all(
    urls, control, provider
):
    """Monite answers a second create of a name 409 whichever partner sends it (Scaleway 409,
    Mailgun 400 "already taken"), and compares names in any case: a world holding one name
    twice, by two owners, is refused."""
    world = _world_made_through_the_api(
        urls, control, provider, ["shop.example.com", "other.example.com"]
    )
    world["domains"][1]["name"] = "Shop.Example.com"
    _refused_leaving_the_world(
        control,
        world,
        f"scenario: domains[1] ({provider} Shop.Example.com): name: domains[0] ({provider} "
        f"shop.example.com) holds it already; {ONCE_FOR_ALL[provider]}",
    )


def _refused_leaving_the_world(control, world: dict, said: str) -> None:
    """Loading `world` is refused 400 saying `said`, and the world served is as it was."""
    before = control.export_scenario()
    with pytest.raises(ControlError) as error:
        control.load_scenario(json.dumps(world))
    assert error.value.status == 400 and said in str(error.value), error.value
    assert control.export_scenario() == before


def test_cli_scenario_load_of_a_misspelt_file_says_why_in_one_line_and_exits_2(
    server, control, tmp_path, capsys
):
    bad = tmp_path / "typo.yaml"
    bad.write_text((SCENARIOS / "all-verified.yaml").read_text().replace("\ndomains:", "\ndomain:"))
    code = main(["scenario", "load", str(bad), "--url", server.url])
    err = capsys.readouterr().err
    assert code == 2
    assert f"domainsandbox: {bad}: 400: " in err, err  # the file named: the sandbox saw its text
    assert "domain: unknown key" in err and len(err.strip().splitlines()) == 1
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n")
    assert main(["scenario", "load", str(empty), "--url", server.url]) == 2
    mapping = "a scenario is a YAML or JSON mapping (seed, clock, domains, dns, ...)"
    assert capsys.readouterr().err == f"domainsandbox: {empty}: the file is empty; {mapping}\n"


@pytest.mark.parametrize("name", BUNDLED)
def test_each_providers_record_kinds_are_the_kinds_its_domains_are_given(name):
    kinds = {provider.name: provider.record_kinds for provider in PROVIDERS}
    for domain in yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())["domains"]:
        given = tuple(record["kind"] for record in domain["records"])
        # in the provider's order; optional records (Resend's tracking) only when asked for
        known = kinds[domain["provider"]]
        assert given == tuple(k for k in known if k in given), domain["name"]


def test_the_readme_names_the_credential_that_sees_a_bundled_scenarios_domains(urls, control):
    """A client lists a bundled world's domains with the sample credential the README names."""
    http = httpx.Client(timeout=30)
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    control.load_scenario((SCENARIOS / "every-state.yaml").read_bytes())
    for name, cls in PROVIDERS_BY_NAME.items():
        rows = [line for line in readme.splitlines() if line.startswith(f"| {name} | ")]
        assert len(rows) == 1, f"README.md's table of sample credentials needs a row for {name}"
        [row] = rows
        key = row.split("`")[1]
        assert key == cls.kit.sample_key(0), row
        driver = Driver(http, urls["server"], cls, key=key)
        stored = {d["id"] for d in control.domains(name)}
        assert stored and set(driver.list_ids()) == stored, name


def test_deleted_places_a_world_cannot_hold_are_refused_by_entry(control):
    before = control.export_scenario()
    place = {"provider": "resend", "id": "gone", "owner": "owner-0", "after": 0}
    for changed, said in (
        ({"provider": "monite"}, "deleted_places[0]: monite's page cursors name no domain"),
        ({"after": 1}, "deleted_places[0]: after 1 domains, but the world holds 0"),
    ):
        world = {"format": 3, "deleted_places": [place | changed]}
        with pytest.raises(ControlError) as error:
            control.load_scenario(yaml.safe_dump(world))
        assert error.value.status == 400 and said in str(error.value), str(error.value)
    assert control.export_scenario() == before


def test_a_json_export_loads_back_as_json(control):
    """The control API refused its own export sent as application/json once a world had had an
    HTTP fault: its document's Scenario listed neither http_faults_added nor http_fault_draws."""
    control.create_domain("resend", "json.example.com")
    fault = control.add_http_fault("resend", status=503, count=1)
    control.remove_http_fault(fault["id"])  # the numbering it used is part of the world
    exported = control.export_scenario(format="json")
    assert "http_faults_added" in json.loads(exported)
    answer = control.raw(
        "POST", "/scenario", content=exported, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    assert control.export_scenario(format="json") == exported


def test_the_control_documents_scenario_names_each_key_of_the_scenario_schema():
    """The control API checks a scenario's keys against its own document first: a key the
    scenario schema has and the document lacks is refused there (the test above)."""
    document = yaml.safe_load((SCHEMA.parents[2] / "openapi" / "control.yaml").read_text())
    listed = document["components"]["schemas"]["Scenario"]["properties"]
    assert set(listed) == set(json.loads(SCHEMA.read_text())["properties"])
