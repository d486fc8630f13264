"""pytest plugin (entry point `pytest11: domainsandbox`): the sandbox in-process, on free ports.

    def test_my_sdk_verifies_a_domain(domain_sandbox):
        client = MySDK(base_url=domain_sandbox.urls["monite"])
        ...
        domain_sandbox.control.publish("monite", domain_id)
        domain_sandbox.control.advance(300)

Fixtures:
- `domain_sandbox_session`: one sandbox (HTTP APIs + DNS server) for the whole session.
- `domain_sandbox`: the same sandbox, reset before each test to exactly the world a fresh one
  with the same seed holds: seeded ids, the clock at START in the session's mode, no domain,
  record or request, no DNS or HTTP fault (ids from f1 and h1 again), no registered
  credential, rate limits off, default provider settings. What one test changes never reaches
  the next. The clock is "on-poll": it stands still, and a client reading a domain it has seen
  moves it to the domain's next step, so SDK wait loops end at once having seen every state.
  `domain_sandbox.advance_until(provider, domain_id, status=...)` and
  `set_clock_mode(mode, speed=None)` drive it too.
  `domain_sandbox.register_credential(provider, key, secret=None)` and
  `revoke_credential(provider, key)` make a provider accept only the keys a test chose.
  `domain_sandbox.credentials("autosend")` gives ready credentials (base_url, key, headers and
  the SDK's own names for them); `domain_sandbox.client("scaleway")` the provider's official
  SDK configured against the sandbox (sandbox.sdk says which).
  `domain_sandbox.requests(**filters)` is the request journal (what clients sent);
  `domain_sandbox.assert_called(provider, operation, times=None, **filters)` checks it.

The client conformance report is the session's: per-test resets keep what every test's calls
exercised, so `--domainsandbox-report` shows the whole session, each violation naming the tests
that sent it; what a test switched on (`expecting_errors()`) ends with the test.

Options: `--domainsandbox-seed N`, `--domainsandbox-clock MODE` (the fixture's clock: on-poll,
frozen, real or fast), `--domainsandbox-port N` and `--domainsandbox-dns-port N` (pin the ports;
0, the default, takes free ones), `--domainsandbox-report` (print the client conformance report
at the end of the session), `--domainsandbox-report-json FILE` (write it as JSON),
`--domainsandbox-fail-on-violations` (the client's violations fail the session). Under
pytest-xdist each worker has its own sandbox; the report merges what all of them saw.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .reportfile import unwritable

if TYPE_CHECKING:
    from sandbox import SandboxServer
    from sandbox.client import ControlClient, Duration

# Where the clock stands at the start of every `domain_sandbox` test, and its default mode.
START = "2026-01-01T09:00:00Z"
DEFAULT_CLOCK = "on-poll"
# The engine's, written again: a user's pytest start imports no more of the sandbox than it must
# (tests/test_clock_modes.py holds them equal).
DEFAULT_SEED = 1234
CLOCK_MODES = ("on-poll", "frozen", "real", "fast")
FAST_SPEED = 60
_REPORT_KEY = pytest.StashKey[dict]()
_WORKER_REPORT = "domainsandbox_report"  # in a pytest-xdist worker's output: its report, JSON


@dataclass
class DomainSandbox:
    """A running sandbox: base URLs, the DNS address and a control client."""

    server: SandboxServer
    control: ControlClient
    seed: int
    _undo: list = field(default_factory=list, repr=False)  # what this test's clients changed

    @property
    def url(self) -> str:
        """The HTTP server's root, e.g. http://127.0.0.1:PORT."""
        return self.server.url

    @property
    def urls(self) -> dict[str, str]:
        """Each provider's base URL as its client sets it, plus "control"."""
        return _Urls(self.server.base_urls())

    @property
    def dns(self) -> tuple[str, int]:
        """(host, port) of the fake DNS server, UDP and TCP."""
        return self.server.sandbox.dns.host, self.server.sandbox.dns.port

    def reset(self) -> None:
        """Put the world back as the session's sandbox started: the same seed, the clock at
        START in its mode, nothing else (the report goes on: it describes the session)."""
        self.control.reset(seed=self.seed, restore_clock=True)

    def credentials(self, provider: str) -> dict:
        """What a client of `provider` needs: `base_url`, `key`, ready `headers` (Monite: a
        partner token, logged in for), and the names its SDK takes them by (Monite client_id,
        client_secret, token, monite_version; an `api_key`; Scaleway secret_key, access_key,
        project_id, organization_id, region; SES aws_access_key_id, aws_secret_access_key,
        region_name, endpoint_url)."""
        from sandbox.sdk import credentials

        return credentials(self.server, provider)

    def client(self, provider: str):
        """The provider's official SDK, configured against this sandbox with `credentials`
        (Scaleway: its MailboxV1Alpha1API), its connections closed when the test ends.
        `client("resend")` is the `resend` module, its `api_key` and `api_url` set until the
        test ends. AutoSend has no Python SDK, and an SDK not installed is an error naming the
        package to install."""
        from sandbox.sdk import client, close, kept

        self._undo.append(kept(self.server, provider))  # module globals an SDK set (Resend's)
        built = client(self.server, provider)
        self._undo.append(partial(close, built))  # its connections go when the test ends
        return built

    def end_test(self) -> None:
        """Undo what the test's clients changed outside the sandbox."""
        while self._undo:
            self._undo.pop()()

    def set_clock_mode(self, mode: str, speed: float | None = None) -> dict:
        """Switch the clock, until the next test: "on-poll" (the default), "frozen" (moves only
        when told), "real" or "fast" (`speed` sandbox seconds per real second)."""
        return self.control.set_clock_mode(mode, speed)

    def advance_until(
        self,
        provider: str,
        domain_id: str,
        status: str | None = None,
        predicate=None,
        limit: Duration | None = None,
    ) -> dict:
        """Move the clock step by step (each step at its own instant) until the domain's status
        is `status`, or `predicate(domain view)` holds; at most `limit` ahead (seconds, a
        timedelta or a duration such as "3d"; default: the provider's verification window).
        ControlError says where the domain got stuck.

            domain_sandbox.advance_until("autosend", domain_id, status="VERIFIED")
        """
        __tracebackhide__ = True  # where it got stuck is the test's line and the message
        return self.control.advance_until(provider, domain_id, status, predicate, limit)

    def report(self) -> dict:
        """The client conformance report of the session so far."""
        return self.control.report()

    def register_credential(self, provider: str, key: str, secret: str | None = None) -> dict:
        """Make `provider` accept only registered credentials (this one among them) until the
        next test; any other then gets the provider's own refusal. The keys each provider
        takes, and its refusal: `ControlClient.register_credential`, `revoke_credential`."""
        return self.control.register_credential(provider, key, secret)

    def expecting_errors(self):
        """A context manager: the bad requests a test sends on purpose inside it are listed in
        the report as expected violations, not as the client's. Called without `with`, it lasts
        until the test ends.

            with domain_sandbox.expecting_errors():
                with pytest.raises(ApiError):
                    client.create_domain(domain="not a domain")
        """
        return self.control.expecting_errors()

    def revoke_credential(self, provider: str, key: str) -> dict:
        """Revoke a registered credential: the provider refuses it from now on, in its own words
        (`ControlClient.revoke_credential`)."""
        return self.control.revoke_credential(provider, key)

    def requests(self, provider: str | None = None, **filters) -> list[dict]:
        """The request journal since the last reset (under `domain_sandbox`: this test's),
        oldest first: what clients sent (headers with credentials redacted, bodies), what was
        answered, which domain it touched. Filters: provider, operation, status (404, "4xx" or
        "aborted"), domain, since, until, limit."""
        return self.control.requests(provider, **filters)

    def assert_called(
        self, provider: str, operation: str, times: int | None = None, **filters
    ) -> list[dict]:
        """Fail unless `provider`'s `operation` (an operationId) was called `times` times (at
        least once if None) since the last reset (under `domain_sandbox`: in this test),
        matching `filters` (those of `requests`). The failure lists the calls made instead.
        Returns the matching calls.

            domain_sandbox.assert_called("monite", "verify_domain", times=1, domain=domain_id)
        """
        from .called import check_called

        __tracebackhide__ = True
        return check_called(self.control, provider, operation, times, **filters)


