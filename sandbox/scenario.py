"""Scenario files: a whole sandbox world in one YAML document, saved and loaded.

A scenario holds the seed (and how far identities have been drawn), the clock, every provider's
domains with their records, results and states, provider settings and state (tokens...), the DNS
records and faults, HTTP faults, whether rate limits apply and the registered credentials.
Exporting a world and loading the export gives the same world: exporting again yields the same
bytes. Loading is all or nothing:
the whole file is checked (against the published schema, schemas/scenario.schema.json, then
against each provider's vocabulary) and built aside, then swapped in at once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import fastjsonschema
from jsonschema import Draft7Validator, validators

from fake_dns import Faults, Zone
from fake_dns.rdata import SHOWN_NAME_CHARACTERS, brief, normalize_name, normalize_type
from fake_dns.yamltext import read_yaml, write_yaml
from fake_dns.zone import DEFAULT_TTL

from . import documents
from .engine.clock import (
    EARLIEST,
    Clock,
    OutOfRange,
    check_instant,
    check_mode,
    exact_iso,
    iso,
    utc,
)
from .engine.ids import Ids
from .engine.records import CheckResult, Domain, Outcome, RequiredRecord, Rule
from .engine.store import Store
from .errors import schema_branch, schema_message
from .gate import HttpFaults
from .upgrade import UPGRADES, Upgrade

if TYPE_CHECKING:
    from .core import Sandbox

# The format this version writes; upgrade.UPGRADES reads every earlier one (see upgrade.py).
FORMAT = 3
log = logging.getLogger(__name__)
_TIME_TAG = "$time"
SCHEMA_FILE = Path(__file__).parent / "schemas" / "scenario.schema.json"
# Schema errors said at once (a file with a typo repeated 200 times gets one line, not 200).
SAID_ERRORS = 3
# Said once after a domain entry's missing keys: an entry holds all the sandbox keeps of a
# domain (its records, results, owner id), which nobody writes by hand.
WHOLE_ENTRIES = (
    "; a domain entry is written whole by `domainsandbox scenario export`: make the domain "
    "through its provider's API (or `domainsandbox demo`), then export the world"
)


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message names the entry."""


class NewerFormat(ScenarioError):
    """A world written by a newer domainsandbox, in a format this one does not know."""

    def __init__(self, found: int):
        super().__init__(
            f"written by a newer domainsandbox (format {found}); this one reads formats 1 to "
            f"{FORMAT}: upgrade domainsandbox"
        )


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


_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(RequiredRecord))


def _export_record(record: RequiredRecord) -> dict:
    """Every field, the rule by its name. (Not `dataclasses.asdict`: its deep copies of these
    strings took most of an export's time, and `serve --state` exports on every change.)"""
    fields = {name: getattr(record, name) for name in _RECORD_FIELDS}
    return fields | {"rule": str(record.rule)}


def _export_domain(domain: Domain) -> dict:
    return domain.summary(
        exact_iso,
        records=[_export_record(r) for r in domain.records],
        results={
            kind: {k: v for k, v in result.to_dict().items() if k != "kind"}
            for kind, result in domain.results.items()
        },
        attrs=encode(domain.attrs),
    )


def export_world(sandbox: Sandbox) -> dict:
    """The whole world as plain data (what GET /_sandbox/scenario answers)."""
    with sandbox.world_lock():
        world = {
            "format": FORMAT,
            "seed": sandbox.ids.seed,
            "ids_drawn": sandbox.ids.drawn,
            "clock": _clock_of(sandbox.clock),
            "rate_limits": sandbox.rate_limits.enabled,
            "settings": {
                name: dict(sandbox.settings(name))
                for name in sandbox.providers
                if _settings_kept(sandbox, name)
            },
            "providers": {
                name: encode(p.export_state())
                for name, p in sandbox.providers.items()
                if p.export_state()
            },
            "domains": [
                _export_domain(sandbox.providers[d.provider].settled(d))
                for d in sandbox.store.list()
            ],
            # faults with their ids, which `--remove ID` names (and on past the used-up ones)
            "dns": {"records": sandbox.dns.zone.records(), "faults": sandbox.dns.faults.list()},
            "http_faults": sandbox.http_faults.list(),
        }
        if sandbox.dns.faults.added > _last_id(world["dns"]["faults"]):
            world["dns"]["faults_added"] = sandbox.dns.faults.added
        if sandbox.http_faults.added > _last_id(world["http_faults"]):
            world["http_faults_added"] = sandbox.http_faults.added
        if places := _removed_places(sandbox):
            world["deleted_places"] = places
        if credentials := sandbox.credentials.export():  # registered keys, when there are any
            world["credentials"] = credentials
        if sandbox.http_faults.drawn:  # faults with a probability drew from their stream
            world["http_fault_draws"] = sandbox.http_faults.drawn
        return world


