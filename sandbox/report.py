"""The client conformance report: what a client's tests did and did not exercise.

Every provider API request is validated strictly against the provider's document (Connexion,
strict validation) and noted by the world (sandbox.world), which hands the outcome here. Per
provider the report keeps the operations called and never called, the status codes returned, the
verification states domains reached and never reached, and every violation of the document with
its operation, field and reason.

The report outlives `reset` on purpose: it describes a whole test session, whose tests reset the
sandbox between them. Clear it with DELETE /_sandbox/report.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

from . import documents

if TYPE_CHECKING:
    from .core import Sandbox

# Distinct violations kept per provider; a client stuck in a loop must not grow the sandbox.
MAX_VIOLATIONS = 500


class _ProviderTally:
    def __init__(self):
        self.requests = 0
        self.calls: dict[str, Counter] = {}  # operationId -> status codes
        self.statuses: Counter = Counter()
        self.states: set[str] = set()
        self.violations: dict[tuple, dict] = {}


class ClientReport:
    """Accumulates, per provider, what clients did; `build()` gives the report."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget everything recorded so far (the domains' states are gathered again)."""
        with self._lock:
            self._tallies = {name: _ProviderTally() for name in self.sandbox.providers}

    def record(self, entry: dict) -> None:
        """Note one provider request from the request log (with operation and violations)."""
        tally = self._tallies.get(entry.get("provider"))
        if tally is None:
            return
        status = str(entry.get("status"))
        with self._lock:
            tally.requests += 1
            tally.statuses[status] += 1
            if entry.get("operation"):
                tally.calls.setdefault(entry["operation"], Counter())[status] += 1
            for violation in entry.get("violations", []):
                self._add_violation(tally, entry, violation)
        # No harvest() here: states are noted as they happen (note_state). Harvesting every
        # domain after every request made each request cost O(domains): ~20 ms at 10,000.

    def note_state(self, provider: str, status: str) -> None:
        """A domain of `provider` reached `status` (noted at once: deleted domains count too)."""
        tally = self._tallies.get(provider)
        if tally is not None:
            with self._lock:
                tally.states.add(status)

    def _add_violation(self, tally: _ProviderTally, entry: dict, violation: dict) -> None:
        operation = entry.get("operation") or f"(no operation) {entry['method']} {entry['path']}"
        key = (operation, violation["field"], violation["reason"])
        if key in tally.violations:
            tally.violations[key]["count"] += 1
        elif len(tally.violations) < MAX_VIOLATIONS:
            tally.violations[key] = {
                "operation": operation,
                "field": violation["field"],
                "reason": violation["reason"],
                "status": violation["status"],
                "example": f"{entry['method']} {entry['path']}",
                "count": 1,
            }

    def harvest(self) -> None:
        """Note the states every domain has been through (its timeline), before they are reset."""
        for domain in self.sandbox.store.list():
            tally = self._tallies.get(domain.provider)
            if tally is not None:
                with self._lock:
                    tally.states.update(step["status"] for step in domain.timeline)

    def build(self) -> dict:
        """The report: per provider, operations, status codes, states and violations."""
        self.harvest()
        with self._lock:
            return {
                "providers": {
                    name: self._provider_view(name, provider, self._tallies[name])
                    for name, provider in self.sandbox.providers.items()
                }
            }

    @staticmethod
    def _provider_view(name: str, provider, tally: _ProviderTally) -> dict:
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
        known_states = list(provider.statuses)
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
        }


def render_table(report: dict) -> str:
    """The report as readable text, one section per provider."""
    lines = []
    for name, view in report["providers"].items():
        lines.append(f"== {name}: {view['requests']} requests")
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
        for v in view["violations"]:
            field = v["field"] or "-"
            lines.append(
                f"    {v['operation']}  field {field}: {v['reason']}  "
                f"[{v['status']}, x{v['count']}, e.g. {v['example']}]"
            )
        if not view["violations"]:
            lines.append("  violations: none")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
