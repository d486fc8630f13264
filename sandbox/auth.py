"""Connexion's side of authentication: it only checks that a credential is present.

Which credentials are valid, and whose domains they reach, is each provider's business (a
provider knows its tokens and tenants); Connexion rejects requests with none before they are
validated, as the real APIs answer 401 before looking at a body. A request whose readable
content the document refuses is answered the provider's refusal of its credential, if any
(`Provider.authenticate`, asked by the world).
"""

from __future__ import annotations

from functools import cache

from connexion.security import NO_VALUE, SECURITY_HANDLERS, AbstractSecurityHandler
from connexion.utils import inspect_function_arguments

# The `scheme` of an `http` security scheme signing requests with AWS Signature Version 4 (the
# first word of the Authorization header, as Connexion lowercases it).
SIGV4 = "aws4-hmac-sha256"


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


class SigV4SecurityHandler(AbstractSecurityHandler):
    """`type: http, scheme: AWS4-HMAC-SHA256` (Amazon SES): an `Authorization: AWS4-HMAC-SHA256
    Credential=...` header must be there; its function (`x-sigv4InfoFunc`) gets what follows the
    scheme word. The provider reads the access key and region from it; no signature is checked."""

    security_definition_key = "x-sigv4InfoFunc"
    environ_key = "SIGV4INFO_FUNC"

    def _get_verify_func(self, sigv4_info_func):
        check = self._generic_check(sigv4_info_func, "Provided signature is not valid")

        def wrapper(request):
            auth_type, value = self.get_auth_header_value(request)
            if auth_type != SIGV4:
                return NO_VALUE
            return check(request, value)

        return wrapper


def security_reads(authorization: bytes) -> bytes:
    """What the security handlers above read of an Authorization header, for the verdicts kept on
    requests (sandbox.verdicts): of a SigV4 one, only that it is one, with something after the
    scheme word (`token_present` judges no more, and every request is signed anew: its value
    never repeats); of any other, all of it (Basic's is decoded, and may not decode)."""
    if authorization[:4].lower() != b"aws4":  # (every other request, at once)
        return authorization
    parts = authorization.decode("latin-1").split(None, 1)  # as Connexion splits it
    if len(parts) == 2 and parts[0].lower() == SIGV4 and parts[1].strip():
        return SIGV4.encode()
    return authorization


SECURITY_MAP = {
    kind: _signature_read_once(cls)
    for kind, cls in (SECURITY_HANDLERS | {SIGV4: SigV4SecurityHandler}).items()
}
