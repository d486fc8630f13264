"""The client conformance report: what a client's tests did and did not exercise.

Every provider API request is validated against the provider's document (Connexion; strict
about query parameters but for Monite and Mailgun, which ignore those they do not declare, as
the real APIs do) and noted by the world (sandbox.world), which hands the outcome here. Per
provider the report keeps the operations called and never called, the status codes returned, the
verification states domains reached and never reached (in the provider's own words), and every
violation of the document with its operation, field and reason. Violations a test provoked on
purpose (inside `expecting_errors`) are kept apart, as expected ones.

Only what happens while the report runs counts: the states of domains loaded from a scenario
count once something moves them, not because they were loaded.

The report outlives `reset` on purpose: it describes a whole test session, whose tests reset the
sandbox between them. Clear it with DELETE /_sandbox/report.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from . import documents
from .errors import said_request
from .logs import printable, status_said

# Distinct violations kept per provider; a client stuck in a loop must not grow the sandbox.
MAX_VIOLATIONS = 500
# A value quoted in a reason is cut to this many characters: a report is read by people.
MAX_QUOTED = 40
# Tests named per violation: the first few that sent it are where to start looking.
MAX_TESTS_NAMED = 5


class Reported(Protocol):
    """What the report reads of a provider: its document and its state words."""

    document: str
    state_words: tuple[str, ...]


class _ProviderTally:
    def __init__(self):
        self.requests = 0
        self.calls: dict[str, Counter] = {}  # operationId -> status codes
        self.statuses: Counter = Counter()
        self.states: set[str] = set()
        self.violations: dict[tuple, dict] = {}
        self.expected: dict[tuple, dict] = {}  # violations provoked on purpose


class ClientReport:
    """Accumulates, per provider, what clients did; `build()` gives the report."""

    def __init__(self, providers: Mapping[str, Reported]):
        self.providers = providers
        self._lock = threading.Lock()
        self.expecting = False  # violations now are a test's deliberate bad requests
        self.test: str | None = None  # the test running now, as its runner named it
        self.clear()

    def clear(self) -> None:
        """Forget everything recorded so far (the domains' states are gathered again), and the
        test named as running: a cleared report starts afresh (the next violations were pinned
        on the last test of the run before)."""
        with self._lock:
            self._tallies = {name: _ProviderTally() for name in self.providers}
            self.test = None

    def record(self, entry: dict) -> None:
        """Note one provider request from the request log (with operation and violations)."""
        tally = self._tallies.get(entry.get("provider"))
        if tally is None:
            return
        # a dropped call's status never reached the client: it exercised none
        status = str(status_said(entry))
        with self._lock:
            tally.requests += 1
            tally.statuses[status] += 1
            if entry.get("operation"):
                tally.calls.setdefault(entry["operation"], Counter())[status] += 1
            kept = tally.expected if self.expecting else tally.violations
            for violation in entry.get("violations", []):
                _add_violation(kept, entry, violation, self.test)

    def note_states(self, provider: str, states) -> None:
        """A domain of `provider` is in `states` (noted at once: deleted domains count too)."""
        tally = self._tallies.get(provider)
        if tally is not None:
            with self._lock:
                tally.states.update(states)

    def build(self) -> dict:
        """The report: per provider, operations, status codes, states and violations."""
        with self._lock:
            return {
                "providers": {
                    name: self._provider_view(provider, self._tallies[name])
                    for name, provider in self.providers.items()
                }
            }

    @staticmethod
    def _provider_view(provider, tally: _ProviderTally) -> dict:
        operations = documents.operations(provider.document)
        called = [
            {
                "operation": op,
                "method": method,
                "path": path,
                "calls": sum(tally.calls[op].values()),
                "statuses": dict(sorted(tally.calls[op].items())),
            }
            for op, method, path in operations
            if op in tally.calls
        ]
        known_states = list(provider.state_words)
        reached = [s for s in known_states if s in tally.states]
        reached += sorted(tally.states - set(known_states))  # a state outside the vocabulary
        return {
            "requests": tally.requests,
            "operations_called": called,
            "operations_never_called": [
                {"operation": op, "method": method, "path": path}
                for op, method, path in operations
                if op not in tally.calls
            ],
            "status_codes": dict(sorted(tally.statuses.items())),
            "states_reached": reached,
            "states_never_reached": [s for s in known_states if s not in tally.states],
            "violations": list(tally.violations.values()),
            "expected_violations": list(tally.expected.values()),
        }


def _add_violation(kept: dict, entry: dict, violation: dict, test: str | None) -> None:
    example = said_request(entry["method"], entry["path"])  # a long path cut, as in messages
    operation = entry.get("operation") or f"(no operation) {example}"
    # Connexion ends a body field's reason with " - 'field'": the report names it already
    reason = readable(violation["reason"]).removesuffix(f" - '{violation['field']}'")
    key = (operation, violation["field"], reason)
    if key in kept:
        kept[key]["count"] += 1
        _name_tests(kept[key], [test] if test else [])
    elif len(kept) < MAX_VIOLATIONS:
        kept[key] = {
            "operation": operation,
            "field": violation["field"],
            "reason": reason,
            "status": violation["status"],
            "example": example,
            "count": 1,
            "tests": [test] if test else [],
        }


def _name_tests(violation: dict, tests, more: bool = False) -> None:
    """Add `tests` to those the violation names, each once, up to MAX_TESTS_NAMED; one beyond
    them (or `more`, another report's word that it had such) sets its `more_tests`."""
    named = violation["tests"]
    for test in tests:
        if test in named:
            continue
        if len(named) < MAX_TESTS_NAMED:
            named.append(test)
        else:
            more = True
    if more:
        violation["more_tests"] = True


# jsonschema's "'x' does not match '<regular expression>'": the expression helps nobody. It is
# written as Python writes a string: in double quotes when it holds a single one.
_PATTERN = re.compile(r"""does not match (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
# jsonschema starts its messages with the offending value, quoted: "'<value>' is too long".
_LONG_VALUE = re.compile(rf"^(['\"])(.{{{MAX_QUOTED}}}).+?\1(?= (?:is|does|should|was) )", re.S)


def readable(reason: str) -> str:
    """A validation message a person can read: no regular expressions, no 300-character values."""
    reason = _PATTERN.sub("does not match the pattern the document gives", reason)
    return _LONG_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}...{m.group(1)}", reason)


def render_table(report: dict) -> str:
    """The report as readable text, one section per provider; of several, those that got no
    request in one line at the end."""
    lines = []
    views = report["providers"]
    idle = [name for name, view in views.items() if not view["requests"]] if len(views) > 1 else []
    for name, view in views.items():
        if name in idle:
            continue
        count = view["requests"]
        lines.append(f"== {name}: {count} request{'' if count == 1 else 's'}")
        for op in view["operations_called"]:
            codes = ", ".join(f"{code} x{n}" for code, n in op["statuses"].items())
            lines.append(
                f"  called       {op['method']:<6} {op['path']}  ({op['operation']}): {codes}"
            )
        for op in view["operations_never_called"]:
            lines.append(f"  never called {op['method']:<6} {op['path']}  ({op['operation']})")
        codes = ", ".join(f"{code} x{n}" for code, n in view["status_codes"].items()) or "-"
        lines.append(f"  status codes: {codes}")
        lines.append(f"  states reached: {', '.join(view['states_reached']) or '-'}")
        lines.append(f"  states never reached: {', '.join(view['states_never_reached']) or '-'}")
        if view["violations"]:
            lines.append(f"  violations ({len(view['violations'])}):")
        lines.extend(f"    {violation_line(v)}" for v in view["violations"])
        if not view["violations"]:
            lines.append("  violations: none")
        if view.get("expected_violations"):
            count = sum(v["count"] for v in view["expected_violations"])
            lines.append(f"  expected violations (provoked on purpose): {count}")
        lines.append("")
    if idle:
        lines.append(f"== no requests: {', '.join(idle)}")
    return "\n".join(lines).rstrip() + "\n"


def violation_line(violation: dict) -> str:
    """One violation of the report, in a line."""
    v = violation
    tests = v.get("tests") or []  # absent from reports of earlier versions
    more = ", ..." if v.get("more_tests") else ""
    named = f", in {', '.join(tests)}{more}" if tests else ""
    return printable(  # a client's path and values, never a terminal's escape sequences
        f"{v['operation']}  field {v['field'] or '-'}: {v['reason']}  "
        f"[{v['status']}, x{v['count']}, e.g. {v['example']}{named}]"
    )


def merge(reports: list[dict]) -> dict:
    """One report of several sessions' (pytest-xdist's workers, each with its own sandbox):
    counts added, operations called by any of them called, states reached by any reached."""
    if len(reports) == 1:
        return reports[0]
    names = dict.fromkeys(name for report in reports for name in report["providers"])
    views = {
        name: [r["providers"][name] for r in reports if name in r["providers"]] for name in names
    }
    return {"providers": {name: _merged_view(name, views[name]) for name in names}}


def _merged_view(name: str, views: list[dict]) -> dict:
    called: dict[str, dict] = {}
    for op in (op for view in views for op in view["operations_called"]):
        kept = called.setdefault(op["operation"], op | {"calls": 0, "statuses": Counter()})
        kept["calls"] += op["calls"]
        kept["statuses"].update(op["statuses"])
    every_operation = [
        op for view in views for op in view["operations_called"] + view["operations_never_called"]
    ]
    order, words = _vocabulary(name)
    order += [op["operation"] for op in every_operation if op["operation"] not in order]
    never = {op["operation"]: op for op in every_operation if op["operation"] not in called}
    reached = {state for view in views for state in view["states_reached"]}
    seen = (s for view in views for s in view["states_reached"] + view["states_never_reached"])
    known = list(dict.fromkeys([*words, *seen]))
    return {
        "requests": sum(view["requests"] for view in views),
        "operations_called": [
            called[op] | {"statuses": dict(sorted(called[op]["statuses"].items()))}
            for op in order
            if op in called
        ],
        "operations_never_called": [never[op] for op in order if op in never],
        "status_codes": dict(sorted(_summed(view["status_codes"] for view in views).items())),
        "states_reached": [s for s in known if s in reached],
        "states_never_reached": [s for s in known if s not in reached],
        "violations": _merged_violations(view["violations"] for view in views),
        "expected_violations": _merged_violations(
            view.get("expected_violations", []) for view in views
        ),
    }


def _vocabulary(name: str) -> tuple[list[str], list[str]]:
    """A provider's operationIds in its document's order, and its state words, in order."""
    from .providers import PROVIDERS  # only when merging: the report itself needs no provider

    for cls in PROVIDERS:
        if cls.name == name:
            return [op for op, _, _ in documents.operations(cls.document)], list(cls.state_words)
    return [], []


def _summed(counts) -> Counter:
    total = Counter()
    for count in counts:
        total.update(count)
    return total


def _merged_violations(lists) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for violation in (v for violations in lists for v in violations):
        key = (violation["operation"], violation["field"], violation["reason"])
        if key in merged:
            merged[key]["count"] += violation["count"]
            _name_tests(merged[key], violation.get("tests", []), violation.get("more_tests", False))
        elif len(merged) < MAX_VIOLATIONS:
            merged[key] = violation | {"tests": list(violation.get("tests", []))}
    return list(merged.values())
