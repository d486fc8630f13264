"""Connexion's side of authentication: it only checks that a credential is present.

Which credentials are valid, and whose domains they reach, is each provider's business (a
provider knows its tokens and tenants); Connexion rejects requests with none before they are
validated, as the real APIs answer 401 before looking at a body.
"""


def token_present(token: str, required_scopes=None) -> dict | None:
    """x-bearerInfoFunc / x-apikeyInfoFunc: any non-empty credential passes to the provider."""
    return {"sub": token} if token and token.strip() else None
