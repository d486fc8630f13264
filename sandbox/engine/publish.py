"""Writing a domain's expected records into DNS, with chosen ones left out or broken on purpose."""

from __future__ import annotations

from .records import RequiredRecord, Rule

# A deliberately wrong value per rule: found by the verifier, but judged invalid.
_CORRUPTIONS = {
    Rule.TOKEN: lambda r: r.value + "-wrong",
    Rule.SPF: lambda r: "v=spf1 include:_spf.wrong-provider.example ~all",
    Rule.DKIM: lambda r: "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCwrongkey",
    Rule.DMARC: lambda r: "v=DMARC1; p=bogus",
    Rule.MX: lambda r: f"{r.priority or 10} mx.wrong-provider.example",
    Rule.MX_FIRST: lambda r: f"{r.priority or 10} mx.wrong-provider.example",
    Rule.CNAME: lambda r: "wrong-target.wrong-provider.example",
    Rule.EXACT: lambda r: _wrong_exact(r),
}


def _wrong_exact(record: RequiredRecord) -> str:
    if record.type == "SRV":
        return "0 0 1 wrong-target.wrong-provider.example"
    if record.type in ("CNAME", "MX", "NS"):
        return "wrong-target.wrong-provider.example"
    if record.type == "A":
        return "192.0.2.1"
    return record.value + "-wrong"


def presentation(record: RequiredRecord) -> str:
    """The record's value as a zone holds it (MX values carry their priority)."""
    if record.type == "MX" and record.priority is not None:
        return f"{record.priority} {record.value}"
    return record.value


def plan(records: list[RequiredRecord], omit=(), corrupt=()) -> list[dict]:
    """The zone entries to write: every expected record, less `omit`, with `corrupt` broken."""
    entries = []
    for record in records:
        if record.kind in omit:
            continue
        value = presentation(record)
        broken = record.kind in corrupt
        if broken:
            value = _CORRUPTIONS[record.rule](record)
        entries.append(
            {"kind": record.kind, "name": record.name, "type": record.type, "value": value}
            | ({"corrupted": True} if broken else {})
        )
    return entries


def managed_values(records: list[RequiredRecord]) -> dict[tuple[str, str], set[str]]:
    """Per (name, type), the values publishing may have written: expected and corrupted."""
    managed: dict[tuple[str, str], set[str]] = {}
    for record in records:
        values = managed.setdefault((record.name.lower(), record.type), set())
        values.add(presentation(record))
        values.add(_CORRUPTIONS[record.rule](record))
    return managed
