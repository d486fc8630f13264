"""The validation authority: the only part of the sandbox that talks to DNS.

It asks a real DNS server over the DNS protocol (dnspython as the stub resolver): the built-in
fake DNS by default, or any resolver given with `--resolver`. One small function per rule turns
what DNS answered into a CheckResult whose reason a person can act on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from .clock import Clock
from .records import CheckResult, Outcome, RequiredRecord, Rule

# Per-query budget: long enough for a loaded CI machine, short enough that a "drop" fault on the
# fake DNS turns into a temporary failure within a test's patience.
LOOKUP_TIMEOUT_SECONDS = 1.5
# The most one check of a domain's records (a verify, a re-check) waits for DNS in all. With
# answers dropped each lookup waits its whole timeout: a domain of twelve records would hold a
# thread (and its caller) for 18 s. Records left when it is spent are not asked, and say so.
CHECK_BUDGET_SECONDS = 4.0
# How far CNAME chains are followed, as the fake DNS server does.
MAX_CNAME_HOPS = 8

DMARC_POLICIES = {"none", "quarantine", "reject"}


@dataclass(frozen=True)
class Answer:
    """What one lookup produced: values, or a negative or failed answer."""

    values: tuple[str, ...] = ()
    status: str = "ok"  # ok | nxdomain | nodata | failure
    detail: str = ""


def _norm_name(name: str) -> str:
    return name.lower().rstrip(".")


def _txt_value(rdata) -> str:
    return b"".join(rdata.strings).decode("utf-8", "replace")


def _present(rdata) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:
        return _txt_value(rdata)
    if rdata.rdtype == dns.rdatatype.MX:
        exchange = _norm_name(rdata.exchange.to_text()) or "."  # "." is a null MX (RFC 7505)
        return f"{rdata.preference} {exchange}"
    if rdata.rdtype == dns.rdatatype.CNAME:
        return _norm_name(rdata.target.to_text())
    text = rdata.to_text()
    if rdata.rdtype == dns.rdatatype.SRV:
        return _norm_name(text)
    return text


class Verifier:
    """Judges required records against what a DNS server publishes."""

    def __init__(self, host: str, port: int, clock: Clock, timeout: float = LOOKUP_TIMEOUT_SECONDS):
        self.host, self.port, self.clock, self.timeout = host, port, clock, timeout

    # --- lookups -------------------------------------------------------------------------------

    def _resolver(self, timeout: float) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.host]
        resolver.port = self.port
        resolver.timeout = timeout
        resolver.lifetime = timeout
        resolver.retry_servfail = False
        return resolver

    def lookup(self, name: str, rdtype: str, timeout: float | None = None) -> Answer:
        """Ask for one name and type; CNAMEs are followed by the resolver for non-CNAME types."""
        resolver = self._resolver(timeout or self.timeout)
        try:
            answer = resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return Answer(status="nxdomain", detail=f"{name} does not exist (NXDOMAIN)")
        except (dns.name.NameTooLong, dns.name.LabelTooLong) as exc:  # no DNS can hold it
            return Answer(status="nxdomain", detail=f"{name} cannot exist: {exc}")
        except dns.resolver.NoNameservers as exc:
            return Answer(status="failure", detail=_failure_detail(exc, name, rdtype))
        except dns.exception.Timeout:
            return Answer(
                status="failure", detail=f"DNS lookup of {rdtype} {name} timed out; try again later"
            )
        except dns.exception.DNSException as exc:
            return Answer(status="failure", detail=f"DNS lookup of {rdtype} {name} failed: {exc}")
        wanted = dns.rdatatype.from_text(rdtype)
        values = tuple(_present(r) for r in (answer.rrset or ()) if r.rdtype == wanted)
        if not values:
            return Answer(status="nodata", detail=f"no {rdtype} record at {name}")
        return Answer(values=values)

    # --- judging --------------------------------------------------------------------------------

    def check(self, record: RequiredRecord, lookups: _Budget | None = None) -> CheckResult:
        """Judge one required record now (its lookups within `lookups`' budget, if given)."""
        judge = _RULES[record.rule]
        outcome, reason, found = judge(lookups or self, record)
        return CheckResult(record, outcome, reason, tuple(found), self.clock.now())

    def check_all(self, records: list[RequiredRecord]) -> dict[str, CheckResult]:
        """Judge a domain's records, waiting for DNS CHECK_BUDGET_SECONDS at most in all."""
        lookups = _Budget(self, time.monotonic() + CHECK_BUDGET_SECONDS)
        return {record.kind: self.check(record, lookups) for record in records}


class _Budget:
    """The lookups of one check: each waits no longer than what is left of the budget."""

    def __init__(self, verifier: Verifier, deadline: float):
        self.verifier, self.deadline = verifier, deadline

    def lookup(self, name: str, rdtype: str) -> Answer:
        left = self.deadline - time.monotonic()
        if left <= 0:
            return Answer(
                status="failure",
                detail=f"DNS lookup of {rdtype} {name} not made: the other lookups of this "
                f"check took {CHECK_BUDGET_SECONDS:g} s; try again later",
            )
        return self.verifier.lookup(name, rdtype, min(self.verifier.timeout, left))


def _failure_detail(exc: dns.resolver.NoNameservers, name: str, rdtype: str) -> str:
    text = str(exc)
    for code in ("SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"):
        if code in text:
            return f"DNS server answered {code} for {rdtype} {name}; try again later"
    return f"DNS lookup of {rdtype} {name} failed; try again later"


Verdict = tuple[Outcome, str | None, tuple[str, ...] | list[str]]


def _negative(answer: Answer) -> Verdict:
    if answer.status == "failure":
        return Outcome.TEMPORARY_FAILURE, answer.detail, ()
    return Outcome.NOT_FOUND, answer.detail, ()


def _txt(verifier: Verifier, record: RequiredRecord) -> tuple[Answer, Verdict | None]:
    answer = verifier.lookup(record.name, "TXT")
    return answer, (None if answer.status == "ok" else _negative(answer))


def _judge_token(verifier: Verifier, record: RequiredRecord) -> Verdict:
    answer, negative = _txt(verifier, record)
    if negative:
        return negative
    if record.target in (v.strip() for v in answer.values):
        return Outcome.VALID, None, answer.values
    return (
        Outcome.INVALID,
        f"TXT records at {record.name} do not include the expected value {record.target!r}",
        answer.values,
    )


def _judge_spf(verifier: Verifier, record: RequiredRecord) -> Verdict:
    answer, negative = _txt(verifier, record)
    if negative:
        return negative
    spf = [v for v in answer.values if v.strip().lower().startswith("v=spf1")]
    if not spf:
        return Outcome.INVALID, f"no v=spf1 record among the TXT records at {record.name}", ()
    if len(spf) > 1:
        return (
            Outcome.INVALID,
            f"{len(spf)} SPF records at {record.name}; a name may publish only one v=spf1 "
            "record (RFC 7208), merge them",
            spf,
        )
    include = record.target.lower()
    if include not in spf[0].lower().split():
        return Outcome.INVALID, f"the SPF record at {record.name} lacks {include}", spf
    return Outcome.VALID, None, spf


def _dkim_key(value: str) -> str | None:
    tags = dict(
        part.strip().split("=", 1) for part in value.split(";") if "=" in part and part.strip()
    )
    key = tags.get("p")
    return re.sub(r"\s+", "", key) if key is not None else None


def _judge_dkim(verifier: Verifier, record: RequiredRecord) -> Verdict:
    if record.type == "CNAME":
        return _judge_cname(verifier, record)
    answer, negative = _txt(verifier, record)
    if negative:
        return negative
    expected_key = _dkim_key(record.target) or re.sub(r"\s+", "", record.target)
    for value in answer.values:
        compact = re.sub(r"\s+", "", value)
        if compact == re.sub(r"\s+", "", record.target) or compact == expected_key:
            return Outcome.VALID, None, answer.values
        if _dkim_key(value) == expected_key:
            return Outcome.VALID, None, answer.values
    return (
        Outcome.INVALID,
        f"the DKIM record at {record.name} does not carry the expected public key",
        answer.values,
    )


def _judge_dmarc(verifier: Verifier, record: RequiredRecord) -> Verdict:
    answer, negative = _txt(verifier, record)
    if negative:
        return negative
    dmarc = [v for v in answer.values if v.strip().upper().startswith("V=DMARC1")]
    if not dmarc:
        return Outcome.INVALID, f"no v=DMARC1 record among the TXT records at {record.name}", ()
    if len(dmarc) > 1:
        return Outcome.INVALID, f"{len(dmarc)} DMARC records at {record.name}; publish one", dmarc
    tags = {
        k.strip().lower(): v.strip().lower()
        for k, _, v in (p.partition("=") for p in dmarc[0].split(";"))
    }
    if tags.get("p") not in DMARC_POLICIES:
        return (
            Outcome.INVALID,
            f"the DMARC record at {record.name} needs p=none, p=quarantine or p=reject",
            dmarc,
        )
    return Outcome.VALID, None, dmarc


def _judge_mx(verifier: Verifier, record: RequiredRecord) -> Verdict:
    answer = verifier.lookup(record.name, "MX")
    if answer.status != "ok":
        return _negative(answer)
    wanted = _norm_name(record.target)
    exchanges = [v.split()[-1] for v in answer.values]
    if wanted in exchanges:
        return Outcome.VALID, None, answer.values
    return (
        Outcome.INVALID,
        f"MX records at {record.name} point to {', '.join(exchanges)}, not {wanted}",
        answer.values,
    )


def _judge_mx_first(verifier: Verifier, record: RequiredRecord) -> Verdict:
    """As `_judge_mx`, and mail goes there first: no other exchange at the name has a lower
    preference (one at the same preference shares the mail, and is let be)."""
    outcome, reason, values = verdict = _judge_mx(verifier, record)
    if outcome is not Outcome.VALID:
        return verdict
    wanted = _norm_name(record.target)
    preferences = [(int(v.split()[0]), v.split()[-1]) for v in values]
    its = min(preference for preference, exchange in preferences if exchange == wanted)
    before = [f"{p} {exchange}" for p, exchange in sorted(preferences) if p < its]
    if not before:
        return verdict
    return (
        Outcome.INVALID,
        f"MX records at {record.name} send mail to {', '.join(before)} before {its} {wanted}: "
        f"{wanted} must have the lowest preference",
        values,
    )


def _judge_cname(verifier: Verifier, record: RequiredRecord) -> Verdict:
    wanted, name, seen = _norm_name(record.target), record.name, []
    for _ in range(MAX_CNAME_HOPS):
        answer = verifier.lookup(name, "CNAME")
        if answer.status != "ok":
            if seen:  # the chain ended before reaching the target
                break
            return _negative(answer)
        name = answer.values[0]
        seen.append(name)
        if name == wanted:
            return Outcome.VALID, None, seen
    return Outcome.INVALID, f"CNAME at {record.name} leads to {seen[-1]}, not {wanted}", seen


def _judge_exact(verifier: Verifier, record: RequiredRecord) -> Verdict:
    answer = verifier.lookup(record.name, record.type)
    if answer.status != "ok":
        return _negative(answer)
    wanted = _norm_name(record.target) if record.type != "TXT" else record.target
    if wanted in answer.values:
        return Outcome.VALID, None, answer.values
    return (
        Outcome.INVALID,
        f"{record.type} records at {record.name} are {', '.join(answer.values)}, "
        f"expected {record.target}",
        answer.values,
    )


_RULES: dict[Rule, Callable[[Verifier, RequiredRecord], Verdict]] = {
    Rule.TOKEN: _judge_token,
    Rule.SPF: _judge_spf,
    Rule.DKIM: _judge_dkim,
    Rule.DMARC: _judge_dmarc,
    Rule.MX: _judge_mx,
    Rule.MX_FIRST: _judge_mx_first,
    Rule.CNAME: _judge_cname,
    Rule.EXACT: _judge_exact,
}
