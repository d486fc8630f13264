"""Handlers of openapi/control.yaml: what tests, demos and the CLI drive."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from fake_dns.rdata import unquoted_txt
from fake_dns.zone import DEFAULT_TTL

from . import bundled, clockwork, presenting, scenario
from .engine.clock import OutOfRange, check_instant, check_mode, iso, later, utc
from .errors import ProviderError, ShuttingDown, said_number
from .extras import MissingExtra, needs
from .health import health
from .lanes import holds_world, on_loop
from .request import Answer, json_bytes
from .requestlog import Filters

if TYPE_CHECKING:
    from .core import Sandbox

# Demos built or waiting at once: each holds one of the world's threads (sandbox.world), which
# the demo being built needs for its own control calls.
MOST_DEMOS = 4


def domain_view(sandbox: Sandbox, domain) -> dict:
    """A domain as the control API and the dashboard show it, whatever its provider."""
    records = []
    for record in domain.records:
        result = domain.results.get(record.kind)
        records.append(record.to_dict() | {"result": result.to_dict() if result else None})
    provider = sandbox.providers[domain.provider]
    return domain.summary(
        iso,
        api=provider.api_of(domain),
        statuses=list(provider.statuses),
        states=list(provider.states(domain)),
        tone=provider.tone(domain),
        records=records,
    )


class Control:
    """The control API. Each method is an operationId of control.yaml."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        # One demo at a time: two at once each reset the world, then built into one world.
        # Resets and scenarios take the same turn, and are refused while a demo is built.
        self._demo_turn = threading.Lock()
        self._building = False
        self._demo_seats = threading.Semaphore(MOST_DEMOS)

    @property
    def zone(self):
        return self.sandbox.dns.zone

    @on_loop
    def get_health(self):
        return health(self.sandbox)

    # --- DNS records ------------------------------------------------------------------------

    def list_dns_records(self, name: str | None = None, type: str | None = None):
        records = self.zone.records()
        if name:
            records = [r for r in records if r["name"] == name.lower().rstrip(".")]
        if type:
            records = [r for r in records if r["type"] == type.upper()]
        return {"records": records}

    def add_dns_record(self, body: dict):
        values = body["value"] if isinstance(body["value"], list) else [body["value"]]
        seconds = body.get("visible_after_seconds")
        visible_after = self.sandbox.clock.now() + timedelta(seconds=seconds) if seconds else None
        rtype = body["type"].upper()
        try:  # all or none: a bad value, or one beside a CNAME, adds nothing
            if rtype == "TXT":  # as a DNS host reads it: a value in quotes, as a zone file's
                values = [unquoted_txt(value) for value in values]
            self.zone.add_all(
                body["name"],
                rtype,
                values,
                ttl=body.get("ttl", DEFAULT_TTL),
                visible_after=visible_after,
            )
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        return self.list_dns_records(body["name"], rtype), 201

    def delete_dns_records(self, name: str, type: str | None = None, value: str | None = None):
        try:
            if value is not None and type and type.upper() == "TXT":  # as added: zone strings
                value = unquoted_txt(value)
            removed = self.zone.remove(name, type.upper() if type else None, value)
        except ValueError as exc:  # a malformed name, or TXT strings
            raise ProviderError(400, str(exc)) from None
        return {"removed": removed}

    # --- DNS faults and queries ---------------------------------------------------------------

    def list_dns_faults(self):
        return {"faults": [_fault_view(f) for f in self.sandbox.dns.faults.list()]}

    def add_dns_fault(self, body: dict):
        try:
            fault = self.sandbox.dns.faults.add(
                body["match"],
                body["kind"],
                qtype=body.get("qtype"),
                count=body.get("count"),
                delay_ms=body.get("delay_ms"),
            )
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        return _fault_view(fault), 201

    def remove_dns_fault(self, fault_id: str):
        if not self.sandbox.dns.faults.remove(fault_id):
            raise ProviderError(404, _no_fault("DNS", fault_id, self.sandbox.dns.faults.list()))
        return {"removed": 1}

    def clear_dns_faults(self):
        removed = len(self.sandbox.dns.faults.list())
        self.sandbox.dns.faults.clear()
        return {"removed": removed}

    def list_dns_queries(self, limit: int = 1000):
        queries = list(self.sandbox.dns.queries)
        return {"queries": queries[-limit:]}

    def clear_dns_queries(self):
        self.sandbox.dns.queries.clear()
        return None, 204

    # --- domains ------------------------------------------------------------------------------

    def list_domains(self, provider: str | None = None):
        self._known(provider) if provider else None
        domains = self.sandbox.store.list(provider)
        return {"domains": [domain_view(self.sandbox, d) for d in domains]}

    def list_providers(self):
        providers = self.sandbox.providers.values()
        return {
            "providers": [
                {
                    "name": p.name,
                    "apis": list(p.apis),
                    "statuses": list(p.statuses),
                    "operations": sorted(p.operation_ids()),
                }
                for p in providers
            ]
        }

    def create_domain(self, body: dict):
        """Create a domain through its provider's own API, as a client would (the dashboard)."""
        provider = self._known(body["provider"])
        api = body.get("api", provider.client_base)
        if api not in provider.apis:
            raise ProviderError(400, f"{provider.name}'s {_apis_said(provider)}, not {api!r}")
        domain_id = presenting.create_domain(self.sandbox, provider, body["name"], api)
        return self.get_domain(provider.name, domain_id), 201

    def get_domain(self, provider: str, domain_id: str):
        return domain_view(self.sandbox, self._domain(provider, domain_id))

    def publish_domain(self, provider: str, domain_id: str, body: dict | None = None):
        body = body or {}
        domain = self._domain(provider, domain_id)
        try:
            published = self.sandbox.publish(
                provider,
                domain.id,
                omit=body.get("omit", []),
                corrupt=body.get("corrupt", []),
                visible_after_seconds=body.get("visible_after_seconds"),
                ttl=body.get("ttl", DEFAULT_TTL),
            )
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        if warnings := self.sandbox.spf_beside(published):
            return {"published": published, "warnings": warnings}
        return {"published": published}

    @holds_world
    def verify_domain(self, provider: str, domain_id: str):
        """Run the provider's own verification now, as the domain's owner would trigger it."""
        domain = self._domain(provider, domain_id)
        try:
            self.sandbox.providers[provider].verify_now(domain)
        except ProviderError as error:  # as the owner's verify call is refused (Scaleway's 409)
            said = f"{provider} refuses to verify {domain.name} now: {error.message}"
            raise ProviderError(error.status, said) from None
        self.sandbox.run_due()  # steps the verification scheduled for this very instant
        return domain_view(self.sandbox, domain)

    def _known(self, provider: str):
        if provider not in self.sandbox.providers:
            known = ", ".join(self.sandbox.providers)
            raise ProviderError(404, f"unknown provider {provider!r}; known: {known}")
        return self.sandbox.providers[provider]

    def _check_operation(self, operation: str | None, provider: str | None) -> None:
        """A 400 listing the known operationIds (of `provider`, else of every provider) for
        one none has: a misspelt name would match nothing, silently."""
        providers = [self._known(provider)] if provider else self.sandbox.providers.values()
        known = set().union(*(p.operation_ids() for p in providers))
        if operation and operation not in known:
            api = f"{provider}'s API" if provider else "any provider's API"
            raise ProviderError(
                400,
                f"operation {operation!r} is not in {api}; use: {', '.join(sorted(known))}",
                field="operation",
            )

    def _journal_domain(self, domain_id: str | None, provider: str | None) -> str | None:
        """The id the journal keeps for the domain a filter names (in any letter case its API
        takes), or a 400 when no domain has it, now or in the journal: a misspelt id would
        match nothing, silently. A domain deleted since is known by its requests."""
        if not domain_id:
            return domain_id
        providers = [self._known(provider)] if provider else self.sandbox.providers.values()
        for each in providers:
            if (domain := each.domain_of(domain_id)) is not None:
                return domain.id
        if self.sandbox.requests.count(Filters(provider, domain=domain_id)):
            return domain_id
        whose = f"{provider} domain" if provider else "domain"
        said = f"no {whose} has the id {domain_id!r}, now or in the request journal"
        named = [d for each in providers for d in self.sandbox.store.named(each.name, domain_id)]
        if len(named) == 1:
            said += f"; the {named[0].provider} domain named so has id {named[0].id}: give that"
        elif named:
            ids = ", ".join(f"{d.provider} {d.id}" for d in named)
            said += f"; the domains named so have ids {ids}: give one"
        else:
            said += "; `domainsandbox domains` (GET /_sandbox/domains) lists their ids"
        raise ProviderError(400, said, field="domain")

    def _domain(self, provider: str, domain_id: str):
        self._known(provider)
        domain = self.sandbox.providers[provider].domain_of(domain_id)
        if domain is None:
            raise ProviderError(404, self.sandbox.providers[provider].unknown_domain(domain_id))
        return domain

    # --- scenarios ---------------------------------------------------------------------------

    @holds_world
    def export_scenario(self, format: str = "yaml"):
        world = scenario.export_world(self.sandbox)
        if format == "json":  # the document offers two types: name the one answered
            return world, 200, {"Content-Type": "application/json"}
        return Answer(200, scenario.dump(world).encode(), [("content-type", "application/yaml")])

    def list_bundled_scenarios(self):
        return {"scenarios": bundled.listing()}

    @holds_world
    def load_bundled_scenario(self, name: str):
        return self.load_scenario(presenting.bundled_scenario(name))

    def get_scenario_schema(self):
        return Answer(200, _schema_bytes(), [("content-type", "application/schema+json")])

    @holds_world
    def load_scenario(self, body=None):
        if body is None or (isinstance(body, bytes) and not body.strip()):
            raise ProviderError(400, "scenario: the body is empty; send a YAML or JSON document")
        if isinstance(body, bytes | str):
            try:
                body = scenario.parse(body)
            except scenario.ScenarioError as exc:
                raise ProviderError(400, f"scenario: {exc}") from None
        if not isinstance(body, dict):
            raise ProviderError(400, "scenario: send a YAML or JSON document")
        try:
            with self._between_demos("scenario"):
                scenario.load_world(self.sandbox, body)
        except scenario.ScenarioError as exc:
            raise ProviderError(400, f"scenario: {exc}") from None
        return {
            "loaded": True,
            "domains": len(self.sandbox.store),
            "dns_records": len(self.sandbox.dns.zone),
            "clock": self.sandbox.clock.snapshot(),
        }

    # --- HTTP faults and rate limits ---------------------------------------------------------

    def list_http_faults(self):
        return {"faults": self.sandbox.http_faults.list()}

    def add_http_fault(self, body: dict):
        provider = self._known(body["provider"])
        operation = body.get("operation")
        self._check_operation(operation, provider.name)
        try:
            fault = self.sandbox.http_faults.add(
                provider.name,
                operation,
                status=body.get("status"),
                latency_ms=body.get("latency_ms", 0),
                abort=body.get("abort", False),
                count=body.get("count"),
                probability=body.get("probability"),
                abort_after=body.get("abort_after", False),
                reset=body.get("reset", False),
                reset_after=body.get("reset_after", False),
            )
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        if note := provider.fault_notes.get(operation or ""):  # the answer's, not the fault's
            fault = {**fault, "note": note}
        return fault, 201

    def remove_http_fault(self, fault_id: str):
        if not self.sandbox.http_faults.remove(fault_id):
            raise ProviderError(404, _no_fault("HTTP", fault_id, self.sandbox.http_faults.list()))
        return {"removed": 1}

    def clear_http_faults(self):
        return {"removed": self.sandbox.http_faults.clear()}

    def get_rate_limits(self):
        return self._rate_limits_view()

    def set_rate_limits(self, body: dict):
        self.sandbox.rate_limits.enabled = body["enabled"]
        self.sandbox.rate_limits.clear()
        return self._rate_limits_view()

    def _rate_limits_view(self) -> dict:
        quotas = {
            name: {"requests": p.rate_limit[0], "window_seconds": p.rate_limit[1]}
            for name, p in self.sandbox.providers.items()
            if p.rate_limit
        }
        unlimited = [name for name in self.sandbox.providers if name not in quotas]
        return {
            "enabled": self.sandbox.rate_limits.enabled,
            "quotas": quotas,
            "unlimited": unlimited,
        }

    # --- registered credentials --------------------------------------------------------------

    def list_credentials(self, provider: str | None = None):
        self._known(provider) if provider else None
        return {"credentials": self.sandbox.credentials.list(provider)}

    def register_credential(self, body: dict):
        try:
            entry = self.sandbox.register_credential(
                body["provider"], body["key"], body.get("secret")
            )
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        return entry, 201

    def revoke_credential(self, body: dict):
        try:
            return self.sandbox.revoke_credential(body["provider"], body["key"])
        except KeyError:
            raise ProviderError(
                404, f"no {body['provider']} credential {body['key']!r} is registered"
            ) from None

    def clear_credentials(self, provider: str | None = None):
        self._known(provider) if provider else None
        return {"removed": self.sandbox.credentials.clear(provider)}

    # --- provider settings --------------------------------------------------------------------

    def get_settings(self, provider: str):
        self._known(provider)
        return self.sandbox.settings(provider)

    def update_settings(self, provider: str, body: dict):
        self._known(provider)
        try:
            return self.sandbox.update_settings(provider, body)
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None

    # --- clock, reset, requests ---------------------------------------------------------------

    def get_clock(self):
        return self.sandbox.clock.snapshot()

    @holds_world
    def set_clock(self, body: dict):
        clock = self.sandbox.clock
        instant, seconds = self._clock_change(body)  # all checked before anything changes
        if "mode" in body:
            clock.set_mode(body["mode"], body.get("speed"))
        if body.get("freeze") is True:
            clock.freeze()
        if instant is not None:
            self._moved("set", self.sandbox.set_time, instant)
        if seconds:
            self._moved("advance_seconds", self.sandbox.advance, seconds)
        if body.get("freeze") is False:
            clock.unfreeze()
        return clock.snapshot()

    def _moved(self, field: str, move, to) -> None:
        """Move the clock with `move(to)` (advance seconds, or set an instant, as `field` asked),
        or a 409 when a new world (a reset, a scenario) stopped the move: a 200 would claim a
        move that did not happen."""
        started = self.sandbox.clock.now()
        if not move(to):
            stood = self.sandbox.clock.now()
            if self.sandbox.stopping:
                raise ShuttingDown()
            moved = said_number(round((stood - started).total_seconds(), 3))
            how_far = (
                f"on its way to {iso(to)}"
                if field == "set"
                else f"{moved} of {said_number(round(to, 3))} seconds on"
            )
            raise ProviderError(
                409,
                f"{field}: the move stopped because the world was replaced (a reset or a "
                f"scenario load) meanwhile; the clock stood at {iso(stood)}, {how_far}",
                field=field,
            )

    def _clock_change(self, body: dict) -> tuple:
        """(the instant to set or None, the seconds to advance), or a 400 naming the field."""
        if "mode" in body or "speed" in body:
            self._check_mode(body)
        instant = None
        if "set" in body:
            said = "set (the instant to freeze at)" if body.get("freeze") else "set"
            try:
                instant = check_instant(utc(body["set"]))
            except OutOfRange as exc:
                raise ProviderError(400, f"{said}: {exc}", field="set") from None
            except ValueError as exc:  # which part is wrong, if one is (`day is out of range`)
                raise ProviderError(400, f"{said}: {exc}") from None
        seconds = body.get("advance_seconds") or 0
        if seconds < 0:
            raise ProviderError(400, "advance_seconds: time only moves forward")
        try:
            later(instant or self.sandbox.clock.now(), seconds)
        except OutOfRange as exc:
            raise ProviderError(400, f"advance_seconds: {exc}", field="advance_seconds") from None
        return instant, seconds

    @holds_world
    def build_demo(self, body: dict | None = None):
        """A demo world through the providers' own APIs, called over HTTP (sandbox.demo)."""
        try:
            with needs("demo", "the demo world"):
                from . import demo  # it drives the sandbox as a client does: only when asked for
        except MissingExtra as exc:
            raise ProviderError(503, str(exc)) from None

        body, url = body or {}, self.sandbox.http_url
        if url is None:
            raise ProviderError(503, "demo: this sandbox is not served over HTTP")
        if not self._demo_seats.acquire(blocking=False):
            raise ProviderError(503, f"demo: {MOST_DEMOS} demos are under way; try again later")
        try:
            with self._demo_turn:  # a demo asked for meanwhile replaces this one's world after
                self._building = True
                try:
                    return demo.build(
                        url, body.get("domains", demo.DEFAULT_DOMAINS), body.get("seed"),
                        token=self.sandbox.control_token, start=self._demo_world,
                    )  # fmt: skip
                finally:
                    self._building = False
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None
        except demo.DemoFailed as exc:
            raise ProviderError(503, str(exc)) from None
        finally:
            self._demo_seats.release()

    def _demo_world(self, seed: int | None) -> int:
        """A demo's fresh world, made under the demo's turn (a reset from outside would be
        refused): reset with `seed`, the sandbox's own if None. Returns the seed."""
        self.sandbox.reset(seed)
        return self.sandbox.seed

    @contextmanager
    def _between_demos(self, what: str):
        """Replace the world (a reset, a scenario) only while no demo is being built: one that
        went on over the new world would leave half a demo in it."""
        if self._building:
            raise ProviderError(
                409,
                f"{what}: a demo world is being built (about a second for 100 domains); "
                "try again once it is done",
            )
        with self._demo_turn:  # a demo asked for meanwhile starts after this
            yield

    def _check_mode(self, body: dict) -> None:
        if "freeze" in body:
            raise ProviderError(400, "freeze: give a mode or freeze, not both", field="freeze")
        if "mode" not in body:
            raise ProviderError(400, "speed: give the mode too (fast)", field="speed")
        try:
            check_mode(body["mode"], body.get("speed"))
        except ValueError as exc:
            raise ProviderError(400, str(exc)) from None

    @holds_world
    def advance_clock_until(self, body: dict):
        """Move the clock step by step until a domain reaches a status (409 where it stuck)."""
        domain = self._domain(body["provider"], body["domain_id"])
        until = clockwork.Until(
            body["provider"], domain.id, body.get("status"), body.get("limit_seconds")
        )
        try:
            reached = clockwork.advance_until(self.sandbox, until)
        except ValueError as exc:
            raise ProviderError(400, str(exc), field="status") from None
        except clockwork.Stuck as exc:
            raise ProviderError(409, str(exc)) from None
        domain = self.sandbox.store.get(until.provider, until.domain_id)
        return reached | {
            "clock": self.sandbox.clock.snapshot(),
            "domain": domain_view(self.sandbox, domain) if domain else None,
        }

    @holds_world
    def reset(self, body: dict | None = None):
        body = body or {}
        with self._between_demos("reset"):
            self.sandbox.reset(body.get("seed"), restore_clock=body.get("restore_clock", False))
        return {"seed": self.sandbox.seed, "clock": self.sandbox.clock.snapshot()}

    def list_requests(
        self,
        provider=None,
        operation=None,
        status=None,
        domain=None,
        since=None,
        until=None,
        limit=1000,
    ):
        self._check_operation(operation, provider)
        domain = self._journal_domain(domain, provider)
        filters = _journal_filters(provider, operation, status, domain, since, until)
        return {"requests": self.sandbox.requests.find(filters, limit)}

    def count_requests(
        self, provider=None, operation=None, status=None, domain=None, since=None, until=None
    ):
        self._check_operation(operation, provider)
        domain = self._journal_domain(domain, provider)
        filters = _journal_filters(provider, operation, status, domain, since, until)
        return {"count": self.sandbox.requests.count(filters)}

    def clear_requests(self):
        self.sandbox.requests.clear()
        return None, 204

    def get_report(self):
        return self.sandbox.report.build()

    def expect_errors(self, body: dict):
        self.sandbox.report.expecting = body["expecting"]
        return {"expecting": self.sandbox.report.expecting}

    def name_test(self, body: dict):
        self.sandbox.report.test = body["test"]
        return {"test": self.sandbox.report.test}

    def clear_report(self):
        self.sandbox.report.clear()
        return None, 204


