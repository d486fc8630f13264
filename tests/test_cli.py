"""The CLI commands that drive a running sandbox, over real HTTP against the test server."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import httpx
import pytest
import yaml

from fake_dns import FakeDNS
from sandbox import cli as cli_module
from sandbox.arguments import MAX_ADVANCE_SECONDS
from sandbox.cli import build_parser, main
from sandbox.client import ControlClient, ControlError, PublishWarning
from sandbox.engine.ids import DEFAULT_SEED
from sandbox.shipped import openapi_dir

from .helpers import CLI, create, partner_headers, stand_in_server

# Run again against `serve --workers 2` by `make test` (see tests/conftest.py).
pytestmark = pytest.mark.workers


@pytest.fixture
def cli(server, control, capsys):
    """Run `domainsandbox ARGS --url <test server>`; returns (exit code, stdout, stderr)."""

    def run(*args: str):
        code = main([*args, "--url", server.url])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_clocks_speed_is_said_in_plain_numbers(cli, control):
    code, out, _ = cli("clock", "mode", "fast", "--speed", "1000000")
    assert code == 0 and out.endswith("  (fast, 1000000x)\n"), out  # not 1e+06x
    code, out, _ = cli("clock", "mode", "fast", "--speed", "0.00005")
    assert code == 0 and out.endswith("  (fast, 0.00005x)\n"), out  # not 5e-05x


def test_dns_add_ls_and_rm(cli, control):
    code, out, _ = cli(
        "dns", "add", "_dmarc.Example.COM.", "txt", "v=DMARC1; p=none", "--ttl", "60"
    )
    assert (code, out) == (0, "_dmarc.example.com TXT: 1 record(s)\n")  # the name as kept
    code, out, _ = cli("dns", "ls")
    assert "_dmarc.example.com" in out and "v=DMARC1; p=none" in out and "60" in out
    assert control.records("_dmarc.example.com")[0]["ttl"] == 60
    code, out, _ = cli("dns", "rm", "_dmarc.example.com")
    assert code == 0 and "removed 1 record(s)" in out
    assert control.records() == []
    code, out, err = cli("dns", "rm", "_dmarc.example.com")  # again: nothing is there now
    assert (code, out) == (1, "")
    assert err == "domainsandbox: no record at _dmarc.example.com: nothing removed\n"


def test_a_records_ttl_is_a_duration_as_every_time_the_cli_takes(cli, control):
    """`--ttl 5m` was "invalid int value", where every other time takes 5m."""
    assert cli("dns", "add", "ttl.example.com", "A", "192.0.2.1", "--ttl", "5m")[0] == 0
    assert control.records("ttl.example.com")[0]["ttl"] == 300


def test_a_domain_id_in_another_letter_case_is_found_as_its_api_finds_it(cli, control):
    """Monite takes its UUIDs, and SES its identities, in any case; the control commands did
    not (404: no monite domain with id AA10...)."""
    monite = control.create_domain("monite", "case.example.com")["id"]
    code, out, err = cli("publish", "monite", monite.upper())
    assert code == 0, err
    code, out, err = cli("verify", "monite", monite.upper())
    assert code == 0 and "verified" in out, err
    for form in (monite.replace("-", ""), f"{{{monite}}}", f"urn:uuid:{monite}"):  # as Monite's
        code, out, err = cli("domains", "show", "monite", form)  # API takes them: 404 before
        assert code == 0 and out.startswith(f"monite {monite} case.example.com: verified"), err
    control.create_domain("ses", "upper.example.net")
    code, _, err = cli("publish", "ses", "UPPER.example.net")
    assert code == 0, err


def test_a_domain_named_where_its_id_is_asked_is_told_its_id(cli, control):
    resend = control.create_domain("resend", "byname.example.com")["id"]
    for command in ("publish", "verify"):
        code, _, err = cli(command, "resend", "byname.example.com")
        assert code == 2, err
        assert err == (
            "domainsandbox: 404: no resend domain with id byname.example.com; the resend domain "
            f"named so has id {resend}: give that\n"
        )
    code, _, err = cli(
        "clock", "advance", "--until", "verified", "--domain", "resend/byname.example.com"
    )
    assert f"the resend domain named so has id {resend}" in err, err


def test_the_records_dns_can_hold_of_a_domain_so_long_some_cannot_are_published(cli, control):
    """A 247-character domain: its DKIM record's name passes 253 characters. `publish --omit
    dkim` was refused for the record it was told to leave out."""
    name = ".".join(["a" * 60] * 4) + ".com"
    domain_id = control.create_domain("mailgun", name)["id"]
    code, _, err = cli("publish", "mailgun", domain_id)
    assert code == 2 and "its dkim record: " in err and "with omit dkim" in err, err
    code, out, err = cli("publish", "mailgun", domain_id, "--omit", "dkim")
    assert code == 0, err
    assert {r["type"] for r in control.records()} >= {"TXT", "MX"}


def test_every_record_dns_cannot_hold_is_named_at_once(cli, control):
    """They were named one publish at a time: Easy DKIM's three CNAMEs took three tries."""
    name = ".".join(["a" * 60] * 4) + ".com"
    code, _, err = cli("publish", "ses", control.create_domain("ses", name)["id"])
    assert code == 2
    assert "its dkim_1, dkim_2, dkim_3 records: a name longer than DNS takes" in err, err
    assert "publish the others with omit dkim_1,dkim_2,dkim_3" in err


def test_a_txt_record_of_several_strings_is_listed_and_removed_as_a_zone_file_writes_it(
    cli, control
):
    cli("dns", "add", "q.example.com", "TXT", '"one" "two"')
    assert control.records("q.example.com")[0]["value"] == ["one", "two"]
    code, out, _ = cli("dns", "ls")
    assert code == 0 and '"one" "two"' in out  # not the list Python prints
    code, out, _ = cli("dns", "rm", "q.example.com", "TXT", "--value", '"one" "two"')
    assert code == 0 and "removed 1 record(s)" in out
    assert control.records() == []


def test_dns_ls_cuts_a_long_value_short_and_json_shows_it_whole(cli, control):
    key = "v=DKIM1; k=rsa; p=" + "A" * 392
    cli("dns", "add", "s1._domainkey.example.com", "TXT", key)
    code, out, _ = cli("dns", "ls")
    assert code == 0 and max(len(line) for line in out.splitlines()) < 200
    assert f"{key[:72]}… (410 characters; --json shows it)" in out
    code, out, _ = cli("dns", "ls", "--json")
    assert json.loads(out)["records"][0]["value"] == key


def test_dns_ls_puts_the_value_last_so_a_long_one_widens_its_own_line_alone(cli, control):
    """VALUE came before VISIBLE AFTER, so a DKIM key padded the header, and every record not
    yet visible, to the key's width (200 characters)."""
    key = "v=DKIM1; k=rsa; p=" + "A" * 392
    cli("dns", "add", "s1._domainkey.example.com", "TXT", key)
    cli("dns", "add", "example.com", "MX", "10 mx.example.net", "--visible-after", "5m")
    code, out, _ = cli("dns", "ls")
    assert code == 0
    assert out.splitlines() == [
        "NAME                       TYPE  TTL  VISIBLE AFTER         VALUE",
        "s1._domainkey.example.com  TXT   300                        "
        f"{key[:72]}… (410 characters; --json shows it)",
        "example.com                MX    300  2026-01-01T09:05:00Z  10 mx.example.net",
    ]


def test_dns_ls_cuts_a_long_name_in_its_middle_and_json_shows_it_whole(cli, control):
    """NAME was as wide as the longest name (85 characters with the every-state scenario), and
    padded every row to it."""
    token = "6blf6bjzrbdiiqibvqjb5j3wav6hqayo"  # an SES DKIM selector
    long = f"{token}._domainkey.mail-from-temporary-failure.ses.example"
    cli("dns", "add", long, "CNAME", f"{token}.dkim.amazonses.com")
    cli("dns", "add", "ses.example", "MX", "10 feedback-smtp.eu-west-1.amazonses.com")
    code, out, err = cli("dns", "ls")
    assert code == 0, err
    assert out.splitlines() == [
        "NAME                                                          TYPE   TTL  VISIBLE AFTER"
        "  VALUE",
        "6blf6bjz…._domainkey.mail-from-temporary-failure.ses.example  CNAME  300"
        f"                 {token}.dkim.amazonses.com",
        "ses.example                                                   MX     300"
        "                 10 feedback-smtp.eu-west-1.amazonses.com",
    ]
    code, out, _ = cli("dns", "ls", "--json")
    assert [r["name"] for r in json.loads(out)["records"]] == [long, "ses.example"]
    # two names a cut would show alike: both whole, as a table must not show two as one
    twin = long.replace(token, token[:8] + "x" * 24)
    cli("dns", "add", twin, "TXT", "twin")
    code, out, _ = cli("dns", "ls")
    assert code == 0 and long in out and twin in out and "…" not in out, out


def test_every_table_of_record_names_cuts_a_long_one_as_dns_ls_does(cli, control, capsys):
    """`dns ls` cut an 83-character DKIM name; `publish`, `domains show`, `domains` and `dns
    queries` printed it whole, and it pushed their other columns off the screen. `--json`
    still gives it whole, and each command's help says so."""
    domain = "mail-from-temporary-failure.ses.example"  # (an SES domain's id is its name)
    assert cli("create", "ses", domain)[0] == 0
    names = [r["name"] for r in control.domain("ses", domain)["records"]]
    assert [len(name) for name in names] == [83, 83, 83]
    cut = [f"{name[:8]}…._domainkey.{domain}" for name in names]
    code, out, err = cli("publish", "ses", domain)
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()[1:]] == cut
    verified = ["verify", "ses", domain]
    assert cli(*verified)[0] == 0
    for command, column in [
        (["domains", "show", "ses", domain], 2),
        (["domains"], 2),
        (["dns", "queries"], 2),
        (["publish", "ses", domain], 2),
    ]:
        code, out, err = cli(*command)
        assert code == 0, err
        shown = [line.split()[column] for line in out.splitlines() if "…" in line]
        assert shown and set(shown) == set(cut), (command, out)
        code, out, err = cli(*command, "--json")
        assert code == 0 and all(name in out for name in names) and "…" not in out, out
    for command in (["domains"], ["publish"], ["dns", "queries"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert "A name over 60 characters is cut in its middle" in said, said
        assert "--json shows" in said, said


def test_dns_add_with_visible_after_hides_the_record_for_a_while(cli, control):
    cli("dns", "add", "example.com", "MX", "10 mx.example.net", "--visible-after", "5m")
    [record] = control.records("example.com")
    assert record["visible_after"].startswith("2026-01-01T09:05:00")


def test_dns_tables_show_instants_to_the_millisecond(cli, control):
    """A fast clock's instants carry microseconds: `dns ls` read 10:20:38.913000Z."""
    control.freeze(at="2026-01-01T09:00:00.913456Z")
    cli("dns", "add", "ms.example.com", "TXT", "hello", "--visible-after", "5m")
    code, out, _ = cli("dns", "ls")
    assert code == 0 and "2026-01-01T09:05:00.913Z" in out, out
    [record] = control.records("ms.example.com")
    assert record["visible_after"] == "2026-01-01T09:05:00.913456Z"  # the API keeps them all
    control.freeze(at="2026-01-01T09:00:00Z")


def test_a_bad_record_value_is_refused_with_the_reason(cli):
    code, _, err = cli("dns", "add", "example.com", "MX", "not-a-priority mx.example.net")
    assert code == 2
    assert err.startswith("domainsandbox: 400:")


def test_dns_fault_add_list_and_clear(cli, control):
    code, out, _ = cli(
        "dns", "fault", "*.Example.COM.", "servfail", "--qtype", "txt", "--count", "2"
    )  # said as the sandbox holds it, with what narrows it
    assert (code, out) == (0, "fault f1: servfail for *.example.com (TXT queries, 2 times)\n")
    [fault] = control.faults()
    assert (fault["kind"], fault["qtype"], fault["count"]) == ("servfail", "TXT", 2)
    code, out, _ = cli("dns", "fault")
    assert "*.example.com" in out and "servfail" in out
    cli("dns", "fault", "slow.example.com", "delay", "--delay-ms", "200")
    header, _, slow = cli("dns", "fault")[1].splitlines()  # its delay was left out
    assert header.split() == ["ID", "MATCH", "KIND", "QTYPE", "DELAY", "MS", "REMAINING"]
    assert slow.split() == ["f2", "slow.example.com", "delay", "*", "200", "until", "cleared"]
    code, out, _ = cli("dns", "fault", "--clear")
    assert "cleared 2 fault(s)" in out and control.faults() == []


def test_a_dns_fault_narrows_to_any_query_type_as_in_python(cli, control, resolver):
    """SOA, NS and ANY lookups could be faulted from Python but not through the control API,
    which took only the types a record can have."""
    for qtype in ("soa", "ANY", "TYPE65280"):
        code, out, _ = cli("dns", "fault", "faulted.example.com", "refused", "--qtype", qtype)
        assert code == 0 and f"({qtype.upper()} queries)" in out, out
    host, port = resolver.nameservers[0], resolver.port

    def rcode(qtype: str) -> dns.rcode.Rcode:
        query = dns.message.make_query("faulted.example.com", qtype)
        return dns.query.udp(query, host, port=port, timeout=2).rcode()

    assert (rcode("SOA"), rcode("TXT")) == (dns.rcode.REFUSED, dns.rcode.NXDOMAIN)
    code, _, err = cli("dns", "fault", "faulted.example.com", "refused", "--qtype", "BOGUS")
    assert code == 2 and "unknown query type 'BOGUS'" in err


def test_dns_queries_shows_which_fault_answered_and_a_dropped_query_unanswered(
    cli, control, resolver
):
    """A truncated answer read like a no-data one, and a dropped query's rcode said None."""
    host, port = resolver.nameservers[0], resolver.port
    cli("dns", "fault", "t.example.com", "drop", "--count", "1")
    query = dns.message.make_query("t.example.com", "TXT")
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(query, host, port=port, timeout=0.5)
    assert dns.query.udp(query, host, port=port, timeout=2).rcode() == dns.rcode.NXDOMAIN
    code, out, _ = cli("dns", "queries")
    header, *rows = [line.split() for line in out.splitlines()]
    assert code == 0 and header[-3:] == ["RCODE", "ANSWERS", "FAULT"]
    assert [row[-3:] for row in rows[-2:]] == [["-", "0", "drop"], ["NXDOMAIN", "0", "-"]]


def test_a_delay_fault_is_told_of_its_flag_by_its_flags_name(cli, control):
    code, _, err = cli("dns", "fault", "example.com", "delay")
    assert (code, err) == (
        2,
        "domainsandbox: 400: --delay-ms: a delay fault needs one, how many ms late it answers\n",
    )
    code, _, err = cli("dns", "fault", "example.com", "servfail", "--delay-ms", "5")
    assert code == 2 and "400: --delay-ms: only a delay fault takes one, not 'servfail'" in err
    assert control.faults() == []


def test_fault_delays_take_a_duration_as_every_other_time_and_a_bare_number_as_ms(
    cli, control, resolver
):
    """`--latency-ms 1.5s` and `--delay-ms 300ms` were "invalid int value", where every other
    time the CLI takes is a duration (`--ttl 5m`); a bare number still means milliseconds."""
    code, out, err = cli("http", "fault", "monite", "--latency-ms", "1.5s")
    assert (code, out) == (0, "fault h1 on monite *: 1500 ms later\n"), err
    code, out, err = cli("http", "fault", "ses", "--latency-ms", "250")
    assert (code, out) == (0, "fault h2 on ses *: 250 ms later\n"), err
    assert [f["latency_ms"] for f in control.http_faults()] == [1500, 250]
    code, out, err = cli("dns", "fault", "slow.example.com", "delay", "--delay-ms", "300ms")
    assert (code, out) == (0, "fault f1: delay for slow.example.com (300 ms)\n"), err
    query = dns.message.make_query("slow.example.com", "A")
    started = time.monotonic()
    dns.query.udp(query, resolver.nameservers[0], port=resolver.port, timeout=5)
    assert time.monotonic() - started >= 0.3  # the fake DNS answers that late
    code, out, err = cli("dns", "fault", "now.example.com", "delay", "--delay-ms", "0")
    assert (code, out) == (0, "fault f2: delay for now.example.com (0 ms)\n"), err  # said
    assert cli("dns", "fault")[1].splitlines()[-1].split()[:5] == [
        "f2",
        "now.example.com",
        "delay",
        "*",
        "0",
    ]


def test_dns_ls_narrows_to_a_name_and_a_type_as_written_in_any_case(cli, control):
    control.add_record("a.example.com", "TXT", "hello")
    control.add_record("a.example.com", "MX", "10 mx.example.com")
    control.add_record("b.example.com", "TXT", "x")

    def listed(*options: str) -> list[tuple[str, str]]:
        code, out, _ = cli("dns", "ls", "--json", *options)
        assert code == 0
        return [(r["name"], r["type"]) for r in json.loads(out)["records"]]

    assert listed("A.Example.com.") == [("a.example.com", "TXT"), ("a.example.com", "MX")]
    assert listed("--type", "txt") == [("a.example.com", "TXT"), ("b.example.com", "TXT")]
    assert listed("a.example.com", "--type", "MX") == [("a.example.com", "MX")]


def test_the_url_serve_prints_for_the_control_api_works_too(server, control, capsys):
    code, out, err = run_cli("clock", "--url", server.url + "/_sandbox/", capsys=capsys)
    assert (code, err) == (0, "") and out.startswith("2026-01-01T09:00:00Z")


def test_a_providers_url_given_for_the_sandbox_is_told_the_sandboxs_own(server, control, capsys):
    """`--url .../monite/v1` asked Monite's API for the control API's paths: "404: Not Found",
    and a client violation in the report."""
    for mount in ("/monite/v1", "/ses/"):
        code, _, err = run_cli("clock", "--url", server.url + mount, capsys=capsys)
        name = mount.strip("/").split("/")[0]
        assert code == 2
        assert f"is the sandbox's {name} API; give the sandbox's own address, {server.url}" in err
    assert control.count_requests() == 0


def test_the_longest_clock_advance_is_the_control_apis_and_is_taken(cli, control):
    document = yaml.safe_load((openapi_dir() / "control.yaml").read_text())
    clock = document["paths"]["/clock"]["post"]["requestBody"]["content"]["application/json"]
    assert clock["schema"]["properties"]["advance_seconds"]["maximum"] == MAX_ADVANCE_SECONDS
    code, out, err = cli("clock", "advance", "10y")
    assert code == 0 and out.startswith("2035-12-30T09:00:00Z"), (out, err)


def test_the_cli_finds_the_sandbox_at_the_port_serve_takes_from_the_environment(server, control):
    env = {k: v for k, v in os.environ.items() if k != "DOMAINSANDBOX_URL"}
    env["DOMAINSANDBOX_PORT"] = server.url.rsplit(":", 1)[1]
    done = subprocess.run([*CLI, "clock"], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2026-01-01T09:00:00Z")
    env["DOMAINSANDBOX_URL"] = "http://127.0.0.1:1"  # the URL, when given, wins
    done = subprocess.run([*CLI, "clock"], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1 and "http://127.0.0.1:1" in done.stderr


def test_a_create_cut_short_by_an_injected_fault_says_what_answered(cli, control):
    cli("http", "fault", "monite", "--status", "503")
    code, out, err = cli("create", "monite", "mail.example.com")
    assert code == 1, (out, err)
    assert (
        err == "domainsandbox: 502: monite's login answered 503 Service temporarily unavailable\n"
    )


def test_a_create_the_provider_fails_is_no_usage_error(cli, control):
    """Only the create itself failed (the login went through): said 400, exit 2, before."""
    cli("http", "fault", "monite", "--operation", "create_domain", "--status", "503")
    code, out, err = cli("create", "monite", "mail.example.com")
    assert (code, out) == (1, "")
    assert err == (
        "domainsandbox: 502: monite's API answered the create of 'mail.example.com' "
        "503 Service temporarily unavailable\n"
    )


def test_ctrl_c_on_a_long_clock_move_says_the_sandbox_goes_on(server, control):
    control.load_bundled_scenario("every-state")
    control.add_fault("*", "delay", delay_ms=300)  # each step's checks: seconds, a year: hours
    mover = subprocess.Popen(
        [*CLI, "clock", "advance", "365d", "--url", server.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: pytest-xdist's workers ignore SIGINT, and a child inherits that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        notice = mover.stderr.readline()  # after 2 s: the CLI is waiting for the move
        mover.send_signal(signal.SIGINT)
        out, err = mover.communicate(timeout=30)
    finally:
        mover.kill()  # no-op once it ended
        control.clear_faults()
        control.reset()  # stops the move the CLI left behind
    assert notice.startswith("moving the clock: every scheduled step"), notice
    assert mover.returncode == 130, (out, err)
    assert "interrupted; the sandbox still moves its clock (`domainsandbox clock` shows" in err
    assert "Traceback" not in err


def test_publish_domains_and_queries(cli, urls, control):
    base = urls["monite"]
    domain_id = create(base, partner_headers(base))["id"]
    code, out, _ = cli("publish", "monite", domain_id, "--omit", "dkim", "--corrupt", "spf")
    assert code == 0
    assert "(corrupted)" in out and "dkim" not in out.split("KIND", 1)[1].split()[0:1]
    kinds = {e["kind"] for e in control.publish("monite", domain_id, omit=["dkim"])}
    assert "dkim" not in kinds

    code, out, _ = cli("domains")
    assert f"monite {domain_id} mail.example.com: waiting_to_be_verified" in out
    assert "unchecked" in out

    code, out, _ = cli("--json", "domains") if False else cli("domains", "--json")
    assert json.loads(out)["domains"][0]["id"] == domain_id


def test_publish_cuts_a_long_value_as_domains_show_does_and_json_gives_it_whole(cli, control):
    """publish printed a DKIM key whole (225 characters, past any screen) where `domains show`
    and `dns ls` cut it; its line was the only one to wrap. dig, and --json, give it whole."""
    domain_id = control.create_domain("monite", "pub.example.com")["id"]
    dkim = control.domain("monite", domain_id)["records"][1]["value"]
    code, out, err = cli("publish", "monite", domain_id, "--corrupt", "spf")
    assert code == 0, err
    assert out.splitlines() == [
        "KIND      TYPE   NAME                            VALUE",
        "spf       TXT    pub.example.com                 "
        "v=spf1 include:_spf.wrong-provider.example ~all  (corrupted)",
        "dkim      TXT    krs._domainkey.pub.example.com  "
        f"{dkim[:72]}… ({len(dkim)} characters; --json shows it)",
        "tracking  CNAME  email.pub.example.com           eu.mailgun.org",
        "mx_mxa    MX     pub.example.com                 10 mxa.eu.mailgun.org",
        "mx_mxb    MX     pub.example.com                 10 mxb.eu.mailgun.org",
    ]
    code, out, err = cli("publish", "monite", domain_id, "--json")
    assert code == 0, err
    assert json.loads(out)["published"][1]["value"] == dkim
    [txt] = control.records("krs._domainkey.pub.example.com")
    assert txt["value"] == dkim  # what DNS holds is whole


def test_a_publish_beside_a_second_spf_record_warns_that_the_check_will_fail(cli, urls, control):
    """The record a test (or a user merging SPF) put there first is kept, by design: the SPF
    check then fails on two v=spf1 records, and publish had said nothing."""
    base = urls["monite"]
    domain_id = create(base, partner_headers(base))["id"]
    [domain] = control.domains("monite")
    name = next(r["name"] for r in domain["records"] if r["kind"] == "spf")
    control.add_record(name, "TXT", "v=spf1 include:_spf.google.com ~all")
    code, out, err = cli("publish", "monite", domain_id)
    assert code == 0 and "spf" in out
    assert err == (
        f"domainsandbox: warning: {name} holds 2 SPF records now: the one published beside "
        "'v=spf1 include:_spf.google.com ~all', kept as it is not this domain's; a name may "
        "publish one v=spf1 record (RFC 7208), so its SPF check fails: remove it (dns rm) or "
        "merge it into one\n"
    )
    with pytest.warns(PublishWarning, match="holds 2 SPF records now"):
        control.publish("monite", domain_id)
    control.remove_records(name, "TXT", "v=spf1 include:_spf.google.com ~all")
    code, _, err = cli("publish", "monite", domain_id)
    assert (code, err) == (0, "")  # its own SPF record alone: nothing to say


def test_a_publish_refused_beside_a_cname_writes_none_of_its_records(urls, control):
    base = urls["monite"]
    domain_id = create(base, partner_headers(base))["id"]
    [domain] = control.domains("monite")
    first, *rest = domain["records"]  # the refused record comes after the first's is written
    later = next(r for r in rest if r["name"] != first["name"] and r["type"] != "CNAME")
    control.add_record(later["name"], "CNAME", "elsewhere.example.net")
    before = control.records()
    with pytest.raises(ControlError, match="is an alias") as refused:
        control.publish("monite", domain_id)
    assert refused.value.status == 400
    assert control.records() == before  # not the records planned before the refused one


def test_publish_with_an_unknown_kind_names_the_known_ones(cli, urls):
    base = urls["monite"]
    domain_id = create(base, partner_headers(base))["id"]
    code, _, err = cli("publish", "monite", domain_id, "--omit", "nonsense")
    assert code == 2
    assert "unknown record kind(s) nonsense" in err and "spf" in err
    # which domain it asked of: an id from another run is told by its name
    assert f"monite domain {domain_id} (" in err


def test_clock_show_freeze_advance_set_unfreeze(cli, control):
    assert "2026-01-01T09:00:00Z  (frozen)" in cli("clock")[1]
    assert "2026-01-01T09:05:00Z" in cli("clock", "advance", "5m")[1]
    assert "2026-01-02T10:35:00Z" in cli("clock", "advance", "1d1h30m")[1]  # several units
    assert "2026-02-01T00:00:00Z" in cli("clock", "set", "2026-02-01T00:00:00Z")[1]
    assert "2026-02-15T00:00:00Z" in cli("clock", "advance", "2w")[1]
    assert "2027-02-15T00:00:00Z" in cli("clock", "advance", "1y")[1]  # 365 days
    assert "(running)" in cli("clock", "unfreeze")[1]
    assert "(frozen)" in cli("clock", "freeze")[1]
    code, _, err = cli("clock", "advance")
    assert code == 2 and "needs a value" in err
    before = control.clock()["now"]
    code, _, err = cli("clock", "advance", "-5m")  # refused before anything is sent
    assert code == 2 and "time only moves forward" in err
    assert control.clock()["now"] == before
    code, _, err = cli("clock", "freeze", "--limit", "5h")  # --limit bounds --until only
    assert code == 2 and "--limit goes with `clock advance --until" in err
    assert control.clock()["now"] == before


