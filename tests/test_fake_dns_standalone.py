"""The standalone server: `python -m fake_dns dns serve --port P --zone FILE`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dns.message
import dns.query
import pytest

from fake_dns import FakeDNS, ZoneFileError, load_zone_file
from tests.fake_dns_helpers import answer_texts, txt_values
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent

ZONE_YAML = """\
- name: example.com
  type: MX
  values: ["10 mxa.eu.mailgun.org", "10 mxb.eu.mailgun.org"]
  ttl: 300
- name: _dmarc.example.com
  type: TXT
  value: "v=DMARC1; p=none"
- {name: www.example.com, type: A, value: 192.0.2.10}
"""


def _run(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [sys.executable, "-m", "fake_dns", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        **kwargs,
    )


def _query(port: int, name: str, rtype: str, tcp: bool = False):
    query = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=port, timeout=2)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_standalone_serves_a_zone_file_until_interrupted(tmp_path, stop_signal):
    zone = tmp_path / "zone.yaml"
    zone.write_text(ZONE_YAML)
    port = free_port()
    proc = _run("dns", "serve", "--host", "127.0.0.1", "--port", str(port), "--zone", str(zone))
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"fake DNS listening on 127.0.0.1:{port} (UDP and TCP), 4 record(s)"
        mx = answer_texts(_query(port, "example.com", "MX"), "MX")
        assert mx == ["10 mxa.eu.mailgun.org.", "10 mxb.eu.mailgun.org."]
        assert txt_values(_query(port, "_dmarc.example.com", "TXT", tcp=True)) == [
            "v=DMARC1; p=none"
        ]
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_bad_zone_file_exits_2_naming_the_entry(tmp_path):
    zone = tmp_path / "zone.yaml"
    zone.write_text(ZONE_YAML + "- {name: api.example.com, type: XYZ, value: '1'}\n")
    proc = _run("--port", str(free_port()), "--zone", str(zone))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "zone.yaml entry 4 (api.example.com): unknown type 'XYZ'" in err


def test_busy_port_exits_2_with_a_clear_message():
    with FakeDNS() as busy:
        proc = _run("dns", "serve", "--port", str(busy.port))
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert (
        err
        == f"fake_dns: port {busy.port} is already in use on 127.0.0.1; choose another with --port N\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {name: www.example.com, type: A, value: 300.0.0.1}\n", "entry 1 (www.example.com): "),
        (
            "- {name: a.example.com, type: A, value: 192.0.2.1}\n- {type: A, value: 1.2.3.4}\n",
            "entry 2: missing 'name'",
        ),
        ("- {name: a.example.com, type: TXT}\n", "exactly one of 'value' or 'values'"),
        ("- {name: a.example.com, type: TXT, value: x, color: red}\n", "unknown key(s) color"),
        ("name: [unclosed\n", "not valid YAML: line 2, column 1: expected ',' or ']'"),
        ("- {name: a.example.com, type: MX, value: 1" + "0" * 5000 + "}\n", "4300 digits"),
        (
            "- {name: a.example.com, type: A, value: 1.2.3.4, visible_after: 2026-02-30}\n",
            "entry 1 (a.example.com): visible_after: not an ISO-8601 date-time: '2026-02-30'",
        ),
        ("x: " + "[" * 2000 + "\n", "nested too deeply to read"),
        ("just a string\n", "expected a list of records"),
        (
            "- {name: a.example.com, type: TXT, values: [fine, yes]}\n",
            "entry 1 (a.example.com): a value YAML read as a boolean: put it in quotes ('yes')",
        ),
        (
            "- {name: x.example.com, type: CNAME, value: y.example.com}\n"
            "- {name: x.example.com, type: TXT, value: hello}\n",
            "entry 2 (x.example.com): x.example.com is an alias (CNAME to y.example.com)",
        ),
    ],
)
def test_load_zone_file_errors_say_what_and_where(tmp_path, text, message):
    zone = tmp_path / "zone.yaml"
    zone.write_text(text)
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(zone)
    assert message in str(info.value)
    assert str(info.value).startswith("zone.yaml")


def test_load_zone_file_returns_one_record_per_value(tmp_path):
    zone = tmp_path / "zone.yaml"
    zone.write_text(ZONE_YAML)
    records = load_zone_file(zone)
    assert [(r["name"], r["type"], r["value"]) for r in records] == [
        ("example.com", "MX", "10 mxa.eu.mailgun.org"),
        ("example.com", "MX", "10 mxb.eu.mailgun.org"),
        ("_dmarc.example.com", "TXT", "v=DMARC1; p=none"),
        ("www.example.com", "A", "192.0.2.10"),
    ]


def test_values_yaml_1_1_reads_as_times_or_base_60_numbers_are_kept_as_written(tmp_path):
    """`10:00` was the number 600 (YAML 1.1's base 60), served as a TXT "600"; an unquoted
    date or instant was a datetime."""
    zone = tmp_path / "zone.yaml"
    zone.write_text(
        "- {name: a.example.com, type: TXT, value: 10:00}\n"
        "- {name: a.example.com, type: TXT, value: 2026-01-05T10:00:00Z}\n"
        "- {name: a.example.com, type: TXT, value: 2026-01-05, visible_after: 2026-01-05}\n"
        "- {name: b.example.com, type: MX, value: 10 mx.example.com}\n"
    )
    records = load_zone_file(zone)
    assert [r["value"] for r in records] == [
        "10:00", "2026-01-05T10:00:00Z", "2026-01-05", "10 mx.example.com",
    ]  # fmt: skip
    assert records[2]["visible_after"] == "2026-01-05"


def test_missing_zone_file_is_a_zone_file_error(tmp_path):
    with pytest.raises(ZoneFileError) as info:
        load_zone_file(tmp_path / "nope.yaml")
    assert str(info.value).startswith(f"{tmp_path / 'nope.yaml'}: cannot read")  # where it looked


@pytest.mark.parametrize("given", ["flags", "variables"])
def test_domainsandbox_dns_serve_is_the_same_command(tmp_path, given):
    """Its address and zone by flags, or by the variables `serve` takes its DNS address from
    (DOMAINSANDBOX_DNS_PORT was ignored: `dns serve` bound 5353)."""
    zone = tmp_path / "zone.yaml"
    zone.write_text(ZONE_YAML)
    port = free_port()
    cli = str(Path(sys.executable).parent / "domainsandbox")
    flags = ["--port", str(port), "--zone", str(zone)] if given == "flags" else []
    variables = {"DOMAINSANDBOX_DNS_PORT": str(port), "DOMAINSANDBOX_DNS_ZONE": str(zone)}
    proc = subprocess.Popen(
        [cli, "dns", "serve", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(variables if given == "variables" else {})},
    )
    try:
        line = proc.stdout.readline().strip()
        assert line == f"fake DNS listening on 127.0.0.1:{port} (UDP and TCP), 4 record(s)", line
        busy = subprocess.run(
            [cli, "dns", "serve", "--port", str(port)], capture_output=True, text=True, timeout=20
        )
        assert busy.returncode == 2 and busy.stderr.startswith("domainsandbox: port "), busy.stderr
        assert txt_values(_query(port, "_dmarc.example.com", "TXT")) == ["v=DMARC1; p=none"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate()
