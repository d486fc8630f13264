"""One module per provider; each translates between its API and the engine."""

from .autosend import AutoSend
from .mailgun import Mailgun
from .monite import Monite
from .resend import Resend
from .scaleway import Scaleway
from .ses import Ses
from .vortex import Vortex

PROVIDERS = [Monite, AutoSend, Scaleway, Vortex, Mailgun, Resend, Ses]

__all__ = ["PROVIDERS", "AutoSend", "Mailgun", "Monite", "Resend", "Scaleway", "Ses", "Vortex"]