def test_reset_forgets_everything_and_reseeds(cli, control):
    control.add_record("example.com", "TXT", "hello")
    code, out, _ = cli("reset", "--seed", "5")
    assert code == 0 and "seed 5" in out
    assert control.records() == []


def test_domains_show_prints_one_domain_with_its_records_values_and_last_checks(cli, control):
    """A domain could be listed among every other (`domains`), not shown alone."""
    domain_id = control.create_domain("monite", "show.example.com")["id"]
    control.publish("monite", domain_id, omit="dkim")
    control.verify("monite", domain_id)
    code, out, err = cli("domains", "show", "monite", domain_id)
    assert code == 0, err
    dkim = control.domain("monite", domain_id)["records"][1]["value"]
    assert out.splitlines() == [
        f"monite {domain_id} show.example.com: waiting_to_be_verified "
        "(next step at 2026-01-01T09:05:00Z)",
        f"API /monite/v1; owner {control.domain('monite', domain_id)['owner']}; "
        "created 2026-01-01T09:00:00Z; last checked 2026-01-01T09:00:00Z (1 check(s))",
        "KIND      TYPE   NAME                             LAST CHECK  VALUE",
        "spf       TXT    show.example.com                 valid       v=spf1 include:mailgun.org ~all",
        "dkim      TXT    krs._domainkey.show.example.com  not_found   "
        f"{dkim[:72]}… ({len(dkim)} characters; --json shows it)",
        "tracking  CNAME  email.show.example.com           valid       eu.mailgun.org",
        "mx_mxa    MX     show.example.com                 valid       10 mxa.eu.mailgun.org",
        "mx_mxb    MX     show.example.com                 valid       10 mxb.eu.mailgun.org",
        "dkim: krs._domainkey.show.example.com does not exist (NXDOMAIN)",
    ]
    code, out, err = cli("domains", "show", "--json", "monite", domain_id)
    assert code == 0 and json.loads(out) == control.domain("monite", domain_id), err
    # a domain never checked says so; Mailgun's is found by its name, as publish finds it
    control.create_domain("mailgun", "fresh.example.com")
    code, out, err = cli("domains", "show", "mailgun", "fresh.example.com")
    assert code == 0 and out.splitlines()[1].endswith("; not checked yet"), err
    assert out.splitlines()[3].split()[-4:] == [
        "unchecked",
        "v=spf1",
        "include:mailgun.org",
        "~all",
    ]


