"""Load a YAML zone file: a list of ``{name, type, value | values, ttl, visible_after}``.

The file may also be a mapping with a ``records`` key holding that list. Entries are counted
from 1 in error messages, as a person reading the file would count them.
"""

from __future__ import annotations

from pathlib import Path

from .yamltext import read_yaml
from .zone import DEFAULT_TTL, RecordError, Zone

_KEYS = {"name", "type", "value", "values", "ttl", "visible_after"}


class ZoneFileError(ValueError):
    """A zone file that cannot be read or holds an invalid entry; the message says which."""


def load_zone_file(path) -> list[dict]:
    """Read and validate a zone file; return one record dict per value, ready for Zone.add().

    Raises ZoneFileError naming the file, the entry (index and name) and the problem.
    """
    path = Path(path)
    label = path.name
    try:
        doc = read_yaml(path.read_bytes())
    except OSError as exc:
        raise ZoneFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ZoneFileError(f"{label}: {exc}") from None
    if isinstance(doc, dict) and "records" in doc:
        doc = doc["records"]
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ZoneFileError(f"{label}: expected a list of records, got {type(doc).__name__}")
    scratch = Zone()  # validates exactly as the live zone will
    records: list[dict] = []
    for index, entry in enumerate(doc, start=1):
        for record in _entry_records(label, index, entry):
            try:
                scratch.add(**record)
            except RecordError as exc:
                where = _where(label, index, record["name"])
                raise ZoneFileError(f"{where}: {exc.reason}") from None
            records.append(record)
    return records


def apply_records(zone: Zone, records: list[dict]) -> None:
    """Add records returned by load_zone_file() to ``zone``."""
    for record in records:
        zone.add(**record)


def _entry_records(label: str, index: int, entry) -> list[dict]:
    if not isinstance(entry, dict):
        raise ZoneFileError(f"{label} entry {index}: expected a mapping, got {entry!r}")
    name = entry.get("name")
    where = _where(label, index, name)
    unknown = sorted(set(map(str, entry)) - _KEYS)
    if unknown:
        raise ZoneFileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(name, str) or not name.strip():
        raise ZoneFileError(f"{where}: missing 'name'")
    if "type" not in entry:
        raise ZoneFileError(f"{where}: missing 'type'")
    if ("value" in entry) == ("values" in entry):
        raise ZoneFileError(f"{where}: give exactly one of 'value' or 'values'")
    values = [entry["value"]] if "value" in entry else entry["values"]
    if not isinstance(values, list) or not values:
        raise ZoneFileError(f"{where}: 'values' must be a non-empty list")
    ttl = entry.get("ttl", DEFAULT_TTL)
    common = {"name": name, "type": entry["type"], "ttl": ttl}
    after = entry.get("visible_after")
    if after is not None:
        common["visible_after"] = after
    if any(isinstance(value, bool) for value in values):  # yes, no, on, off, true, false
        raise ZoneFileError(f"{where}: a value YAML read as a boolean: put it in quotes ('yes')")
    return [{**common, "value": _scalar(value)} for value in values]


def _scalar(value):
    """YAML reads `1.2.3.4` as a string but `10` as an int; record values are strings."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _where(label: str, index: int, name) -> str:
    return f"{label} entry {index} ({name})" if name else f"{label} entry {index}"
