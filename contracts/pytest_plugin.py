"""pytest plugin (entry point `pytest11: domainsandbox`): the sandbox in-process, on free ports.

    def test_my_sdk_verifies_a_domain(domain_sandbox):
        client = MySDK(base_url=domain_sandbox.urls["monite"])
        ...
        domain_sandbox.control.publish("monite", domain_id)
        domain_sandbox.control.advance(300)

Fixtures:
- `domain_sandbox_session`: one sandbox (HTTP APIs + DNS server) for the whole session.
- `domain_sandbox`: the same sandbox, reset before each test (seeded ids, clock frozen at
  START, no records, no faults, no registered credentials, default provider timings): every
  test starts from one world. `domain_sandbox.register_credential(provider, key, secret=None)`
  and `revoke_credential(provider, key)` make a provider accept only the keys a test chose.
  `domain_sandbox.requests(**filters)` is the request journal (what clients sent);
  `domain_sandbox.assert_called(provider, operation, times=None, **filters)` checks it.

Options: `--domainsandbox-seed N`, `--domainsandbox-report` (print the client conformance
report at the end of the session), `--domainsandbox-report-json FILE` (write it as JSON).
Under pytest-xdist each worker has its own sandbox; the report merges what all of them saw.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sandbox import SandboxServer
    from sandbox.client import ControlClient

# Where the clock stands at the start of every `domain_sandbox` test.
START = "2026-01-01T09:00:00Z"
DEFAULT_SEED = 1234
_REPORT_KEY = pytest.StashKey[dict]()
_WORKER_REPORT = "domainsandbox_report"  # in a pytest-xdist worker's output: its report, JSON


@dataclass
class DomainSandbox:
    """A running sandbox: base URLs, the DNS address and a control client."""

    server: SandboxServer
    control: ControlClient
    seed: int

    @property
    def url(self) -> str:
        """The HTTP server's root, e.g. http://127.0.0.1:PORT."""
        return self.server.url

    @property
    def urls(self) -> dict[str, str]:
        """Each provider's base URL as its client sets it, plus "control"."""
        return self.server.base_urls()

    @property
    def dns(self) -> tuple[str, int]:
        """(host, port) of the fake DNS server, UDP and TCP."""
        return self.server.sandbox.dns.host, self.server.sandbox.dns.port

    def reset(self) -> None:
        """Forget every domain, record, fault, request and registered credential; reseed; freeze
        the clock at START."""
        self.control.reset(seed=self.seed)
        self.control.freeze(at=START)

    def report(self) -> dict:
        """The client conformance report of the session so far."""
        return self.control.report()

    def register_credential(self, provider: str, key: str, secret: str | None = None) -> dict:
        """Make `provider` accept only registered credentials (this one among them) until the
        next test: a Monite client_id with its `secret`, an AutoSend or Vortex API key, or a
        Scaleway secret key. Any other credential then gets the provider's own 401."""
        return self.control.register_credential(provider, key, secret)

    def expecting_errors(self):
        """A context manager: the bad requests a test sends on purpose inside it are listed in
        the report as expected violations, not as the client's.

            with domain_sandbox.expecting_errors():
                with pytest.raises(ApiError):
                    client.create_domain(domain="not a domain")
        """
        return self.control.expecting_errors()

    def revoke_credential(self, provider: str, key: str) -> dict:
        """Revoke a registered credential: the provider answers it with its own 401 from now on."""
        return self.control.revoke_credential(provider, key)

    def requests(self, provider: str | None = None, **filters) -> list[dict]:
        """The request journal of this test, oldest first: what clients sent (headers with
        credentials redacted, bodies), what was answered, which domain it touched. Filters:
        provider, operation, status (404 or "4xx"), domain, since, until, limit."""
        return self.control.requests(provider, **filters)

    def assert_called(
        self, provider: str, operation: str, times: int | None = None, **filters
    ) -> list[dict]:
        """Fail unless `provider`'s `operation` (an operationId) was called `times` times (at
        least once if None) in this test, matching `filters` (those of `requests`). The failure
        lists the calls made instead. Returns the matching calls.

            domain_sandbox.assert_called("monite", "verify_domain", times=1, domain=domain_id)
        """
        from .called import check_called

        __tracebackhide__ = True
        return check_called(self.control, provider, operation, times, **filters)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("domainsandbox", "domainsandbox: email-domain API sandbox")
    group.addoption(
        "--domainsandbox-seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed for every id, token and key the sandbox draws",
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


@pytest.fixture(scope="session")
def domain_sandbox_session(request: pytest.FixtureRequest):
    """One sandbox (HTTP APIs and DNS on free ports) for the whole test session."""
    # imported here: a user's pytest session loads this plugin even when no test uses it;
    # pytest sets its own warning filters for each test, so ours are set again around it
    with warnings.catch_warnings():
        from sandbox import ignore_third_party_warnings

        ignore_third_party_warnings()
        from sandbox import Sandbox, SandboxServer
        from sandbox.client import ControlClient
        from sandbox.engine.clock import Clock

    seed = request.config.getoption("--domainsandbox-seed")
    sandbox = Sandbox(seed=seed, clock=Clock(start=START, frozen=True))
    with SandboxServer(sandbox) as server:
        control = ControlClient(server.url)
        try:
            yield DomainSandbox(server, control, seed)
        finally:
            _report_at_end(request.config, control)
            control.close()


@pytest.fixture
def domain_sandbox(domain_sandbox_session: DomainSandbox) -> DomainSandbox:
    """The session's sandbox, reset before this test: same seed, clock frozen at START."""
    domain_sandbox_session.reset()
    return domain_sandbox_session


def _report_at_end(config: pytest.Config, control: ControlClient) -> None:
    """Keep the report before the sandbox stops: a pytest-xdist worker hands it to the
    controller, which merges every worker's; the session's end writes and prints it."""
    if not (
        config.getoption("--domainsandbox-report")
        or config.getoption("--domainsandbox-report-json")
    ):
        return
    report = control.report()
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker
        config.workeroutput[_WORKER_REPORT] = json.dumps(report)
    else:
        config.stash[_REPORT_KEY] = report


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
    """Write the report as JSON, once, where the session is run (not in xdist workers)."""
    config = session.config
    path = config.getoption("--domainsandbox-report-json")
    report = config.stash.get(_REPORT_KEY, None)
    if path and report is not None and not hasattr(config, "workeroutput"):
        Path(path).write_text(json.dumps(report, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if not config.getoption("--domainsandbox-report"):
        return
    from sandbox.report import render_table  # only when a report was asked for

    report = config.stash.get(_REPORT_KEY, None)
    terminalreporter.section("domainsandbox client conformance report")
    if report is None:
        terminalreporter.write_line("(no test used the domain_sandbox fixture)")
        return
    terminalreporter.write(render_table(report))