def test_domains_lines_up_each_domains_records_and_says_why_checks_failed_under(cli, control):
    """The outcome moved with each record's name (`dkim  TXT  krs._domainkey.mail.example.com
    not_found - ...`), and the verifier's sentence followed it on the same line, past any
    screen. Now each domain's records are columns, as `domains show` prints them, and the
    sentences follow them."""
    first = control.create_domain("monite", "list.example.com")["id"]
    control.publish("monite", first, omit="dkim")
    control.verify("monite", first)
    second = control.create_domain("autosend", "b.example.org")["id"]
    code, out, err = cli("domains")
    assert code == 0, err
    assert out.splitlines() == [
        f"monite {first} list.example.com: waiting_to_be_verified",
        "    spf       TXT    list.example.com                 valid",
        "    dkim      TXT    krs._domainkey.list.example.com  not_found",
        "    tracking  CNAME  email.list.example.com           valid",
        "    mx_mxa    MX     list.example.com                 valid",
        "    mx_mxb    MX     list.example.com                 valid",
        "    dkim: krs._domainkey.list.example.com does not exist (NXDOMAIN)",
        f"autosend {second} b.example.org: PENDING_CONFIGURATION",  # its own columns
        "    ownership      TXT  _autosend-verify.b.example.org     unchecked",
        "    dkim           TXT  autosend._domainkey.b.example.org  unchecked",
        "    mail_from_mx   MX   asend.b.example.org                unchecked",
        "    mail_from_spf  TXT  asend.b.example.org                unchecked",
        "    dmarc          TXT  _dmarc.b.example.org               unchecked",
    ]
    code, out, err = cli("domains", "--json")  # as it was
    assert code == 0 and json.loads(out) == {"domains": control.domains()}, err


