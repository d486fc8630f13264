"""One module per provider; each translates between its API and the engine."""

from .autosend import AutoSend
from .monite import Monite

PROVIDERS = [Monite, AutoSend]

__all__ = ["PROVIDERS", "Monite"]
