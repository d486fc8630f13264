"""The pytest plugin (entry point pytest11 `domainsandbox`): fixtures that start the HTTP APIs and
the DNS server in-process, and the conformance report at the end of a session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import dns.resolver
import httpx
import pytest
from monite import Monite

from contracts.pytest_plugin import START

from .helpers import free_port

VERSION = "2024-05-25"


# `python -m pytest` puts the working directory on sys.path before plugins load; the `pytest`
# command puts a test's folder there only as it imports the test.
LAUNCHERS = {
    "python -m pytest": [sys.executable, "-m", "pytest"],
    "pytest": [str(Path(sys.executable).parent / "pytest")],
}


def _pytest(directory, *options: str, launcher: str = "python -m pytest", env=None):
    """A user's pytest run in `directory`, with the plugin as installed (`env`: variables
    set beside the environment's)."""
    return subprocess.run(
        [*LAUNCHERS[launcher], "-q", "-p", "no:cacheprovider", *options],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        env=None if env is None else os.environ | env,
    )


def test_fixture_hands_back_base_urls_dns_address_and_control(domain_sandbox):
    assert set(domain_sandbox.urls) >= {"monite", "autosend", "scaleway", "vortex", "control"}
    assert domain_sandbox.urls["monite"] == domain_sandbox.url + "/monite/v1"
    assert httpx.get(domain_sandbox.urls["control"] + "/clock").json() == {
        "now": START,
        "frozen": True,  # it moves only when told, or when a client polls (on-poll)
        "mode": "on-poll",
        "speed": 1,
    }

    with pytest.raises(KeyError, match="'amazon-ses' is not an API of the sandbox; known: monite"):
        domain_sandbox.urls["amazon-ses"]

    domain_sandbox.control.add_record("probe.example.com", "TXT", "hello")
    host, port = domain_sandbox.dns
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [host], port
    answer = resolver.resolve("probe.example.com", "TXT")
    assert [b"".join(r.strings) for r in answer] == [b"hello"]


def test_readme_example_drives_the_official_monite_sdk(domain_sandbox):
    base_url = domain_sandbox.urls["monite"]
    anonymous = Monite(monite_version=VERSION, token="unused", base_url=base_url)
    token = anonymous.access_tokens.create(
        client_id="eb959578-a74d-4ac3-8b25-bf0910027857",
        client_secret="secret",
        grant_type="client_credentials",
    )
    sdk = Monite(monite_version=VERSION, token=token.access_token, base_url=base_url)

    domain = sdk.mailbox_domains.create(domain="mail.example.com")
    domain_sandbox.control.publish("monite", domain.id)
    assert sdk.mailbox_domains.verify_by_id(domain.id).status == "verified"
    states = domain_sandbox.report()["providers"]["monite"]["states_reached"]
    assert "verified" in states


def test_fixture_registers_and_revokes_keys_a_provider_then_holds_to(domain_sandbox):
    base = domain_sandbox.urls["autosend"]

    def listing(key: str) -> int:
        return httpx.get(f"{base}/domains", headers={"Authorization": f"Bearer {key}"}).status_code

    assert domain_sandbox.register_credential("autosend", "as_good")["revoked"] is False
    assert (listing("as_good"), listing("as_unknown")) == (200, 401)
    assert domain_sandbox.revoke_credential("autosend", "as_good")["revoked"] is True
    assert listing("as_good") == 401