def test_requests_lists_provider_calls(cli, urls):
    base = urls["monite"]
    partner_headers(base)
    code, out, _ = cli("requests")
    assert "POST" in out and "/monite/v1/auth/token" in out and "200" in out


def test_requests_of_a_domain_no_one_has_is_refused_as_a_misspelt_operation_is(cli, urls, control):
    """`requests --domain nope` answered (none), where `--operation nope` is refused: a misspelt
    id looked like a domain no client had touched."""
    headers = {"Authorization": "Bearer as_test_key"}
    base = urls["autosend"]
    created = httpx.post(f"{base}/domains", json={"domain": "told.example.com"}, headers=headers)
    domain_id = created.json()["data"]["id"]
    for count in ([], ["--count"]):
        code, out, err = cli("requests", "--domain", "nope", *count)
        assert (code, out) == (2, ""), out
        assert err == (
            "domainsandbox: 400: no domain has the id 'nope', now or in the request journal; "
            "`domainsandbox domains` (GET /_sandbox/domains) lists their ids\n"
        )
    code, _, err = cli("requests", "--domain", "told.example.com")  # its name, not its id
    assert code == 2 and f"the autosend domain named so has id {domain_id}: give that" in err
    code, _, err = cli("requests", "--domain", domain_id, "--provider", "monite")
    assert code == 2 and f"no monite domain has the id '{domain_id}'" in err, err
    assert cli("requests", "--domain", domain_id, "--count")[:2] == (0, "1\n")
    assert httpx.delete(f"{base}/domains/{domain_id}", headers=headers).status_code == 200
    code, out, err = cli("requests", "--domain", domain_id)  # deleted: known by its requests
    assert code == 0 and [line.split()[2] for line in out.splitlines()[1:]] == [
        "create_domain",
        "delete_domain",
    ], err
    monite = control.create_domain("monite", "quiet.example.com")["id"]
    control.clear_requests()
    code, out, err = cli("requests", "--domain", monite.upper())  # known, as its API takes it
    assert (code, out) == (0, "(none)\n"), err


def test_requests_say_a_call_whose_connection_a_fault_dropped_was_aborted(cli, urls, control):
    control.add_http_fault("autosend", operation="list_domains", abort=True, count=1)
    headers = {"Authorization": "Bearer as_test_key"}
    with pytest.raises(httpx.TransportError):  # the status line came, the body never did
        httpx.get(f"{urls['autosend']}/domains", headers=headers)
    assert httpx.get(f"{urls['autosend']}/domains", headers=headers).status_code == 200
    code, out, _ = cli("requests", "--provider", "autosend")
    statuses = [line.split()[3] for line in out.splitlines()[1:]]
    assert code == 0 and statuses == ["aborted", "200"], out
    for status, count in (("aborted", "1"), ("200", "1"), ("2xx", "1")):
        assert cli("requests", "--status", status, "--count")[1].strip() == count


def test_a_paths_control_characters_reach_the_terminal_escaped_and_a_long_one_cut(cli, urls):
    """A client's path printed raw by `requests` and `report` could colour, move or clear the
    screen of whoever read them (ESC [ 2 J); and `report` printed a 3,000-character path whole."""
    headers = {"Authorization": "Bearer as_test_key"}
    escaping = "%1B%5B2J%1B%5B31mRED%07%E2%80%AE"  # ESC [ 2 J, ESC [ 31 m, BEL, U+202E
    for domain_id in (escaping, "a" * 3000):
        answer = httpx.get(f"{urls['autosend']}/domains/{domain_id}", headers=headers)
        assert answer.status_code == 400, answer.text
    code, journal, _ = cli("requests", "--provider", "autosend")
    shown_path = "/autosend/v1/domains/\\x1b[2J\\x1b[31mRED\\x07\\u202e"
    assert code == 0 and shown_path in journal, journal
    code, report, _ = cli("report")
    assert code == 0 and "e.g. GET /autosend/v1/domains/\\x1b[2J" in report, report
    for shown in (journal, report):
        assert not any(c < " " and c != "\n" or "\x7f" <= c <= "\x9f" for c in shown), shown
        assert "\u202e" not in shown  # a right-to-left override shows what follows reversed
        longest = max(len(line) for line in shown.splitlines())
        assert longest < 600, longest  # the path cut to 200 characters, as messages cut it


def test_a_scenarios_text_and_the_sandboxs_error_words_reach_the_terminal_escaped(cli, control):
    """`domains` printed a check's reason raw, and every command printed the sandbox's error
    message raw: a scenario file from someone else could retitle or clear the terminal."""
    created = control.create_domain("autosend", "odd.example.com")
    control.verify("autosend", created["id"])
    control.advance("10m")  # its checks, run
    world = yaml.safe_load(control.export_scenario())
    [results] = [domain["results"] for domain in world["domains"]]
    results[next(iter(results))]["reason"] = "r\x1b]0;TITLE\x07\u202e"
    control.load_scenario(yaml.safe_dump(world))
    code, out, _ = cli("domains")
    assert code == 0 and "r\\x1b]0;TITLE\\x07\\u202e" in out, out
    code, _, err = cli("settings", "monite", "\x1b[2J=1")
    assert code == 2 and "\\x1b[2J" in err, err
    assert not any(c < " " and c != "\n" for c in out + err), (out, err)


def test_dns_fault_remove_ends_one_fault_and_leaves_the_others(cli, resolver, control):
    control.add_record("kept.example.com", "TXT", "hello")
    mine = control.add_fault("kept.example.com", "servfail")
    theirs = control.add_fault("other.example.com", "nxdomain")
    with pytest.raises(dns.resolver.NoNameservers):  # the SERVFAIL, as a resolver says it
        resolver.resolve("kept.example.com", "TXT")
    assert cli("dns", "fault", "--remove", mine["id"])[:2] == (0, f"removed fault {mine['id']}\n")
    assert [r.to_text() for r in resolver.resolve("kept.example.com", "TXT")] == ['"hello"']
    assert [f["id"] for f in control.faults()] == [theirs["id"]]
    code, _, err = cli("dns", "fault", "--remove", mine["id"])  # gone already
    assert code == 2 and f"no DNS fault '{mine['id']}'" in err and theirs["id"] in err


