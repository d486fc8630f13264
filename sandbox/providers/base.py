"""What every provider module shares: a thin translator between one API and the engine."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from types import NoneType, UnionType
from typing import Any, Protocol, Required, TypedDict, Union, get_args, get_origin, get_type_hints

from fake_dns.limits import MAX_LABEL, MAX_NAME

from .. import documents
from ..engine.clock import Clock
from ..engine.credentials import Credentials
from ..engine.ids import Ids, RequestIds
from ..engine.records import CheckResult, Domain, RequiredRecord
from ..engine.store import Store
from ..engine.verifier import Verifier
from ..errors import ProviderError, hinted, reason_phrase, said_request, said_value
from ..lanes import off_loop, reads
from .kit import Kit

__all__ = [
    "Provider",
    "ProviderError",
    "Services",
    "off_loop",
    "reads",
    "said_request",
    "valid_hostname",
]


class RecheckAttrs(TypedDict, total=False):
    """What open_rechecks/plan_recheck keep in a domain's attrs."""

    recheck_until: datetime  # no re-check is planned past it
    recheck_interval: float  # seconds to the next one, doubling up to recheck_max_seconds


def attrs_problem(kept: type, attrs: dict) -> str | None:
    """What makes `attrs` other than what a provider keeps (its `Attrs`: the keys marked
    `Required`, each key's type), or None. A scenario's domain is checked before it loads:
    a key it lacks or mistypes would fail the provider's answers and the world's export."""
    hints = _hints(kept)
    if missing := [k for k, h in hints.items() if get_origin(h) is Required and k not in attrs]:
        return f"{', '.join(missing)}: missing; the provider keeps each for every domain"
    for key, value in attrs.items():
        hint = hints.get(key)
        if hint is not None and not _fits(value, hint):
            return f"{key}: {said_value(value)} is not {_said_type(hint)}"
    return None


