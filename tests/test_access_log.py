"""`serve --access-log` and `--log-format`: one line per provider request on the console, in
text or JSON, from one process or from `--workers N`; an injected abort stays one line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from .helpers import Served, control_of, wait_for

KEY = {"Authorization": "Bearer as_access_log"}


def _console(served: Served) -> tuple[list[str], list[str]]:
    """Stop `served`; its stdout after the banner and its stderr, as non-empty lines."""
    served.process.send_signal(signal.SIGINT)
    out, err = served.process.communicate(timeout=30)
    lines = lambda text: [line for line in text.splitlines() if line.strip()]  # noqa: E731
    return lines(out), lines(err)


def _calls(served: Served) -> None:
    """Two calls answered (200, 404) and one dropped by an injected abort."""
    base = served.urls["autosend"]
    assert httpx.get(f"{base}/domains", headers=KEY).status_code == 200
    assert httpx.get(f"{base}/domains/0123456789abcdef01234567", headers=KEY).status_code == 404
    with control_of(served) as control:
        control.add_http_fault("autosend", abort=True, count=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/domains", headers=KEY)


def test_the_access_log_says_each_request_in_one_text_line():
    served = Served("--access-log")
    _calls(served)
    out, err = _console(served)
    access = [line for line in out if line.startswith("autosend ")]
    assert [line.split()[:3] for line in access] == [
        ["autosend", "list_domains", "200"],
        ["autosend", "get_domain", "404"],
        ["autosend", "list_domains", "aborted"],
    ]
    assert access[1].endswith("ms GET /autosend/v1/domains/0123456789abcdef01234567")
    assert float(access[1].split()[3].removesuffix("ms")) >= 0
    said = "GET /autosend/v1/domains: connection dropped mid-answer (an injected abort fault)"
    assert err == [f"WARNING:  {said}"]  # the abort: one line, no traceback


def test_a_paths_control_characters_are_escaped_in_a_text_access_line():
    """An ESC in a client's path reached the operator's terminal raw: a request could clear it."""
    served = Served("--access-log")
    answer = httpx.get(f"{served.urls['autosend']}/domains/%1B%5B2J%07", headers=KEY)
    assert answer.status_code == 400
    with control_of(served) as control:
        control.add_http_fault("autosend", abort=True, count=1)
    with pytest.raises(httpx.TransportError):  # its warning names the path too
        httpx.get(f"{served.urls['autosend']}/domains/%1B%5B2J", headers=KEY)
    out, err = _console(served)
    access = [line for line in out if line.startswith("autosend get_domain 400 ")]
    assert len(access) == 1 and access[0].endswith("GET /autosend/v1/domains/\\x1b[2J\\x07")
    said = "GET /autosend/v1/domains/\\x1b[2J: connection dropped mid-answer"
    assert any(line.startswith(f"WARNING:  {said}") for line in err), err
    assert not any(c < " " for line in out + err for c in line), (out, err)


def test_control_calls_that_change_the_world_are_in_the_access_log_and_reads_are_not():
    """A shared sandbox's operator could not tell when it was reset or its clock moved."""
    served = Served("--access-log")
    with control_of(served) as control:
        control.clock()
        control.advance("5m")
        control.reset()
    out, _ = _console(served)
    control_lines = [line.split()[:3] for line in out if line.startswith("control ")]
    assert control_lines == [["control", "set_clock", "200"], ["control", "reset", "200"]]


def test_json_lines_come_from_every_worker_and_the_abort_is_one_of_them():
    served = Served("--workers", "2", "--access-log", "--log-format", "json")
    _calls(served)
    out, err = _console(served)
    lines = [json.loads(line) for line in out if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "domainsandbox.access"]
    assert [(a["provider"], a["operation"], a["status"], "aborted" in a) for a in access] == [
        ("autosend", "list_domains", 200, False),
        ("autosend", "get_domain", 404, False),
        ("control", "add_http_fault", 201, False),  # what changed the world, whoever asked
        ("autosend", "list_domains", 200, True),
    ]
    assert all(a["logger"] == "domainsandbox.access" and a["duration_ms"] >= 0 for a in access)
    assert [a.get("fault") for a in access] == [None, None, None, "h1"]  # the fault that did it
    assert access[1]["path"] == "/autosend/v1/domains/0123456789abcdef01234567" and access[1][
        "time"
    ].endswith("Z")
    [abort] = [json.loads(line) for line in err]
    assert abort["level"] == "WARNING" and "injected abort" in abort["message"]
    assert "exception" not in abort