def test_requests_and_report_clear_empty_the_journal_and_the_report(cli, urls, control):
    partner_headers(urls["monite"])  # a provider call: journaled and in the report
    assert control.count_requests() > 0 and control.report()["providers"]["monite"]["requests"]
    assert cli("requests", "--clear")[:2] == (0, "cleared the request journal\n")
    assert cli("report", "--clear")[:2] == (0, "cleared the client report\n")
    assert control.count_requests() == 0
    assert control.report()["providers"]["monite"]["requests"] == 0
    code, _, err = cli("requests", "--clear", "--provider", "monite")
    assert code == 2 and "takes nothing else" in err
    partner_headers(urls["monite"])
    # it cleared what it was asked to judge, and passed the gate: refused, the report kept
    code, _, err = cli("report", "--clear", "--fail-on-violations")
    assert code == 2 and "report --clear judges nothing, and takes no --fail-on" in err
    assert control.report()["providers"]["monite"]["requests"]


def test_settings_show_and_change(cli, control):
    code, out, _ = cli("settings", "monite", "verify_delay_seconds=2m")
    assert "verify_delay_seconds = 120 (2m)\n" in out  # a whole number of seconds, not 120.0
    assert control.settings("monite")["verify_delay_seconds"] == 120
    code, out, _ = cli("settings", "monite", "verify_delay_seconds=1.5")
    assert "verify_delay_seconds = 1.5\n" in out
    code, _, err = cli("settings", "monite", "bogus=1")
    assert code == 2 and "unknown setting(s) bogus" in err
    code, out, _ = cli("settings", "ses", "max_identities=50")  # a count: a whole number
    assert code == 0 and "max_identities = 50\n" in out
    code, _, err = cli("settings", "ses", "max_identities=5m")  # was taken as 300
    assert code == 2 and "max_identities takes a whole number" in err
    assert control.settings("ses")["max_identities"] == 50
    for word, switched in (("off", 0), ("True", 1)):  # a switch, said as one
        assert cli("settings", "vortex", f"require_api_key={word}")[0] == 0
        assert control.settings("vortex")["require_api_key"] == switched


def test_docs_json_is_json_for_a_page_and_for_the_sections_of_a_word_too(capsys):
    """`docs --json` listed the pages as JSON, but `docs scaleway --json` printed the page's
    Markdown and `docs faults --json` its sections: now each is a JSON object."""
    from sandbox import pages

    def docs_json(*args: str) -> dict:
        assert main(["docs", *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    page = docs_json("scaleway")
    path = pages.find("scaleway")
    assert page["name"] == "scaleway" and page["path"] == str(path)
    assert page["title"] == "Scaleway Mailbox (v1alpha1) in the sandbox"
    assert page["text"] == path.read_text(encoding="utf-8")
    assert page["headings"][0] == {"level": 1, "heading": page["title"]}
    assert {"level": 2, "heading": "Timings"} in page["headings"]
    monite = docs_json("monite", "--path")  # a provider without a page: the README, no text
    assert monite == {"name": "readme", "title": "domainsandbox", "path": str(pages.find("readme"))}
    faults = docs_json("FAULTS")
    said = [(s["page"], s["level"], s["heading"]) for s in faults["sections"]]
    assert ("readme", 2, "HTTP faults and rate limits") in said, said
    assert ("readme", 3, "DNS faults and records") in said, said
    assert faults["sections"][0]["text"].startswith("## HTTP faults and rate limits\n")
    assert faults["mentions"] == []
    backup = docs_json("backup")  # in no heading: where the text mentions it
    assert backup["sections"] == []
    assert {"page": "reliability", "heading": "Backing up a state file"} in backup["mentions"]
    assert "pages" in docs_json()  # the list, as before
    assert main(["docs", "qzxv", "--json"]) == 2  # in no page: a usage error, as without --json
    assert "no page 'qzxv'" in capsys.readouterr().err


def test_a_provider_is_named_in_any_letter_case_as_a_record_type_is(cli, control):
    """`domains --provider Monite` was refused ("unknown provider 'Monite'") where `dns add`
    takes `txt` for TXT; every command now takes a provider's name in any letter case."""
    code, out, err = cli("create", "Monite", "case.example.com")
    assert code == 0, err
    assert out.startswith("monite ")
    domain_id = out.split()[1]
    code, out, err = cli("domains", "--provider", "MONITE")
    assert code == 0 and domain_id in out, err
    assert cli("domains", "show", "Monite", domain_id)[0] == 0
    assert cli("publish", "MoNiTe", domain_id)[0] == 0
    code, out, err = cli("verify", "Monite", domain_id)
    assert code == 0, err
    code, out, err = cli("settings", "SES", "max_identities=7")
    assert code == 0 and "max_identities = 7\n" in out, err
    assert control.settings("ses")["max_identities"] == 7
    code, out, _ = cli("http", "fault", "Scaleway", "--status", "503", "--count", "1")
    assert code == 0 and out.startswith("fault h1 on scaleway *: 503"), out
    assert cli("credentials", "ls", "Vortex")[0] == 0
    assert cli("requests", "--provider", "Monite", "--count")[0] == 0
    assert cli("report", "--provider", "Monite")[0] == 0
    code, out, err = cli(
        "clock", "advance", "--until", "verified", "--domain", f"Monite/{domain_id}"
    )
    assert code == 0 and out.startswith(f"monite {domain_id}: verified"), (out, err)


def test_settings_show_a_timing_of_a_minute_or_more_as_a_duration_too(cli, control):
    """`recheck_window_seconds = 259200` had to be worked out; now it says 3d beside it."""
    control.update_settings("autosend", {"verify_delay_seconds": 90})
    code, out, _ = cli("settings", "autosend")
    assert code == 0
    assert "verify_delay_seconds = 90 (1m30s)\n" in out
    assert "recheck_max_seconds = 3600 (1h)\n" in out
    assert "recheck_window_seconds = 259200 (3d)\n" in out
    code, out, _ = cli("settings", "scaleway")  # under a minute: the number says it all
    assert "creating_seconds = 30\n" in out and "provisioning_seconds = 120 (2m)\n" in out
    code, out, _ = cli("settings", "ses", "max_identities=120")  # a count: no duration
    assert "max_identities = 120\n" in out and "recheck_first_seconds = 300 (5m)\n" in out
    code, out, _ = cli("settings", "autosend", "--json")  # the seconds alone, as answered
    assert json.loads(out)["recheck_window_seconds"] == 259200


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["clock"], "its answer lacks 'now'"),
        (["requests"], "its answer lacks 'requests'"),
        (["dns", "ls"], "its answer lacks 'records'"),
        (["verify", "monite", "x"], "its answer lacks 'provider'"),
    ],
)
def test_another_service_answering_json_objects_is_said_in_one_line(capsys, args, said):
    """A JSON object of another shape (another service on the port) is no traceback."""
    with stand_in_server(200, b'{"foo": 1}') as url:
        code = main([*args, "--url", url])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.strip().endswith(f"the server at {url} does not answer as a domainsandbox: {said}")


def test_an_unreachable_sandbox_gets_a_clear_message(capsys):
    code = main(["domains", "--url", "http://127.0.0.1:9"])
    assert code == 1
    assert capsys.readouterr().err.endswith(
        "is `domainsandbox serve` running? If it serves elsewhere: --url URL, $DOMAINSANDBOX_URL, "
        "or $DOMAINSANDBOX_PORT (the port `serve` took it from too).\n"
    )