@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("own", ["contracts/__init__.py", "sandbox.py", "fake_dns/__init__.py"])
def test_a_project_with_a_package_of_domainsandboxs_names_still_runs_its_tests(
    tmp_path, own, launcher
):
    """Its `contracts` package hid the plugin's, and pytest did not start at all; under the
    `pytest` command a `fake_dns` of its own failed the fixture with an ImportError."""
    (tmp_path / own).parent.mkdir(exist_ok=True)
    (tmp_path / own).write_text("X = 1\n")
    name = own.split("/")[0].removesuffix(".py")
    (tmp_path / "test_mine.py").write_text(f"import {name}\ndef test_it():\n    assert {name}.X\n")
    run = _pytest(tmp_path, "test_mine.py", launcher=launcher)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert f"domainsandbox's fixtures are off: this project's own package(s) {name} (" in run.stdout
    # a test asking for the fixture is told why it is off, not "fixture not found"
    (tmp_path / "test_sandboxed.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    said = f"domainsandbox's fixtures are off: this project's own package(s) {name} ("
    # run where the project is, and from the folder above: the package is found only as pytest
    # imports the test module, after the plugin loaded (which imported domainsandbox's
    # `contracts` already: that one is not hidden then, and the fixture works)
    places = [(tmp_path, "test_sandboxed.py")]
    if name != "contracts":
        places.append((tmp_path.parent, f"{tmp_path.name}/test_sandboxed.py"))
    for where, test in places:
        run = _pytest(where, test, launcher=launcher)
        assert run.returncode == 1 and "1 error" in run.stdout, run.stdout
        assert "not found" not in run.stdout and "ImportError" not in run.stdout
        assert "ERROR at setup of test_it" in run.stdout and f"\n{said}" in run.stdout
        assert "Rename the project's package to use them." in run.stdout


SDK_TESTS = """
import gc

def test_uses_every_sdk(domain_sandbox):
    domain_sandbox.client("monite").mailbox_domains.get()
    domain_sandbox.client("mailgun").domains.get()
    domain_sandbox.client("ses").list_email_identities()
    domain_sandbox.client("vortex")

def test_after_them():
    gc.collect()  # an SDK client left open is collected here: a ResourceWarning, an error
"""


def test_the_sdk_clients_the_fixture_built_are_closed_when_the_test_ends(tmp_path):
    """Left to the garbage collector, their sockets failed a suite run with -W error (here,
    errors of those warnings only: the SDKs' own imports warn of deprecations)."""
    (tmp_path / "test_user.py").write_text(SDK_TESTS)
    run = _pytest(
        tmp_path,
        "test_user.py",
        "-W",
        "error::ResourceWarning",
        "-W",
        "error::pytest.PytestUnraisableExceptionWarning",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout and "Warning" not in run.stdout + run.stderr


FAILING_TESTS = """
def test_called_twice(domain_sandbox):
    domain_sandbox.assert_called("monite", "verify_domain", times=2)

def test_stuck(domain_sandbox):
    domain_sandbox.advance_until("resend", "f8c4ae48-ab6f-4844-9ac7-14e993575973", status="verified")
"""


def test_a_failed_assert_called_or_advance_until_shows_the_tests_line_not_the_plugins(tmp_path):
    (tmp_path / "test_user.py").write_text(FAILING_TESTS)
    run = _pytest(tmp_path, "test_user.py")
    assert "2 failed" in run.stdout, run.stdout + run.stderr
    assert "expected monite verify_domain to be called 2 times" in run.stdout
    assert "test_user.py:3: AssertionError" in run.stdout and "test_user.py:6: " in run.stdout
    assert "def check_called(" not in run.stdout and "matching = " not in run.stdout
    assert "return self.control.advance_until(" not in run.stdout, run.stdout


USER_TESTS = """
import httpx

def test_creates_a_domain(domain_sandbox):
    base = domain_sandbox.urls["monite"]
    version = {"x-monite-version": "2024-05-25"}
    token = httpx.post(base + "/auth/token", headers=version, json={
        "client_id": "eb959578-a74d-4ac3-8b25-bf0910027857", "client_secret": "s",
        "grant_type": "client_credentials"}).json()["access_token"]
    headers = version | {"Authorization": "Bearer " + token}
    created = httpx.post(base + "/mailbox_domains", headers=headers,
                         json={"domain": "user.example.com"})
    assert created.status_code == 201
    wrong = httpx.post(base + "/mailbox_domains", headers=headers,
                       json={"domain": "user2.example.com", "colour": "blue"})
    assert wrong.status_code == 422
    domain_sandbox.control.add_record("user.example.com", "TXT", "left behind")
    domain_sandbox.register_credential("autosend", "as_left_behind")

def test_next_test_starts_clean(domain_sandbox_session, domain_sandbox):
    assert domain_sandbox is domain_sandbox_session
    assert domain_sandbox.control.domains() == []
    assert domain_sandbox.control.records() == []
    assert domain_sandbox.control.credentials() == []
"""


def test_plugin_resets_between_tests_and_prints_and_writes_the_report(tmp_path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    report_file = tmp_path / "report.json"
    run = _pytest(
        tmp_path,
        "test_user.py",
        "--domainsandbox-report",
        "--domainsandbox-report-json",
        str(report_file),
    )
    assert run.returncode == 0, run.stdout + run.stderr  # includes the clean-start test
    assert "2 passed" in run.stdout
    assert "domainsandbox client conformance report" in run.stdout
    assert "called       POST   /auth/token  (create_token): 200 x1" in run.stdout
    assert "create_domain  field colour:" in run.stdout

    monite = json.loads(report_file.read_text())["providers"]["monite"]
    assert [v["field"] for v in monite["violations"]] == ["colour"]
    assert [op["operation"] for op in monite["operations_called"]] == [
        "create_token",
        "create_domain",
    ]


EXPECTED_BAD_REQUEST = """
import httpx

def test_a_deliberate_bad_request(domain_sandbox):
    base = domain_sandbox.urls["autosend"]
    with domain_sandbox.expecting_errors():
        refused = httpx.post(base + "/domains", json={"domain": 5},
                             headers={"Authorization": "Bearer as_test"})
    assert refused.status_code == 400
"""


def test_the_client_s_violations_fail_a_session_that_asks_so_and_only_it(tmp_path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    passed = _pytest(tmp_path, "test_user.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr

    junit = tmp_path / "junit.xml"
    failed = _pytest(
        tmp_path, "test_user.py", "--domainsandbox-fail-on-violations", f"--junitxml={junit}"
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    # every test passed: the client's requests fail it, and pytest's last line says so
    assert failed.stdout.splitlines()[-1].startswith("2 passed, 1 client violation in ")
    assert "the client's violations fail this session" in failed.stdout
    assert "monite: create_domain  field colour:" in failed.stdout
    assert ", in test_user.py::test_creates_a_domain]" in failed.stdout  # the test that sent it
    assert "1 request(s) its API's document refuses" in failed.stdout
    # and in the JUnit file a CI system shows: one failed case more, naming the violation
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    failure = suite.find("testcase[@name='client violations']/failure")
    assert "monite: create_domain  field colour:" in failure.text
    assert "in test_user.py::test_creates_a_domain]" in failure.text

    (tmp_path / "test_user.py").write_text(textwrap.dedent(EXPECTED_BAD_REQUEST))
    expected = _pytest(tmp_path, "test_user.py", "--domainsandbox-fail-on-violations")
    assert expected.returncode == 0, expected.stdout + expected.stderr
    assert "violations fail" not in expected.stdout


SESSION_ONLY_TESTS = """
import httpx
import pytest

@pytest.fixture
def shared(domain_sandbox_session):
    return domain_sandbox_session

def send_a_bad_body(sandbox):
    httpx.post(sandbox.urls["autosend"] + "/domains", json={"domain": 5},
               headers={"Authorization": "Bearer as_test"})

def test_a_reset_one(domain_sandbox):
    pass

def test_the_session_s(domain_sandbox_session):
    send_a_bad_body(domain_sandbox_session)

def test_through_a_fixture(shared):
    send_a_bad_body(shared)

def test_after_it(domain_sandbox):
    send_a_bad_body(domain_sandbox)
"""


def test_violations_name_the_test_that_took_the_session_s_sandbox_alone(tmp_path):
    """They named the last test that took `domain_sandbox`, which sent nothing wrong."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(SESSION_ONLY_TESTS))
    report_file = tmp_path / "report.json"
    run = _pytest(tmp_path, "test_user.py", "--domainsandbox-report-json", str(report_file))
    assert run.returncode == 0, run.stdout + run.stderr
    [violation] = json.loads(report_file.read_text())["providers"]["autosend"]["violations"]
    assert violation["tests"] == [
        "test_user.py::test_the_session_s",
        "test_user.py::test_through_a_fixture",
        "test_user.py::test_after_it",
    ]


def test_a_report_file_that_is_a_folder_is_refused_before_any_test_runs(tmp_path):
    (tmp_path / "test_user.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    (tmp_path / "reports").mkdir()
    run = _pytest(tmp_path, "test_user.py", "--domainsandbox-report-json", "reports")
    assert run.returncode == 4, run.stdout + run.stderr  # pytest's usage error: nothing ran
    assert "--domainsandbox-report-json reports: that is a folder; name the file to write" in (
        run.stderr
    )


def test_a_report_file_under_a_file_is_refused_naming_the_file(tmp_path):
    """It said "its folder cannot be made (File exists)", as if a folder were in the way."""
    (tmp_path / "test_user.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    (tmp_path / "afile").write_text("")
    run = _pytest(tmp_path, "test_user.py", "--domainsandbox-report-json", "afile/x.json")
    assert run.returncode == 4, run.stdout + run.stderr
    assert "--domainsandbox-report-json afile/x.json: afile is a file, not a folder" in run.stderr


def test_one_port_pinned_for_both_servers_is_refused_saying_so(tmp_path):
    """The DNS server said its port was taken, by the session's own HTTP server."""
    (tmp_path / "test_user.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    port = str(free_port())
    run = _pytest(
        tmp_path, "test_user.py", "--domainsandbox-port", port, "--domainsandbox-dns-port", port
    )
    assert run.returncode == 4, run.stdout + run.stderr
    assert f"--domainsandbox-port and --domainsandbox-dns-port are both {port}: " in run.stderr
    assert "already in use" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--domainsandbox-port", "70000", "70000 is not a port number (0 to 65535)"),
        ("--domainsandbox-dns-port", "-3", "-3 is not a port number (0 to 65535)"),
        ("--domainsandbox-seed", "-5", "-5 is not a seed (0 to 4294967295)"),
    ],
)
def test_an_option_out_of_range_fails_the_sandbox_s_tests_saying_why(tmp_path, option, value, said):
    (tmp_path / "test_user.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    run = _pytest(tmp_path, "test_user.py", option, value)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout
    assert f"{option} {value}" in run.stdout and said in run.stdout
    assert "Traceback" not in run.stdout


def test_the_fixture_s_control_client_waits_as_long_as_domainsandbox_timeout_says(tmp_path):
    """$DOMAINSANDBOX_TIMEOUT set how long the CLI waited for an answer, but not the fixture's
    control client, which waited 30 s whatever it said; a bad value fails the tests saying so."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from sandbox.client import ControlError

            def test_it(domain_sandbox):
                control = domain_sandbox.control
                made = control.create_domain("monite", "slow.example.com")
                control.publish("monite", made["id"])
                control.add_fault("*", "delay", delay_ms=1500)  # the verify's DNS answers
                with pytest.raises(ControlError, match="within 0.3 s"):
                    control.verify("monite", made["id"])
            """
        )
    )
    run = _pytest(tmp_path, "test_user.py", env={"DOMAINSANDBOX_TIMEOUT": "300ms"})
    assert run.returncode == 0, run.stdout + run.stderr
    run = _pytest(tmp_path, "test_user.py", env={"DOMAINSANDBOX_TIMEOUT": "soon"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 error" in run.stdout and "Traceback" not in run.stdout
    assert "domainsandbox: $DOMAINSANDBOX_TIMEOUT='soon': 'soon' is not a duration" in run.stdout
