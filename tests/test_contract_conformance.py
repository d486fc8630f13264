"""Self-conformance: Schemathesis, all phases, against every document the sandbox serves.

Each run starts a private in-process sandbox (its own DNS, so verify calls really look up
records), obtains credentials the way the provider's SDK would, and must finish with zero
failures. Generation is derandomised and seeded, so a failure here reproduces exactly.
"""

from __future__ import annotations

import pytest

import contracts
from contracts.profiles import CONTROL, profiles

APIS = list(profiles())
PROVIDERS = [name for name in APIS if name != CONTROL]


@pytest.fixture(scope="module")
def results() -> dict[str, contracts.ContractResult]:
    return {}  # one run per API, shared by the tests below


def _result(results, name) -> contracts.ContractResult:
    if name not in results:
        results[name] = contracts.run(name)
    return results[name]


@pytest.mark.parametrize("name", APIS)
def test_every_document_passes_schemathesis_in_all_phases(results, name):
    result = _result(results, name)
    assert result.ok, result.summary()
    assert result.phases == contracts.PHASES
    assert result.cases_by_phase["stateful"] > 0, "no OpenAPI links were followed"


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_provider_operation_succeeds_at_least_once(results, name):
    """The runs reach real success paths: credentials work and links carry real ids."""
    result = _result(results, name)
    unsatisfiable = profiles()[name].unsatisfiable  # each with its reason
    never = sorted(op for op in result.operations if not result.succeeded(op))
    unexpected = [op for op in never if op not in unsatisfiable]
    assert not unexpected, f"{name}: no 2xx answer for {unexpected}: {result.responses}"


def test_a_seeded_run_repeats_exactly():
    """Derandomised and seeded: the same requests, hence the same answers, every time."""
    first, second = (contracts.run("monite", max_examples=5) for _ in range(2))
    assert first.cases == second.cases
    assert first.responses == second.responses
    assert first.cases_by_phase == second.cases_by_phase


def test_no_stateful_sequence_replaces_the_world_under_the_domains_it_created():
    """A scenario loaded between a create and a verify linked to it would make the verify a 404,
    which Schemathesis reads as a domain lost right after its creation."""
    result = contracts.run("control", phases=("stateful",))
    assert result.ok, result.summary()
    assert "POST /domains" in result.operations  # the sequences do create domains
    replacing = {"POST /scenarios/{name}/load", "POST /scenario", "POST /reset", "POST /demo"}
    assert not replacing & result.operations