def test_a_value_that_starts_with_a_dash_is_told_how_to_give_it(capsys):
    """argparse read `-bad.example.com` as an option and said only that the name is required."""
    with pytest.raises(SystemExit) as exited:
        main(["create", "monite", "-bad.example.com"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "domainsandbox create: the following arguments are required: name ('-bad.example.com' "
        "was read as an option: put -- before a value that starts with -, after every option: "
        "`domainsandbox create monite -- -bad.example.com`) (see domainsandbox create --help)\n"
    )
    with pytest.raises(SystemExit):
        main(["create", "monite", "-bad.example.com", "--json"])  # said without the example
    assert "read as an option: put -- before a value that starts with -, after every option)" in (
        capsys.readouterr().err
    )


def test_each_parser_hints_at_the_command_line_it_was_given(capsys):
    """The command line was a class attribute `main` set: a parser built elsewhere read the last
    command line `main` was given in its hint, or none at all."""
    with pytest.raises(SystemExit):
        main(["create", "monite", "-bad.example.com"])
    capsys.readouterr()
    first, second = build_parser(), build_parser()
    for parser, name in ((first, "-one.example.com"), (second, "-two.example.com")):
        with pytest.raises(SystemExit):
            parser.parse_args(["create", "resend", name])
        assert f"`domainsandbox create resend -- {name}`" in capsys.readouterr().err
    assert first.words == ["create", "resend", "-one.example.com"]
    assert second.words == ["create", "resend", "-two.example.com"]


def test_a_dns_port_given_for_the_sandboxs_url_is_said_to_be_one(capsys):
    """The fake DNS takes the connection and closes it: "cannot reach the sandbox (Remote end
    closed connection without response); is `domainsandbox serve` running?", it said."""
    with FakeDNS() as dns_server:
        code = main(["clock", "--url", f"http://127.0.0.1:{dns_server.port}"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "closed it without an HTTP answer: is that the sandbox's DNS port?" in err, err


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (200, b"[]", "GET /_sandbox/clock answered '[]'"),
        (200, b"notjs", "GET /_sandbox/clock answered 'notjs'"),
        # a refusal in another server's words is no usage error: exit 1, as for no sandbox
        (
            404,
            b"<!DOCTYPE HTML>\n<html>\n<body>Not found</body>\n</html>\n",
            "GET /_sandbox/clock answered 404: '<!DOCTYPE HTML>",
        ),
    ],
)
def test_a_server_that_is_not_a_sandbox_is_said_in_one_line(capsys, status, body, said):
    with stand_in_server(status, body) as url:
        code = main(["clock", "--url", url])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"the server at {url} does not answer as a domainsandbox: {said}" in err


@pytest.mark.parametrize("port", ["abc", "0", "65536", "", "１８９"])
def test_a_port_in_the_environment_that_is_no_port_is_refused_by_client_commands(
    capsys, monkeypatch, port
):
    """serve refuses such a $DOMAINSANDBOX_PORT; the client commands went to 8080 instead."""
    monkeypatch.setenv("DOMAINSANDBOX_PORT", port)
    monkeypatch.delenv("DOMAINSANDBOX_URL", raising=False)
    code, _, err = run_cli("clock", capsys=capsys)
    assert code == 2
    assert f"$DOMAINSANDBOX_PORT={port!r} is not a port the sandbox can be found at" in err


@pytest.fixture
def slow_url():
    """Stands in for a sandbox busy with a long clock move: every answer takes a second."""
    with stand_in_server(200, b'{"now": "2036-01-03T09:00:00Z", "frozen": true}', 1) as url:
        yield url


def test_a_slow_answer_is_not_called_an_unreachable_sandbox(slow_url):
    with pytest.raises(ControlError) as refused:
        ControlClient(slow_url, timeout=0.2).domains()
    message = str(refused.value)
    assert message.startswith(
        f"the sandbox at {slow_url} did not answer GET /_sandbox/domains within 0.2 s"
    )
    assert "it may still be working on it" in message and "running?" not in message


def test_how_long_a_command_waits_for_an_answer_is_timeout_or_its_variable(
    cli, control, monkeypatch
):
    """A call gave up after 30 s, which nothing said and nothing changed: a verify whose DNS
    answers come late (a DNS delay fault) now waits --timeout, else $DOMAINSANDBOX_TIMEOUT."""
    made = control.create_domain("monite", "slow.example.com")
    control.publish("monite", made["id"])
    control.add_fault("*", "delay", delay_ms=1500)  # each DNS answer the verify reads is late
    code, _, err = cli("verify", "monite", made["id"], "--timeout", "300ms")
    assert code == 1, err
    assert "did not answer POST /_sandbox/domains/monite/" in err and "within 0.3 s" in err, err
    monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "0.4s")
    code, _, err = cli("verify", "monite", made["id"])
    assert code == 1 and "within 0.4 s" in err, err
    code, out, err = cli("verify", "monite", made["id"], "--timeout", "1m")  # the flag wins
    assert code == 0, err
    monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "soon")
    code, _, err = cli("domains")
    assert code == 2 and err.startswith("domainsandbox: $DOMAINSANDBOX_TIMEOUT='soon': 'soon' "), (
        err
    )


def test_a_clock_move_is_waited_for_however_long_it_takes(slow_url):
    with ControlClient(slow_url, timeout=0.2) as control:
        assert control.advance(3650 * 86400)["now"] == "2036-01-03T09:00:00Z"
        assert control.set_time("2036-01-03T09:00:00Z")["frozen"] is True
        assert control.freeze("2036-01-03T09:00:00Z")["now"] == "2036-01-03T09:00:00Z"


def test_a_clock_move_asked_of_a_server_that_never_answers_is_not_waited_for_forever(
    monkeypatch, capsys
):
    """A port that takes connections and answers nothing: `clock advance` said the clock was
    moving and waited for ever (a move's answer has no time limit); it first asks the clock."""
    monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "0.3s")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        code = main(["clock", "advance", "5m", "--url", url])
    err = capsys.readouterr().err
    assert code == 1 and "did not answer GET /_sandbox/clock within 0.3 s" in err, err
    assert "moving the clock" not in err


def test_a_long_clock_move_says_it_is_under_way_and_a_quick_read_does_not(
    slow_url, monkeypatch, capsys
):
    monkeypatch.setattr(cli_module, "MOVE_NOTICE_SECONDS", 0.2)  # the stand-in takes a second
    assert main(["clock", "advance", "3650d", "--url", slow_url]) == 0
    out, err = capsys.readouterr()
    assert out == "2036-01-03T09:00:00Z  (frozen)\n"
    assert err == "moving the clock: every scheduled step on the way runs its DNS checks...\n"
    assert main(["clock", "--url", slow_url]) == 0
    assert capsys.readouterr().err == ""


def test_a_bad_duration_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["dns", "add", "a.example.com", "TXT", "x", "--visible-after", "soon"])
    assert exit_info.value.code == 2
    assert "not a duration" in capsys.readouterr().err


def test_verify_runs_the_providers_own_verification(cli, urls, control):
    base = urls["monite"]
    domain_id = create(base, partner_headers(base))["id"]
    control.publish("monite", domain_id)
    code, out, _ = cli("verify", "monite", domain_id)
    assert code == 0 and out.strip().endswith("mail.example.com: verified")


def test_verify_says_when_a_check_it_scheduled_lands(cli, control):
    control.update_settings("resend", {"verify_delay_seconds": 30})
    code, out, _ = cli("create", "resend", "mail.example.com")
    assert code == 0 and out.endswith(" mail.example.com: not_started\n"), out
    code, out, _ = cli("verify", "resend", out.split()[1])
    # Resend checks later, on the sandbox clock (frozen at 09:00): the line says when
    assert code == 0 and out.endswith(": pending (next step at 2026-01-01T09:00:30Z)\n"), out


# --- misuse: one line, exit 2; a closed pipe ends quietly -----------------------------------


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    """`main(args)` as the shell would see it, usage errors (SystemExit) included."""
    try:
        code = main(list(args))
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


