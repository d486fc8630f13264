"""The Python control client takes what the CLI takes: durations as "1h30m" (or seconds, or a
timedelta) and record kinds as "spf,dkim_1" (or a list); and a refusal under pytest points at
the test's own line, not at the client's code."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from fake_dns import Zone
from sandbox.client import ControlClient, ControlError

from .helpers import stand_in_server


def test_the_clock_advances_by_a_duration_as_the_cli_writes_it(control):
    start = control.clock()["now"]
    assert start.endswith("09:00:00Z")
    assert control.advance("1h30m")["now"].endswith("10:30:00Z")
    assert control.advance(timedelta(minutes=15))["now"].endswith("10:45:00Z")
    assert control.advance(900)["now"].endswith("11:00:00Z")
    with pytest.raises(ValueError, match="'5 minutes' is not a duration such as 30s, 5m"):
        control.advance("5 minutes")


def test_records_are_hidden_for_a_duration_as_the_cli_writes_it(control):
    [record] = control.add_record("late.example.com", "TXT", "v", visible_after_seconds="10m")
    assert record["visible_after"].endswith("09:10:00Z")


def test_record_kinds_are_taken_as_one_comma_separated_string_too(control):
    created = control.create_domain("resend", "kinds.example.com")
    published = control.publish("resend", created["id"], omit="dkim_1, dkim_2", corrupt="spf")
    kinds = {record["kind"]: record.get("corrupted", False) for record in published}
    assert "dkim_1" not in kinds and "dkim_2" not in kinds
    assert kinds["spf"] is True and kinds["dkim_3"] is False


def test_records_at_a_name_that_is_no_dns_name_are_refused_not_an_empty_list(control):
    """A mistyped name read as "no records there"; removing at it was refused already."""
    with pytest.raises(ControlError, match="name: 'bad..name' is not a DNS name") as refused:
        control.records("bad..name")
    assert refused.value.status == 400


def test_the_longest_name_is_taken_with_its_final_dot_and_no_longer_one(control):
    """The dot counted as a character of the name: 253 characters and a dot were refused."""
    longest = ".".join(["x" * 63] * 3 + ["x" * 45]) + ".big.example.com"  # 253 characters
    control.add_record(longest + ".", "TXT", "at the end")
    assert [r["value"] for r in control.records(longest)] == ["at the end"]
    with pytest.raises(ControlError, match="longer than 253 characters") as refused:
        control.add_record("xx." + longest[2:], "TXT", "one too many")
    assert refused.value.status == 400


def test_a_record_type_is_taken_in_any_letter_case_and_kept_upper_case(control, resolver):
    """The CLI and fake_dns took `txt`; the control API's document refused it."""
    added = control.add_record("mixed.example.com", "txt", "v=spf1 ~all")
    control.add_record("mixed.example.com", "Mx", "10 mx.example.net")
    assert [r["type"] for r in added] == ["TXT"]
    assert [r["type"] for r in control.records("mixed.example.com", "mx")] == ["MX"]
    answer = resolver.resolve("mixed.example.com", "TXT")  # served as TXT, over real DNS
    assert [b"".join(r.strings) for r in answer] == [b"v=spf1 ~all"]
    assert control.remove_records("mixed.example.com", "tXt", "v=spf1 ~all") == 1
    assert [r["type"] for r in control.records("mixed.example.com")] == ["MX"]


def test_a_provider_is_named_in_any_letter_case_as_a_record_type_is(control, server):
    """The CLI takes `Monite` for monite; the control API refused it with a 400 in a query, a
    path and a body alike. Each answers as for the name in lower case."""
    made = control.create_domain("AutoSend", "case.example.com")
    assert made["provider"] == "autosend"
    assert [d["id"] for d in control.domains("AUTOSEND")] == [made["id"]]
    assert control.domain("Autosend", made["id"])["id"] == made["id"]
    assert control.update_settings("SES", {"max_identities": 5})["max_identities"] == 5
    assert control.settings("ses")["max_identities"] == 5
    fault = control.add_http_fault("Scaleway", status=503, count=1)
    assert fault["provider"] == "scaleway"
    with pytest.raises(ControlError) as refused:
        control.domains("Nope")
    assert str(refused.value) == (
        "400: provider: 'Nope' is not one of autosend, mailgun, monite, resend, scaleway, ses, "
        "vortex, in any letter case"
    )


@pytest.mark.parametrize("rtype", ["soa", "SOA", "TXT2", "t xt"])
def test_a_type_the_zone_does_not_serve_is_still_refused_naming_those_it_does(control, rtype):
    with pytest.raises(ControlError) as refused:
        control.add_record("mixed.example.com", rtype, "x")
    assert refused.value.status == 400
    assert str(refused.value) == (
        f"400: type: {rtype!r} is not one of A, AAAA, CNAME, MX, TXT, SRV, NS, CAA, PTR, "
        "in any letter case"
    )
    with pytest.raises(ControlError, match=r"^400: type: .* is not one of A, AAAA, "):
        control.records("mixed.example.com", rtype)


