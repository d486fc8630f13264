"""One module per provider; each translates between its API and the engine."""

from .autosend import AutoSend
from .mailgun import Mailgun
from .monite import Monite
from .resend import Resend
from .scaleway import Scaleway
from .vortex import Vortex

PROVIDERS = [Monite, AutoSend, Scaleway, Vortex, Mailgun, Resend]

__all__ = ["PROVIDERS", "Monite"]
