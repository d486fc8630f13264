"""The error every part of the sandbox raises for a client: a status and a sentence."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

from fake_dns.rdata import brief

from . import redaction


class ProviderError(Exception):
    """An error answered in the shape of the API the request was for (each provider's own, or
    the control API's): raised by handlers and the front end, rendered by `Answer.error`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        violation: bool | str = False,
        **extra,
    ):
        """`violation`: the request breaks a rule of the API its document cannot say (a
        credential it requires, two parameters never given together): the conformance report
        keeps it as it keeps what the document refuses, with the message as the reason, or
        this text when the provider's own message says less (Mailgun's 404 for the other
        region's domain)."""
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra
        self.violation = violation

    def __reduce__(self):  # it crosses between processes under `serve --workers`
        return _provider_error, (self.status, self.message, self.field, self.extra, self.violation)


def _provider_error(
    status: int, message: str, field: str | None, extra: dict, violation: bool | str = False
) -> ProviderError:
    return ProviderError(status, message, field=field, violation=violation, **extra)


# What a violation keeps of its field and reason: the journal and the report hold thousands of
# them, and a message can quote a client's megabyte-long key twice over.
MAX_VIOLATION_FIELD = 200
MAX_VIOLATION_REASON = 1000


def violation_of(field: str | None, reason: str, status: int) -> dict:
    """How a request broke its API's contract, as the conformance report keeps it."""
    if field is None and (unexpected := unexpected_fields(reason)):  # unknown body fields
        field = ", ".join(unexpected)
    if field is not None:
        field = brief(field, MAX_VIOLATION_FIELD, text=field)
    return {
        "field": field,
        "reason": brief(reason, MAX_VIOLATION_REASON, text=reason),
        "status": status,
    }


class ShuttingDown(ProviderError):
    """The sandbox is stopping: a 503, in the shape of the API the request was for."""

    def __init__(self, message: str = "the sandbox is shutting down; try again once it is back"):
        super().__init__(503, message)


# Python 3.13 took up RFC 9110's names for these four ("Content Too Large", ...). The phrases
# become error codes and messages (AutoSend's REQUEST_ENTITY_TOO_LARGE, SES's exception names),
# which must not change with the interpreter: these stay as every Python before 3.13 says them.
_PINNED_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}


def reason_phrase(status: int) -> str:
    """The reason phrase of an HTTP status, the same on every Python; ValueError if unknown."""
    return _PINNED_PHRASES.get(status) or HTTPStatus(status).phrase


def said_request(method: str, path: str) -> str:
    """A request as an error message says it ("GET /v2/email/account"): a long path cut."""
    return f"{method} {path if len(path) <= 200 else path[:200] + '…'}"


def hinted(error: ProviderError, hint: str) -> ProviderError:
    """`error` with the sandbox's hint of what was meant (`did you mean /resend/domains?`) at
    the end of its message, the message's own final full stop dropped."""
    error.message = f"{error.message.removesuffix('.')}; {hint}"
    return error


def snake_case_phrase(status: int, unknown: str) -> str:
    """The reason phrase as Resend and Scaleway name errors their catalogues do not list (415 ->
    `unsupported_media_type`); `unknown` for a status Python does not know."""
    try:
        phrase = reason_phrase(status)
    except ValueError:
        return unknown
    return re.sub(r"[^a-z]+", "_", phrase.lower()).strip("_")


# A bound a JSON Schema error does not say ("'aaa…' is too long"), in a person's words.
_LIMITS = {
    "maxLength": "at most {} characters",
    "minLength": "at least {} characters",
    "maxItems": "at most {} entries",
    "minItems": "at least {} entries",
}


# jsonschema's words for body fields a schema does not declare (additionalProperties: false):
# "Additional properties are not allowed ('a', 'b' were unexpected)".
_UNEXPECTED = re.compile(r"\(((?:'[^']+'(?:, )?)+) (?:was|were) unexpected\)")


def unexpected_fields(message: str) -> list[str]:
    """The body fields a validation message says the document does not declare, in order."""
    match = _UNEXPECTED.search(message)
    return re.findall(r"'([^']+)'", match.group(1)) if match else []


# The mark `brief` (fake_dns.rdata) leaves where it cut a value short in a message.
CUT_SHORT = r"… \(\d+ (?:characters|entries)\)"
# Connexion's words for a JSON null where a body is required: a missing body, to the providers
NULL_BODY = "Request body must not be empty"

# jsonschema's words for a string its pattern or lengths refused, the string said as said_value
# says it: quoted, or cut short ("'aaa… (82 characters) does not match ...").
_REFUSED_STRING = re.compile(
    rf"^(['\"])(.*?)(\1|{CUT_SHORT}) "
    r"(?:does not match|is too long|is too short|should be non-empty)",
    re.S,
)


def refused_string(message: str) -> tuple[str, bool] | None:
    """The string a validation message says a pattern or length refused, as it shows it
    (unquoted), and whether it was cut short; None if the message says something else."""
    match = _REFUSED_STRING.match(message)
    return (match.group(2), match.group(3) != match.group(1)) if match else None


def said_value(value) -> str:
    """A value of a JSON body as a message shows it: a string quoted as Python quotes it ('x',
    as jsonschema's messages do), anything else in JSON's words (null, true, {"a": 1}); cut
    short when long."""
    if isinstance(value, str):
        return brief(value)
    try:
        return brief(value, text=json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):  # not a JSON value: as Python shows it
        return brief(value)


def said_number(value) -> str:
    """A number as a message says it: 86400, not 86400.0; cut short when long (1e308 is not
    said in all its 309 digits)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:  # else 1e+300
        return brief(value, text=str(int(value)))
    return brief(value, text=str(value))


def schema_branch(error):
    """Of a jsonschema anyOf/oneOf error, the branch that says why: one whose type fitted
    (the string that is too long, not "is not of type 'array'"), else one that is not null.
    A branch refused by a `not` is a guard, not what was meant (Monite's token request: "not
    entity_user, or with its entity_user_id" says the id is missing)."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return error
    meant = [e for e in error.context if e.validator != "not"]
    fitted = [e for e in meant if e.validator != "type"]
    not_null = [e for e in meant if e.validator_value != "null"]
    return schema_branch((fitted or not_null or meant or error.context)[0])


def _quotable(error):
    """The offending value as a message may quote it: a secret (Monite's client_secret) is
    not, for the message reaches the journal and the report (sandbox.redaction)."""
    path = error.absolute_path
    if path and redaction.is_secret(path[-1]):
        return redaction.REDACTED
    return redaction.fields(error.instance)


def schema_message(error) -> str:
    """A jsonschema error's message with the offending value as the client wrote it (null, not
    None), cut short (a list of 15,000 entries is not echoed whole), and the limit it broke; a
    pattern's refusal in the words its schema's `x-pattern-said` gives, where it gives them."""
    if error.validator == "pattern" and (words := error.schema.get("x-pattern-said")):
        return f"{said_value(_quotable(error))} is not {words}"  # what the regex asks, in words
    message = error.message.replace(repr(error.instance), said_value(_quotable(error)), 1)
    limit = _LIMITS.get(error.validator)
    return f"{message} ({limit.format(error.validator_value)})" if limit else message
