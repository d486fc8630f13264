"""What a provider asks the customer to publish, and what the verifier found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .clock import exact_iso  # to the microsecond, as results are kept


class Rule(StrEnum):
    """How a published record is judged against the expected one."""

    TOKEN = "token"  # TXT: the expected string is among the TXT strings at the name
    SPF = "spf"  # TXT: exactly one v=spf1 record, containing the expected include:
    DKIM = "dkim"  # TXT equal to the expected value or carrying the expected p=
    DMARC = "dmarc"  # TXT: one v=DMARC1 record with a valid p= tag
    MX = "mx"  # MX to the expected exchange
    MX_FIRST = "mx_first"  # MX to the expected exchange, no other one preferred before it
    CNAME = "cname"  # CNAME (chains followed) to the expected target
    EXACT = "exact"  # any record of the type equal to the expected presentation value


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # found, but wrong: the reason says why
    NOT_FOUND = "not_found"  # NXDOMAIN or NODATA
    TEMPORARY_FAILURE = "temporary_failure"  # SERVFAIL, REFUSED, timeout


@dataclass(slots=True)
class RequiredRecord:
    """One record the provider tells the customer to publish.

    `kind` is the provider's own key for it (for example "spf", "dkim", "mail_from_mx");
    `value` is the exact presentation value to publish; `expected` is what the rule compares
    (an include, an exchange, a key) when it differs from the value.

    Never changed once made, yet not a frozen dataclass: that sets each field through
    `object.__setattr__`, five times the cost, and a create makes up to a dozen records.
    """

    kind: str
    type: str
    name: str
    value: str
    rule: Rule
    expected: str = ""
    priority: int | None = None
    level: str = "required"

    @property
    def target(self) -> str:
        return self.expected or self.value

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "type": self.type,
            "name": self.name,
            "value": self.value,
            "priority": self.priority,
            "rule": str(self.rule),
            "level": self.level,
        }


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one required record, with a sentence a person can act on."""

    record: RequiredRecord
    outcome: Outcome
    reason: str | None = None
    found: tuple[str, ...] = ()
    checked_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.VALID

    def to_dict(self) -> dict:
        return {
            "kind": self.record.kind,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "found": list(self.found),
            "checked_at": exact_iso(self.checked_at),
        }


class _Scheduled:
    """`Domain.due_at`, told to the domain's store when it changes: the store keeps domains
    ordered by it. A descriptor, not a `__setattr__`, so that every other attribute set (a
    dozen in each create) stays a plain one."""

    def __get__(self, domain, owner=None) -> datetime | None:
        if domain is None:
            return None  # the field's default, as dataclasses asks for it
        return domain.__dict__.get("_due_at")

    def __set__(self, domain, value: datetime | None) -> None:
        domain.__dict__["_due_at"] = value
        if (store := domain.__dict__.get("_store")) is not None:
            store.rescheduled(domain)


@dataclass
class Domain:
    """A domain as the engine sees it; each provider keeps its own fields in `attrs`."""

    provider: str
    id: str
    name: str
    owner: str
    created_at: datetime
    updated_at: datetime
    status: str
    records: list[RequiredRecord] = field(default_factory=list)
    results: dict[str, CheckResult] = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    timeline: list[dict] = field(default_factory=list)
    due_at: datetime | None = _Scheduled()  # when the provider's next scheduled step runs
    checks: int = 0
    last_checked_at: datetime | None = None
    # The store holding it, told of due_at changes (set by Store.add, cleared by Store.remove).
    _store: object = field(default=None, init=False, repr=False, compare=False)

    def record(self, kind: str) -> RequiredRecord | None:
        return next((r for r in self.records if r.kind == kind), None)

    def summary(self, when: Callable[[datetime | None], str | None], **view: Any) -> dict:
        """The fields every view of a domain shares (the control API's, a scenario's), as
        plain data, with the `view`'s own fields before the timeline, which comes last (the
        story of a domain reads after its records); `when` writes the instants."""
        shared = {
            "provider": self.provider,
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "status": self.status,
            "created_at": when(self.created_at),
            "updated_at": when(self.updated_at),
            "last_checked_at": when(self.last_checked_at),
            "next_step_at": when(self.due_at),
            "checks": self.checks,
        }
        timeline = [{"at": when(t["at"]), "status": t["status"]} for t in self.timeline]
        return shared | view | {"timeline": timeline}
