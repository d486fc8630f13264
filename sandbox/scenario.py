"""Scenario files: a whole sandbox world in one YAML document, saved and loaded.

A scenario holds the seed (and how far identities have been drawn), the clock, every provider's
domains with their records, results and states, provider settings and state (tokens...), the DNS
records and faults, HTTP faults, whether rate limits apply and the registered credentials.
Exporting a world and loading the export gives the same world: exporting again yields the same
bytes. Loading is all or nothing: the whole file is checked and built aside, then swapped in at
once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

import yaml

from fake_dns import Faults, Zone
from fake_dns.clock import iso as exact_iso
from fake_dns.rdata import normalize_name, normalize_type

from .engine.clock import utc
from .engine.ids import Ids
from .engine.records import CheckResult, Domain, Outcome, RequiredRecord, Rule

if TYPE_CHECKING:
    from .core import Sandbox

FORMAT = 1
_TIME_TAG = "$time"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message names the entry."""


# --- values -------------------------------------------------------------------------------------


def encode(value):
    """Plain YAML/JSON data from provider state: datetimes become {"$time": iso}."""
    if isinstance(value, datetime):
        return {_TIME_TAG: exact_iso(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value):
    if isinstance(value, dict):
        if set(value) == {_TIME_TAG}:
            return utc(value[_TIME_TAG])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


# --- export -------------------------------------------------------------------------------------


def _export_domain(domain: Domain) -> dict:
    return {
        "provider": domain.provider,
        "id": domain.id,
        "name": domain.name,
        "owner": domain.owner,
        "status": domain.status,
        "created_at": exact_iso(domain.created_at),
        "updated_at": exact_iso(domain.updated_at),
        "last_checked_at": exact_iso(domain.last_checked_at),
        "next_step_at": exact_iso(domain.due_at),
        "checks": domain.checks,
        "records": [
            {k: (str(v) if isinstance(v, Rule) else v) for k, v in dataclasses.asdict(r).items()}
            for r in domain.records
        ],
        "results": {
            kind: {k: v for k, v in result.to_dict().items() if k != "kind"}
            for kind, result in domain.results.items()
        },
        "attrs": encode(domain.attrs),
        "timeline": [{"at": exact_iso(t["at"]), "status": t["status"]} for t in domain.timeline],
    }


def export_world(sandbox: Sandbox) -> dict:
    """The whole world as plain data (what GET /_sandbox/scenario answers)."""
    with sandbox.world_lock():
        world = {
            "format": FORMAT,
            "seed": sandbox.ids.seed,
            "ids_drawn": sandbox.ids.drawn,
            "clock": {"now": exact_iso(sandbox.clock.now()), "frozen": sandbox.clock.frozen},
            "rate_limits": sandbox.rate_limits.enabled,
            "settings": {name: dict(sandbox.settings(name)) for name in sandbox.providers},
            "providers": {
                name: encode(p.export_state())
                for name, p in sandbox.providers.items()
                if p.export_state()
            },
            "domains": [_export_domain(d) for d in sandbox.store.list()],
            "dns": {
                "records": sandbox.dns.zone.records(),
                "faults": [
                    {k: v for k, v in f.items() if k != "id"} for f in sandbox.dns.faults.list()
                ],
            },
            "http_faults": [
                {k: v for k, v in f.items() if k != "id"} for f in sandbox.http_faults.list()
            ],
        }
        if credentials := sandbox.credentials.export():  # registered keys, when there are any
            world["credentials"] = credentials
        return world


def dump(world: dict) -> str:
    return yaml.safe_dump(world, sort_keys=False, allow_unicode=True, width=120)


# --- load ---------------------------------------------------------------------------------------


def parse(text: str | bytes) -> dict:
    """YAML text to a world dict, or ScenarioError."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a YAML mapping (seed, clock, domains, dns, ...)")
    return data


def _entry(where: str, build):
    try:
        return build()
    except ScenarioError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ScenarioError(f"{where}: {detail}") from None


def _load_record(entry: dict) -> RequiredRecord:
    record = RequiredRecord(**(entry | {"rule": Rule(entry["rule"])}))
    normalize_name(record.name)
    if normalize_type(record.type) != record.type:
        raise ValueError(f"record type {record.type!r} must be written in capitals")
    return record


def _load_domain(sandbox: Sandbox, entry: dict) -> Domain:
    if entry["provider"] not in sandbox.providers:
        raise ValueError(f"unknown provider {entry['provider']!r}")
    records = [_load_record(r) for r in entry.get("records", [])]
    by_kind = {r.kind: r for r in records}
    results = {}
    for kind, result in (entry.get("results") or {}).items():
        if kind not in by_kind:
            raise ValueError(f"result for unknown record kind {kind!r}")
        results[kind] = CheckResult(
            by_kind[kind],
            Outcome(result["outcome"]),
            result.get("reason"),
            tuple(result.get("found") or ()),
            utc(result["checked_at"]) if result.get("checked_at") else None,
        )
    optional_time = lambda key: utc(entry[key]) if entry.get(key) else None  # noqa: E731
    return Domain(
        provider=entry["provider"],
        id=str(entry["id"]),
        name=str(entry["name"]).lower(),
        owner=str(entry["owner"]),
        created_at=utc(entry["created_at"]),
        updated_at=utc(entry.get("updated_at") or entry["created_at"]),
        status=str(entry["status"]),
        records=records,
        results=results,
        attrs=decode(entry.get("attrs") or {}),
        timeline=[{"at": utc(t["at"]), "status": t["status"]} for t in entry.get("timeline", [])],
        due_at=optional_time("next_step_at"),
        checks=int(entry.get("checks", 0)),
        last_checked_at=optional_time("last_checked_at"),
    )


def _load_zone(clock, records: list) -> Zone:
    zone = Zone(clock=clock)
    for i, record in enumerate(records):
        _entry(
            f"dns.records[{i}] ({record.get('name') if isinstance(record, dict) else record})",
            lambda r=record: zone.add(
                r["name"],
                r["type"],
                r["value"],
                ttl=r.get("ttl", 300),
                visible_after=r.get("visible_after"),
            ),
        )
    return zone


def _load_dns_faults(faults: list) -> Faults:
    loaded = Faults()
    for i, fault in enumerate(faults):
        _entry(
            f"dns.faults[{i}]",
            lambda f=fault: loaded.add(
                f.get("name") or f["match"],
                f["kind"],
                qtype=f.get("qtype"),
                count=f.get("count"),
                delay_ms=f.get("delay_ms"),
            ),
        )
    return loaded


def _load_credentials(sandbox: Sandbox, registered: dict) -> dict[str, list[dict]]:
    """The registered credentials of a scenario, each checked as registering it would be."""
    if not isinstance(registered, dict):
        raise ScenarioError("credentials: a mapping of provider -> list of {key, secret?, revoked}")
    loaded = {}
    for name, entries in registered.items():
        if name not in sandbox.providers:
            raise ScenarioError(f"credentials.{name}: unknown provider")
        loaded[name] = [
            _entry(f"credentials.{name}[{i}]", lambda n=name, e=e: _load_credential(sandbox, n, e))
            for i, e in enumerate(entries or [])
        ]
    return loaded


def _load_credential(sandbox: Sandbox, provider: str, entry: dict) -> dict:
    key, secret = sandbox.providers[provider].check_credential(entry["key"], entry.get("secret"))
    revoked = entry.get("revoked", False)
    if not isinstance(revoked, bool):
        raise ValueError("revoked must be true or false")
    return {"key": key} | ({"secret": secret} if secret is not None else {}) | {"revoked": revoked}


def load_world(sandbox: Sandbox, world: dict) -> None:
    """Replace the sandbox's world by `world`, or change nothing and raise ScenarioError."""
    if world.get("format", FORMAT) != FORMAT:
        raise ScenarioError(f"format {world['format']!r} is not supported (expected {FORMAT})")
    seed = _entry("seed", lambda: int(world.get("seed", sandbox.seed)))
    drawn = _entry("ids_drawn", lambda: int(world.get("ids_drawn", 0)))
    clock = world.get("clock") or {}
    now = _entry("clock.now", lambda: utc(clock["now"]) if clock.get("now") else None)
    domains = [
        _entry(
            f"domains[{i}] ({d.get('provider')} {d.get('name')})"
            if isinstance(d, dict)
            else f"domains[{i}]",
            lambda d=d: _load_domain(sandbox, d),
        )
        for i, d in enumerate(world.get("domains") or [])
    ]
    seen = set()
    for i, domain in enumerate(domains):
        if (domain.provider, domain.id) in seen:
            raise ScenarioError(
                f"domains[{i}] ({domain.provider} {domain.name}): duplicate id {domain.id}"
            )
        seen.add((domain.provider, domain.id))
    dns = world.get("dns") or {}
    zone = _load_zone(sandbox.clock, dns.get("records") or [])
    dns_faults = _load_dns_faults(dns.get("faults") or [])
    settings = world.get("settings") or {}
    for name, changes in settings.items():
        _entry(f"settings.{name}", lambda n=name, c=changes: sandbox.check_settings(n, c))
    provider_states = world.get("providers") or {}
    for name in provider_states:
        if name not in sandbox.providers:
            raise ScenarioError(f"providers.{name}: unknown provider")
    http_faults = world.get("http_faults") or []
    for i, fault in enumerate(http_faults):
        _entry(f"http_faults[{i}]", lambda f=fault: sandbox.check_http_fault(f))

    credentials = _load_credentials(sandbox, world.get("credentials") or {})

    # Everything is valid: swap it in at once.
    with sandbox.world_lock():
        sandbox.reset(seed)
        sandbox.ids = Ids(seed, drawn)
        if clock.get("frozen") is True:  # freeze first: a running clock would drift past `now`
            sandbox.clock.freeze()
        if now is not None:
            sandbox.clock.set(now)
        if clock.get("frozen") is False:
            sandbox.clock.unfreeze()
        sandbox.dns.zone = zone
        sandbox.dns.faults = dns_faults
        for name, changes in settings.items():
            sandbox.update_settings(name, changes)
        for name, state in provider_states.items():
            sandbox.providers[name].load_state(decode(state))
        for domain in domains:
            sandbox.store.add(domain)
        for fault in http_faults:
            sandbox.http_faults.add(**fault)
        sandbox.rate_limits.enabled = bool(world.get("rate_limits", False))
        sandbox.credentials.replace(credentials)
