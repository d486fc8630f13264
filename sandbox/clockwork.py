"""Moving the sandbox clock from one scheduled step of a domain to the next: when a client polls
it (the "on-poll" clock) and until it reaches a status (advance_until).

Both move the clock with Sandbox.advance, so every step due on the way, of any domain, still
lands at its own instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .arguments import plain_number
from .engine.clock import LATEST, iso

if TYPE_CHECKING:
    from .core import Sandbox
    from .engine.records import Domain
    from .request import Call

# How many of a domain's steps advance_until takes at most: a provider that reschedules a
# domain at the same instant forever must not hang the control API.
MAX_STEPS = 10_000
# How long a poll waits for the world while another poll moves the clock to its domain's step
# (one step: a check waits for DNS 4 s at most), so that concurrent pollers see each state once.
# A clock move of the control API's, which may take minutes, is not waited out.
POLL_WAIT_SECONDS = 5.0
# advance_until's limit for a provider that has no verification window of its own: 72 hours,
# the window most providers document (Resend, SES, AutoSend).
DEFAULT_LIMIT_SECONDS = 72 * 3600


# What marks the state a check call's answer showed, apart from what reads showed.
CHECKED = "check"


# --- on-poll ------------------------------------------------------------------------------------


class Polled(list):
    """The domains a provider request reads on an on-poll clock. `check`: the request is the
    provider's check call that clients call again to wait (Provider.polled_checks), whose
    answer shows the domain: it moves the clock past a state that a read or an earlier check
    showed, while what its own answer showed is kept apart, so that the first read after a
    check still shows the state that check answered. `moves` False: it shows its domains but
    moves no clock (a list's later page, Provider.later_page: a client paging through a list
    reads it at one instant)."""

    def __init__(self, domains=(), check: bool = False, moves: bool = True):
        super().__init__(domains)
        self.check = check
        self.moves = moves


def _is_check(domains: list[Domain]) -> bool:
    return isinstance(domains, Polled) and domains.check


def polled_domains(sandbox: Sandbox, call: Call) -> list[Domain]:
    """The domains a provider request reads, on an on-poll clock: the one a GET's path names
    (by id, or by name where the API addresses domains by name; the caller's, as its provider
    finds it: Provider.read_domain), or the caller's domains for a read of the list its
    clients read domains through (Provider.listed_domains; Vortex's clients have no other
    read, SES's list is a POST, and a GET for older botocore: Provider.more_list_routes):
    another owner's are none of its reads; a later page of the list shows them without moving
    the clock (Provider.later_page). And the domain a check call that clients repeat names
    (Provider.polled_checks: AutoSend's verify), marked `check` (Polled)."""
    request = call.request
    if sandbox.clock.mode != "on-poll" or call.refusal is not None:
        return []
    provider = sandbox.providers.get(call.target)
    if provider is None:
        return []
    listing = provider.kit.list
    path = request.path.removeprefix(provider.mount)
    if request.operation is not None and request.operation in provider.polled_checks:
        named = (provider.read_domain(request, value) for value in request.path_values())
        return Polled([domain for domain in named if domain][:1], check=True)
    if request.method == "GET":
        for value in request.path_values():
            if domain := provider.read_domain(request, value):
                return [domain]
    elif request.method != listing.method:
        return []
    if (
        _last_segment(path) == _last_segment(listing.path)  # accounts, regions vary
        or request.operation in provider.more_list_routes
    ):
        return Polled(provider.listed_domains(request), moves=not provider.later_page(request))
    return []


def _last_segment(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def _state(domain: Domain) -> tuple:
    """What a reader of the domain has seen of it: its status history and its next step."""
    return len(domain.timeline), domain.due_at


def moves_on_poll(sandbox: Sandbox, domain: Domain, check: bool = False) -> bool:
    """True when reading `domain` now moves the clock: its state was shown already (by a
    read; for a `check` call, by a read or a check's answer), and its
    next step is still to come, within the provider's longest wait (limit_of: a state a demo
    or scenario holds for a sandbox year is no wait a client's poll ends) and the clock's range
    (a step past the clock's last instant is never reached), and it is not resting (in a
    settled status, as its provider judges it: Provider.resting); for a `check` call, the step
    is one that call waits for (Provider.awaits_check)."""
    now = sandbox.clock.now()
    if domain.due_at is None or not now < domain.due_at <= LATEST:
        return False
    if (domain.due_at - now).total_seconds() > limit_of(sandbox, domain.provider):
        return False
    provider = sandbox.providers[domain.provider]
    if provider.resting(domain) or (check and not provider.awaits_check(domain)):
        return False
    key, state = (domain.provider, domain.id), _state(domain)
    return sandbox.polled.get(key) == state or (
        check and sandbox.polled.get((*key, CHECKED)) == state
    )


def next_on_poll(sandbox: Sandbox, domains: list[Domain]) -> Domain | None:
    """Of the domains a read shows, the one whose next step the clock moves to: the soonest
    of those whose current state was shown already. One step per read."""
    if isinstance(domains, Polled) and not domains.moves:
        return None
    check = _is_check(domains)
    moving = [domain for domain in domains if moves_on_poll(sandbox, domain, check)]
    return min(moving, key=lambda domain: domain.due_at, default=None)


def awaited_on_poll(sandbox: Sandbox, domains: list[Domain]) -> bool:
    """Whether a read of `domains` waits for the world first: it moves the clock to a step, or
    a step of one of them is due and not landed yet, or landing (another poll moved the clock)."""
    if not domains:  # (every request off an on-poll clock: answered without a clock read)
        return False
    if next_on_poll(sandbox, domains) is not None:
        return True
    now, landing = sandbox.clock.now(), sandbox.landing
    return any(
        domain is landing or (domain.due_at is not None and domain.due_at <= now)
        for domain in domains
    )


def on_poll(sandbox: Sandbox, call: Call, move: bool = True) -> list[Domain]:
    """Before a provider request is served: if it reads a domain whose current state it (or an
    earlier read) showed already, move the clock to the domain's next step first. So a client's
    wait loop sees each state once, one per poll, and ends without sleeping out the delays.
    `move`: False on the event loop, where no step may land (none was to when asked). Returns
    the domains read: `shown` marks them once the answer shows them."""
    domains = polled_domains(sandbox, call)
    if not domains:
        return domains
    # only then the world's lock, waiting out another poll's step, not a control API's move
    world = sandbox.world_lock()
    if move and awaited_on_poll(sandbox, domains) and world.acquire(timeout=POLL_WAIT_SECONDS):
        try:
            if domain := next_on_poll(sandbox, domains):  # still, now that the lock is held
                sandbox.advance((domain.due_at - sandbox.clock.now()).total_seconds())
            else:
                sandbox.run_due()  # a step of theirs due now: landed before they are shown
        finally:
            world.release()
    return domains


def shown(sandbox: Sandbox, domains: list[Domain]) -> None:
    """Note that a read's answer showed `domains` as they are: reading them again moves the
    clock on (a check call's answer: calling it again does). A read refused (an injected 429,
    a dropped connection) showed nothing."""
    mark = (CHECKED,) if _is_check(domains) else ()
    for domain in domains:
        sandbox.polled[(domain.provider, domain.id, *mark)] = _state(domain)


# --- advance_until ------------------------------------------------------------------------------


class Stuck(Exception):
    """The domain will not reach what advance_until waits for; the message says where it is."""


@dataclass
class Until:
    """What advance_until waits for: a status word, or (status None) the domain's next step."""

    provider: str
    domain_id: str
    status: str | None = None
    limit_seconds: float | None = None


def limit_of(sandbox: Sandbox, provider: str) -> float:
    """The default limit of advance_until: the provider's verification window, else 72 hours."""
    settings = sandbox.settings(provider)
    return settings.get("recheck_window_seconds") or DEFAULT_LIMIT_SECONDS


def advance_until(sandbox: Sandbox, until: Until) -> dict:
    """Move the clock step by step, each of the domain's steps at its own instant, until the
    domain's status is `until.status` (without a status: through its next step only), at most
    `limit_seconds` ahead. Returns what was reached; Stuck says where the domain stopped.
    KeyError for an unknown domain, ValueError for a status its provider does not have."""
    provider = sandbox.providers[until.provider]
    if until.status is not None and until.status not in provider.statuses:
        raise ValueError(
            f"status: {until.status!r} is not a status of {provider.name}; "
            f"use one of {', '.join(provider.statuses)}"
        )
    domain = sandbox.store.get(until.provider, until.domain_id)
    if domain is None:
        raise KeyError(provider.unknown_domain(until.domain_id))
    limit = (
        limit_of(sandbox, until.provider) if until.limit_seconds is None else until.limit_seconds
    )
    replacements = sandbox.replacements_asked
    with sandbox.world_lock():
        started = sandbox.clock.now()
        deadline = started + timedelta(seconds=min(limit, (LATEST - started).total_seconds()))
        try:
            steps = _step_until(sandbox, domain, until, deadline, replacements)
        except Stuck as stuck:  # the steps on the way ran: the clock stays where they left it
            raise Stuck(f"{_moved(started, sandbox.clock.now())}{stuck}") from None
        seconds = (sandbox.clock.now() - started).total_seconds()
    return {
        "status": domain.status,
        "advanced_seconds": seconds,
        "steps": steps,
        "limit_seconds": limit,
    }


def _step_until(
    sandbox: Sandbox, domain: Domain, until: Until, deadline: datetime, replacements: int
) -> int:
    """Take the domain's steps until it is where `until` asks; how many were taken, or Stuck."""
    for steps in range(MAX_STEPS + 1):
        if until.status is not None and domain.status == until.status:
            return steps
        if until.status is None and steps == 1:
            return steps
        if sandbox.replacements_asked != replacements:
            why = "is shutting down" if sandbox.stopping else "was reset"
            raise Stuck(f"{_where(domain)}: the sandbox {why} while the clock moved to it")
        _next_step(sandbox, domain, until, deadline)
    raise Stuck(f"{_where(domain)}: {MAX_STEPS} steps taken without reaching it")


def _moved(started: datetime, now: datetime) -> str:
    """What a refused advance_until left behind, said first: the clock moved through the steps
    it took (a presenter must not learn last that the demo's clock jumped three days)."""
    if now == started:
        return ""
    seconds = (now - started).total_seconds()
    return f"the clock moved {_span(seconds)} to {iso(now)}, landing every step on the way; then "


def _span(seconds: float) -> str:
    """A clock move in seconds (to the millisecond: a fast clock moves by fractions), and in
    hours and minutes when it is that long."""
    seconds = round(seconds, 3)
    hours, minutes = divmod(round(seconds) // 60, 60)
    if not hours and not minutes:
        return f"{plain_number(seconds)} s"
    words = (f"{hours} h " if hours else "") + (f"{minutes} min" if minutes else "")
    return f"{plain_number(seconds)} s ({words.strip()})"


def _next_step(sandbox: Sandbox, domain: Domain, until: Until, deadline: datetime) -> None:
    """Move the clock to the domain's next step (landing every step due on the way), or Stuck."""
    wanted = f"reach {until.status!r}" if until.status else "take a step"
    if sandbox.store.get(domain.provider, domain.id) is not domain:
        raise Stuck(f"{_named(domain)} was deleted before it could {wanted}")
    if domain.due_at is None:
        moves_on = sandbox.providers[domain.provider].what_moves_on(domain)
        raise Stuck(
            f"{_where(domain)} and has no step scheduled: it will not {wanted} by waiting "
            f"({moves_on}){_checks(domain)}"
        )
    if domain.due_at > deadline:
        raise Stuck(
            f"{_where(domain)}: its next step, at {iso(domain.due_at)}, is past the limit of "
            f"{iso(deadline)}, so it does not {wanted} in time{_checks(domain)}"
        )
    sandbox.advance(max(0.0, (domain.due_at - sandbox.clock.now()).total_seconds()))


def _named(domain: Domain) -> str:
    name = f" ({domain.name})" if domain.name != domain.id else ""  # SES's ids are names
    return f"{domain.provider} domain {domain.id}{name}"


def _where(domain: Domain) -> str:
    return f"{_named(domain)} is {domain.status!r}"


def _checks(domain: Domain) -> str:
    """The last DNS checks that did not pass, as a person would act on them."""
    failed = [
        f"{kind}: {result.reason or result.outcome}"
        for kind, result in domain.results.items()
        if not result.valid
    ]
    return f"; last checks: {'; '.join(failed)}" if failed else ""