def _journal_filters(provider, operation, status, domain, since, until) -> Filters:
    """The request journal's filters from a query; a 400 naming an unreadable instant."""
    instants = {}
    for name, value in (("since", since), ("until", until)):
        try:
            instants[name] = utc(value) if value is not None else None  # "" is no instant
        except ValueError as exc:
            raise ProviderError(400, f"{name}: {exc}") from None
    return Filters(provider, operation, status, domain, **instants)


@cache
def _schema_bytes() -> bytes:
    return json_bytes(scenario.schema())


def _no_fault(kind: str, fault_id: str, faults: list[dict]) -> str:
    """Why a fault cannot be removed: no such id (removed already, or used up), and the ids."""
    there = ", ".join(f["id"] for f in faults) or "none"
    return f"no {kind} fault {fault_id!r} (removed, or used up); the {kind} faults: {there}"


def _fault_view(fault: dict) -> dict:
    """fake_dns calls the pattern `name`; the control API calls it `match`, as it is posted."""
    view = {"id": fault["id"], "match": fault["name"]}
    return view | {k: v for k, v in fault.items() if k not in ("id", "name")}


def _apis_said(provider) -> str:
    """How a message names a provider's APIs: "API is /autosend/v1", "APIs are /mailgun and
    /mailgun/eu"."""
    if len(provider.apis) == 1:
        return f"API is {provider.apis[0]}"
    return f"APIs are {', '.join(provider.apis[:-1])} and {provider.apis[-1]}"
