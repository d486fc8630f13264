"""One module per provider; each translates between its API and the engine."""

from .autosend import AutoSend
from .monite import Monite
from .scaleway import Scaleway

PROVIDERS = [Monite, AutoSend, Scaleway]

__all__ = ["PROVIDERS", "Monite"]