MISUSES = [
    (["clock", "advance", "fivem"], "'fivem' is not a duration"),
    (["clock", "advance", "5m5m"], "'5m5m': name each unit once, the largest first, as in 1h30m"),
    (["dns", "add", "a.example", "TXT", "x", "--visible-after", "30m1h"], "'30m1h': name each"),
    # a value that starts with `-` is the option's, and its check says what is wrong with it
    (["dns", "add", "a.example", "TXT", "x", "--visible-after", "-5m"], "'-5m': a duration is n"),
    (["contract", "run", "monite", "--request-timeout", "-0.5s"], "timeout: '-0.5s': a"),
    # the control API's refusals name the option, not the field it was sent as
    (["dns", "add", "a.example", "TXT", "x", "--visible-after", "2y"], "400: --visible-after: at"),
    (["http", "fault", "monite", "--latency-ms", "60001"], "400: --latency-ms: at most 60000 ms"),
    # the times of faults are durations too, said as any duration is
    (
        ["http", "fault", "monite", "--latency-ms", "1h"],
        "--latency-ms: at most 60000 ms (60 s), no",
    ),
    (["http", "fault", "monite", "--latency-ms", "0.5ms"], "0.5ms: give whole milliseconds"),
    (["http", "fault", "monite", "--latency-ms", "-1s"], "--latency-ms: '-1s': a duration is n"),
    (["dns", "fault", "x.example", "delay", "--delay-ms", "soon"], "'soon' is not a duration"),
    # an empty field in words (it said "'' should be non-empty (at least 1 characters)")
    (["dns", "add", "", "A", "192.0.2.1"], "400: name: may not be empty"),
    # an option of milliseconds gives examples in them (it gave 30s, 5m, 1h, ...)
    (["http", "fault", "monite", "--latency-ms", "250us"], "such as 250ms, 1.5s or 700 (a bar"),
    # it said the fault "needs --status, --latency-ms, or a drop", with --latency-ms given
    (["http", "fault", "monite", "--latency-ms", "0"], "--latency-ms 0 delays nothing: give mor"),
    # 400 digits: no float holds them (a traceback: OverflowError from int())
    (["dns", "add", "a.example", "TXT", "x", "--ttl", "9" * 400], "999999...: too long by far"),
    (["clock", "advance", "9" * 400 + "s"], "999999...: too long by far"),
    (["settings", "autosend", "verify_delay_seconds=abc"], "'abc' is not a duration"),
    (["settings", "autosend", "verify_delay_seconds"], "write settings as name=value"),
    (["report", "--provider", "foo"], "unknown provider 'foo'; known: autosend, mailgun"),
    (["clock", "unfreeze", "now"], "clock unfreeze takes no value"),
    (["clock", "later"], "invalid choice: 'later'"),
    (["clock", "show", "x"], "clock show takes no value (got 'x')"),
    (["clock", "set"], "clock set needs a value"),
    (["clock", "mode", "turbo"], "clock mode 'turbo' is not a mode: frozen, real, fast, on-poll"),
    (["clock", "advance", "-5m"], "clock advance -5m: time only moves forward; `clock set ISO`"),
    (["clock", "advance", "-90"], "clock advance -90: time only moves forward"),
    (["clock", "advance", "11y"], "clock advance 11y: at most 10y (3650 days) at a time"),
    # it was sent, and said back in seconds ("at most 31536000 seconds ..., not 346896000")
    (
        ["clock", "advance", "--until", "verified", "--domain", "resend/x", "--limit", "11y"],
        "--limit: 11y is past the furthest an advance --until looks ahead, 365d",
    ),
    (["clock", "advance", "--json", "-1.5h"], "clock advance -1.5h: time only moves forward"),
    (
        ["clock", "advance", "5m", "-x"],
        "clock: unrecognized arguments: -x (see domainsandbox clock",
    ),
    (
        ["dns", "ls", "--zz"],
        "dns ls: unrecognized arguments: --zz (see domainsandbox dns ls --help)",
    ),
    (["clock", "set", "tomorrow"], "'tomorrow' is not an ISO-8601 instant"),
    # which part of a date is wrong (it said only "not an ISO-8601 time")
    (["clock", "set", "2026-02-30T00:00:00Z"], "instant (day is out of range for month)"),
    (["requests", "--since", "2026-13-01"], "--since: '2026-13-01' is not an ISO-8601 instant (m"),
    # it said `set:` to a user who typed `freeze`
    (["clock", "freeze", "notadate"], "set (the instant to freeze at): 'notadate' is not an ISO"),
    (["dns", "add", "example.com", "TXT"], "required: value"),
    (["dns", "rm", "example.com", "--value", "x"], "needs a TYPE"),
    (["dns", "queries", "--limit", "0"], "less than the minimum of 1"),
    (["settings", "nosuch"], "settings: argument provider: unknown provider 'nosuch'; known: a"),
    (["publish", "monit", "x"], "unknown provider 'monit'; known: autosend, mailgun, monite,"),
    (["domains", "show"], "domains show needs a PROVIDER and the domain's ID (`domainsandbox d"),
    (["domains", "show", "monite"], "domains show needs a PROVIDER and the domain's ID"),
    (["domains", "show", "monite", "x", "--provider", "ses"], "domains show names its domain b"),
    (["domains", "show", "monite", "no-such-id"], "404: no monite domain with id no-such-id"),
    (["domains", "show", "monit", "x"], "PROVIDER: unknown provider 'monit'; known: autosend,"),
    (["requests", "--provider", "monitee"], "--provider: unknown provider 'monitee'; known:"),
    (["http", "fault", "nosuch", "--status", "503"], "unknown provider 'nosuch'; known:"),
    (["verify", "monite", "no-such-id"], "no monite domain with id no-such-id"),
    (["publish", "scaleway", ""], "domain_id: empty: give the id the provider's API answered"),
    (["verify", "monite", " "], "domain_id: empty: give the id the provider's API answered"),
    (["clock", "freeze", "--limit", "5h"], "--limit goes with `clock advance --until STATUS"),
    (["settings", "ses", "max_identities=5m"], "max_identities takes a whole number"),
    (
        ["settings", "vortex", "check_delay=30s"],
        "check_delay for vortex; known: check_delay_seconds",
    ),
    (["scenario", "load", "/no/such/file.yaml"], "No such file or directory"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["scenario", "export", "/no/such/dir/x.yaml"], "/no/such/dir/x.yaml: No such file"),
    (["reset", "--seed", "-5"], "'-5' is not a seed (0 to 4294967295)"),
    (["dns", "add", "a.example.com", "A", "192.0.2.1", "--ttl", "1.5"], "1.5: a TTL is a whole"),
    (
        ["requests", "--status", "7xx"],
        "'7xx' is neither a status code such as 404, a class such as 4xx, nor aborted",
    ),
    (["demo", "--seed", "4294967296"], "'4294967296' is not a seed (0 to 4294967295)"),
    # a fault half given is said, never answered with a listing that looks like success
    (["dns", "fault", "clear"], "dns fault needs a MATCH (a name, *.suffix or *) and a KIND"),
    (["dns", "fault", "x.example"], "(missing: a KIND); `dns fault` alone lists the faults"),
    (["dns", "fault", "", "servfail"], "(missing: a MATCH)"),
    (["dns", "fault", "--count", "2"], "dns fault --count describes a new fault: give a MATCH"),
    (["dns", "fault", "--clear", "a.example"], "--clear removes every fault, and takes nothing"),
    (["http", "fault", "--status", "500"], "http fault --status describes a new fault: give a"),
    (["http", "fault", "", "--status", "500"], "(missing: a PROVIDER)"),
    (["http", "fault", "--clear", "monite"], "--clear removes every fault, and takes nothing"),
    (["http", "fault", "monite"], "needs --status, --latency-ms, or a drop: --abort, --abort-"),
    # the help's "add, list, remove or clear" read as words: said how, not "unknown provider"
    (["http", "fault", "add", "--status", "503"], "'add' is not a provider: `http fault PROVIDER"),
    (["http", "fault", "--remove", "h1", "ses"], "--remove ID removes that fault, and takes"),
    (["dns", "fault", "--remove", "f1", "--clear"], "--clear removes every fault, and takes"),
    (["http", "fault", "ses", "--abort", "--abort-after"], "one of --abort, --abort-after"),
    (["http", "fault", "ses", "--reset", "--reset-after"], "one of --reset, --reset-after"),
    (["http", "fault", "ses", "--status", "503", "--reset"], "or drops (--reset), not both"),
    (["http", "fault", "ses", "--status", "503", "--abort"], "or drops (--abort), not both"),
    (["publish", "monite", "x", "--omit", "dkim", "--corrupt", "dkim,spf"], "dkim cannot be both"),
    (["settings"], "the following arguments are required: provider (see"),
    (["clock", "--url", "127.0.0.1:8080"], "--url: '127.0.0.1:8080' is not a sandbox URL"),
    (["clock", "--url", "http://127.0.0.1:99999"], "'http://127.0.0.1:99999' is not a sandbox"),
]


@pytest.mark.parametrize(("args", "said"), MISUSES, ids=[" ".join(m[0])[:70] for m in MISUSES])
def test_every_misuse_gets_one_line_and_exit_code_2(server, control, capsys, args, said):
    url = [] if "--url" in args else ["--url", server.url]
    code, out, err = run_cli(*args, *url, capsys=capsys)
    assert code == 2, (out, err)
    assert said in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_mistyped_sandbox_url_in_the_environment_is_named_as_such():
    """It was said to be `--url`'s, which nobody had given."""
    env = os.environ | {"DOMAINSANDBOX_URL": "127.0.0.1:8080"}
    ran = subprocess.run([*CLI, "clock"], capture_output=True, text=True, env=env, timeout=30)
    assert ran.returncode == 2
    assert ran.stderr.startswith("domainsandbox: $DOMAINSANDBOX_URL: '127.0.0.1:8080' is not a")


OUT_OF_RANGE = [
    (["serve", "--port", "70000"], "'70000' is not a port number (0 to 65535)"),
    (["serve", "--dns-port", "-1"], "'-1' is not a port number (0 to 65535)"),
    (["serve", "--seed", "-5"], "'-5' is not a seed (0 to 4294967295)"),
    (["dns", "serve", "--port", "65536"], "'65536' is not a port number (0 to 65535)"),
    (["serve", "--resolver", "bad:xx"], "'bad:xx' is not a DNS server's address"),
    (["serve", "--resolver", "1.1.1.1:99999"], "'1.1.1.1:99999' is not a DNS server's address"),
    (["serve", "--port", "18000", "--dns-port", "18000"], "both 18000: the HTTP server and the"),
    (["serve", "--state", ""], "--state needs a file to keep the world in"),
]


@pytest.mark.parametrize(("args", "said"), OUT_OF_RANGE, ids=[" ".join(m[0]) for m in OUT_OF_RANGE])
def test_ports_seeds_and_resolvers_out_of_range_are_refused_before_anything_starts(
    capsys, args, said
):
    code, out, err = run_cli(*args, capsys=capsys)
    assert code == 2, (out, err)
    assert said in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("scenario", "said"),
    [
        ("nosuch", "argument --scenario: nosuch: no such file, nor a bundled scenario (bundled: "),
        ("/no/such.yaml", "argument --scenario: /no/such.yaml: no such file (see"),
        ("/", "argument --scenario: /: a folder, not a scenario file (see"),
    ],
)
def test_serve_names_a_scenario_it_cannot_load_once(capsys, scenario, said):
    code, _, err = run_cli("serve", "--scenario", scenario, "--port", "0", capsys=capsys)
    assert code == 2 and said in err and err.count(scenario) == 1, err


def test_serve_names_the_variable_of_a_scenario_it_cannot_find(capsys, monkeypatch):
    monkeypatch.setenv("DOMAINSANDBOX_SCENARIO", "every-stat")
    code, _, err = run_cli("serve", "--port", "0", capsys=capsys)
    assert code == 2, err
    assert "$DOMAINSANDBOX_SCENARIO='every-stat': every-stat: no such file, nor a bundled" in err
    assert "did you mean every-state?" in err


def test_a_bundled_scenario_name_written_otherwise_is_told_the_name(capsys):
    code, _, err = run_cli("serve", "--scenario", "Every_State", "--port", "0", capsys=capsys)
    assert code == 2 and "; did you mean every-state?" in err, err
    code, _, err = run_cli("serve", "--scenario", "nosuch", "--port", "0", capsys=capsys)
    assert code == 2 and "did you mean" not in err, err


