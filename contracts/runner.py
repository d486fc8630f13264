"""Run one API's contract (its OpenAPI document) with Schemathesis against a base URL.

`run("monite")` starts a private in-process sandbox (HTTP and DNS on free ports, clock frozen),
obtains credentials the way the provider's SDK would, and runs every phase: examples, coverage,
fuzzing and stateful (the documents' OpenAPI links chain create -> verify -> delete with real
ids). `run("monite", base_url="https://api.sandbox.monite.com/v1", headers={...})` runs the same
checks against any server claiming to implement that API.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import time
import xml.etree.ElementTree as ET
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import schemathesis
from schemathesis.engine import events

from sandbox import documents, redaction
from sandbox.client import TOKEN_ENV, ControlClient, ControlError

from .defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_REQUEST_TIMEOUT_SECONDS, DEFAULT_SEED, PHASES
from .profiles import CONTROL, Profile, profile
from .reportfile import unwritable

# Where the in-process sandbox's clock stands during a run (frozen: same seed, same bodies).
SANDBOX_START = "2026-01-01T09:00:00Z"
SANDBOX_SEED = 7
# How long the check that something answers at a base URL waits for a connection.
REACH_TIMEOUT_SECONDS = 5.0


class Unreachable(ControlError):
    """Nothing accepts a connection at the base URL a run was given: raised before running,
    rather than recording every operation's every request as the same connection error. A
    ControlError, as an unreachable sandbox is: `domainsandbox contract run` exits 1 on it."""


@dataclass(frozen=True)
class ContractFailure:
    """One distinct failure: which operation, which check, what happened, how to reproduce it."""

    operation: str
    code: str
    title: str
    message: str
    reproduce: str

    def to_dict(self) -> dict:
        return {
            "operation": self.operation,
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "reproduce": self.reproduce,
        }


@dataclass
class ContractResult:
    """What a contract run found. `ok` is true when there were no failures and no errors."""

    provider: str
    base_url: str
    phases: tuple[str, ...]
    failures: list[ContractFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    # operation label -> status codes the server answered, with counts
    responses: dict[str, Counter] = field(default_factory=dict)
    cases: int = 0
    cases_by_phase: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    # Where the credentials came from when the run obtained them (a running domainsandbox).
    credentials_from: str | None = None
    # Why credentials obtained there may be refused, when the run could tell.
    credentials_caveat: str | None = None
    # Operations no generated request can be expected to make succeed ("METHOD /path": why).
    unsatisfiable: dict[str, str] = field(default_factory=dict)
    # Operations the server cannot carry out as installed ("METHOD /path": what it answered):
    # a sandbox without an optional part (the demo world without Faker) says so with a 503.
    not_checked: dict[str, str] = field(default_factory=dict)
    # The names of the headers the caller gave (-H): a 401 or 403 then speaks of them.
    headers_given: tuple[str, ...] = ()
    # Whether the run started a sandbox of its own (no base URL): gone once the run is over.
    private_sandbox: bool = False
    # Whether Ctrl-C (or SIGTERM) stopped the run before it was done: never a pass.
    interrupted: bool = False
    # The provider's domains the running domainsandbox held when the run began: its answers
    # depend on them (an earlier run's create is refused as a duplicate).
    domains_before: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def succeeded(self, operation: str) -> bool:
        """Whether the server answered the operation with a 2xx at least once."""
        return any(200 <= code < 300 for code in self.responses.get(operation, ()))

    @property
    def never_succeeded(self) -> list[str]:
        """The operations the server never answered with a 2xx (those known to be out of reach
        of generated data aside): past their refusals, nothing of them was checked."""
        return sorted(
            op
            for op in self.operations
            if not self.succeeded(op) and op not in self.unsatisfiable | self.not_checked
        )

    def summary(self, context: bool = True) -> str:
        """A readable account of the run, failures first. `context`: with the notes on the
        server the run was against (`context_notes()`), which the CLI prints on stderr."""
        lines = []
        for failure in self.failures:
            lines += [
                f"FAIL {failure.operation}: {failure.code} {failure.title}",
                *(f"    {line}" for line in failure.message.splitlines() if line.strip()),
                "  reproduce:",
                *(f"    {line}" for line in failure.reproduce.splitlines() if line.strip()),
                "",
            ]
        lines += [f"ERROR {error}" for error in self.errors]
        lines += self._notes(context)
        if any("timed out" in error for error in self.errors):
            lines.append(
                f"Requests that took over {self.request_timeout:g} s were given up: allow more "
                "with --request-timeout DURATION (request_timeout= from Python)."
            )
        verdict = "INTERRUPTED" if self.interrupted else "passed" if self.ok else "FAILED"
        lines.append(
            f"{self.provider} contract {verdict} against {self.base_url}: "
            f"{len(self.operations)} operations, {self.cases} test cases, "
            f"{len(self.failures)} failures, {len(self.errors)} errors "
            f"(phases: {', '.join(self.phases)}; {self.seconds:.1f}s)"
        )
        return "\n".join(lines)

    def _notes(self, context: bool) -> list[str]:
        notes = []
        if self.failures and self.private_sandbox:
            notes.append(
                "The reproductions name the sandbox this run started, which stopped with it: "
                "run the contract against one that stays (`domainsandbox serve`, then "
                "--base-url) to reproduce them as they are."
            )
        notes += self.context_notes() if context else []
        never = [] if self.interrupted else self.never_succeeded  # a cut run reached little
        if never:
            notes += self._never_succeeded_notes(never)
        if self.not_checked:
            notes.append("Not checked: the server cannot carry them out as installed:")
            notes += [f"    {op}: {said}" for op, said in sorted(self.not_checked.items())]
        return notes

    def context_notes(self) -> list[str]:
        """Notes on the running domainsandbox the run was against rather than on its results:
        where the run's credentials came from, that the sandbox's journal and report now hold
        the run's requests, and how many domains it held when the run began."""
        notes = []
        if self.credentials_from:
            caveat = f"; {self.credentials_caveat}" if self.credentials_caveat else ""
            notes.append(
                f"Credentials: obtained from the domainsandbox at {self.credentials_from}, as "
                f"the provider's own client would{caveat}."
            )
            notes.append(  # the fuzzer's refused requests would pass for a client's
                "This run's requests are in that sandbox's request journal and client report: "
                "`domainsandbox report --clear` before a client's tests are judged there."
            )
        if self.domains_before:
            notes.append(
                f"That sandbox held {self.domains_before} {self.provider} domain(s) when the "
                "run began, earlier runs' among them, and answered according to them: the "
                "same seed repeats a run only from the same world (`domainsandbox reset`, or "
                "a fresh `serve`, before each run)."
            )
        return notes

    def _never_succeeded_notes(self, never: list[str]) -> list[str]:
        """The operations never answered with a 2xx, with the statuses they got, and what to
        check when they were refused for their credentials."""
        notes = ["Never answered with a 2xx, so checked only as far as its error answers:"]
        for op in never:
            codes = self.responses.get(op, {})
            shown = ", ".join(f"{code} x{n}" for code, n in sorted(codes.items()))
            notes.append(f"    {op}: {shown or 'no answer'}")
        refused = {401, 403} & {code for op in never for code in self.responses.get(op, {})}
        if refused and self.headers_given:
            notes.append(
                "Some were refused with 401 or 403: check that the headers given "
                f"({', '.join(self.headers_given)}) hold credentials this API takes."
            )
        elif refused and not self.credentials_from and not self.private_sandbox:
            notes.append(
                "Some were refused with 401 or 403: give the API's credentials with "
                "-H 'Name: value' (headers= from Python)."
            )
        return notes

    def to_dict(self) -> dict:
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "ok": self.ok,
            "phases": list(self.phases),
            "request_timeout": self.request_timeout,
            "credentials_from": self.credentials_from,
            "credentials_caveat": self.credentials_caveat,
            "never_succeeded": self.never_succeeded,
            "operations": sorted(self.operations),
            "cases": self.cases,
            "cases_by_phase": dict(self.cases_by_phase),
            "responses": {op: dict(codes) for op, codes in sorted(self.responses.items())},
            "failures": [f.to_dict() for f in self.failures],
            "errors": self.errors,
            "interrupted": self.interrupted,
            "domains_before": self.domains_before,
            "not_checked": dict(sorted(self.not_checked.items())),
        }

    def write_junit_xml(self, path: str | Path) -> None:
        """One test case per operation; failures and errors as JUnit elements. The file's
        folder is made if it is missing, as `contract run --junit-xml` makes it."""
        suite = ET.Element(
            "testsuite",
            name=f"contract-{self.provider}",
            tests=str(len(self.operations) + bool(self.errors)),
            failures=str(len({f.operation for f in self.failures})),
            errors=str(len(self.errors)),
            time=f"{self.seconds:.2f}",
        )
        for operation in sorted(self.operations | {f.operation for f in self.failures}):
            case = ET.SubElement(suite, "testcase", classname=self.provider, name=operation)
            for failure in (f for f in self.failures if f.operation == operation):
                element = ET.SubElement(case, "failure", type=failure.code, message=failure.title)
                element.text = f"{failure.message}\n\nReproduce with:\n{failure.reproduce}"
            if operation in self.not_checked:
                ET.SubElement(case, "skipped", message=self.not_checked[operation])
        if self.errors:
            case = ET.SubElement(suite, "testcase", classname=self.provider, name="run")
            ET.SubElement(case, "error", message="errors during the run").text = "\n".join(
                self.errors
            )
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ET.tostring(root, encoding="unicode") + "\n")


