"""Connexion's side of authentication: it only checks that a credential is present.

Which credentials are valid, and whose domains they reach, is each provider's business (a
provider knows its tokens and tenants); Connexion rejects requests with none before they are
validated, as the real APIs answer 401 before looking at a body.
"""

from __future__ import annotations

from functools import cache

from connexion.security import SECURITY_HANDLERS
from connexion.utils import inspect_function_arguments


def token_present(token: str, required_scopes=None) -> dict | None:
    """x-bearerInfoFunc / x-apikeyInfoFunc: any non-empty credential passes to the provider."""
    return {"sub": token} if token and token.strip() else None


def basic_present(username: str, password: str, required_scopes=None) -> dict | None:
    """x-basicInfoFunc: HTTP Basic credentials with a non-empty password pass to the provider
    (Mailgun's user is `api` and its password the API key: the provider judges both)."""
    return {"sub": username} if password and password.strip() else None


@cache
def _accepts(func, keyword: str) -> bool:
    arguments, has_kwargs = inspect_function_arguments(func)
    return has_kwargs or keyword in arguments


def _signature_read_once(handler_class: type) -> type:
    """`handler_class`, asking which keywords a credential function takes once per function:
    Connexion's own handlers call `inspect.signature` twice on every request."""
    accepts = staticmethod(_accepts)
    return type(handler_class.__name__, (handler_class,), {"_accepts_kwarg": accepts})


SECURITY_MAP = {kind: _signature_read_once(cls) for kind, cls in SECURITY_HANDLERS.items()}
