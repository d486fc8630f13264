"""`contracts.run` and `domainsandbox contract run` against any base URL: a passing server, a
broken one, and the mistakes a user can make on the command line."""

from __future__ import annotations

import dataclasses
import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import httpx
import pytest

import contracts
from sandbox.cli import main as cli

from .conftest import WORKERS
from .helpers import free_port, stand_in_server

QUICK = {"max_examples": 3, "phases": ["coverage"]}
ROOT = Path(__file__).parent.parent


@pytest.fixture
def broken_url():
    """A server claiming to be Monite that answers 500 to everything."""
    with stand_in_server(500, b'{"error": {"message": "boom"}}') as url:
        yield url + "/v1"


@pytest.fixture
def refusing_url():
    """The same, refusing every call 401, as without a credential."""
    with stand_in_server(401, b'{"error": {"message": "Unauthorized"}}') as url:
        yield url + "/v1"


@pytest.fixture
def slow_url():
    """The same as broken_url, taking half a second over every GET."""
    with stand_in_server(500, b'{"error": {"message": "boom"}}', 0.5, slow=("GET",)) as url:
        yield url + "/v1"


def _monite_credentials(base: str) -> dict:
    token = httpx.post(
        base + "/auth/token",
        headers={"x-monite-version": "2024-05-25"},
        json={
            "client_id": "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99",
            "client_secret": "s",
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_run_against_an_external_base_url_with_headers_passes_and_writes_junit(urls, tmp_path):
    junit = tmp_path / "reports" / "monite.xml"  # its folder is made
    result = contracts.run(
        "monite",
        base_url=urls["monite"],
        headers=_monite_credentials(urls["monite"]),
        junit_xml=junit,
        **QUICK,
    )
    assert result.ok, result.summary()
    assert result.base_url == urls["monite"]
    assert result.succeeded("POST /mailbox_domains")  # the header credentials were used
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0"
    names = {case.get("name") for case in suite.iter("testcase")}
    assert "POST /mailbox_domains/{domain_id}/verify" in names


def test_a_result_writes_its_junit_file_into_a_folder_it_makes(tmp_path):
    """`contract run --junit-xml out/x.xml` made `out/`; from Python, FileNotFoundError."""
    result = contracts.ContractResult("resend", "http://127.0.0.1:9", ("examples",))
    result.operations.add("GET /domains")
    result.write_junit_xml(tmp_path / "reports" / "resend.xml")
    suite = ET.parse(tmp_path / "reports" / "resend.xml").getroot().find("testsuite")
    assert [case.get("name") for case in suite.iter("testcase")] == ["GET /domains"]


def test_run_against_a_broken_server_reports_failures_with_a_reproduction(broken_url, tmp_path):
    junit = tmp_path / "broken.xml"
    result = contracts.run("monite", base_url=broken_url, junit_xml=junit, **QUICK)
    assert not result.ok
    server_errors = [f for f in result.failures if f.title == "Server error"]
    assert server_errors, result.summary()
    assert server_errors[0].message == "answered 500: boom"  # what happened, not only its title
    assert "    answered 500: boom" in result.summary()
    assert server_errors[0].reproduce.startswith("curl ")
    assert broken_url in server_errors[0].reproduce
    assert "FAILED" in result.summary()
    failures = list(ET.parse(junit).getroot().iter("failure"))
    assert {f.get("type") for f in failures} >= {"ST101"}


def test_reproductions_of_a_run_that_started_its_own_sandbox_say_it_is_gone(broken_url):
    kept = contracts.run("monite", base_url=broken_url, **QUICK)
    assert kept.failures and not kept.private_sandbox
    assert "stopped with it" not in kept.summary()  # the server named there still answers
    # a run without a base URL starts a sandbox of its own, and stops it when it is over
    assert contracts.run("resend", max_examples=1, phases=["examples"]).private_sandbox
    gone = dataclasses.replace(kept, private_sandbox=True)
    assert (
        "The reproductions name the sandbox this run started, which stopped with it: run the "
        "contract against one that stays (`domainsandbox serve`, then --base-url)"
    ) in gone.summary()


def test_the_callers_credentials_never_reach_the_reproductions_or_the_junit_file(
    broken_url, tmp_path, capsys
):
    """A run against a real API prints its failures into CI logs and artifacts: the token
    given with -H is redacted there (its scheme kept), other headers stay as given."""
    junit = tmp_path / "broken.xml"
    code = cli(
        ["contract", "run", "--provider", "monite", "--base-url", broken_url]
        + ["-H", "Authorization: Bearer real-token-123", "-H", "X-Partner-Token: v1"]
        + ["-H", "x-monite-version: 2024-05-25", "--max-examples", "2", "--phases", "coverage"]
        + ["--junit-xml", str(junit)]
    )
    out = capsys.readouterr().out
    assert code == 1 and "curl " in out
    for shown in (out, junit.read_text()):
        assert "real-token-123" not in shown and "X-Partner-Token: v1" not in shown
        assert "/v1/" in shown  # a short secret is redacted where it is sent, not everywhere
        assert "Authorization: Bearer [redacted]" in shown
        assert "X-Partner-Token: [redacted]" in shown
        assert "x-monite-version: 2024-05-25" in shown


def test_cli_contract_run_exits_non_zero_on_failures_and_prints_a_summary(broken_url, capsys):
    code = cli(
        [
            "contract",
            "run",
            "--provider",
            "monite",
            "--base-url",
            broken_url,
            "-H",
            "Authorization: Bearer anything",
            "--max-examples",
            "2",
            "--phases",
            "coverage",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL POST /mailbox_domains: ST101 Server error" in out
    assert "monite contract FAILED against " + broken_url in out


def test_cli_contract_run_json_against_the_running_sandbox_exits_zero(urls, capsys):
    base = urls["monite"]
    credentials = _monite_credentials(base)["Authorization"]
    argv = ["contract", "run", "--provider", "monite", "--base-url", base]
    argv += ["-H", f"Authorization: {credentials}", "--max-examples", "2"]
    assert cli(argv + ["--phases", "coverage", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["failures"], data["phases"]) == (True, [], ["coverage"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--provider", "nope"], "unknown provider 'nope'; known: monite"),
        (["--provider", "monite", "--phases", "warp"], "unknown phase(s) warp"),
        (["--provider", "monite", "--base-url", "notaurl"], "'notaurl' is not a base URL such"),
    ],
)
def test_cli_contract_run_names_what_is_wrong_with_its_arguments(argv, message, capsys):
    assert cli(["contract", "run", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_contract_run_says_once_that_nothing_answers_at_the_base_url(capsys):
    url = f"http://127.0.0.1:{free_port()}/vortex"  # nothing listens there
    assert cli(["contract", "run", "--provider", "vortex", "--base-url", url]) == 1  # unreachable
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"domainsandbox: nothing answers at {url} (--base-url; base_url= from Python): "
        "connection refused"
    ]


def test_a_base_url_nothing_answers_at_still_leaves_a_junit_file_saying_why(tmp_path, capsys):
    """A CI job publishing the JUnit file found none: the run ended before writing it."""
    url = f"http://127.0.0.1:{free_port()}/vortex"  # nothing listens there
    junit = tmp_path / "reports" / "vortex.xml"
    argv = ["contract", "run", "--provider", "vortex", "--base-url", url, "--junit-xml", str(junit)]
    assert cli(argv) == 1
    capsys.readouterr()
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    assert f"nothing answers at {url}" in suite.find("testcase/error").text


def test_a_base_url_on_a_sandbox_that_is_not_the_providers_mount_is_refused_naming_it(urls, capsys):
    """Without AutoSend's /v1 every call met the sandbox's 404: nine misleading failures."""
    wrong = urls["autosend"].removesuffix("/v1")
    assert cli(["contract", "run", "--provider", "autosend", "--base-url", wrong]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (
        f"domainsandbox: {wrong} is not where the domainsandbox at {urls['server']} serves "
        f"autosend: its base URL is {urls['autosend']}"
    )


def test_a_further_mount_of_the_provider_is_its_base_url_too(urls):
    """Mailgun's EU region at /mailgun/eu was refused as "not where it serves mailgun"."""
    result = contracts.run("mailgun", base_url=urls["mailgun"] + "/eu", **QUICK)
    assert result.cases > 0 and result.ok, result.summary()


def test_the_control_api_without_its_mount_is_refused_naming_it(urls, capsys):
    """Without /_sandbox the run went ahead: 44 failures, every one a 404."""
    argv = ["contract", "run", "--provider", "control", "--base-url", urls["server"]]
    assert cli(argv) == 2
    _, err = capsys.readouterr()
    assert err.strip() == (
        f"domainsandbox: {urls['server']} is not where the domainsandbox at {urls['server']} "
        f"serves control: its base URL is {urls['control']}"
    )


def test_a_run_that_made_no_test_case_fails_saying_it_checked_nothing(urls):
    """`--phases examples` on the control API (whose document has no examples) passed: "0
    operations, 0 test cases", exit 0, a CI gate that had checked nothing."""
    result = contracts.run("control", base_url=urls["control"], phases="examples", max_examples=3)
    assert (result.cases, result.ok) == (0, False)
    assert result.errors == [
        "no test case was made in the phases asked (examples): nothing was checked; ask for "
        "more (--phases, phases= from Python: examples, coverage, fuzzing, stateful)"
    ]
    assert "control contract FAILED" in result.summary()


def test_phases_from_python_may_be_one_string_as_the_cli_takes_them(urls):
    result = contracts.run("autosend", base_url=urls["autosend"], phases="examples, stateful")
    assert result.phases == ("examples", "stateful") and result.cases_by_phase["stateful"] > 0
    with pytest.raises(ValueError, match=r"unknown phase\(s\) exampels;"):
        contracts.run("autosend", base_url=urls["autosend"], phases="exampels")


def test_run_raises_before_running_when_nothing_answers_at_the_base_url():
    url = f"http://127.0.0.1:{free_port()}/monite/v1"
    with pytest.raises(contracts.Unreachable, match=re.escape(f"nothing answers at {url} ")):
        contracts.run("monite", base_url=url, **QUICK)


def test_cli_contract_run_refuses_fewer_than_one_example(capsys):
    with pytest.raises(SystemExit):
        cli(["contract", "run", "--provider", "monite", "--max-examples", "0"])
    assert "'0' is not a whole number of 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_examples": 0}, "max_examples is 0: at least 1 example per operation"),
        ({"base_url": "127.0.0.1:8080/monite/v1"}, "is not a base URL such as http://"),
    ],
)
def test_run_refuses_what_schemathesis_could_not_run_before_running(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        contracts.run("monite", **options)


def test_cli_contract_run_refuses_a_header_without_a_colon(capsys):
    with pytest.raises(SystemExit):
        cli(["contract", "run", "--provider", "monite", "-H", "no-colon"])
    assert "is not a header such as 'Name: value'" in capsys.readouterr().err


def test_cli_contract_run_gives_slow_answers_the_time_asked_for(slow_url, capsys):
    argv = ["contract", "run", "--provider", "monite", "--base-url", slow_url]
    argv += ["--max-examples", "1", "--phases", "examples"]
    assert cli(argv + ["--request-timeout", "0.2"]) == 1
    out = capsys.readouterr().out
    assert "ERROR GET /mailbox_domains: Network Error" in out
    assert "Read timed out after 0.2 seconds" in out
    assert "allow more with --request-timeout" in out
    assert cli(argv + ["--request-timeout", "5s", "--json"]) == 1  # its 500s still fail
    data = json.loads(capsys.readouterr().out)
    assert (data["errors"], data["request_timeout"]) == ([], 5.0)
    assert "GET /mailbox_domains" in {failure["operation"] for failure in data["failures"]}


def test_the_control_apis_run_gives_each_request_two_minutes_unless_told(broken_url):
    quick = {"max_examples": 1, "phases": ["examples"]}  # a clock move may take that long
    root = broken_url.removesuffix("/v1")
    assert contracts.run("control", base_url=root + "/_sandbox", **quick).request_timeout == 120
    assert contracts.run("monite", base_url=broken_url, **quick).request_timeout == 10
    told = contracts.run("control", base_url=root + "/_sandbox", request_timeout=3, **quick)
    assert told.request_timeout == 3


def test_cli_contract_run_refuses_a_request_timeout_of_nothing(capsys):
    with pytest.raises(SystemExit) as refused:
        cli(["contract", "run", "--provider", "monite", "--request-timeout", "0"])
    assert refused.value.code == 2
    said = "argument --request-timeout: 0 is no time: a request needs more than 0 s"
    assert said in capsys.readouterr().err  # the option, not Python's request_timeout


def test_a_run_against_a_running_sandbox_gets_its_own_credentials_and_says_so(urls):
    result = contracts.run("monite", base_url=urls["monite"] + "/", **QUICK)
    assert result.credentials_from == urls["server"]
    assert result.succeeded("POST /mailbox_domains"), result.summary()  # logged in: past the 401
    assert f"Credentials: obtained from the domainsandbox at {urls['server']}" in result.summary()
    assert "`domainsandbox report --clear` before a client's tests are judged" in result.summary()


def test_a_sandbox_taking_only_registered_credentials_lends_the_run_one_of_them(urls, control):
    control.register_credential("monite", "3c2b1a09-0000-4d6c-9b5a-4e3d2c1b0a99", "the-secret")
    result = contracts.run("monite", base_url=urls["monite"], **QUICK)
    assert result.succeeded("POST /mailbox_domains"), result.summary()  # logged in as that client
    # Logging in with generated credentials cannot succeed there: not a refusal to explain.
    assert "POST /auth/token" in result.unsatisfiable and result.never_succeeded == []
    assert "Some were refused" not in result.summary()


def test_behind_a_control_token_the_run_reads_the_registered_credentials_with_it(
    server, urls, control, monkeypatch
):
    control.register_credential("resend", "re_registered_for_the_run")
    server.sandbox.control_token = "the-token"
    try:
        refused = contracts.run("resend", base_url=urls["resend"], **QUICK)  # no token: sample key
        monkeypatch.setenv("DOMAINSANDBOX_TOKEN", "the-token")
        lent = contracts.run("resend", base_url=urls["resend"], **QUICK)
    finally:
        server.sandbox.control_token = None
    assert "POST /domains" in refused.never_succeeded
    assert (
        "it has a control token, and $DOMAINSANDBOX_TOKEN is not set, so the credentials it may "
        "have registered could not be read and the sample ones it gave may be refused"
    ) in refused.summary()
    assert lent.succeeded("POST /domains"), lent.summary()
    assert lent.credentials_caveat is None


def test_a_run_refused_with_the_credentials_it_obtained_says_why(urls, control):
    control.register_credential("resend", "re_registered_then_revoked")
    control.revoke_credential("resend", "re_registered_then_revoked")  # nothing left it can use
    result = contracts.run("resend", base_url=urls["resend"], **QUICK)
    assert result.credentials_from == urls["server"]
    assert "POST /domains" in result.never_succeeded
    assert result.credentials_caveat == "every credential registered there is revoked"
    assert "own client would; every credential registered there is revoked." in result.summary()


def test_a_credential_given_wins_over_the_one_a_running_sandbox_would_give(urls):
    refused = {"Authorization": "Bearer not-a-token"}
    result = contracts.run("monite", base_url=urls["monite"], headers=refused, **QUICK)
    assert result.credentials_from is None
    assert "POST /mailbox_domains" in result.never_succeeded
    assert (  # the credentials were given: not a hint to give some
        "Some were refused with 401 or 403: check that the headers given (Authorization) hold "
        "credentials this API takes."
    ) in result.summary()
    assert "give the API's credentials" not in result.summary()


@pytest.mark.parametrize("private", [True, False])
def test_a_private_sandbox_run_is_not_told_to_give_credentials(private):
    """A run in its own sandbox has its credentials from it: told to give some with -H, its
    user had nothing to give (a generated request refused 403 among 400s)."""
    result = contracts.ContractResult("ses", "http://127.0.0.1:9/ses", ("examples",))
    result.operations.add("PUT /v2/email/identities/{EmailIdentity}/dkim")
    result.responses["PUT /v2/email/identities/{EmailIdentity}/dkim"] = Counter({400: 22, 403: 1})
    result.private_sandbox = private
    assert ("give the API's credentials with -H" in result.summary()) is not private


def test_what_a_server_cannot_do_as_installed_is_not_checked_rather_than_failed(
    monkeypatch, tmp_path
):
    """A sandbox without Faker answers the demo world 503, saying which extra to install: a
    contract run of the control API failed there, after the install its page gives."""
    from sandbox.extras import MissingExtra, needs

    monkeypatch.setitem(sys.modules, "faker", None)  # as if it were not installed
    with pytest.raises(MissingExtra) as missing, needs("demo", "the demo world"):
        import faker  # noqa: F401
    said = str(missing.value)
    junit = tmp_path / "run.xml"
    with stand_in_server(503, json.dumps({"error": {"message": said}}).encode()) as url:
        result = contracts.run("monite", base_url=url + "/v1", junit_xml=junit, **QUICK)
    assert result.ok, result.summary()
    assert result.not_checked["POST /mailbox_domains"] == f"answered 503: {said}"
    assert result.never_succeeded == []  # said once, as not checked
    assert "Not checked: the server cannot carry them out as installed:" in result.summary()
    assert result.to_dict()["not_checked"]["POST /mailbox_domains"].endswith("'faker>=30'")
    skipped = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")
               if case.find("skipped") is not None}  # fmt: skip
    assert "POST /mailbox_domains" in skipped


def test_a_run_refused_everywhere_lists_what_it_could_not_check(refusing_url, capsys):
    argv = ["contract", "run", "--provider", "monite", "--base-url", refusing_url]
    cli([*argv, "--max-examples", "1", "--phases", "examples"])
    out = capsys.readouterr().out
    assert "Never answered with a 2xx, so checked only as far as its error answers:" in out
    assert "    GET /mailbox_domains: 401 x" in out
    assert "give the API's credentials with -H 'Name: value'" in out
    assert cli([*argv, "--max-examples", "1", "--phases", "examples", "--json"]) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    assert "POST /mailbox_domains" in data["never_succeeded"]
    assert data["credentials_from"] is None


def test_the_same_seed_generates_the_same_run_whatever_else_the_caller_loaded():
    """Hypothesis also draws constants from the local modules loaded when it generates: the
    CLI (which loads sandbox.cli) and Python without it generated other stateful runs."""
    run = (
        "import json, contracts\n"
        "result = contracts.run('monite', phases=['examples', 'stateful'])\n"
        "print(json.dumps([result.cases_by_phase, result.to_dict()['responses']]))"
    )
    printed = [
        subprocess.run(
            [sys.executable, "-c", before + run], cwd=ROOT, capture_output=True, text=True
        )
        for before in ("", "import sandbox.cli\n")
    ]
    assert all(p.returncode == 0 for p in printed), [p.stderr[-2000:] for p in printed]
    alone, beside_the_cli = (json.loads(p.stdout.splitlines()[-1]) for p in printed)
    assert alone == beside_the_cli


def test_a_report_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    """Not a traceback after the whole run, with the exit status of a failed contract."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    report = blocked / "monite.xml"  # a folder that cannot be made
    argv = ["contract", "run", "--provider", "monite", "--junit-xml", str(report)]
    assert cli(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"cannot write the JUnit XML report {report}: " in err
    assert f"{blocked} is a file, not a folder" in err  # not the system's "File exists"


def test_a_base_url_where_no_http_server_answers_is_refused_at_once(resolver):
    """The sandbox's DNS port, a natural slip: it takes the connection and answers no HTTP
    (the run went on for two minutes of aborted connections)."""
    host, port = resolver.nameservers[0], resolver.port
    url = f"http://{host}:{port}/monite/v1"
    with pytest.raises(contracts.Unreachable, match=re.escape(f"no HTTP server answers at {url}")):
        contracts.run("monite", base_url=url, **QUICK)


@pytest.mark.skipif(WORKERS > 1, reason="sets the in-process sandbox's control token")
def test_contract_run_takes_the_token_option_every_command_takes(server, urls, monkeypatch):
    """--token was refused as an unrecognized argument, where every other command takes it."""
    monkeypatch.setenv("DOMAINSANDBOX_TOKEN", "")  # none; and the one --token sets goes after
    server.sandbox.control_token = "the-token"
    try:
        args = ["contract", "run", "--provider", "control", "--base-url", urls["control"]]
        code = cli([*args, "--max-examples", "1", "--phases", "fuzzing", "--token", "the-token"])
    finally:
        server.sandbox.control_token = None
    assert code == 0


def test_the_control_apis_run_takes_the_token_every_command_takes(server, urls, monkeypatch):
    """Without it every call was a 401 the document does not declare: 53 failures of the API."""
    monkeypatch.delenv("DOMAINSANDBOX_TOKEN", raising=False)
    server.sandbox.control_token = "the-token"
    try:
        with pytest.raises(ValueError) as refused:
            contracts.run("control", base_url=urls["control"], **QUICK)
        monkeypatch.setenv("DOMAINSANDBOX_TOKEN", "the-token")
        taken = contracts.run(
            "control", base_url=urls["control"], max_examples=1, phases=["fuzzing"]
        )
    finally:
        server.sandbox.control_token = None
    assert str(refused.value) == (
        f"{urls['control']}: 401: this sandbox's control API needs Authorization: Bearer <token>; "
        "give its control token with --token or in $DOMAINSANDBOX_TOKEN, or send it with "
        "-H 'Authorization: Bearer TOKEN'"
    )
    assert taken.ok, taken.summary()
    answered = {code for codes in taken.responses.values() for code in codes}
    assert answered and 401 not in answered, taken.summary()


def test_a_reproduction_sends_a_body_that_is_not_utf8_byte_for_byte():
    """Schemathesis writes such a body with U+FFFD in place of its bytes: the printed curl
    command sent other bytes than the request that failed."""
    from types import SimpleNamespace

    from schemathesis.core.curl import generate
    from schemathesis.engine.recorder import ReproductionStep
    from schemathesis.engine.recorder import Request as Sent

    from contracts.runner import _exact_body

    body = b"\xf9L\x13]E'%\\\x00\x07{}"  # not UTF-8; a quote, a percent, a backslash, a NUL
    received = []
    with stand_in_server(200, b"{}", received=received) as server:
        url = f"{server}/domains"
        curl = generate(
            method="POST", url=url, body=body, verify=True, headers={"X-Key": "k"},
            known_generated_headers={},
        ).command  # fmt: skip
        step = ReproductionStep("c1", "POST /domains", "POST", "/domains", f"# as a\n{curl}")
        sent = SimpleNamespace(request=Sent("POST", url, body, len(body), {}))
        reproduction = _exact_body(step, sent)
        assert reproduction.startswith("# as a\nprintf '")
        subprocess.run(["bash", "-c", reproduction.split("\n")[1]], check=True, timeout=30)
    assert received == [body]
    utf8 = ReproductionStep("c2", "POST /domains", "POST", "/domains", "curl -d x")
    assert _exact_body(utf8, SimpleNamespace(request=Sent("POST", url, b"x", 1, {}))) == "curl -d x"


def test_a_run_cut_short_by_ctrl_c_never_passes(server, urls, control, tmp_path):
    """A CI job cancelled with SIGINT mid-run: the run said "passed" with the cases made so far
    and exited 0, its JUnit file all green."""
    control.add_http_fault("ses", latency_ms=100)  # a run of minutes: Ctrl-C lands inside it
    before = control.count_requests("ses")
    junit = tmp_path / "contract.xml"
    argv = ["contract", "run", "--provider", "ses", "--base-url", urls["ses"]]
    run = subprocess.Popen(
        [sys.executable, "-c", "import sys; from sandbox.cli import main; sys.exit(main())"]
        + argv
        + ["--junit-xml", str(junit)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal gives it: a pytest-xdist worker ignores SIGINT, and so would this
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while control.count_requests("ses") < before + 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, err[-2000:]
    assert "ses contract INTERRUPTED against" in out
    assert "ERROR interrupted (Ctrl-C) after" in out
    errors = ET.parse(junit).getroot().find("testsuite").findall("testcase/error")
    assert len(errors) == 1 and errors[0].text.startswith("interrupted (Ctrl-C) after"), errors


def test_cli_contract_run_says_its_notes_on_the_sandbox_on_stderr_and_results_on_stdout(
    urls, control, capsys
):
    """`contract run ... > results.txt` kept the note on the domains the sandbox held (and
    where the credentials came from) among the results: they now go to stderr."""
    control.create_domain("ses", "held.example.com")
    argv = ["contract", "run", "--provider", "ses", "--base-url", urls["ses"]]
    assert cli([*argv, "--max-examples", "3", "--phases", "coverage"]) == 0
    out, err = capsys.readouterr()
    assert out.rstrip("\n").split("\n")[-1].startswith(f"ses contract passed against {urls['ses']}")
    for note in (
        "That sandbox held 1 ses domain(s)",
        "Credentials: obtained from",
        "report --clear",
    ):
        assert note not in out, out
        assert note in " ".join(err.split()), err
    said = contracts.run("ses", base_url=urls["ses"], **QUICK).summary()  # from Python: all of it
    assert "Credentials: obtained from" in said


def test_a_run_says_how_many_domains_the_sandbox_held_and_repeats_from_the_same_world(
    urls, control
):
    """Same-seed runs against one `serve` made 909 to 952 cases: each answered according to the
    domains the runs before it left (their creates refused as duplicates). The run now says how
    many it found, and from a world reset to the same seed it repeats exactly."""
    control.create_domain("ses", "held.example.com")
    first = contracts.run("ses", base_url=urls["ses"], **QUICK)
    assert first.ok and first.domains_before == 1, first.summary()
    said = " ".join(first.summary().split())
    assert "That sandbox held 1 ses domain(s) when the run began" in said, said
    assert first.to_dict()["domains_before"] == 1
    runs = []
    for _ in range(2):
        control.reset()
        runs.append(contracts.run("ses", base_url=urls["ses"], **QUICK))
    assert [r.domains_before for r in runs] == [0, 0]
    assert "held" not in runs[0].summary()
    assert runs[0].cases == runs[1].cases and runs[0].responses == runs[1].responses