@lru_cache
def _hints(kept: type) -> dict[str, Any]:
    """A TypedDict's annotations, `Required` kept (a state file loads thousands of domains)."""
    return get_type_hints(kept, include_extras=True)


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` is of the annotated type (containers: their items too)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Required:
        return _fits(value, args[0])
    if origin in (Union, UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is Any:
        return True
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is dict:
        return isinstance(value, dict) and all(_fits(v, args[1]) for v in value.values())
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    return isinstance(value, hint)


def _said_type(hint: Any) -> str:
    """A type as a scenario's author writes its values: "text", "an instant ({$time: ISO})"."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Required:
        return _said_type(args[0])
    if origin in (Union, UnionType):
        return " or ".join(_said_type(arg) for arg in args)
    if origin is dict:
        return f"a mapping, each value {_said_type(args[1])}"
    if origin is list:
        return f"a list, each item {_said_type(args[0])}"
    return _TYPE_WORDS.get(hint, getattr(hint, "__name__", str(hint)))


_TYPE_WORDS = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    datetime: "an instant ({$time: ISO-8601})",
    dict: "a mapping",
    list: "a list",
    NoneType: "null",
}


class Services(Protocol):
    """What a provider uses of the sandbox that holds it (sandbox.core.Sandbox): the engine,
    its settings and the client report. Providers never reach past this."""

    seed: int
    clock: Clock
    ids: Ids
    store: Store
    credentials: Credentials
    verifier: Verifier | None

    def settings(self, provider: str) -> dict: ...

    def request_ids(self, name: str) -> RequestIds: ...

    def note_states(self, provider: str, states: Iterable[str]) -> None: ...


# Names as most providers accept them: letters, digits and hyphens in dot-separated labels,
# each label 1-63 characters not starting or ending with a hyphen, at least two labels, the
# last not all digits (no top-level domain is, RFC 3696 2: `192.168.0.1` is an address).
_LABEL = rf"(?!-)[A-Za-z0-9-]{{1,{MAX_LABEL}}}(?<!-)"
HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.(?![0-9]+$){_LABEL}$")
# What a world may hold: the last label all digits too, as creates took it before 2026-11-28,
# so that a state file or an export written then still loads (nothing stored is lost).
STORED_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")
# What the messages add to the letters-digits-hyphens rule of the labels.
LABEL_LIMITS = f"at most {MAX_LABEL} characters a label, the last not all digits"
MAX_HOSTNAME = MAX_NAME
# The settings of open_rechecks/plan_recheck, with SES's schedule: first after 5 minutes,
# backing off to hourly, for 72 hours. Providers that use them merge these into their defaults.
RECHECK_DEFAULTS = {
    "recheck_first_seconds": 300,
    "recheck_max_seconds": 3600,
    "recheck_window_seconds": 72 * 3600,
}


@lru_cache(maxsize=4096)  # asked on every call: a client sends the same credential each time
def owner_id(provider: str, credential: str) -> str:
    """The opaque owner id of a provider's credential (see Provider.owner_of)."""
    digest = hashlib.sha256(f"{provider}:{credential}".encode()).hexdigest()
    return f"owner-{digest[:24]}"


def valid_hostname(name: str, stored: bool = False) -> bool:
    """Whether `name` is a host name a create takes; `stored`: one a loaded world may hold."""
    pattern = STORED_HOSTNAME if stored else HOSTNAME
    return len(name) <= MAX_HOSTNAME and bool(pattern.fullmatch(name))  # no final newline


class Provider:
    """Base of each provider module. Subclasses set the class attributes and translate.

    Handlers are methods named after the operationIds of the provider's OpenAPI document.
    """

    name: str = ""  # "monite"
    mount: str = ""  # where the document is served, "/monite/v1"
    # Where it is served too: another region of the API (Mailgun's EU at /mailgun/eu). The
    # handlers tell them apart by request.path.
    more_mounts: tuple[str, ...] = ()
    document: str = ""  # file under openapi/
    client_base: str = ""  # what a client sets as its base URL, relative to the server
    statuses: tuple[str, ...] = ()  # the domain status vocabulary, for the UI and scenarios
    # Every word the client report may list as a state reached (or never reached): the statuses,
    # unless a provider names more (set for each provider as its class is made).
    state_words: tuple[str, ...] = ()
    record_kinds: tuple[str, ...] = ()  # the kinds of the records it asks for (scenarios check)
    settings_defaults: dict = {}  # timings and switches the control API may change
    settings_least: dict = {}  # counts that cannot be 0: the least each takes
    kit: Kit  # how a client drives this API: tests, benchmarks, scenarios, contracts (kit.py)
    rate_limit: tuple[int, float] | None = None  # documented quota: (requests, window seconds)
    # The rate-limit headers go on every answer, counted even while limits are not enforced
    # (a provider whose docs say "each API response includes" them).
    rate_limit_headers_always: bool = False
    # Query parameters the document does not declare are refused (400/422) unless False: some
    # providers' frameworks ignore them.
    strict_query: bool = True
    # Its list's page cursors name domains, and a deleted domain's place (Store.place) still
    # says where the next page starts: saved worlds keep those places (scenario.export_world).
    cursor_places: bool = False
    # Statuses a domain rests in while the provider still looks at it now and then (a verified
    # domain's daily re-check): a client reading it waits for nothing, so an on-poll clock
    # does not move to those looks (sandbox.clockwork; `resting` says it per domain).
    settled_statuses: tuple[str, ...] = ()
    # The operationIds of the provider's check calls, where their answer shows the domain and
    # its clients call one again and again to wait (AutoSend's verify): on an on-poll clock,
    # calling it again past a state it (or a read) showed moves the clock as a read does
    # (sandbox.clockwork). None named: check calls never move the clock.
    polled_checks: tuple[str, ...] = ()
    # The operationIds of other routes to the list its clients read domains through (kit.list),
    # which an on-poll clock reads as it reads that list (SES's GET of older botocore).
    more_list_routes: tuple[str, ...] = ()
    # How the dashboard shows each status: "ok" where the provider is done with the domain
    # (verified, ready), "bad" where it found fault; any status not named here is "pending".
    status_tones: dict[str, str] = {}
    # What the credential of `check_credential` is called in messages and help.
    credential_name: str = "API key"
    # Which names the API holds once, as a scenario's refusal says it (see `name_holder`).
    name_rule: str = ""
    # What it keeps in each domain's attrs (a TypedDict; the keys every domain has `Required`):
    # a scenario's attrs are checked against it (`loaded_attrs`).
    attrs_type: type | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.state_words:
            cls.state_words = cls.statuses

    def __init__(self, sandbox: Services):
        self.sandbox = sandbox
        self.reset()

    # --- shortcuts ---------------------------------------------------------------------------

    @property
    def clock(self):
        return self.sandbox.clock

    @property
    def ids(self):
        return self.sandbox.ids

    @property
    def store(self):
        return self.sandbox.store

    def now(self) -> datetime:
        return self.clock.now()

    # --- the translator's duties ---------------------------------------------------------------

    def error_body(self, error: ProviderError) -> dict:
        """The provider's own error shape."""
        raise NotImplementedError

    def error_headers(self, error: ProviderError) -> dict:
        return {}

    def unserved(self, method: str, path: str, status: int) -> ProviderError:
        """How the provider answers a request no operation of its document matches (`path`
        below the mount; `status` 405 where the path is served for other methods, else 404).
        A 404 says that the sandbox does not serve the request, so that a client cannot read
        it as a missing domain; a provider with fixed words for it (Resend's) says them here."""
        if status == 404:  # what it does not serve, said: a hint of what was meant may follow
            return ProviderError(
                404, f"Not Found: domainsandbox does not serve {said_request(method, path)}"
            )
        return ProviderError(status, reason_phrase(status))

    def hinted(self, error: ProviderError, hint: str) -> ProviderError:
        """`error` (the provider's `unserved`) with the sandbox's hint of what was meant
        (`did you mean /resend/domains?`, where the API is), where the provider's clients read
        it: by default at the end of its message, which the journal and the report keep too."""
        return hinted(error, hint)

    def validation_error(self, message: str, field: str | None) -> ProviderError:
        """How the provider answers a request its document rejects."""
        return ProviderError(400, message, field=field)

    def authenticate(self, request) -> object:
        """The request's caller (its owner id), or the provider's 401 or 403 for a credential
        it refuses: what each handler asks first. The world asks it too before answering a
        request the document refuses, as the real APIs look at the key before the content."""
        return None

    def missing_credential(self, message: str) -> ProviderError:
        """How the provider answers a request its front end refused for carrying no credential
        (Connexion's security check): 401 unless the provider says otherwise."""
        return ProviderError(401, message)

    def rate_limit_headers(self, limit: int, remaining: int, reset_at: datetime) -> dict:
        """Headers the provider sends about its rate limit (on every answer while enabled)."""
        return {}

    def too_many_requests(self, retry_after: int) -> ProviderError:
        """The provider's 429: rendered by error_body/error_headers like any other error."""
        return ProviderError(
            429, "Too many requests", retry_after=retry_after, code="RATE_LIMIT_EXCEEDED"
        )

    def answer_headers(self, request, elapsed: float) -> dict:
        """Headers the provider sends on every answer (`elapsed`: seconds spent on the request)."""
        return {}

    # --- registered credentials ---------------------------------------------------------------

    def credential_key(self, key: str) -> str:
        """A key as the provider compares it (Scaleway's secret keys are case-insensitive)."""
        return key

    def check_credential(self, key: str, secret: str | None) -> tuple[str, str | None]:
        """The credential as it is registered, or ValueError saying why the provider's clients
        could never send it (a malformed key, a secret where the provider has none)."""
        if secret is not None:
            raise ValueError(f"secret: {self.name} {self.credential_name}s have no secret")
        return self.credential_key(key), None

    def owner_of(self, credential: str) -> str:
        """The opaque owner id of a credential. The same credential always gives the same id,
        so domains keep their owner across scenarios and restarts; the id gives the credential
        away to nobody reading the control API, a scenario or a state file."""
        return owner_id(self.name, credential)

    def credential_problem(self, key: str | None, secret: str | None = None) -> str | None:
        """Why a well-formed credential is refused (registered keys only), or None."""
        return self.sandbox.credentials.problem(self.name, key, secret, self.credential_name)

    def rate_limit_key(self, request) -> str:
        """What the provider's rate limit counts per: the credential, where its kit says it
        goes."""
        return "\n".join(request.header(name) or "" for name in self.kit.credential_headers)

    def valid_name(self, name: str) -> bool:
        """Whether a domain of this name can be in a loaded world (scenarios, state files): a
        host name."""
        return valid_hostname(name, stored=True)

    def name_holder(self, store: Store, name: str, owner: str) -> Domain | None:
        """The domain of `store` that keeps `owner` from holding one named `name` too (the
        provider's rule, `name_rule`), or None. The create handler refuses the name then, and a
        scenario holding both domains is refused: the API could never have built its world."""
        return None

    def operation_ids(self) -> set[str]:
        """The operationIds of the provider's document (what HTTP faults can target)."""
        return documents.operation_ids(self.document)

    # What an HTTP fault on one of its operations does not meet, by operationId: said in the
    # control API's answer to the fault (`note`) and by `http fault`. Mailgun serves a call on
    # two routes, and its SDKs take one each: a fault on the other never meets them.
    fault_notes: dict[str, str] = {}

    # The keys export_state() may write: a scenario's state for the provider holding another
    # is refused, not dropped without a word.
    state_keys: tuple[str, ...] = ()

    def export_state(self) -> dict:
        """Provider-level state a scenario must keep (tokens, counters); datetimes allowed."""
        return {}

    def load_state(self, state: dict) -> None:
        """Restore what export_state() returned."""

    def settled(self, domain: Domain) -> Domain:
        """The domain with what its create left to be made later made now: what a scenario
        keeps (Scaleway makes its records' ids when first asked for)."""
        return domain

    def resting(self, domain: Domain) -> bool:
        """Whether the domain rests: its next step is only one of the provider's occasional
        looks at what is settled, which no client waits for, so an on-poll read does not move
        the clock to it. By default: its status is one of `settled_statuses`."""
        return domain.status in self.settled_statuses

    def awaits_check(self, domain: Domain) -> bool:
        """Whether a call of `polled_checks` naming the domain waits for its next step: on an
        on-poll clock, called past a state already shown, it moves the clock to that step only
        then. By default it waits for every step (AutoSend's verify, Vortex's checkDkimStatus);
        Monite's verify, which checks within the call, only for a delayed verify's check."""
        return True

    def reset(self) -> None:
        """Start (and, on a sandbox reset, start again) with no provider-level state (tokens,
        counters): the world as a fresh sandbox has it."""

    def on_due(self, domain: Domain) -> None:
        """Run the domain's scheduled step (a delayed result, a re-check); set its next due_at."""

    def verify_now(self, domain: Domain) -> None:
        """Start the provider's own verification of a domain, as its owner's verify call would.

        Used by the control API and the dashboard ("verify now"); the default asks DNS and
        leaves the status to the provider's scheduled steps.
        """
        self.check(domain)

    # --- helpers for subclasses ------------------------------------------------------------------

    def setting(self, name: str) -> float:
        """One of the provider's current timings or switches (`settings_defaults`' names)."""
        return self.sandbox.settings(self.name)[name]

    def domain_of(self, domain_id: str) -> Domain | None:
        """The domain a control call names: by the id its API gave it, in any letter case, as
        the APIs take their UUIDs and domain names (an address's local part keeps its case)."""
        found = self.store.get(self.name, domain_id)
        if found is None and "@" not in domain_id:
            found = self.store.get(self.name, domain_id.lower())
        return found

    def reader(self, request) -> str | None:
        """The owner whose domains a provider request reads (what an on-poll read shows): by
        default the one `authenticate` answers. ProviderError for a caller it refuses."""
        return self.authenticate(request)

    def read_domain(self, request, value: str) -> Domain | None:
        """The domain a provider request's path names by `value`, as the caller's API finds it
        (what an on-poll read shows). By default domain_of, an id naming one domain, when the
        `reader` holds it: another owner's domain, refused 403 or 404, is none of its reads."""
        domain = self.domain_of(value)
        return domain if domain is not None and self._reads(request, domain) else None

    def listed_domains(self, request) -> list[Domain]:
        """The domains a read of the list the provider's clients read domains through shows
        its caller (what an on-poll read of it moves the clock for): every domain of the
        `reader`, not those of other owners; none for a caller the provider refuses."""
        try:
            owner = self.reader(request)
        except ProviderError:
            return []
        return self.store.list(self.name, owner)

    def later_page(self, request) -> bool:
        """Whether a read of the list asks for a page after the first: a client paging
        through the list, which an on-poll clock does not move for (a wait loop reads the
        first page again). By default False: the list has one page."""
        return False

    def _reads(self, request, domain: Domain) -> bool:
        try:
            owner = self.reader(request)
        except ProviderError:
            return False
        return owner is None or domain.owner == owner

    def what_moves_on(self, domain: Domain) -> str:
        """What a person can do for a domain that has no step scheduled (a clock move waiting
        for it says so)."""
        return "publish its records, verify it, or change what it waits for"

    def unknown_domain(self, domain_id: str) -> str:
        """Why a control call's `domain_id` names no domain: with the ids of the domains it is
        the name of, when it is one (a name is what a newcomer has at hand)."""
        said = f"no {self.name} domain with id {domain_id}"
        named = self.store.named(self.name, domain_id)
        if len(named) == 1:
            said += f"; the {self.name} domain named so has id {named[0].id}: give that"
        elif named:
            ids = ", ".join(d.id for d in named)
            said += f"; the {self.name} domains named so (one per owner) have ids {ids}"
        return said

    def owned(self, domain_id: str, owner: str, not_found: str | ProviderError) -> Domain:
        """The domain if `owner` has it; else `not_found` (a 404 with that message, or that
        error): another owner's domain is as absent as one that never was."""
        domain = self.store.get(self.name, domain_id)
        if domain is None or domain.owner != owner:
            raise (
                not_found if isinstance(not_found, ProviderError) else ProviderError(404, not_found)
            )
        return domain

    def stored_name(self, name: str) -> str:
        """How a domain's name is kept: in lower case, as DNS compares names."""
        return name.lower()

    @property
    def apis(self) -> tuple[str, ...]:
        """The base URLs a client may set, relative to the server: its API's, then those of
        the API's other regions (`more_mounts`)."""
        return (self.client_base, *self.more_mounts)

    def api_of(self, domain: Domain) -> str:
        """The base URL of the API that knows `domain` (of its region, where there are several)."""
        return self.client_base

    def loaded_attrs(self, attrs: dict) -> dict:
        """A scenario's attrs of a domain as the provider keeps them, or ValueError saying which
        key it lacks or mistypes (`attrs_type`), or which value no call of its API could reach
        it by (other values load as written)."""
        if self.attrs_type is not None and (problem := attrs_problem(self.attrs_type, attrs)):
            raise ValueError(problem)
        return attrs

    def unused_id(self, draw: Callable[[], str]) -> str:
        """A new domain's id from `draw` (a seeded one), drawn again while a domain has it: a
        world loaded from a scenario that leaves out `ids_drawn` draws from the start again,
        and a create must never replace a domain it holds."""
        domain_id = draw()
        while self.store.holds(self.name, domain_id):
            domain_id = draw()
        return domain_id

    def new_domain(
        self, domain_id: str, name: str, owner: str, status: str, attrs: Mapping[str, Any]
    ) -> Domain:
        """A new domain in `status`; `attrs`: the provider's own fields (its `Attrs`)."""
        now = self.now()
        domain = Domain(
            self.name, domain_id, self.stored_name(name), owner, now, now, status, attrs=dict(attrs)
        )
        domain.timeline.append({"at": now, "status": status})
        self.note_states(domain)
        return domain

    def set_status(self, domain: Domain, status: str) -> None:
        """Change the status word, keeping the timeline the dashboard shows."""
        if domain.status != status:
            domain.status = status
            domain.updated_at = self.now()
            domain.timeline.append({"at": domain.updated_at, "status": status})
        self.note_states(domain)

    # --- the client report's states -------------------------------------------------------------

    def states(self, domain: Domain) -> tuple[str, ...]:
        """The words of `state_words` that describe `domain` now."""
        return (domain.status,)

    def tone(self, domain: Domain) -> str:
        """ok, bad or pending: how the dashboard shows the domain (see status_tones)."""
        return self.status_tones.get(domain.status, "pending")

    def note_states(self, domain: Domain) -> None:
        self.sandbox.note_states(self.name, self.states(domain))

    def check(self, domain: Domain, kinds: list[str] | None = None) -> dict[str, CheckResult]:
        """Ask DNS now about the domain's records (or some of them) and keep the results."""
        records = [r for r in domain.records if kinds is None or r.kind in kinds]
        results = self.sandbox.verifier.check_all(records)
        domain.results.update(results)
        domain.checks += 1
        domain.last_checked_at = domain.updated_at = self.now()
        return results

    def schedule(self, domain: Domain, seconds: float | None) -> None:
        domain.due_at = None if seconds is None else self.now() + timedelta(seconds=seconds)

    def schedule_check(self, domain: Domain, seconds: float) -> None:
        """The check a verify asks for `seconds` on (verify_delay_seconds): never later than a
        step already due, so a client calling verify more often than the delay still sees it
        land."""
        asked = self.now() + timedelta(seconds=seconds)
        if domain.due_at is None or asked < domain.due_at:
            domain.due_at = asked

    def open_rechecks(self, domain: Domain) -> None:
        """A verify call opens a window of re-checks on the sandbox clock.

        For providers with the settings recheck_first_seconds, recheck_max_seconds and
        recheck_window_seconds: the first re-check comes after recheck_first_seconds, the gap
        doubles up to recheck_max_seconds, and the last one comes at the end of the window.
        """
        window = timedelta(seconds=self.setting("recheck_window_seconds"))
        domain.attrs["recheck_until"] = self.now() + window
        domain.attrs["recheck_interval"] = self.setting("recheck_first_seconds")

    def plan_recheck(self, domain: Domain) -> None:
        """Set due_at to the next re-check, backing off: at the latest the window's end, where
        the last look sees what was published by then; none once the window has ended."""
        until = domain.attrs.get("recheck_until")
        if until is None or self.now() >= until:
            domain.due_at = None
            return
        interval = domain.attrs.get("recheck_interval") or self.setting("recheck_first_seconds")
        domain.due_at = min(self.now() + timedelta(seconds=interval), until)
        domain.attrs["recheck_interval"] = min(interval * 2, self.setting("recheck_max_seconds"))

    def required(self, domain: Domain) -> list[RequiredRecord]:
        return [r for r in domain.records if r.level == "required"]

    def all_valid(self, domain: Domain, records: list[RequiredRecord] | None = None) -> bool:
        records = self.required(domain) if records is None else records
        return all(domain.results.get(r.kind) and domain.results[r.kind].valid for r in records)