def test_the_standalone_dns_server_refuses_a_port_out_of_range():
    done = subprocess.run(
        [sys.executable, "-m", "fake_dns", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "'70000' is not a port number (0 to 65535)" in done.stderr
    assert "Traceback" not in done.stderr


def _commands(parser, path=("domainsandbox",)):
    """Every command's parser, with its words: (("domainsandbox", "dns", "add"), parser), ..."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from _commands(command, (*path, name))


def test_every_argument_of_every_command_says_what_it_is_for(capsys):
    bare = [
        f"{' '.join(path)} {action.option_strings or action.dest}"
        for path, parser in _commands(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert bare == []
    code, out, _ = run_cli("dns", "fault", "--help", capsys=capsys)
    assert code == 0 and "for the next N queries (default: until cleared)" in out
    code, out, _ = run_cli("serve", "--help", capsys=capsys)  # the seed a rehearsal replays
    assert code == 0 and f"(default {DEFAULT_SEED};" in " ".join(out.split())


def test_clock_freeze_now_freezes_at_the_current_instant_and_freeze_at_a_time_sets_it(cli, control):
    control.unfreeze()
    code, out, _ = cli("clock", "freeze", "now")
    assert code == 0 and "(frozen)" in out
    assert control.clock()["frozen"] is True
    code, out, _ = cli("clock", "freeze", "2026-05-01T10:00:00Z")
    assert code == 0 and out.startswith("2026-05-01T10:00:00Z  (frozen)")


def test_url_json_and_token_are_accepted_before_the_command_too(server, control, capsys):
    code, out, _ = run_cli("--url", server.url, "--json", "--token", "t", "clock", capsys=capsys)
    assert code == 0 and json.loads(out)["frozen"] is True
    # after the command, as before; given in both places, the one after the command wins
    code, out, _ = run_cli(
        "--url", "http://127.0.0.1:9", "clock", "--url", server.url, capsys=capsys
    )
    assert code == 0 and "(frozen)" in out
    # and between a command and its action
    code, out, _ = run_cli("dns", "--json", "--url", server.url, "ls", capsys=capsys)
    assert code == 0 and json.loads(out) == {"records": []}
    code, out, _ = run_cli("http", "--url", server.url, "fault", "--json", capsys=capsys)
    assert code == 0 and json.loads(out) == {"faults": []}


@pytest.mark.parametrize("command", [["dns", "ls"], ["domains"], ["dns", "queries"]])
def test_a_closed_pipe_ends_the_command_quietly(server, control, urls, command):
    base = urls["monite"]
    create(base, partner_headers(base))
    control.add_record("example.com", "TXT", "hello")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written (`| head` that has had enough)
    try:
        result = subprocess.run(
            [*CLI, *command, "--url", server.url], stdout=write, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(write)
    assert result.stderr == b""
    assert result.returncode == 141  # as a tool ended by SIGPIPE


def test_rate_limits_off_says_nothing_is_enforced_and_on_lists_the_quotas(cli, control):
    code, on, _ = cli("rate-limits", "on")
    assert code == 0 and control.rate_limits()["enabled"] is True
    assert on.splitlines()[0] == "rate limits on"
    assert "  mailgun   300 requests / 60.0 s" in on.splitlines()
    assert "not enforced" not in on
    # the providers with no quota were left out without a word
    assert on.splitlines()[-1] == "  vortex, ses: no documented quota, never limited"

    code, off, _ = cli("rate-limits", "off")
    assert code == 0 and control.rate_limits()["enabled"] is False
    first, second, *quotas = off.splitlines()
    assert first == "rate limits off"
    assert second == "nothing is enforced; the documented quotas, for `rate-limits on`:"
    assert quotas == on.splitlines()[1:]  # the same table, no longer read as in force

    code, shown, _ = cli("rate-limits")
    assert code == 0 and shown == off


def test_scenario_list_refuses_a_file_it_would_not_read(capsys):
    assert main(["scenario", "list", "mine.yaml"]) == 2
    assert "scenario list takes no FILE ('mine.yaml')" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["verify", "monite", "\udcff"], "domain-id"),
        (["requests", "--domain", "\udcff"], "domain"),
        (["dns", "rm", "x.example.com", "A", "--value", "\udcff"], "value"),
        (["--url", "http://127.0.0.1:9/\udcff", "clock"], "url"),
    ],
)
def test_an_argument_of_bytes_that_are_no_utf8_is_said_in_one_line(capsys, args, named):
    """`$'\\xff'` as an id reached the request's path and ended in a traceback (or blamed the
    server): Python reads such bytes of argv as lone surrogates."""
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert f"argument {named}: " in err and "holds bytes that are no UTF-8" in err


def test_json_is_what_every_command_prints_under_json(cli):
    """`requests --clear` and `report --clear` printed a sentence, `scenario export` YAML."""
    for command in (["requests", "--clear"], ["report", "--clear"]):
        code, out, _ = cli(*command, "--json")
        assert code == 0 and json.loads(out) == {"cleared": True}
    code, out, _ = cli("scenario", "export", "--json")
    assert code == 0 and out.endswith("\n") and json.loads(out)["format"] == 3


def test_scenario_export_json_is_indented_as_every_other_json_output(cli, control, tmp_path):
    """It printed the world in one line of thousands of characters, where every other command's
    --json output is indented by two spaces; a .json file got the same line."""
    control.add_record("kept.example.com", "TXT", "indented")
    code, out, _ = cli("scenario", "export", "--json")
    world = json.loads(out)
    assert code == 0 and out == json.dumps(world, indent=2) + "\n"
    assert out.startswith('{\n  "format": 3,\n  "seed": ')
    target = tmp_path / "world.json"
    assert cli("scenario", "export", str(target))[0] == 0
    assert target.read_text() == out
    control.reset()
    assert cli("scenario", "load", str(target))[0] == 0  # and it loads as the world it was
    assert control.records("kept.example.com")[0]["value"] == "indented"


def test_a_json_scenario_file_is_read_as_json(cli, control, tmp_path):
    """A .json file was read as YAML: a trailing comma loaded without a word (as an empty world
    here, replacing the one there), and a file cut short was said to be "not valid YAML"."""
    control.add_record("kept.example.com", "TXT", "still here")
    broken = tmp_path / "world.json"
    broken.write_text('{"format": 2, "seed": 1,}')
    code, _, err = cli("scenario", "load", str(broken))
    assert code == 2 and err.startswith(f"domainsandbox: {broken}: 400: not valid JSON: "), err
    assert control.records("kept.example.com")[0]["value"] == "still here"  # nothing replaced
    broken.write_text('{"format": 2, "seed": 7}')
    assert cli("scenario", "load", str(broken))[0] == 0
    assert json.loads(cli("scenario", "export", "--json")[1])["seed"] == 7


def test_a_scenario_goes_to_standard_output_and_comes_from_standard_input_as_dash(
    cli, control, tmp_path, monkeypatch
):
    """`scenario export -` wrote a file named `-`."""
    monkeypatch.chdir(tmp_path)
    control.add_record("kept.example.com", "TXT", "through a pipe")
    code, exported, _ = cli("scenario", "export", "-")
    assert code == 0 and exported.startswith("format: 3\n") and not (tmp_path / "-").exists()
    control.reset()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(exported.encode())))
    code, out, _ = cli("scenario", "load", "-")
    assert (code, out) == (
        0,
        "loaded -: 0 domain(s), 1 DNS record(s), clock 2026-01-01T09:00:00Z (frozen)\n",
    )
    assert control.export_scenario() == exported


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["requests", "--count", "--limit", "2"], "no --limit"),  # the limit was ignored
        (["clock", "show", "extra"], "clock show takes no value (got 'extra')"),
    ],
)
def test_options_a_command_would_ignore_are_refused(cli, args, said):
    code, _, err = cli(*args)
    assert code == 2 and said in err, err


def _commands(parser: argparse.ArgumentParser, prefix: str = ""):
    """Every command and sub-command of `parser`: (its words, its parser)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield f"{prefix}{name}", command
                yield from _commands(command, f"{prefix}{name} ")


def test_every_commands_help_opens_with_what_it_does(capsys):
    """`verify --help` (and most others) showed usage and options without a word of what the
    command does: the list of commands said it, the command's own help did not."""
    commands = dict(_commands(build_parser()))
    assert {"verify", "dns add", "http fault", "contract run"} <= commands.keys()
    undescribed = [words for words, command in commands.items() if not command.description]
    assert not undescribed
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    assert "no HTTP fault applies" in " ".join(capsys.readouterr().out.split())


def test_an_option_before_a_commands_last_word_leaves_that_word_its_own(cli, tmp_path):
    """`scenario export --json FILE`, as the README writes it, was "unrecognized arguments:
    FILE": argparse gave the file nothing once `export` was read."""
    target = tmp_path / "world.json"
    code, out, err = cli("scenario", "export", "--json", str(target))
    assert (code, out, err) == (0, f"wrote {target}\n", "")
    assert json.loads(target.read_text())["format"] == 3
    code, out, _ = cli("clock", "advance", "--json", "5m")
    assert code == 0 and json.loads(out)["now"] == "2026-01-01T09:05:00Z"
    code, out, _ = cli("scenario", "export", "--json", "-")  # `-` too: it was "unrecognized"
    assert code == 0 and json.loads(out)["format"] == 3
    with pytest.raises(SystemExit) as stopped:
        cli("scenario", "export", "--json", str(target), "more")
    assert stopped.value.code == 2
