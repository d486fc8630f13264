"""The Sandbox: one clock, one seeded identity source, one store, one fake DNS, and the providers.

It is what the HTTP app, the CLI, the pytest plugin and the tests drive. Providers translate;
the engine verifies; only the verifier talks to DNS.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import threading
import time
from datetime import timedelta

from fake_dns import FakeDNS
from fake_dns.limits import MAX_NAME
from fake_dns.rdata import normalize_name
from fake_dns.zone import DEFAULT_TTL

from .arguments import MAX_ADVANCE_SECONDS, MAX_PORT, MAX_SEED, is_timing, within
from .engine import publish as publishing
from .engine.clock import LATEST, MAX_DELAY_SECONDS, Clock, later
from .engine.credentials import Credentials
from .engine.ids import DEFAULT_SEED, Ids, RequestIds
from .engine.store import Store
from .engine.verifier import Verifier
from .gate import HttpFaults, RateLimits
from .logs import access_line
from .providers import PROVIDERS
from .report import ClientReport
from .requestlog import RequestLog

# How often scheduled steps are looked for while the clock runs (real or fast); a fast clock's
# ticker wakes sooner, at the next step's instant, but never more often than MIN_TICK_SECONDS.
TICK_SECONDS = 0.25
MIN_TICK_SECONDS = 0.01
# Steps that may run at one instant; more means a provider reschedules itself in a loop.
MAX_STEPS_PER_RUN = 100_000
# How long stopping waits for a clock move to reach its next step and let go of the world.
STOP_WAIT_SECONDS = 10
# Settings that space a provider's repeated re-checks: at least MIN_RECHECK_SECONDS apart, or
# 0 for those where it means "never".
RECHECK_INTERVALS = {
    "recheck_first_seconds",
    "recheck_max_seconds",
    "recheck_interval_seconds",
    "verified_recheck_seconds",
}
ZERO_IS_NEVER = {"verified_recheck_seconds"}
MIN_RECHECK_SECONDS = 1
# Settings not in seconds: switches, 1 (on) or 0 (off), named require_...; the others counts.
SWITCH_PREFIX = "require_"

log = logging.getLogger(__name__)


def parse_hostport(value: str, default_port: int = 53) -> tuple[str, int]:
    """'1.1.1.1:53' or '1.1.1.1' or '[::1]:53' -> (host, port). ValueError for anything else:
    the host must be an IP address (the verifier's resolver asks it by address), the port 1 to
    65535."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":") if rest else str(default_port)
    else:
        host, sep, port = value.rpartition(":")
        if not sep or ":" in host:  # no port, or a bare IPv6 address
            host, port = value, str(default_port)
    try:
        ipaddress.ip_address(host)
        if not port.isdigit() or not 0 < int(port) <= MAX_PORT:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{value!r} is not a DNS server's address such as 1.1.1.1:53, 9.9.9.9 or [::1]:53"
        ) from None
    return host, int(port)


def cannot_listen(error: OSError, what: str, host: str, port: int) -> OSError:
    """`error` from binding `what`'s socket ("HTTP", "DNS") in words a person acts on: the port
    in use, or an address that does not resolve or is not this machine's; else `error` itself."""
    if error.errno == errno.EADDRINUSE:
        return OSError(error.errno, f"{what} port {port} is already in use on {host}")
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return OSError(errno.EADDRNOTAVAIL, f"cannot listen for {what} on {host}: {error.strerror}")
    return error


