"""Mailgun's DNS records and the rule that judges them, defined once.

Two providers use them: Mailgun itself (sandbox/providers/mailgun.py) and Monite, whose mailbox
domains are Mailgun domains underneath (its `dns_records` are Mailgun's record objects passed
through). What a domain must publish, which records decide verification, and how a record
reads on the wire (`valid`, `cached`, `is_active`, string `priority`) live here and nowhere else.

The rule, from Mailgun's guide ("Once you've added the two TXT records and they've propagated,
your domain will be verified"): the sending SPF and DKIM TXT records decide; the tracking CNAME
(click/open/unsubscribe tracking) and the receiving MX records are checked and reported but do
not decide. In engine terms: SPF and DKIM are `required`, the others `recommended`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.records import Domain, Outcome, RequiredRecord, Rule

if TYPE_CHECKING:
    from ..engine.ids import Ids

SPF_INCLUDE = "include:mailgun.org"
SPF_VALUE = f"v=spf1 {SPF_INCLUDE} ~all"  # the same in both regions
# Per region: the receiving exchanges and the tracking CNAME's target (Mailgun's region table).
REGIONS = {
    "us": (("mxa.mailgun.org", "mxb.mailgun.org"), "mailgun.org"),
    "eu": (("mxa.eu.mailgun.org", "mxb.eu.mailgun.org"), "eu.mailgun.org"),
}
MX_PRIORITY = 10
# Selectors Mailgun hands out for a TXT key when the customer names none (seen in its docs and in
# published zones: krs, smtp, mx); the sandbox draws one from the seed. pdk1 and pdk2 are the
# names of Automatic Sender Security's CNAMEs (SENDER_SECURITY), never a TXT key's.
DKIM_SELECTORS = ("mx", "smtp", "krs")
DEFAULT_KEY_SIZE = 1024  # Mailgun's documented default
DEFAULT_WEB_PREFIX = "email"
# Automatic Sender Security: Mailgun keeps and rotates the DKIM keys, and the domain delegates
# them with two CNAMEs in place of the TXT key (Mailgun's docs, mg_security: "pdk1._domainkey.
# my.domain.com" pointing at "pdk1._domainkey.9d876.dkim1.mailgun.com", pdk2 the same).
SENDER_SECURITY = {"pdk1": "dkim", "pdk2": "dkim_2"}  # selector: record kind
SENDER_SECURITY_ZONE = "dkim1.mailgun.com"
# The record kinds, in the order Mailgun lists them (sending: SPF, DKIM, tracking; receiving: MX),
# and those of Mailgun's own domains: Automatic Sender Security's second DKIM CNAME besides.
KINDS = ("spf", "dkim", "tracking", "mx_mxa", "mx_mxb")
MAILGUN_KINDS = ("spf", "dkim", "dkim_2", "tracking", "mx_mxa", "mx_mxb")
DECIDING = ("spf", "dkim", "dkim_2")  # the kinds that decide verification, where a domain has them

# How a check's outcome reads in a record's `valid` field. A lookup that failed for now
# (SERVFAIL, timeout) is no evidence either way: `unknown`, as before any check.
VALIDITY = {
    Outcome.VALID: "valid",
    Outcome.INVALID: "invalid",
    Outcome.NOT_FOUND: "invalid",
    Outcome.TEMPORARY_FAILURE: "unknown",
}


def records(
    ids: Ids,
    name: str,
    region: str = "us",
    selector: str | None = None,
    key_bits: int = DEFAULT_KEY_SIZE,
    web_prefix: str = DEFAULT_WEB_PREFIX,
    dkim_host: str | None = None,
) -> list[RequiredRecord]:
    """The records a new Mailgun domain asks for. Draws from `ids`: the selector (unless
    given), then the DKIM key. `dkim_host`: where the DKIM key sits, if not at the domain."""
    exchanges, tracking_target = REGIONS[region]
    return [
        RequiredRecord("spf", "TXT", name, SPF_VALUE, Rule.SPF, SPF_INCLUDE),
        dkim_key(ids, dkim_host or name, selector, key_bits),
        tracking(name, web_prefix, region),
        *(
            RequiredRecord(
                f"mx_{host[:3]}",
                "MX",
                name,
                host,
                Rule.MX,
                priority=MX_PRIORITY,
                level="recommended",
            )
            for host in exchanges
        ),
    ]


def dkim_key(
    ids: Ids, host: str, selector: str | None = None, key_bits: int = DEFAULT_KEY_SIZE
) -> RequiredRecord:
    """The DKIM TXT record at `host`: draws the selector (unless given), then the key."""
    selector = selector or ids.random.choice(DKIM_SELECTORS)
    return dkim_record(f"{selector}._domainkey.{host}", f"k=rsa; p={ids.rsa_public_key(key_bits)}")


def dkim_record(name: str, key: str) -> RequiredRecord:
    """The DKIM TXT record `name` holding `key` ("k=rsa; p=...")."""
    return RequiredRecord("dkim", "TXT", name, key, Rule.DKIM)


def sender_security(keys: str, host: str) -> list[RequiredRecord]:
    """Automatic Sender Security's two DKIM CNAMEs at `host`, to where Mailgun keeps the
    domain's keys (`keys`, five hex digits in its docs' example)."""
    return [
        RequiredRecord(
            kind,
            "CNAME",
            f"{selector}._domainkey.{host}",
            f"{selector}._domainkey.{keys}.{SENDER_SECURITY_ZONE}",
            Rule.CNAME,
        )
        for selector, kind in SENDER_SECURITY.items()
    ]


def with_dkim(records: list[RequiredRecord], dkim: list[RequiredRecord]) -> list[RequiredRecord]:
    """`records` with their DKIM record or records replaced by `dkim`, after the SPF record."""
    rest = [r for r in records if r.kind not in DECIDING]
    spf = [r for r in records if r.kind == "spf"]
    return spf + dkim + rest


def tracking(name: str, web_prefix: str = DEFAULT_WEB_PREFIX, region: str = "us") -> RequiredRecord:
    """The tracking CNAME `<web_prefix>.<domain>` (changes with the domain's web_prefix)."""
    target = REGIONS[region][1]
    return RequiredRecord(
        "tracking", "CNAME", f"{web_prefix}.{name}", target, Rule.CNAME, level="recommended"
    )


def verified(domain: Domain) -> bool:
    """Mailgun's rule: the domain verifies once its SPF and DKIM records are valid (both DKIM
    CNAMEs under Automatic Sender Security)."""
    results = domain.results
    deciding = DECIDING if domain.record("dkim_2") else DECIDING[:2]  # SPF and DKIM at least
    return all(results.get(kind) is not None and results[kind].valid for kind in deciding)


def wire_record(
    domain: Domain,
    record: RequiredRecord,
    purpose: bool = False,
    named: bool = True,
    active: bool = True,
) -> dict:
    """One record as Mailgun's API shows it: `valid` and `cached` from the last check.
    `purpose`: add Monite's `record_purpose` (SPF, DKIM) on the sending TXT records.
    `named`: show the record's `name`; `active`: its `is_active`."""
    result = domain.results.get(record.kind)
    wire = {"is_active": active}
    if named:
        wire["name"] = record.name
    if purpose and record.kind in DECIDING:
        wire["record_purpose"] = record.kind.upper()
    wire["record_type"] = record.type
    wire["valid"] = VALIDITY[result.outcome] if result else "unknown"
    wire["value"] = record.value
    wire["cached"] = list(result.found) if result else []
    if record.priority is not None:
        wire["priority"] = str(record.priority)
    return wire


def sending(domain: Domain, purpose: bool = False, dkim_active: bool = True) -> list[dict]:
    """The `sending_dns_records`: SPF, DKIM and the tracking CNAME. `dkim_active`: the DKIM
    record's `is_active` (whether Mailgun signs with its key yet)."""
    return [
        wire_record(domain, r, purpose, active=dkim_active or not r.kind.startswith("dkim"))
        for r in domain.records
        if r.type != "MX"
    ]


def receiving(domain: Domain, purpose: bool = False, named: bool = True) -> list[dict]:
    """The `receiving_dns_records`: the two MX records. `named`: show their `name` (Mailgun's
    own answers leave it out: the MX records go at the domain itself)."""
    return [wire_record(domain, r, purpose, named) for r in domain.records if r.type == "MX"]