def run(
    provider: str,
    base_url: str | None = None,
    headers: dict[str, str] | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    phases: tuple[str, ...] | list[str] = PHASES,
    seed: int = DEFAULT_SEED,
    junit_xml: str | Path | None = None,
    request_timeout: float | None = None,
) -> ContractResult:
    """Run `provider`'s contract ("monite", ..., or "control") and return what it found.

    base_url: where the document's paths are served (for the sandbox, its mount, e.g.
    http://127.0.0.1:8080/monite/v1); None starts a private in-process sandbox on free ports.
    Either sandbox gives the run credentials, as it gives the provider's own client. headers:
    added to every request (credentials for other servers; they win over the sandbox's).
    request_timeout: seconds one request may take before it is recorded as an error (None:
    DEFAULT_REQUEST_TIMEOUT_SECONDS, or CONTROL_REQUEST_TIMEOUT_SECONDS for the control API).
    phases: names of PHASES, or one string of them comma-separated. A run whose phases make
    no test case is an error: it checked nothing. Generation is derandomised and seeded, so a
    run is repeatable.
    """
    target = profile(provider)
    phases = _phases_asked(phases)
    if max_examples < 1:
        raise ValueError(f"max_examples is {max_examples}: at least 1 example per operation")
    if request_timeout is None:
        request_timeout = target.request_timeout
    if not request_timeout > 0:
        raise ValueError(f"request_timeout is {request_timeout:g}: a request needs more than 0 s")
    if junit_xml:
        _prepare_report_file(Path(junit_xml))
    if base_url is not None:
        _check_base_url(target, base_url, phases, junit_xml)
    given = dict(headers or {})
    with _target(target, base_url, given) as (url, schema_source, obtained):
        headers = obtained.headers | given
        config = _config(target, url, headers, max_examples, phases, seed, request_timeout)
        result = _execute(target, url, schema_source, config, phases)
    result.failures = [
        replace(failure, reproduce=_without_secrets(failure.reproduce, given))
        for failure in result.failures
    ]
    if not result.cases and not result.errors:  # a gate that checked nothing must not pass
        result.errors.append(
            f"no test case was made in the phases asked ({', '.join(phases)}): nothing was "
            f"checked; ask for more (--phases, phases= from Python: {', '.join(PHASES)})"
        )
    _note_how_it_ran(result, target, obtained, given, request_timeout, base_url is None)
    if junit_xml:
        result.write_junit_xml(junit_xml)
    return result


