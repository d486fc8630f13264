"""One module per provider; each translates between its API and the engine."""

from .monite import Monite

PROVIDERS = [Monite]

__all__ = ["PROVIDERS", "Monite"]