class _Urls(dict):
    """Base URLs by API name; a name it has not is a KeyError naming those it has."""

    def __missing__(self, name):
        raise KeyError(f"{name!r} is not an API of the sandbox; known: {', '.join(self)}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("domainsandbox", "domainsandbox: email-domain API sandbox")
    group.addoption(
        "--domainsandbox-seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed for every id, token and key the sandbox draws",
    )
    group.addoption(
        "--domainsandbox-clock",
        default=DEFAULT_CLOCK,
        choices=CLOCK_MODES,
        help=(
            f"the fixture's clock mode (default {DEFAULT_CLOCK}; fast runs {FAST_SPEED} times "
            "real time)"
        ),
    )
    group.addoption(
        "--domainsandbox-port",
        type=int,
        default=0,
        help="the HTTP port of the session's sandbox (default 0: a free port)",
    )
    group.addoption(
        "--domainsandbox-dns-port",
        type=int,
        default=0,
        help="the DNS port (UDP and TCP) of the session's sandbox (default 0: a free port)",
    )
    group.addoption(
        "--domainsandbox-report",
        action="store_true",
        help="print the client conformance report at the end of the session",
    )
    group.addoption(
        "--domainsandbox-report-json",
        metavar="FILE",
        help="write the client conformance report as JSON to FILE",
    )
    group.addoption(
        "--domainsandbox-fail-on-violations",
        action="store_true",
        help="fail the session when the client sent requests its API's document refuses "
        "(violations not provoked on purpose with expecting_errors()), and list them",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Refuse, before any test runs, what could only fail later: pinned ports shared by several
    pytest-xdist workers or by the two servers, and a report file that cannot be written where
    it is asked for."""
    if _pinned_ports(config) and _several_workers(config):
        raise pytest.UsageError(
            f"{_pinned_ports(config)} pins a port, and under pytest-xdist each worker starts a "
            "sandbox of its own: they cannot share it. Leave the ports at 0 (free ones) with -n, "
            "or pin them without -n"
        )
    port, dns_port = (
        config.getoption(o) for o in ("--domainsandbox-port", "--domainsandbox-dns-port")
    )
    if port and port == dns_port:  # else the DNS server said its port taken, by our own HTTP
        raise pytest.UsageError(
            f"--domainsandbox-port and --domainsandbox-dns-port are both {port}: the HTTP "
            "server and the DNS server's TCP side cannot share a port"
        )
    path = config.getoption("--domainsandbox-report-json")
    if path and not hasattr(config, "workerinput") and (why := unwritable(Path(path))):
        raise pytest.UsageError(f"--domainsandbox-report-json {path}: {why}")


def _pinned_ports(config: pytest.Config) -> str:
    """The port options given a port other than 0, as typed ("" if none)."""
    return " and ".join(
        f"{option} {config.getoption(option)}"
        for option in ("--domainsandbox-port", "--domainsandbox-dns-port")
        if config.getoption(option)
    )


def _several_workers(config: pytest.Config) -> bool:
    """Whether pytest-xdist was asked for more than one worker (`-n auto` counts as several)."""
    workers = getattr(config.option, "numprocesses", None)
    return workers not in (None, 0, 1) and not hasattr(config, "workerinput")


@pytest.fixture(scope="session")
def domain_sandbox_session(request: pytest.FixtureRequest):
    """One sandbox (HTTP APIs and DNS on free ports) for the whole test session."""
    config = request.config
    options = sandbox_options(config)
    # imported here: a user's pytest session loads this plugin even when no test uses it;
    # pytest sets its own warning filters for each test, so ours are set again around it
    with warnings.catch_warnings():
        from sandbox import ignore_third_party_warnings

        ignore_third_party_warnings()
        from sandbox.client import ControlClient

        timeout = control_timeout()  # before the sandbox starts: a bad one leaves none running
        server = start_sandbox(**options)
    control = ControlClient(server.url, timeout)
    try:
        yield DomainSandbox(server, control, options["seed"])
    finally:
        _report_at_end(config, control)
        control.close()
        server.stop()


@pytest.fixture
def domain_sandbox(domain_sandbox_session: DomainSandbox, request: pytest.FixtureRequest):
    """The session's sandbox, reset before this test to the world a fresh one holds."""
    domain_sandbox_session.reset()
    domain_sandbox_session.control.running_test(request.node.nodeid)  # the report names it
    yield domain_sandbox_session
    domain_sandbox_session.end_test()
    domain_sandbox_session.control.running_test(None)  # no later test is blamed for its own


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A test that takes the session's sandbox alone is named while it runs: the report blamed
    the last test that took `domain_sandbox` for its violations."""
    shared = _session_alone(item)
    if shared is not None:
        shared.control.running_test(item.nodeid)
    yield
    if shared is not None:
        shared.control.running_test(None)


def _session_alone(item: pytest.Item) -> DomainSandbox | None:
    """The session's sandbox, when the test (or a fixture it takes) took it without
    `domain_sandbox`, which names its test itself."""
    taken = getattr(item, "funcargs", {})
    if "domain_sandbox" in taken:
        return None
    return taken.get("domain_sandbox_session")


def sandbox_options(config: pytest.Config) -> dict:
    """How the session's sandbox starts, from the command line: what `start_sandbox` takes."""
    return {
        "seed": config.getoption("--domainsandbox-seed"),
        "port": config.getoption("--domainsandbox-port"),
        "dns_port": config.getoption("--domainsandbox-dns-port"),
        "clock": config.getoption("--domainsandbox-clock"),
    }


def control_timeout() -> float:
    """How long the fixture's control client waits for an answer: $DOMAINSANDBOX_TIMEOUT, as
    the CLI and ControlClient read it, else 30 s; a value that is no duration fails the tests
    that need the sandbox, saying so."""
    from sandbox.client import default_timeout

    try:
        return default_timeout()
    except ValueError as exc:
        reason = exc
    pytest.fail(f"domainsandbox: {reason}", pytrace=False)  # outside the except, as below


def start_sandbox(
    seed: int, port: int = 0, dns_port: int = 0, clock: str = DEFAULT_CLOCK
) -> SandboxServer:
    """The session's sandbox, started on `port` and `dns_port` (0: free ones), its clock at
    START in mode `clock`; a port that is taken fails the tests that need it, saying which."""
    from sandbox import Sandbox, SandboxServer
    from sandbox.engine.clock import Clock

    try:
        sandbox = Sandbox(seed=seed, dns_port=dns_port, clock=Clock(start=START, mode=clock))
        return SandboxServer(sandbox, port=port).start()
    except (OSError, ValueError) as exc:  # a port taken, or an option out of range
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    # failed here, not in the except: pytest would print the OSError first, "During handling"
    pytest.fail(
        f"domainsandbox could not start (--domainsandbox-seed {seed}, --domainsandbox-port "
        f"{port}, --domainsandbox-dns-port {dns_port}): {reason}",
        pytrace=False,
    )


def _report_at_end(config: pytest.Config, control: ControlClient) -> None:
    """Keep the report before the sandbox stops: a pytest-xdist worker hands it to the
    controller, which merges every worker's; the session's end writes and prints it."""
    if not _report_wanted(config):
        return
    report = control.report()
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker
        config.workeroutput[_WORKER_REPORT] = json.dumps(report)
    else:
        config.stash[_REPORT_KEY] = report


def _report_wanted(config: pytest.Config) -> bool:
    return any(
        config.getoption(option)
        for option in (
            "--domainsandbox-report",
            "--domainsandbox-report-json",
            "--domainsandbox-fail-on-violations",
        )
    )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: a worker finished; merge the report of its sandbox into the session's."""
    given = getattr(node, "workeroutput", {}).get(_WORKER_REPORT)
    if given is None:
        return
    from sandbox.report import merge

    config = node.config
    kept = config.stash.get(_REPORT_KEY, None)
    report = json.loads(given)
    config.stash[_REPORT_KEY] = merge([kept, report]) if kept else report


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the last fixtures down
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the report as JSON, once, where the session is run (not in xdist workers), and
    fail a session that passed when the client's violations are to fail it."""
    config = session.config
    report = config.stash.get(_REPORT_KEY, None)
    if report is None or hasattr(config, "workeroutput"):
        return
    if path := config.getoption("--domainsandbox-report-json"):
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
    if failing := _failing_violations(config):
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if junit := config.getoption("xmlpath", None):
            _junit_failure(Path(junit), failing)


def _junit_failure(path: Path, failing: list[tuple[str, dict]]) -> None:
    """The violations that fail the session, as one more failed test case in pytest's JUnit XML
    file (`--junitxml`, written by then): a CI system that shows the file shows the failure."""
    import xml.etree.ElementTree as ET

    from sandbox.report import violation_line

    if not path.is_file():
        return
    tree = ET.parse(path)
    suite = (
        tree.getroot() if tree.getroot().tag == "testsuite" else tree.getroot().find("testsuite")
    )
    if suite is None:
        return
    count = sum(violation["count"] for _, violation in failing)
    case = ET.SubElement(suite, "testcase", classname="domainsandbox", name="client violations")
    said = f"{count} request(s) an API's document refuses (--domainsandbox-fail-on-violations)"
    failure = ET.SubElement(case, "failure", message=said)
    failure.text = "\n".join(f"{name}: {violation_line(v)}" for name, v in failing)
    for counter in ("tests", "failures"):
        suite.set(counter, str(int(suite.get(counter, "0")) + 1))
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _failing_violations(config: pytest.Config) -> list[tuple[str, dict]]:
    """(provider, violation) for each violation that fails the session: none unless asked."""
    report = config.stash.get(_REPORT_KEY, None)
    if report is None or not config.getoption("--domainsandbox-fail-on-violations"):
        return []
    return [
        (name, violation)
        for name, view in report["providers"].items()
        for violation in view["violations"]
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    _say_failing_violations(terminalreporter, config)
    if not config.getoption("--domainsandbox-report"):
        return
    from sandbox.report import render_table  # only when a report was asked for

    report = config.stash.get(_REPORT_KEY, None)
    terminalreporter.section("domainsandbox client conformance report")
    if report is None:
        terminalreporter.write_line("(no test used the domain_sandbox fixture)")
        return
    terminalreporter.write(render_table(report))


def _say_failing_violations(terminalreporter, config: pytest.Config) -> None:
    failing = _failing_violations(config)
    if not failing:
        return
    from sandbox.report import violation_line  # only when there are some to say

    count = sum(violation["count"] for _, violation in failing)
    # pytest's last line counts them too, beside the tests ("2 passed, 1 client violation"):
    # every test may have passed while the session fails
    noun = "client violation" if len(failing) == 1 else "client violations"
    terminalreporter.stats[noun] = [violation for _, violation in failing]
    terminalreporter.section("domainsandbox: the client's violations fail this session", red=True)
    for name, violation in failing:
        terminalreporter.write_line(f"{name}: {violation_line(violation)}")
    terminalreporter.write_line(
        f"{count} request(s) its API's document refuses (--domainsandbox-fail-on-violations); "
        "wrap a deliberate bad request in domain_sandbox.expecting_errors()"
    )
