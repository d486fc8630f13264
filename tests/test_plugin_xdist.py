"""The pytest plugin under pytest-xdist: each worker has its own sandbox, and
`--domainsandbox-report` (and `-json FILE`) merge what every worker's tests exercised. The
user's suite also asserts on its calls with `domain_sandbox.requests` and `assert_called`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# Two test files: pytest-xdist's --dist loadfile gives each to one of the two workers.
AUTOSEND_SUITE = """
import os, httpx

def test_lists_autosend_domains(domain_sandbox):
    base = domain_sandbox.urls["autosend"]
    answer = httpx.get(f"{base}/domains", headers={"Authorization": "Bearer as_xdist"})
    assert answer.status_code == 200
    [call] = domain_sandbox.assert_called("autosend", "list_domains", times=1, status=200)
    assert call["headers"]["authorization"] == "Bearer [redacted]"
    open(os.environ["RAN_IN"] + "/autosend", "w").write(os.environ["PYTEST_XDIST_WORKER"])
"""
MONITE_SUITE = """
import os, httpx, pytest

def test_logs_in_to_monite(domain_sandbox):
    base = domain_sandbox.urls["monite"]
    body = {"client_id": "eb959578-a74d-4ac3-8b25-bf0910027857", "client_secret": "s3cret",
            "grant_type": "client_credentials"}
    answer = httpx.post(f"{base}/auth/token", json=body,
                        headers={"x-monite-version": "2024-05-25"})
    assert answer.status_code == 200
    [login] = domain_sandbox.requests("monite", operation="create_token")
    assert login["body"]["client_secret"] == "[redacted]"
    with pytest.raises(AssertionError, match="monite create_token: once"):
        domain_sandbox.assert_called("monite", "verify_domain")
    open(os.environ["RAN_IN"] + "/monite", "w").write(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_the_report_merges_what_every_worker_exercised(tmp_path):
    (tmp_path / "test_autosend.py").write_text(textwrap.dedent(AUTOSEND_SUITE))
    (tmp_path / "test_monite.py").write_text(textwrap.dedent(MONITE_SUITE))
    report_file = tmp_path / "reports" / "report.json"  # a folder not made yet: made for it
    command = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-p", "no:randomly"]
    # plugins the suite does not use, each imported by all three processes: seconds of CPU
    for unused in ("cacheprovider", "schemathesis", "hypothesispytest", "faker", "anyio"):
        command += ["-p", f"no:{unused}"]
    command += ["--domainsandbox-report"]
    command += ["--domainsandbox-report-json", str(report_file), str(tmp_path)]
    ran = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env() | {"RAN_IN": str(tmp_path)},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    workers = {(tmp_path / name).read_text() for name in ("autosend", "monite")}
    assert workers == {"gw0", "gw1"}  # the two tests ran in two workers, two sandboxes

    report = json.loads(report_file.read_text())["providers"]
    assert _called(report["autosend"]) == {"list_domains": {"200": 1}}
    assert _called(report["monite"]) == {"create_token": {"200": 1}}
    assert report["monite"]["requests"] == 1 and report["autosend"]["requests"] == 1
    never = {op["operation"] for op in report["autosend"]["operations_never_called"]}
    assert "list_domains" not in never and "create_domain" in never
    assert "(no test used the domain_sandbox fixture)" not in ran.stdout
    assert "called       GET    /domains  (list_domains): 200 x1" in ran.stdout
    assert "called       POST   /auth/token  (create_token): 200 x1" in ran.stdout


def test_a_pinned_port_under_several_workers_is_refused_before_any_test_runs(tmp_path):
    """Each worker starts its own sandbox: a pinned port would be taken by the first of them,
    and every other worker's tests would fail saying only that the port is in use."""
    (tmp_path / "test_it.py").write_text("def test_it(domain_sandbox):\n    pass\n")
    command = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider"]
    ran = subprocess.run(
        [*command, "--domainsandbox-port", "18905", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(),
    )
    assert ran.returncode == 4, ran.stdout + ran.stderr  # pytest's usage error
    assert (
        "ERROR: --domainsandbox-port 18905 pins a port, and under pytest-xdist each worker "
        "starts a sandbox of its own: they cannot share it." in ran.stderr
    )


def _clean_env() -> dict:
    """This environment, less what would tell the inner pytest it is an xdist worker."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_"))}


def _called(view: dict) -> dict:
    return {op["operation"]: op["statuses"] for op in view["operations_called"]}


def test_merging_reports_gives_the_report_of_one_sandbox_that_saw_everything():
    from sandbox import Sandbox
    from sandbox.report import ClientReport, merge

    providers = Sandbox().providers  # never started: documents and state words only
    first, second, both = (ClientReport(providers) for _ in range(3))
    bad = {"field": "domain", "reason": "'x' is not a 'hostname'", "status": 422}
    calls = [
        (first, "test_a", {"provider": "monite", "operation": "create_domain", "status": 201}),
        (first, "test_a", {"provider": "monite", "operation": "create_domain", "status": 422,
                 "method": "POST", "path": "/monite/v1/mailbox_domains", "violations": [bad]}),
        (second, "test_b", {"provider": "monite", "operation": "create_domain", "status": 422,
                  "method": "POST", "path": "/monite/v1/mailbox_domains", "violations": [bad]}),
        (second, "test_b", {"provider": "monite", "operation": "verify_domain", "status": 200}),
        (second, None, {"provider": "autosend", "operation": "list_domains", "status": 200}),
    ]  # fmt: skip
    for report, test, entry in calls:
        report.test = both.test = test  # the test each worker runs
        report.record(entry)
        both.record(entry)
    [violation] = both.build()["providers"]["monite"]["violations"]
    assert violation["tests"] == ["test_a", "test_b"]
    for report in (second, both):
        report.note_states("monite", ["verified"])
    assert merge([first.build(), second.build()]) == both.build()


def test_merged_reports_say_when_more_tests_sent_a_violation_than_are_named():
    from sandbox import Sandbox
    from sandbox.report import ClientReport, merge

    providers = Sandbox().providers  # never started: documents and state words only
    bad = {"field": "domain", "reason": "'x' is not a 'hostname'", "status": 422}
    entry = {"provider": "monite", "operation": "create_domain", "status": 422,
             "method": "POST", "path": "/monite/v1/mailbox_domains", "violations": [bad]}  # fmt: skip

    def worker(*tests):
        report = ClientReport(providers)
        for test in tests:
            report.test = test
            report.record(entry)
        return report.build()

    def merged(*reports):
        [violation] = merge(list(reports))["providers"]["monite"]["violations"]
        return violation

    three, other_three = worker("a", "b", "c"), worker("c", "d", "e")
    assert merged(three, other_three)["tests"] == ["a", "b", "c", "d", "e"]
    assert "more_tests" not in merged(three, other_three)  # five tests in all
    assert merged(three, worker("d", "e", "f"))["more_tests"] is True  # six
    assert merged(worker(*"abcdef"), worker())["more_tests"] is True  # one worker's six
