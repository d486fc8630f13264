"""One module per provider; each translates between its API and the engine."""

from .autosend import AutoSend
from .monite import Monite
from .scaleway import Scaleway
from .ses import Ses
from .vortex import Vortex

PROVIDERS = [Monite, AutoSend, Scaleway, Vortex, Ses]

__all__ = ["PROVIDERS", "Monite"]