def _check_setting(key: str, value, least: int = 0) -> None:
    """ValueError unless `value` suits the setting `key`: a timing (its name ends in _seconds),
    a switch or a count (from `least`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        value = None  # refused below, in the setting's own terms
    if not is_timing(key):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        highest = 1 if key.startswith(SWITCH_PREFIX) else MAX_DELAY_SECONDS  # the document's bound
        if not (whole and least <= value <= highest):
            kind = (
                "1 (on) or 0 (off)" if highest == 1 else f"a whole number from {least} to {highest}"
            )
            raise ValueError(f"setting {key} must be {kind}")
        return
    if value is None or not 0 <= value <= MAX_DELAY_SECONDS:  # also keeps NaN out
        raise ValueError(f"setting {key} must be a number of seconds from 0 to {MAX_DELAY_SECONDS}")
    never = key in ZERO_IS_NEVER
    if key in RECHECK_INTERVALS and value < MIN_RECHECK_SECONDS and not (never and not value):
        raise ValueError(
            f"setting {key} must be at least {MIN_RECHECK_SECONDS} second"
            f"{' (or 0: never)' if never else ''}, not {value:g}: re-checks closer together "
            "would keep a clock move checking DNS over and over"
        )


class Sandbox:
    """Everything one running sandbox owns. Start it, drive it, stop it."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        dns_host: str = "127.0.0.1",
        dns_port: int = 0,
        resolver: str | None = None,
        clock: Clock | None = None,
        rate_limits: bool = False,
        worker: str = "",
    ):
        self.seed = within(seed, MAX_SEED, "a seed")
        # A `serve --workers` worker's name: the refusals its front end answers itself (413,
        # 431) draw their request ids from streams of its own, never repeating the world's.
        self.worker = worker
        self._dns_port = within(dns_port, MAX_PORT, "a port number")
        self.clock = clock or Clock()
        # How this sandbox started (its clock's mode and instant, the rate-limit switch):
        # a reset puts these back, so a reset world is the world a fresh start holds.
        self.start_clock = self.clock.saved()
        self.start_rate_limits = rate_limits
        self.ids = Ids(seed)
        self.store = Store()
        self.requests = RequestLog()
        self.access_log = False  # `serve --access-log`: one log line per provider request
        self.log_format = "text"  # `serve --log-format`: "text" or "json" (sandbox.logs)
        self.http_faults = HttpFaults(seed)
        self.rate_limits = RateLimits()
        self.rate_limits.enabled = rate_limits
        self.credentials = Credentials()
        self.dns = FakeDNS(host=dns_host, port=dns_port, clock=self.clock)
        self.resolver = resolver
        self.verifier: Verifier | None = None
        self.providers = {cls.name: cls(self) for cls in PROVIDERS}
        self._mounts = [
            (mount, mount + "/", p)
            for p in self.providers.values()
            for mount in (p.mount, *p.more_mounts)
        ]
        self.report = ClientReport(
            self.providers
        )  # outlives reset: it describes a whole test session
        self._settings = {name: dict(p.settings_defaults) for name, p in self.providers.items()}
        self._steps = threading.RLock()
        self.landing = None  # the domain whose step is landing, if any (a poll waits for it)
        # Counted up by each reset or scenario load before it waits for the world: a clock move
        # under way stops at its next step rather than make it wait for steps it would wipe.
        self.replacements_asked = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        # Set by `serve --control-token`: then every control call must carry it (sandbox.limits).
        self.control_token: str | None = None
        # Names (besides localhost and IP addresses) the control API and dashboard answer at:
        # `serve --allowed-host`, and the name `serve --host` was given (sandbox.limits).
        self.allowed_hosts: set[str] = set()
        # Where this sandbox's HTTP is served, once it is (set by the server): the dashboard's
        # "create a domain" (sandbox.presenting) and the demo world (sandbox.demo) call the
        # providers' own APIs there.
        self.http_url: str | None = None
        # Scheduled steps run so far, and a hook called after the ticker ran some (durable state).
        self.steps_run = 0
        self.after_steps = None
        # On an on-poll clock, the state of each domain its readers were last shown, and
        # (keyed with "check" after them) its repeated check calls' answers (sandbox.clockwork):
        # reading it again moves the clock to its next step.
        self.polled: dict[tuple[str, ...], tuple] = {}
        self.started_at = time.monotonic()  # reset by start(); the health check's uptime
        # Why the state file (`serve --state`) cannot be saved, while it cannot: the health
        # check says so (sandbox.durable sets it).
        self.save_problem: str | None = None

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> Sandbox:
        try:
            self.dns.start()
        except OSError as exc:
            raise cannot_listen(exc, "DNS", self.dns.host, self._dns_port) from None
        host, port = (
            parse_hostport(self.resolver) if self.resolver else (self.dns.host, self.dns.port)
        )
        self.verifier = Verifier(host, port, self.clock)
        self.started_at = time.monotonic()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="sandbox-ticker", daemon=True)
        self._ticker.start()
        return self

    @property
    def stopping(self) -> bool:
        """Whether the sandbox was told to stop (its server is shutting down)."""
        return self._stop.is_set()

    def begin_stop(self) -> None:
        """Tell what runs to stop: the ticker, and a clock move under way at its next step, as a
        reset tells it (a move of years would otherwise outlast any grace period)."""
        self._stop.set()
        self.replacements_asked += 1

    def stop(self) -> None:
        """Stop the ticker and a clock move under way, then the DNS server once the move has let
        go of the world: stopped first, the DNS would leave each lookup of the move waiting its
        whole timeout, thousands of them."""
        self.begin_stop()
        if self._ticker:
            self._ticker.join(timeout=2)
        if self._steps.acquire(timeout=STOP_WAIT_SECONDS):  # the move has let go of the world
            self._steps.release()
        self.dns.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stop.wait(self._next_tick()):
            if not self.clock.frozen:
                try:
                    if self.run_due() and self.after_steps:
                        self.after_steps()
                except Exception:  # a failing step must never kill the ticker
                    log.exception("scheduled step failed")

    def _next_tick(self) -> float:
        """Real seconds until the ticker looks again: at the next step's instant if a fast clock
        reaches it sooner than TICK_SECONDS, so each step lands close to its own instant."""
        speed = self.clock.speed
        if not speed:
            return TICK_SECONDS
        now = self.clock.now()
        step = self.store.next_due(min(now + timedelta(seconds=TICK_SECONDS * speed), LATEST))
        if step is None:
            return TICK_SECONDS
        return max(MIN_TICK_SECONDS, (step.due_at - now).total_seconds() / speed)

    # --- time ---------------------------------------------------------------------------------

    def run_due(self, seconds: float | None = None, wait: bool = True) -> int:
        """Run the scheduled steps due now, in order, one at a time (a save or an export may
        come in between). Returns how many ran.

        A request lands steps on its way (`seconds`: start none after that long; the rest stay
        due for the next request or the ticker) and leaves them to whoever is landing them
        already (`wait=False`): a step may wait on DNS, and a request must not wait for
        another tenant's steps.
        """
        if self.store.next_due(self.clock.now()) is None:
            return 0  # the common case, answered without waiting for the world's lock
        deadline = None if seconds is None else time.monotonic() + seconds
        ran, replacements = 0, self.replacements_asked
        while self._steps.acquire(blocking=wait):
            try:
                domain = self.store.next_due(self.clock.now())
                if domain is None or self._stopping(replacements):
                    break
                domain.due_at = None  # the step sets the next one, possibly at this same instant
                self.landing = domain
                try:
                    self.providers[domain.provider].on_due(domain)
                finally:
                    self.landing = None
                ran += 1
                self.steps_run += 1
            finally:
                self._steps.release()
            if ran >= MAX_STEPS_PER_RUN:  # a step rescheduling itself forever must not hang
                log.error("more than %d scheduled steps due at once", MAX_STEPS_PER_RUN)
                break
            if deadline is not None and time.monotonic() > deadline:
                break
        return ran

    def advance(self, seconds: float) -> bool:
        """Move the clock forward, running each scheduled step at its own instant on the way.
        A reset asked for meanwhile stops the move where it stands: then False (the caller
        says so), else True."""
        replacements = self.replacements_asked
        with self._steps:
            target = later(self.clock.now(), seconds)  # OutOfRange before anything moves
            while (domain := self.store.next_due(target)) is not None:
                if self._stopping(replacements):
                    return False
                if domain.due_at > self.clock.now():
                    self.clock.set(domain.due_at)
                self.run_due()
            self.clock.set(target)
            self.run_due()
        return True

    def _stopping(self, replacements: int) -> bool:
        """True when steps must stop landing: the world was replaced since `replacements` was
        read (a reset, a scenario load), or the sandbox is stopping (a move queued behind
        another must not start its steps then)."""
        return self.replacements_asked != replacements or self.stopping

    def set_time(self, instant) -> bool:
        """Set the clock to `instant`. Ahead, within a move's reach (ten years), each scheduled
        step runs at its own instant on the way, as `advance` runs them: a check due at a
        window's end sees DNS as it was then. Back, or further ahead, the clock jumps, and the
        steps it passed run at the instant it lands on. False when a reset stopped the move."""
        ahead = (instant - self.clock.now()).total_seconds()
        if 0 < ahead <= MAX_ADVANCE_SECONDS:
            return self.advance(ahead)
        with self._steps:
            self.clock.set(instant)
            self.run_due()
        return True

    def note_request(self, entry: dict) -> None:
        """Keep a finished provider API request in the request journal and the client report
        (and say it in the access log, if one is kept)."""
        entry["at"] = self.clock.now()
        self.requests.add(entry)
        self.report.record(entry)
        if self.access_log:
            access_line(entry)

    def request_ids(self, name: str) -> RequestIds:
        """The seeded stream of a provider's request-id header called `name`: the world's, or
        (in a worker) the worker's own."""
        return RequestIds(self.seed, f"{name}/{self.worker}" if self.worker else name)

    def provider_for(self, path: str):
        """The provider whose mount serves this request path, if any."""
        for mount, under, provider in self._mounts:  # asked of every request
            if path.startswith(under) or path == mount:
                return provider
        return None

    # --- provider settings ------------------------------------------------------------------

    def settings(self, provider: str) -> dict:
        """The provider's current timings and switches (verify delay, re-check schedule...)."""
        self._known(provider)
        return self._settings[provider]

    def note_states(self, provider: str, states) -> None:
        """A domain of `provider` is now in `states` (its words): for the client report."""
        self.report.note_states(provider, states)

    def check_settings(self, provider: str, changes: dict) -> None:
        """Raise ValueError unless `changes` are known settings of `provider` with sane values."""
        self._known(provider)
        current = self._settings[provider]
        unknown = set(changes) - set(current)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(sorted(unknown))} for {provider}; "
                f"known: {', '.join(sorted(current))}"
            )
        least = self.providers[provider].settings_least
        for key, value in changes.items():
            _check_setting(key, value, least.get(key, 0))

    def update_settings(self, provider: str, changes: dict) -> dict:
        """Change some settings; unknown names and non-numbers are refused, nothing half-applied."""
        self.check_settings(provider, changes)
        whole = {k: int(v) for k, v in changes.items() if not is_timing(k)}  # 1.0: 1
        self._settings[provider].update(changes | whole)
        return self._settings[provider]

    def check_http_fault(self, fault: dict, beside: HttpFaults | None = None) -> None:
        """Raise ValueError unless `fault` describes a valid HTTP fault (`beside`: the faults
        checked before it, which its id must not repeat)."""
        self._known(fault.get("provider"))
        (beside or HttpFaults(self.seed)).add(**fault)

    # --- registered credentials ---------------------------------------------------------------

    def register_credential(self, provider: str, key: str, secret: str | None = None) -> dict:
        """Register a credential of `provider`; ValueError if its clients could never send it."""
        self._known(provider)
        key, secret = self.providers[provider].check_credential(key, secret)
        return self.credentials.register(provider, key, secret)

    def revoke_credential(self, provider: str, key: str) -> dict:
        """Revoke a registered credential; KeyError if it was never registered."""
        self._known(provider)
        return self.credentials.revoke(provider, self.providers[provider].credential_key(key))

    def _known(self, provider) -> None:
        """Raise ValueError, naming the providers there are, unless `provider` is one."""
        if provider not in self.providers:
            known = ", ".join(self.providers)
            raise ValueError(f"unknown provider {provider!r}; known: {known}")

    def world_lock(self):
        """Hold the world still: no scheduled step runs while this is held."""
        return self._steps

    def world_free(self) -> bool:
        """True unless another thread holds the world still (a clock move under way)."""
        if not self._steps.acquire(blocking=False):
            return False
        self._steps.release()
        return True

    def replacing_world(self):
        """The world's lock, for a caller about to replace the world (a reset, a scenario): a
        clock move under way stops at its next step rather than make it wait for the rest."""
        self.replacements_asked += 1
        return self._steps

    # --- world --------------------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, keep_logs: bool = False, restore_clock: bool = False
    ) -> None:
        """Put the world back as the sandbox started it, with `seed` (default: the current one):
        no domain, record, DNS or HTTP fault (their ids counted from 1 again), registered
        credential or request; the providers' default settings; the rate-limit switch as it
        started; the clock back in the mode it started with. The client report goes on (it
        describes a session); a test's `expecting_errors()` and its name there end.

        `keep_logs`: keep the request and DNS query logs (they describe the session, which a
        world put back as it was saved goes on with). `restore_clock`: the clock goes back to
        the instant it started at too (by default it stays where it stands). A clock move under
        way stops at its next step instead of running on first."""
        with self.replacing_world():
            if seed is not None:
                self.seed = within(seed, MAX_SEED, "a seed")
            self.ids = Ids(self.seed)
            self.http_faults.reset(self.seed)
            self.rate_limits.clear()
            self.rate_limits.enabled = self.start_rate_limits
            self.credentials.clear()
            self.report.expecting = False  # a test that ended inside expecting_errors()
            self.report.test = None  # and the test it was: the next one is named again
            self.store.clear()
            self.polled.clear()
            self.dns.zone.clear()
            self.dns.faults.reset()
            self.clock.restore(self.start_clock, instant=restore_clock)
            if not keep_logs:
                self.requests.reset()
                self.dns.queries.clear()
            for name, provider in self.providers.items():
                provider.reset()
                self._settings[name] = dict(provider.settings_defaults)

    def publish(
        self,
        provider: str,
        domain_id: str,
        omit=(),
        corrupt=(),
        visible_after_seconds: float | None = None,
        ttl: int = DEFAULT_TTL,
    ) -> list[dict]:
        """Write a domain's expected records into the fake DNS, less `omit`, with `corrupt` broken.

        For each name and type the domain needs, values this sandbox would write (the expected
        one and its corruption) are replaced; anything else published there is kept, so a test
        can add a second SPF record first and see it judged.
        """
        domain = self.store.get(provider, domain_id)
        if domain is None:
            raise KeyError(self.providers[provider].unknown_domain(domain_id))
        unknown = (set(omit) | set(corrupt)) - {r.kind for r in domain.records}
        if unknown:
            kinds = ", ".join(r.kind for r in domain.records)
            raise ValueError(
                f"unknown record kind(s) {', '.join(sorted(unknown))}; {provider} domain "
                f"{domain_id} ({domain.name}) has: {kinds}"
            )
        visible_after = (
            self.clock.now() + timedelta(seconds=visible_after_seconds)
            if visible_after_seconds
            else None
        )
        planned = publishing.plan(domain.records, omit, corrupt)
        if unheld := [entry["kind"] for entry in planned if not _holds(entry["name"])]:
            said = ", ".join(unheld)  # all at once: they were said one publish at a time
            raise ValueError(
                f"its {said} record{'s' if len(unheld) > 1 else ''}: a name longer than DNS "
                f"takes ({MAX_NAME} characters); publish the others with omit {','.join(unheld)}"
            )
        managed = publishing.managed_values(domain.records)
        with self.dns.zone.atomically() as zone:  # a record refused (beside a CNAME): no change
            for (name, rtype), ours in managed.items():
                if not _holds(name):  # (a record of a 247-character domain) none is there
                    continue
                for record in zone.records(name, rtype):
                    if record["value"] in ours:
                        zone.remove(name, rtype, record["value"])
            for entry in planned:
                name, rtype, value = entry["name"], entry["type"], entry["value"]
                try:
                    zone.add(name, rtype, value, ttl=ttl, visible_after=visible_after)
                except ValueError as exc:
                    kind = entry["kind"]
                    raise ValueError(
                        f"its {kind} record: {exc}; publish the others with omit {kind}"
                    ) from None
        return planned

    def spf_beside(self, published: list[dict]) -> list[str]:
        """What a publish cannot fix, said: each name where an SPF record it wrote stands beside
        another v=spf1 record it kept (a test's own, or another domain's), which fails the SPF
        check (RFC 7208: one a name)."""
        said = []
        for entry in published:
            if entry["type"] != "TXT" or not _is_spf(entry["value"]):
                continue
            name, ours = entry["name"], entry["value"]
            values = (r["value"] for r in self.dns.zone.records(name, "TXT"))
            if kept := [value for value in values if value != ours and _is_spf(value)]:
                said.append(
                    f"{name} holds {len(kept) + 1} SPF records now: the one published beside "
                    f"{', '.join(repr(_text(value)) for value in kept)}, kept as it is not this "
                    "domain's; a name may publish one v=spf1 record (RFC 7208), so its SPF "
                    "check fails: remove it (dns rm) or merge it into one"
                )
        return said


def _text(value) -> str:
    """A TXT value of the zone (a str, or a list of strings) as one text."""
    return value if isinstance(value, str) else "".join(value)


def _is_spf(value) -> bool:
    return _text(value).strip().strip('"').lower().startswith("v=spf1")


def _holds(name: str) -> bool:
    """Whether DNS can hold a record at `name` (at most MAX_NAME characters, labels of
    MAX_LABEL)."""
    try:
        normalize_name(name)
    except ValueError:
        return False
    return True