def test_with_json_the_banner_and_the_stop_are_json_lines_too():
    """A log shipper reading the console (stdout and stderr as one) reads every line."""
    served = Served("--log-format", "json", "--seed", "3")
    try:
        assert served.banner[0] == "domainsandbox serving (seed 3)" and served.urls["control"]
        assert all(json.loads(line)["logger"] == "domainsandbox" for line in served.banner_lines)
    finally:
        code, out = served.stop()
    assert code == 0
    [stopped] = [json.loads(line) for line in out.splitlines()]
    assert stopped["message"] == "domainsandbox: stopped" and stopped["level"] == "INFO"


# A multipart form one of whose parts has a header name no HTTP header may have (`[`).
BROKEN_FORM = (
    b'--XX\r\nContent-Disposition: form-data; name="name"\r\nBad[Header: 1\r\n\r\nx\r\n--XX--\r\n'
)


def test_bytes_that_are_not_http_are_named_on_the_console_by_their_request_line():
    """uvicorn said "Invalid HTTP request received." and nothing of which request: the line now
    names its method and path, its text made printable, and comes once; with --access-log the
    request's own line follows, as the journal's entry does."""
    served = Served("--access-log")
    port = int(served.urls["control"].split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /resend/domains/\x1b[2J HTTP/1.1\r\nHost: x\r\nBad[Header: 1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 400")
    with control_of(served) as control:  # noted once answered: the journal says so first
        assert wait_for(lambda: control.requests("resend"))
    out, err = _console(served)
    assert [line for line in err if "Invalid HTTP request" in line] == [
        "WARNING:  Invalid HTTP request received: GET /resend/domains/\\x1b[2J is not "
        "HTTP/1.1 (answered 400)"
    ]
    [noted] = [line for line in out if line.startswith("resend - 400 ")]
    assert noted.endswith(" GET /resend/domains/\\x1b[2J"), out


def test_a_broken_form_body_is_answered_400_and_leaves_the_console_quiet():
    """python-multipart warns of a broken part on the console, once per request: the client's
    400 and the journal say it already."""
    served = Served("--log-format", "json")
    answer = httpx.post(
        f"{served.urls['mailgun']}/v4/domains",
        auth=("api", "key-demo"),
        content=BROKEN_FORM,
        headers={"Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert answer.status_code == 400
    assert answer.json() == {"message": "the form body could not be read: Invalid multipart data."}
    _, err = _console(served)
    assert err == []


def test_a_broken_form_body_leaves_an_in_process_sandbox_s_console_quiet_too():
    """`contract run`'s private sandbox and the pytest plugin's run in the caller's process,
    where `serve`'s console set-up never ran: python-multipart printed "Found invalid
    character 91 in header at 36" there, once per broken form, with nothing to say whose."""
    script = (
        "import httpx\n"
        "from sandbox import Sandbox, SandboxServer\n"
        "with SandboxServer(Sandbox(seed=1)) as served:\n"
        "    answer = httpx.post(served.url + '/mailgun/v4/domains', auth=('api', 'key-demo'),\n"
        f"        content={BROKEN_FORM!r},\n"
        "        headers={'Content-Type': 'multipart/form-data; boundary=XX'})\n"
        "    print(answer.status_code)\n"
    )
    said = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert (said.stdout, said.stderr) == ("400\n", "")


def test_with_json_every_line_on_the_console_is_json_the_libraries_own_too():
    """The fake DNS's lines (a packet it failed on) come from a logger outside `sandbox`."""
    said = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging; from sandbox.logs import configure; configure('json'); "
            "logging.getLogger('fake_dns').error('fake DNS: failed on a UDP packet')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [line] = said.stderr.splitlines()
    assert json.loads(line) | {"time": None} == {
        "time": None,
        "level": "ERROR",
        "logger": "fake_dns",
        "message": "fake DNS: failed on a UDP packet",
    }