def test_an_idn_is_refused_naming_its_dns_form_as_the_python_api_does(control):
    """The control API said only "is not a DNS name"; fake_dns's Zone names the xn-- form."""
    with pytest.raises(ValueError) as python:
        Zone().add("café.example.com", "TXT", "x")
    assert "xn--caf-dma.example.com" in str(python.value)
    calls = [  # a body's field, a query's parameter, a field under allOf
        ("name", lambda: control.add_record("café.example.com", "TXT", "x")),
        ("name", lambda: control.records("café.example.com")),
        ("name", lambda: control.remove_records("café.example.com")),
        ("match", lambda: control.add_fault("café.example.com", "servfail")),
    ]
    for field, call in calls:
        with pytest.raises(ControlError) as refused:
            call()
        assert str(refused.value) == f"400: {field}: {python.value}"


def test_a_refusal_under_pytest_shows_the_test_s_line_not_the_client_s(server, tmp_path):
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            f"""
            from sandbox.client import ControlClient

            def test_it():
                ControlClient({server.url!r}).publish("resend", "no-such-id")
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:domainsandbox"]
        + ["test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ControlClient(" in run.stdout, run.stdout
    assert "ControlError: 404: no resend domain with id no-such-id" in run.stdout, run.stdout
    assert "test_user.py:5: ControlError" in run.stdout, run.stdout  # the last frame shown
    assert "def publish(" not in run.stdout and "def raw(" not in run.stdout, run.stdout


def test_a_txt_value_takes_the_length_the_zone_takes_and_no_more(control):
    """The control API held a value to 4,000 characters, where the DNS server serves 16,384."""
    [record] = control.add_record("long.example.com", "TXT", "k" * 16_384)
    assert record["value"] == "k" * 16_384
    with pytest.raises(ControlError, match="is too long") as refused:
        control.add_record("long.example.com", "TXT", "k" * 16_385)
    assert refused.value.status == 400
    assert [r["value"] for r in control.records("long.example.com")] == ["k" * 16_384]


class _OneShotServer:
    """An HTTP server on a free port that answers each GET `{}` and keeps the connection, and
    reads each POST then closes the connection without answering (a sandbox that died while
    carrying the call out) or, with `answer_posts`, answers it and then closes the connection
    (one closed while idle, as a server's keep-alive timeout closes it). `seen` lists the
    requests it read."""

    def __init__(self, answer_posts: bool = False):
        self.answer_posts, self.seen = answer_posts, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection, connection.makefile("rb") as reader:
                while head := self._request(reader):
                    self.seen.append(head)
                    if head.startswith("POST") and not self.answer_posts:
                        break  # no answer at all
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\n\r\n{}"
                    )
                    if head.startswith("POST"):
                        break  # answered, then closed while idle

    @staticmethod
    def _request(reader) -> str | None:
        line = reader.readline().decode().strip()
        length = 0
        while header := reader.readline().strip():
            name, _, value = header.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        reader.read(length)
        return line or None


def test_a_change_whose_connection_dropped_is_never_sent_again():
    """`clock advance` sent its move again when the worker carrying it out was killed: the
    clock moved twice over. A change is sent once; the caller is told it may have been made."""
    server = _OneShotServer()
    client = ControlClient(server.url)
    client.clock()  # a kept-alive connection, as every CLI command first asks something
    with pytest.raises(ControlError, match="closed before it answered POST /_sandbox/clock: the"):
        client.advance("1d")
    assert [line.split()[0] for line in server.seen] == ["GET", "POST"]  # the move sent once
    server.listener.close()


def test_a_connection_the_server_closed_while_idle_is_not_reused():
    """The kept-alive connection closed by the server after its last answer: the next change
    goes on a new connection, and is answered."""
    server = _OneShotServer(answer_posts=True)
    client = ControlClient(server.url)
    client.call("POST", "/reset", json={})
    time.sleep(0.2)  # the server's close arrives
    assert client.call("POST", "/reset", json={}) == {}
    assert [line.split()[0] for line in server.seen] == ["POST", "POST"]
    server.listener.close()


def test_the_default_timeout_is_domainsandbox_timeout_as_the_cli_reads_it(monkeypatch):
    """The CLI's --timeout falls back on $DOMAINSANDBOX_TIMEOUT; ControlClient waited 30 s
    whatever it said. An explicit `timeout` still wins, and a value that is no duration is
    refused as the CLI refuses it."""
    answer = b'{"now": "2026-01-05T09:00:00Z", "frozen": true}'
    with stand_in_server(200, answer, 0.6) as url:  # every answer takes 0.6 s
        monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "200ms")
        with pytest.raises(ControlError, match=r"did not answer GET /_sandbox/clock within 0.2 s"):
            ControlClient(url).clock()
        with ControlClient(url, timeout=5) as control:
            assert control.clock()["frozen"] is True
        monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", "1m")
        with ControlClient(url) as control:
            assert control.clock()["frozen"] is True
        for bad, said in [("soon", "'soon' is not a duration such as 30s"), ("0", "0 is no time")]:
            monkeypatch.setenv("DOMAINSANDBOX_TIMEOUT", bad)
            with pytest.raises(ControlError) as refused:
                ControlClient(url)
            assert str(refused.value).startswith(f"$DOMAINSANDBOX_TIMEOUT={bad!r}: {said}")
            assert str(refused.value).endswith(
                "; fix or unset it, or give ControlClient(url, timeout=...)"
            )
            assert ControlClient(url, timeout=1).clock()["frozen"] is True  # not read at all
