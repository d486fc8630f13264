"""Provider-neutral verification engine: records, checks, clock, identities and the store."""

from .clock import Clock
from .ids import DEFAULT_SEED, Ids
from .records import CheckResult, Domain, Outcome, RequiredRecord, Rule
from .store import Store
from .verifier import Verifier

__all__ = [
    "DEFAULT_SEED",
    "CheckResult",
    "Clock",
    "Domain",
    "Ids",
    "Outcome",
    "RequiredRecord",
    "Rule",
    "Store",
    "Verifier",
]