def _removed_places(sandbox: Sandbox) -> list[dict]:
    """Where deleted domains stood among `domains`, for the providers whose page cursors may
    name one (Resend's `after`): each after how many of the domains written before it."""
    providers = [name for name, p in sandbox.providers.items() if p.cursor_places]
    return [
        {"provider": provider, "id": domain_id, "owner": owner, "after": after}
        for provider, domain_id, owner, after in sandbox.store.removed_places(providers)
    ]


def _last_id(faults: list[dict]) -> int:
    """The number of the newest of these faults' ids (h3, f3: 3); 0 for none."""
    return max((int(f["id"][1:]) for f in faults), default=0)


def _settings_kept(sandbox: Sandbox, provider: str) -> bool:
    """A provider's settings are written when they matter: the provider has domains, or its
    settings differ from its defaults. A provider the world never used (one added to the sandbox
    after the file was written, say) leaves an export unchanged; loading gives it its defaults."""
    if sandbox.store.list(provider):
        return True
    return sandbox.settings(provider) != sandbox.providers[provider].settings_defaults


def dump(world: dict) -> str:
    return write_yaml(world)


# --- load ---------------------------------------------------------------------------------------


# What a scenario's mapping holds, as a refusal of another document names it.
_TOP_KEYS = "seed, clock, domains, dns, ..."


def parse(text: str | bytes) -> dict:
    """YAML text to a world dict, or ScenarioError."""
    try:
        data = read_yaml(text)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    if not isinstance(data, dict):
        empty = "it is empty; " if data is None and not text.strip() else ""
        raise ScenarioError(f"{empty}a scenario is a YAML or JSON mapping ({_TOP_KEYS})")
    if _outnumbers(data, len(text)):
        raise ScenarioError(
            "its YAML aliases expand it to more values than it has characters: refused, as "
            "its checks would hold every copy (a 'billion laughs')"
        )
    return data


def _outnumbers(data, budget: int) -> bool:
    """True when `data` holds more than `budget` values, each alias counted as a copy: text
    that writes every value out has fewer values than characters."""
    stack = [data]
    while stack:
        budget -= 1
        if budget < 0:
            return True
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


@cache
def schema() -> dict:
    """The JSON Schema of scenario files (GET /_sandbox/scenario/schema answers it), with the
    provider names filled in from the providers' documents, in any letter case as the control
    API takes them."""
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    published["definitions"]["provider"].update(documents.provider_name_schema())
    return published


@cache
def _fits():
    """The schema compiled to Python: about twenty times faster than walking it, which matters
    when a state file of thousands of domains is loaded at start."""
    return fastjsonschema.compile(schema())


def check(world) -> None:
    """Raise ScenarioError, naming the entry and the key, unless `world` fits the schema."""
    if not isinstance(world, dict):
        raise ScenarioError("a scenario is a mapping (seed, clock, domains, dns, ...)")
    try:
        _fits()(world)
    except fastjsonschema.JsonSchemaValueException as refused:
        raise ScenarioError(_refusal(world, refused.message.replace("data.", "", 1))) from None
    # JSON Schema counts 2.0 as an integer; the sandbox counts with ints (range(2.0) fails)
    if _holds_whole_float(world) and (errors := list(_WholeNumbers(schema()).iter_errors(world))):
        raise ScenarioError(_refusal(world, "", errors))


