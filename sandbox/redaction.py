"""Credentials out of what the request journal shows: headers, query strings and bodies.

What identifies a caller without granting anything stays readable (a Basic user name, an AWS
access key id, a cookie's name, a Monite client_id); what grants access is replaced by REDACTED.
Applied when the journal is read, never on the request path.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

REDACTED = "[redacted]"

# Headers that carry a credential whole (Vortex's x-api-key, Scaleway's X-Auth-Token, ...).
SECRET_HEADERS = frozenset(
    {
        "x-api-key",
        "x-auth-token",
        "x-amz-security-token",
        "x-mailgun-api-key",
        "api-key",
        "apikey",
    }
)
# Other header names that say they carry one (a team's own `X-Token`); not any "key": an
# Idempotency-Key or a Sec-WebSocket-Key grants nothing.
_SECRET_HEADER_NAME = re.compile(
    r"(?i)token|secret|passw|session|signature|credential|auth|(api|access|private)[-_]?key"
)
# Names of body fields and query parameters that hold a secret (Monite's client_secret, ...).
SECRET_FIELDS = frozenset(
    {
        "client_secret",
        "secret",
        "secret_key",
        "password",
        "smtp_password",
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "x-amz-signature",
        "x-amz-security-token",
        "signature",
        "private_key",
        "domainsigningprivatekey",  # SES's bring-your-own-DKIM key
    }
)
# Names that are a secret's only in lower case: an AWS tag's `Key` (SES's Tags) names a tag.
_NAMES_NOT_SECRET = frozenset({"Key"})
_SIGV4_SIGNATURE = re.compile(r"(Signature=)[0-9A-Fa-f]+")
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_FIELDS, key=len, reverse=True))
# A secret field in text that is not data (a refused body, one cut short): `"name": "value"`
# in JSON, a part of a multipart form named so, a `name=value` pair of a form (its name
# percent-encoded or not)
_JSON_SECRET = re.compile(rf'("(?:{_NAMES})"\s*:\s*)"(?:[^"\\]|\\.)*"?', re.I)
_PART_SECRET = re.compile(
    rf'(content-disposition:[^\r\n]*\bname="?(?:{_NAMES})\b"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)'
    r"(.*?)(?=\r?\n--|\Z)",
    re.I | re.S,
)
_FORM_PAIR = re.compile(r"(^|&)([^=&]*)=([^&]*)")


def is_secret(name) -> bool:
    """Whether a body field or query parameter of this name holds a secret."""
    name = str(name)
    return name.lower() in SECRET_FIELDS and name not in _NAMES_NOT_SECRET


def headers(given: Mapping[str, str]) -> dict[str, str]:
    """The headers with every credential redacted."""
    return {name: header(name, value) for name, value in given.items()}


def header(name: str, value: str) -> str:
    if name in ("authorization", "proxy-authorization"):
        return authorization(value)
    if name in ("cookie", "set-cookie"):
        return cookies(value)
    if name in SECRET_HEADERS or _SECRET_HEADER_NAME.search(name):
        return REDACTED
    return value


def authorization(value: str) -> str:
    """An Authorization header with its secret redacted and its scheme kept: a Basic user name
    and an AWS SigV4 access key id (not secrets) stay readable."""
    scheme, _, credentials = value.strip().partition(" ")
    kind = scheme.lower()
    if kind == "basic":
        user = _basic_user(credentials)
        return f"Basic {user}:{REDACTED}" if user is not None else f"Basic {REDACTED}"
    if kind == "aws4-hmac-sha256":
        return _SIGV4_SIGNATURE.sub(rf"\g<1>{REDACTED}", value)
    return f"{scheme} {REDACTED}" if credentials else REDACTED


def _basic_user(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, _ = decoded.partition(":")
    return user if colon else None


def cookies(value: str) -> str:
    """Each cookie's name kept, its value redacted."""
    names = (part.split("=", 1)[0].strip() for part in value.split(";"))
    return "; ".join(f"{name}={REDACTED}" for name in names if name)


def query(text: str) -> str:
    """A query string with its secret parameters (presigned SigV4, api_key=...) redacted."""
    if not text or not any(field in text.lower() for field in SECRET_FIELDS):
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(k, REDACTED if is_secret(k) else v) for k, v in pairs])


def text(body: str) -> str:
    """A body kept as text (refused unread, cut short, of another media type) with the values
    of its secret fields redacted, as JSON, a multipart form or a urlencoded form writes them."""
    body = _JSON_SECRET.sub(rf'\g<1>"{REDACTED}"', body)
    body = _PART_SECRET.sub(rf"\g<1>{REDACTED}", body)
    return _FORM_PAIR.sub(_form_pair, body)


def _form_pair(pair: re.Match) -> str:
    start, name, _ = pair.groups()
    return f"{start}{name}={REDACTED}" if is_secret(unquote_plus(name)) else pair[0]


def fields(body: Any) -> Any:
    """A JSON or form body with the values of its secret fields redacted, at any depth."""
    if isinstance(body, Mapping):
        return {k: REDACTED if is_secret(k) else fields(v) for k, v in body.items()}
    if isinstance(body, list):
        return [fields(item) for item in body]
    return body