def _phases_asked(phases: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    """The phases of a run: names of PHASES, or one string of them comma-separated (as
    --phases takes them)."""
    if isinstance(phases, str):
        phases = [name.strip() for name in phases.split(",") if name.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phase(s) {', '.join(sorted(unknown))}; use: {', '.join(PHASES)}")
    return tuple(phases)


def _check_base_url(target: Profile, base_url: str, phases: tuple[str, ...], junit_xml) -> None:
    """Refuse a base URL that is not one, or that nothing answers at (said in the JUnit report
    too, so a CI job's report says why rather than being missing), or the wrong API's mount."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{base_url!r} is not a base URL such as http://127.0.0.1:8080/monite/v1")
    try:
        _check_reachable(base_url)
    except Unreachable as unreachable:
        if junit_xml:
            said = ContractResult(target.name, base_url, phases, errors=[str(unreachable)])
            said.write_junit_xml(junit_xml)
        raise
    _check_mount(target, base_url)


def _note_how_it_ran(
    result: ContractResult, target: Profile, obtained, given, request_timeout, private
) -> None:
    """What the result's summary says beside the findings: where the credentials came from,
    what was given, what no request could satisfy."""
    result.request_timeout = request_timeout
    result.credentials_from = obtained.source
    result.headers_given = tuple(given)
    result.private_sandbox = private
    result.credentials_caveat = obtained.caveat
    result.domains_before = obtained.domains
    result.unsatisfiable = target.unsatisfiable
    if obtained.registered:
        result.unsatisfiable |= dict.fromkeys(target.credentials_in_body, ONLY_REGISTERED)


# Header names said secret here beyond what sandbox.redaction redacts (token, secret, auth,
# session...): any key, an Idempotency-Key too (a -H given for a real API is not read back),
# and a cookie whatever its shape.
_SECRET_HEADER = re.compile(r"(?i)key|cookie")


def _without_secrets(reproduction: str, given: dict[str, str]) -> str:
    """A failure's reproduction with the credentials the caller gave (`-H`) redacted: a CI log
    or a JUnit file must not carry a real API's token. Credentials a sandbox lent the run are
    samples, and stay: its reproductions run as they are."""
    for name, value in given.items():
        hidden = redaction.header(name.lower(), value)
        if hidden == value and _SECRET_HEADER.search(name):
            hidden = redaction.REDACTED
        if value and hidden != value:  # where the header is written, not wherever its text is
            written = re.compile(rf"({re.escape(name)}: ){re.escape(value)}", re.IGNORECASE)
            reproduction = written.sub(lambda found, hidden=hidden: found[1] + hidden, reproduction)
    return reproduction


def _prepare_report_file(path: Path) -> None:
    """Its folder made, before the run rather than after it."""
    if why := unwritable(path):
        raise ValueError(f"cannot write the JUnit XML report {path}: {why}")


def _check_reachable(base_url: str) -> None:
    """Raise Unreachable unless an HTTP server answers at `base_url`: any answer to one request
    will do (a 404, a refusal)."""
    try:
        with httpx.stream("GET", base_url, timeout=REACH_TIMEOUT_SECONDS):
            pass  # the status line came back: something answers (the body is not read)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{base_url!r} is not a base URL ({exc})") from None
    except httpx.ConnectTimeout:
        why = f"no connection within {REACH_TIMEOUT_SECONDS:g} s"
    except httpx.ConnectError as exc:
        why = _why(exc)
    except (httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:  # connected: not HTTP
        said = f"no HTTP answer ({exc})" if str(exc) else "no HTTP answer"
        if isinstance(exc, httpx.ReadTimeout):
            said = f"nothing back within {REACH_TIMEOUT_SECONDS:g} s"
        raise Unreachable(
            f"no HTTP server answers at {base_url} (--base-url; base_url= from Python): it "
            f"took the connection and sent {said}; is it a DNS port, or another service?"
        ) from None
    except httpx.HTTPError:  # a broken answer: the run will say more
        return
    else:
        return
    raise Unreachable(f"nothing answers at {base_url} (--base-url; base_url= from Python): {why}")


def _check_mount(target: Profile, base_url: str) -> None:
    """Refuse a base URL on a running domainsandbox's host that is not where it serves the
    provider: every call would be its 404, and the run a list of misleading failures."""
    url = base_url.rstrip("/")
    if url.endswith((target.mount, *target.more_mounts)):
        return
    origin = urlunsplit(urlsplit(url)[:2] + ("", "", ""))
    try:
        with ControlClient(origin, timeout=5) as control:
            health = control.health()
    except (ControlError, httpx.HTTPError, ValueError):
        return  # not a domainsandbox at that host: the run judges the server it finds
    served = (CONTROL, *health.get("providers", ())) if isinstance(health, dict) else ()
    if target.name in served:  # the control API too: every domainsandbox serves it
        raise ValueError(
            f"{base_url} is not where the domainsandbox at {origin} serves {target.name}: "
            f"its base URL is {origin}{target.mount}"
        )


def _why(exc: Exception) -> str:
    """'connection refused' for httpx's '[Errno 111] Connection refused'."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


@dataclass(frozen=True)
class _Obtained:
    """The credential headers a run obtained for itself, and where from."""

    headers: dict = field(default_factory=dict)
    source: str | None = None  # the running domainsandbox; None: in-process, or none obtained
    registered: bool = False  # one registered there: then it refuses any other
    caveat: str | None = None  # why the sandbox may refuse them all the same
    domains: int = 0  # the provider's domains the sandbox held then


ONLY_REGISTERED = (
    "its body carries a client's credentials, generated, and the sandbox accepts only the ones "
    "registered there"
)


@contextmanager
def _target(target: Profile, base_url: str | None, headers: dict):
    """(base URL, where to load the document from, the credentials obtained) for the run;
    `headers`: the caller's, whose credentials win."""
    if base_url:  # the document as the sandbox loads it (the provider names filled in)
        url = base_url.rstrip("/")
        obtained = _running_sandbox_credentials(target, url)
        if {name.lower() for name in obtained.headers} & {name.lower() for name in headers}:
            obtained = _Obtained(domains=obtained.domains)  # the caller brought their own
        if target.name == CONTROL:
            _check_control_token(url, obtained.headers | headers)
        yield url, documents.fresh(target.document), obtained
        return
    from sandbox import Sandbox, SandboxServer  # an in-process sandbox only when none is given
    from sandbox.driver import at_once
    from sandbox.engine.clock import Clock

    sandbox = Sandbox(seed=SANDBOX_SEED, clock=Clock(start=SANDBOX_START, frozen=True))
    for name, provider in sandbox.providers.items():  # shapes, not timings: a domain the
        # stateful phase creates can be validated at once
        sandbox.update_settings(name, at_once(dict(provider.settings_defaults)))
    with SandboxServer(sandbox) as server:  # its own DNS on a free port: verify calls work
        # Fuzzed header names make uvicorn warn "Invalid HTTP request"; its 400 is right.
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        url = server.url + target.mount
        credentials = target.credentials(server.url) if target.credentials else {}
        # The document as the sandbox serves it: what is tested is what clients download.
        yield url, url + "/openapi.json", _Obtained(credentials)


def _running_sandbox_credentials(target: Profile, url: str) -> _Obtained:
    """The credentials a running domainsandbox gives when `url` is where it serves this API:
    a run against `domainsandbox serve` gets past authentication without being given a key,
    as the in-process run does. None obtained from any other server."""
    if not url.endswith(target.mount):
        return _Obtained()
    if target.name == CONTROL:  # its credential is the control token every command reads
        token = os.environ.get(TOKEN_ENV)
        return _Obtained({"Authorization": f"Bearer {token}"}) if token else _Obtained()
    if target.credentials is None:
        return _Obtained()
    server = url[: -len(target.mount)]
    try:
        with ControlClient(server, timeout=5) as control:
            health = control.health()
            if not (isinstance(health, dict) and target.name in health.get("providers", ())):
                return _Obtained()
            key, secret, caveat = _registered_credential(control, target.name)
            held = _domains_held(control, target.name)
        headers = target.credentials(server, key, secret)
        return _Obtained(headers, server, key is not None, caveat, held)
    except (ControlError, httpx.HTTPError, ValueError, KeyError):
        return _Obtained()  # not a sandbox, or one that would not log this client in


def _domains_held(control: ControlClient, provider: str) -> int:
    """How many of `provider`'s domains the sandbox holds; 0 when it will not say (a control
    token the run was not given)."""
    try:
        return len(control.domains(provider))
    except ControlError:
        return 0


def _check_control_token(url: str, headers: dict) -> None:
    """Refuse a control API run its control token would refuse whole: every call a 401 the
    document does not declare, each reported as a failure of the API."""
    try:
        answer = httpx.get(f"{url}/clock", headers=headers, timeout=REACH_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return  # the run will say what is wrong
    if answer.status_code == 401:
        said = _error_said(answer.content)
        raise ValueError(
            f"{url}: 401{f': {said}' if said else ''}; give its control token with --token "
            f"or in ${TOKEN_ENV}, or send it with -H 'Authorization: Bearer TOKEN'"
        )


def _error_said(body: bytes) -> str:
    """The error message of a JSON answer, `{"error": {"message": ...}}` as the sandbox answers
    (or a bare `{"error": "..."}`); "" for any other body."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    if isinstance(error, dict):
        error = error.get("message")
    return str(error) if error else ""


def _registered_credential(control: ControlClient, provider: str) -> tuple[str | None, ...]:
    """(key, secret, None) of the first credential registered for `provider` and not revoked:
    once any is registered, the sandbox accepts only those. Else (None, None, caveat): the
    sample one, and why the sandbox may refuse it (None when it accepts any)."""
    try:
        registered = control.credentials(provider)
    except ControlError as exc:  # not read (its control token): the sample key is all it has
        why = str(exc)
        if exc.status == 401:
            token = "was refused" if os.environ.get(TOKEN_ENV) else "is not set"
            why = f"it has a control token, and ${TOKEN_ENV} {token}"
        caveat = (
            f"{why}, so the credentials it may have registered could not be read and the "
            "sample ones it gave may be refused"
        )
        return None, None, caveat
    usable = next((entry for entry in registered if not entry["revoked"]), None)
    if usable:
        return usable["key"], usable.get("secret"), None
    return None, None, "every credential registered there is revoked" if registered else None


def _config(
    target: Profile,
    url: str,
    headers: dict,
    max_examples: int,
    phases,
    seed: int,
    request_timeout: float,
) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "base-url": url,
            "headers": headers,
            "workers": 1,  # one worker keeps the order of requests, hence the run, repeatable
            "request-timeout": request_timeout,
            "generation": {
                "deterministic": True,
                "max-examples": max_examples,
                "database": "none",
            },
            "phases": {name: {"enabled": name in phases} for name in PHASES},
            "operations": target.operations,
            # reproductions keep a sandbox's sample credentials (the caller's own are redacted
            # from them after the run: _without_secrets)
            "output": {"sanitization": {"enabled": False}},
            "cache": {"enabled": False},  # no state carried from earlier runs: repeatable
        }
    )


def _execute(
    target: Profile,
    url: str,
    source: str | dict,  # the served document's URL, or the document itself
    config: schemathesis.Config,
    phases: tuple[str, ...],
) -> ContractResult:
    started = time.perf_counter()
    result = ContractResult(target.name, url, phases)
    if isinstance(source, dict):
        schema = schemathesis.openapi.from_dict(source, config=config)
    else:
        schema = schemathesis.openapi.from_url(source, config=config)
    seen = set()
    with _no_local_constants():
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                result.cases_by_phase[str(event.phase.value)] += len(event.recorder.cases)
                _collect(event.recorder, result, seen)
            elif isinstance(event, events.NonFatalError):
                result.errors.append(f"{event.label}: {event.info.format()}".strip())
            elif isinstance(event, events.FatalError):
                result.errors.append(f"fatal: {event.exception}")
            elif isinstance(event, events.Interrupted):
                result.interrupted = True
                result.errors.append(  # an error: the JUnit file says so, and it never passes
                    f"interrupted (Ctrl-C) after {result.cases} test cases: the run stopped "
                    "before it was done, and what it did not reach was not checked"
                )
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _no_local_constants():
    """Hypothesis draws some values from the constants of whatever local modules (outside
    site-packages) are loaded, a caller's code and this checkout's: the same seed would then
    generate other requests from the CLI, from Python and from a test suite. A run draws
    from Hypothesis's own constants only (it has no setting for this: its internals, where
    found)."""
    from hypothesis.internal.conjecture import providers

    collect = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)  # the constants each draw may take
    if collect is None or cache is None or not hasattr(providers, "Constants"):
        yield  # a Hypothesis without them
        return
    providers._get_local_constants = providers.Constants
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = collect
        cache.cache.clear()


def _collect(recorder, result: ContractResult, seen: set) -> None:
    result.cases += len(recorder.cases)
    for case_id, node in recorder.cases.items():
        label = node.value.operation.label
        result.operations.add(label)
        interaction = recorder.interactions.get(case_id)
        if interaction is not None and interaction.response is not None:
            codes = result.responses.setdefault(label, Counter())
            codes[interaction.response.status_code] += 1
    for case_id, checks in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            operation = failure.operation or recorder.label
            if missing := _missing_part(response):
                result.not_checked[operation] = missing
                continue
            key = (failure.operation, failure.code, failure.title, failure.message)
            if key in seen:  # the same finding from another phase or case says nothing new
                continue
            seen.add(key)
            steps = [
                _exact_body(step, recorder.interactions.get(step.case_id)) for step in info.steps
            ]
            reproduce = "\n".join(steps) or info.code_sample
            result.failures.append(
                ContractFailure(
                    operation,
                    failure.code,
                    failure.title,
                    failure.message or _answered(response),
                    reproduce,
                )
            )


def _exact_body(step, interaction) -> str:
    """The step's curl command, sending its body byte for byte. Schemathesis writes a body that
    is not UTF-8 with U+FFFD in place of its bytes, so the command would send other bytes: such a
    body is piped in from printf instead (`printf '\\xf9...' | curl ... --data-binary @-`)."""
    body = interaction.request.body if interaction is not None else None
    *comments, curl = step.curl.split("\n")
    tail = f" {shlex.quote(interaction.request.uri)}" if body else ""
    if not body or "\ufffd" not in curl or not curl.endswith(tail) or " -d " not in curl:
        return step.curl
    try:
        body.decode("utf-8")
        return step.curl  # its U+FFFD is the client's own
    except UnicodeDecodeError:
        pass
    head, _, rest = curl.partition(" -d ")
    insecure = " --insecure" if rest.endswith(f" --insecure{tail}") else ""
    printf = "".join(_PRINTF.get(b, chr(b)) if 32 <= b < 127 else f"\\x{b:02x}" for b in body)
    piped = f"printf '{printf}' | {head} --data-binary @-{insecure}{tail}"
    return "\n".join([*comments, piped])


# What printf's format needs escaped among printable ASCII (inside single quotes).
_PRINTF = {ord("'"): "\\x27", ord("\\"): "\\\\", ord("%"): "%%"}


# How domainsandbox says an optional part of it is not installed (sandbox.extras.needs).
_NOT_INSTALLED = re.compile(r"needs \S+, which is not installed")
ANSWER_SHOWN = 300  # characters of an answer's body a failure quotes


def _missing_part(response) -> str | None:
    """What a 503 says when the server lacks an optional part, or None for any other answer."""
    if response is None or response.status_code != 503:
        return None
    return _answered(response) if _NOT_INSTALLED.search(_said(response)) else None


def _answered(response) -> str:
    """What happened, when the check said nothing more (a server error): the answer."""
    if response is None:
        return ""
    said = _said(response)
    cut = "..." if len(said) > ANSWER_SHOWN else ""
    return f"answered {response.status_code}" + (f": {said[:ANSWER_SHOWN]}{cut}" if said else "")


def _said(response) -> str:
    """An answer's error message where it has one, else its body, in one line."""
    text = _error_said(response.content) or response.content.decode("utf-8", "replace")
    return " ".join(text.split())