# Draft 7, where an integer is written without a fraction: 2, not 2.0.
_WholeNumbers = validators.extend(
    Draft7Validator,
    type_checker=Draft7Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def _holds_whole_float(data) -> bool:
    """Whether a float with no fraction (2.0) is among `data`'s values."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, float) and value.is_integer():
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _refusal(world: dict, said: str, errors: list | None = None) -> str:
    """Why `world` does not fit, from jsonschema (slower, but it finds every error and says
    which key of which entry); `said`, the compiled check's own words, should it find nothing."""
    if errors is None:
        errors = list(Draft7Validator(schema()).iter_errors(world))
    if not errors:
        return said
    errors.sort(key=lambda e: _file_order(e, world))
    errors = [e for i, e in enumerate(errors) if not _same_missing(e, errors[i - 1] if i else None)]
    said = "; ".join(_schema_error(e, world) for e in errors[:SAID_ERRORS])
    more = len(errors) - SAID_ERRORS
    said += f" (and {more} more)" if more > 0 else ""
    return said + (WHOLE_ENTRIES if _domain_written_from_nothing(errors) else "")


def _domain_written_from_nothing(errors) -> bool:
    """True when a domain entry lacks keys only an export writes (its id, owner...), and not
    because one was misspelt (that refusal names the key to use)."""
    misspelt = {tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"}
    return any(
        e.validator == "required"
        and len(e.absolute_path) == 2
        and e.absolute_path[0] == "domains"
        and tuple(e.absolute_path) not in misspelt
        for e in errors
    )


def _file_order(error, world) -> list[int]:
    """Where the error is in the file: the position of each key and index on its path."""
    order, node = [], world
    for part in error.absolute_path:
        order.append(part if isinstance(part, int) else list(node).index(part))
        node = node[part]
    return order


def _same_missing(error, before) -> bool:
    """True for a second missing key of one entry: the first error names them all."""
    return (
        before is not None
        and error.validator == before.validator == "required"
        and error.absolute_path == before.absolute_path
    )


def _schema_error(error, world: dict) -> str:
    if keys := _one_key_of(error):  # `value` or `values`: said as such, not as two branches
        given = [key for key in keys if key in error.instance]
        said = f"give {' or '.join(keys)}, not both" if given else f"missing {' or '.join(keys)}"
        return f"{_where(list(error.absolute_path), world)}: {said}"
    error = schema_branch(error)  # "a date-time, or null": why not the date-time
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        return f"{_where(path, world) if path else 'the scenario'}: missing {', '.join(missing)}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known), key=str)
        return f"{_where([*path, unknown[0]], world)}: unknown key; use one of {', '.join(known)}"
    if error.validator == "enum":
        words = ", ".join(map(str, error.validator_value))
        what = f"{brief(error.instance)} is not one of {words}"
    elif error.validator == "pattern" and "description" in error.schema:  # an instant, a provider
        what = f"{brief(error.instance)} is not {error.schema['description'][0].lower()}"
        what += error.schema["description"][1:].rstrip(".")
    else:
        what = schema_message(error)
    return f"{_where(path, world)}: {what}" if path else what


def _one_key_of(error) -> list[str]:
    """The keys of a `oneOf` whose branches each require one key (exactly one of them), or []."""
    branches = error.validator_value if error.validator == "oneOf" else []
    keys = [b.get("required") for b in branches if isinstance(b, dict) and len(b) == 1]
    if not keys or len(keys) != len(branches) or any(len(k or ()) != 1 for k in keys):
        return []
    return [k[0] for k in keys]


def _where(path: list, world: dict) -> str:
    """'domains[2] (monite mail.example.com): records[0].type', from a path in `world`."""
    if len(path) >= 2 and path[0] == "domains" and isinstance(path[1], int):
        entry, rest = _domain_label(path[1], world["domains"][path[1]]), path[2:]
    elif len(path) >= 3 and path[:2] == ["dns", "records"] and isinstance(path[2], int):
        entry, rest = _record_label(path[2], world["dns"]["records"][path[2]]), path[3:]
    else:
        entry, rest = _dotted(path), []
    return f"{entry}: {_dotted(rest)}" if rest else entry


def _dotted(path: list) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _domain_label(i: int, entry) -> str:
    """'domains[2] (monite mail.example.com)': what of its provider and name the entry gives."""
    given = [entry[k] for k in ("provider", "name") if isinstance(entry, dict) and k in entry]
    return f"domains[{i}] ({' '.join(_label(v) for v in given)})" if given else f"domains[{i}]"


def _record_label(i: int, record) -> str:
    return (
        f"dns.records[{i}] ({_label(record.get('name') if isinstance(record, dict) else record)})"
    )


def _label(value) -> str:
    """A name as an entry's label shows it: whole when a DNS name could be that long."""
    short = isinstance(value, str) and len(value) <= SHOWN_NAME_CHARACTERS
    return value if short else brief(value)


def _entry(where: str, build):
    """build(), its ValueError (or a slip the schema let through) said as `where: why`."""
    try:
        return build()
    except ScenarioError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ScenarioError(f"{where}: {detail}") from None


def _at(key: str, build):
    """build(), with any ValueError it raises said as `key: why`."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"{key}: {detail}") from None


def _instant(value) -> datetime:
    """An instant of the file: RFC 3339, from year 1000 (what the documents can write)."""
    instant = utc(value)
    if instant < EARLIEST:
        raise OutOfRange(f"{value} is before {iso(EARLIEST)}")
    return instant


def _optional_instant(entry: dict, key: str) -> datetime | None:
    return _at(key, lambda: _instant(entry[key])) if entry.get(key) else None


def _word(provider, key: str, word: str) -> str:
    """`word` if it is one of the provider's status words."""
    if word not in provider.statuses:
        raise ValueError(
            f"{key}: {brief(word)} is not a status of {provider.name}; use one of "
            + ", ".join(provider.statuses)
        )
    return word


def _load_record(provider, entry: dict, where: str) -> RequiredRecord:
    kind = entry["kind"]
    if provider.record_kinds and kind not in provider.record_kinds:
        raise ValueError(
            f"{where}.kind: {brief(kind)} is not a record kind of {provider.name}; use one of "
            + ", ".join(provider.record_kinds)
        )
    # Not held to DNS's 253 characters: under a domain name near that long, a provider's record
    # names are longer (they cannot be published), and what an export wrote must load.
    _at(f"{where}.name", lambda: normalize_name(entry["name"], max_length=None))
    rtype = _at(f"{where}.type", lambda: normalize_type(entry["type"]))  # "txt" is TXT
    return _at(
        where, lambda: RequiredRecord(**(entry | {"type": rtype, "rule": Rule(entry["rule"])}))
    )


def _load_records(provider, entries: list) -> dict[str, RequiredRecord]:
    by_kind = {}
    for i, entry in enumerate(entries):
        record = _load_record(provider, entry, f"records[{i}]")
        if record.kind in by_kind:
            raise ValueError(f"records[{i}].kind: a second record of kind {record.kind!r}")
        by_kind[record.kind] = record
    return by_kind


def _load_result(record: RequiredRecord, result: dict) -> CheckResult:
    return CheckResult(
        record,
        Outcome(result["outcome"]),
        result.get("reason"),
        tuple(result.get("found") or ()),
        _optional_instant(result, "checked_at"),
    )


def _load_domain(sandbox: Sandbox, entry: dict) -> Domain:
    provider = sandbox.providers[entry["provider"]]
    name = provider.stored_name(entry["name"])
    if not provider.valid_name(name):
        raise ValueError(
            f"name: {brief(entry['name'], limit=SHOWN_NAME_CHARACTERS)} is not a host name (letters, digits and hyphens, "
            "in two labels or more)"
        )
    by_kind = _load_records(provider, entry.get("records", []))
    results = {}
    for kind, result in (entry.get("results") or {}).items():
        if kind not in by_kind:
            raise ValueError(f"results.{kind}: the domain has no record of kind {kind!r}")
        results[kind] = _at(f"results.{kind}", lambda k=kind, r=result: _load_result(by_kind[k], r))
    timeline = [
        {
            "at": _at(f"timeline[{i}].at", lambda t=t: _instant(t["at"])),
            "status": _word(provider, f"timeline[{i}].status", t["status"]),
        }
        for i, t in enumerate(entry.get("timeline", []))
    ]
    created_at = _at("created_at", lambda: _instant(entry["created_at"]))
    return Domain(
        provider=provider.name,
        id=entry["id"],
        name=name,
        owner=entry["owner"],
        created_at=created_at,
        updated_at=_optional_instant(entry, "updated_at") or created_at,
        status=_word(provider, "status", entry["status"]),
        records=list(by_kind.values()),
        results=results,
        attrs=_at("attrs", lambda: provider.loaded_attrs(decode(entry.get("attrs") or {}))),
        timeline=timeline,
        due_at=_optional_instant(entry, "next_step_at"),
        checks=entry.get("checks", 0),
        last_checked_at=_optional_instant(entry, "last_checked_at"),
    )


def _load_domains(sandbox: Sandbox, entries: list) -> list[Domain]:
    """The domains of `entries`, each one a domain its provider's API could hold beside those
    before it: an id of its own, and a name the provider's create would not refuse."""
    loaded, places = Store(), {}  # the domains so far; the index of each one's entry
    for i, entry in enumerate(entries):
        where = _domain_label(i, entry)
        domain = _entry(where, lambda e=entry: _load_domain(sandbox, e))
        if (domain.provider, domain.id) in places:
            raise ScenarioError(f"{where}: id: {domain.id} is another domain's id")
        provider = sandbox.providers[domain.provider]
        holder = provider.name_holder(loaded, domain.name, domain.owner)
        if holder is not None:
            j = places[(holder.provider, holder.id)]
            raise ScenarioError(
                f"{where}: name: {_domain_label(j, entries[j])} holds it already; "
                f"{provider.name_rule}"
            )
        places[(domain.provider, domain.id)] = i
        loaded.add(domain)
    return loaded.list()


def _load_zone(clock, records: list) -> Zone:
    zone = Zone(clock=clock)
    for i, record in enumerate(records):
        values = record["values"] if "values" in record else [record["value"]]  # a zone file's
        for value in values:
            _entry(
                _record_label(i, record),
                lambda r=record, v=value: zone.add(
                    r["name"],
                    r["type"],
                    v,
                    ttl=r.get("ttl", DEFAULT_TTL),
                    visible_after=_optional_instant(r, "visible_after"),
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
                fault_id=f.get("id"),
            ),
        )
    return loaded


def _http_fault_args(fault: dict) -> dict:
    """A scenario's HTTP fault as HttpFaults.add takes it: its `id` as `fault_id`."""
    return {("fault_id" if k == "id" else k): v for k, v in fault.items()}


def _check_http_fault(sandbox: Sandbox, checked: HttpFaults, fault: dict) -> None:
    sandbox.check_http_fault(fault, checked)
    provider, operation = sandbox.providers[fault["provider"]], fault.get("operation")
    if operation and operation not in provider.operation_ids():
        known = ", ".join(sorted(provider.operation_ids()))
        raise ValueError(
            f"operation: {brief(operation)} is not an operation of {provider.name}'s API; "
            f"use: {known}"
        )


def _load_credentials(sandbox: Sandbox, registered: dict) -> dict[str, list[dict]]:
    """The registered credentials of a scenario, each checked as registering it would be, and
    each key once (two entries of one key, one revoked, were one of them without a word)."""
    loaded = {}
    for name, entries in registered.items():
        loaded[name], places = [], {}
        for i, entry in enumerate(entries):
            where = f"credentials.{name}[{i}]"
            credential = _entry(where, lambda n=name, e=entry: _load_credential(sandbox, n, e))
            same = sandbox.providers[name].credential_key(credential["key"])
            if same in places:
                raise ScenarioError(
                    f"{where}: key {_label(credential['key'])} is credentials.{name}"
                    f"[{places[same]}] already: write each key once"
                )
            places[same] = i
            loaded[name].append(credential)
    return loaded


def _load_credential(sandbox: Sandbox, provider: str, entry: dict) -> dict:
    key, secret = sandbox.providers[provider].check_credential(entry["key"], entry.get("secret"))
    revoked = entry.get("revoked", False)
    return {"key": key} | ({"secret": secret} if secret is not None else {}) | {"revoked": revoked}


def _check_provider_state(sandbox: Sandbox, name: str, state: dict) -> None:
    """Load `state` into a throwaway copy of the provider: it must load before the real one
    is touched. A key the provider does not keep is refused (a typo was dropped unsaid)."""
    provider = sandbox.providers[name]
    for key in state:
        if key not in provider.state_keys:
            keeps = ", ".join(provider.state_keys) or "nothing (leave it out)"
            raise ValueError(f"{brief(key)} is not part of {name}'s state, which keeps {keeps}")
    type(provider)(sandbox).load_state(decode(state))


# The sections of a world keyed by a provider's name, and those whose entries name one.
_KEYED_BY_PROVIDER = ("settings", "providers", "credentials")
_NAMING_A_PROVIDER = ("domains", "deleted_places", "http_faults")


def _providers_in_lower_case(world, providers) -> dict:
    """`world` with each provider named in any letter case (`Monite`, `SES`) named as the
    sandbox names it (monite, ses), as the CLI and the control API take it. Done first, so
    upgrades read the names they know; a name that is no provider's is left as written, for the
    schema to refuse as written."""
    if not isinstance(world, dict):
        return world
    world = dict(world)
    for section in _KEYED_BY_PROVIDER:
        if isinstance(world.get(section), dict):
            world[section] = _keyed_in_lower_case(section, world[section], providers)
    for section in _NAMING_A_PROVIDER:
        if isinstance(world.get(section), list):
            world[section] = [_named_in_lower_case(e, providers) for e in world[section]]
    return world


def _provider_named(name, providers):
    """The provider's name `name` stands for in any letter case; else `name` as it is."""
    lower = name.lower() if isinstance(name, str) else None
    return lower if lower in providers else name


def _keyed_in_lower_case(section: str, mapping: dict, providers) -> dict:
    keyed, keys = {}, {}
    for key, value in mapping.items():
        name = _provider_named(key, providers)
        if name in keyed:  # Monite and monite: which one to keep would be a guess
            raise ScenarioError(
                f"{section}: {keys[name]!r} and {key!r} both name {name}; name it once"
            )
        keyed[name], keys[name] = value, key
    return keyed


def _named_in_lower_case(entry, providers):
    if not isinstance(entry, dict) or "provider" not in entry:
        return entry
    name = _provider_named(entry["provider"], providers)
    return entry if name == entry["provider"] else entry | {"provider": name}


def upgraded(world) -> tuple[dict, Upgrade | None]:
    """`world` in the format this version writes, and what upgrading it changed (None when it
    was written in this format); NewerFormat for a world of a format newer than this one's.
    A world without a format is read as format 1; a format that is no whole number is left
    for the schema to refuse."""
    found = world.get("format", 1) if isinstance(world, dict) else FORMAT
    if not isinstance(found, int) or isinstance(found, bool) or found == FORMAT:
        return world, None
    if found > FORMAT:
        raise NewerFormat(found)
    if found < 1:
        return world, None
    upgrade = Upgrade(found, FORMAT)
    for number in range(found, FORMAT):
        world = UPGRADES[number](world, upgrade) | {"format": number + 1}
    return world, upgrade


def load_world(sandbox: Sandbox, world: dict, keep_logs: bool = False) -> Upgrade | None:
    """Replace the sandbox's world by `world`, or change nothing and raise ScenarioError.

    A world of an earlier format is upgraded first: what that changed is returned (None for a
    world of this format). Everything is checked, against the schema and then against each
    provider's vocabulary, and built aside before the world is touched. `keep_logs`: as
    Sandbox.reset.
    """
    world, upgrade = upgraded(_providers_in_lower_case(world, sandbox.providers))
    check(world)
    seed = world.get("seed", sandbox.seed)
    drawn = world.get("ids_drawn", 0)
    clock = world.get("clock", {})
    now = _entry("clock.now", lambda: check_instant(utc(clock["now"]))) if "now" in clock else None
    mode = clock.get("mode")
    _entry("clock", lambda: _check_clock(clock))
    domains = _load_domains(sandbox, world.get("domains", []))
    places = _load_places(sandbox, world.get("deleted_places", []), len(domains))
    dns = world.get("dns", {})
    zone = _load_zone(sandbox.clock, dns.get("records", []))
    dns_faults = _load_dns_faults(dns.get("faults", []))
    dns_faults.numbered(dns.get("faults_added", 0))
    settings = world.get("settings", {})
    for name, changes in settings.items():
        _entry(f"settings.{name}", lambda n=name, c=changes: sandbox.check_settings(n, c))
    provider_states = world.get("providers", {})
    for name, state in provider_states.items():
        _entry(f"providers.{name}", lambda n=name, s=state: _check_provider_state(sandbox, n, s))
    http_faults = [_http_fault_args(f) for f in world.get("http_faults", [])]
    checked = HttpFaults(seed)  # all of them, as the DNS faults are: an id given twice is refused
    for i, fault in enumerate(http_faults):
        _entry(f"http_faults[{i}]", lambda f=fault: _check_http_fault(sandbox, checked, f))
    credentials = _load_credentials(sandbox, world.get("credentials", {}))

    # Everything is valid: swap it in at once. Should the swap fail all the same (a check
    # missed), the world it replaced comes back: a load never loses what was there.
    before = None
    try:
        with sandbox.replacing_world():
            before = export_world(sandbox)  # once a clock move under way has let go of it
            # a scenario that says nothing of the clock's mode leaves it as it found it (a frozen
            # demo stays frozen), not in the mode a reset puts back
            found = None if mode or "frozen" in clock else sandbox.clock.saved()
            sandbox.reset(seed, keep_logs)
            if found is not None:
                sandbox.clock.restore(found, instant=False)
            sandbox.ids = Ids(seed, drawn)
            # stop first: a running clock would drift past `now`. A clock that moves only when
            # told stays in its mode (an on-poll sandbox loading a frozen scenario polls on), a
            # running one at its speed.
            if mode:
                sandbox.clock.set_mode(mode, clock.get("speed"))
            elif clock.get("frozen") is True and not sandbox.clock.frozen:
                sandbox.clock.freeze()
            if now is not None:
                sandbox.clock.set(now)
            if not mode and clock.get("frozen") is False:
                sandbox.clock.unfreeze()
            sandbox.dns.zone = zone
            sandbox.dns.faults = dns_faults
            for name, changes in settings.items():
                sandbox.update_settings(name, changes)
            for name, state in provider_states.items():
                sandbox.providers[name].load_state(decode(state))
            sandbox.store.restore(domains, places)
            for fault in http_faults:
                sandbox.http_faults.add(**fault)
            sandbox.http_faults.numbered(world.get("http_faults_added", 0))
            sandbox.http_faults.reseed(sandbox.seed, world.get("http_fault_draws", 0))
            sandbox.rate_limits.enabled = world.get("rate_limits", False)
            sandbox.credentials.replace(credentials)
    except Exception as exc:
        if before is None:  # the world was never touched
            raise
        log.exception("a scenario that passed every check failed to load; the world is put back")
        load_world(sandbox, before, keep_logs=True)
        raise ScenarioError(
            f"it does not load ({type(exc).__name__}: {exc}); the world is as it was"
        ) from None
    return upgrade


def _load_places(sandbox: Sandbox, entries: list[dict], domains: int) -> list:
    """A world's `deleted_places` as the store restores them: each of a provider whose cursors
    name domains, and after at most as many domains as the world holds."""
    places = []
    for i, entry in enumerate(entries):
        provider, after = entry["provider"], entry["after"]
        if not sandbox.providers[provider].cursor_places:
            raise ScenarioError(
                f"deleted_places[{i}]: {provider}'s page cursors name no domain: "
                "it keeps no deleted domain's place"
            )
        if after > domains:
            raise ScenarioError(
                f"deleted_places[{i}]: after {after} domains, but the world holds {domains}"
            )
        places.append((provider, entry["id"], entry["owner"], after))
    return places


def _check_clock(clock: dict) -> None:
    """A scenario's clock says one thing, or ValueError: its mode (and speed) as a mode is set,
    `frozen` as that mode is (a fast clock runs), a speed only beside `mode: fast`."""
    mode, frozen = clock.get("mode"), clock.get("frozen")
    if mode:
        speed = check_mode(mode, clock.get("speed"))  # 0: it moves only when told (frozen)
        if frozen is not None and frozen != (not speed):
            runs = "runs" if speed else "stands still"
            raise ValueError(f"frozen: {str(frozen).lower()} contradicts mode: {mode} (it {runs})")
    elif clock.get("speed") not in (None, 1):
        raise ValueError("speed: only a fast clock has a speed; give mode: fast beside it")


def _clock_of(clock: Clock) -> dict:
    """The clock as a scenario keeps it: its instant, and its mode where `frozen` cannot say it."""
    kept = {"now": exact_iso(clock.now()), "frozen": clock.frozen}
    if clock.mode in ("fast", "on-poll"):
        kept["mode"] = clock.mode
    if clock.mode == "fast":
        kept["speed"] = clock.speed
    return kept
