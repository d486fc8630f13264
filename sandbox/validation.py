"""Request validation from each document, as Connexion does it, with the work done once.

Connexion's RequestValidationMiddleware builds a URI parser, a parameter validator and JSON
Schema validators on every request; here each operation builds them when the app is built. The
typed parameters and the parsed body it validated are handed on in the scope (`parsed(scope)`),
so the dispatcher never reads or parses them again. Messages name the offending parameter.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote

from connexion.exceptions import BadRequestProblem, UnsupportedMediaTypeProblem
from connexion.json_schema import Draft4RequestValidator, format_error_with_path
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.spec import OpenAPISpecification
from connexion.uri_parsing import OpenAPIURIParser
from connexion.utils import is_json_mimetype, is_null, is_nullable
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
)
from connexion.validators.parameter import ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from jsonschema.validators import extend
from starlette.datastructures import FormData, Headers

from fake_dns.rdata import normalize_name

from .engine.clock import is_calendar_date
from .errors import NULL_BODY, said_number, said_value, schema_branch, schema_message
from .mounts import CONTROL_MOUNT
from .quick_check import quick_check
from .verdicts import BodyReader

# Where the validated request waits for the dispatcher, in the ASGI scope's extensions.
PARSED = "domainsandbox.parsed"
# In the scope's extensions: the path as uvicorn decoded it, when a `%2F` in it was routed as
# part of its segment, with `%` and `/` there escaped again (app.escaped_slashes).
ESCAPED_SEGMENTS = "domainsandbox.escaped_segments"
# In the scope's extensions: the body as read, which the journal keeps of a refused request.
RAW_BODY = "domainsandbox.raw_body"

# Connexion warns "this operation accepts multiple content types" at every look at an operation
# that offers two (the control API's scenario upload takes YAML or JSON), even when told which
# one: that message alone is dropped.
logging.getLogger("connexion.operations.openapi3").addFilter(
    lambda record: "multiple content types" not in str(record.msg)
)
# python-multipart warns of a broken part of a form body, once per request, on whatever console
# the app runs under (`serve`'s, `contract run`'s, a test session's): the client's 400 and the
# journal say it already.
logging.getLogger("python_multipart").setLevel(logging.ERROR)


# Connexion validates with Draft 4, whose format checker knows no "uuid": without this, ids that
# are not UUIDs pass where the documents say `format: uuid` (found by Schemathesis).
@Draft4Validator.FORMAT_CHECKER.checks("uuid", raises=ValueError)
def _is_uuid(value) -> bool:
    if not isinstance(value, str):
        return True
    return str(uuid.UUID(value)) == value.lower()


# Draft 4 knows no "date" either: Monite's x-monite-version is `format: date`, and 2024-13-45
# must be refused.
@Draft4Validator.FORMAT_CHECKER.checks("date")
def _is_date(value) -> bool:
    return not isinstance(value, str) or is_calendar_date(value)


def _ecma_pattern(validator, pattern, instance, schema):
    """`pattern` as JSON Schema reads it (ECMA-262): `$` is the end of the string.
    Python's `$` also matches before a final newline, which let "x.example.com\n" through to
    the providers (Schemathesis and fastjsonschema read it as ECMA does)."""
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma(pattern: str) -> re.Pattern:
    """The pattern with each `$` outside a character class as `\\Z` (SES's `^$|^...$` too)."""
    said, i, in_class = [], 0, False
    while i < len(pattern):
        part = pattern[i : i + 2] if pattern[i] == "\\" else pattern[i]
        i += len(part)
        if in_class:
            in_class = part != "]"
        elif part == "[":
            in_class = True
        elif part == "$":
            part = r"\Z"
        said.append(part)
    return re.compile("".join(said))


# Connexion's validators, with JSON Schema's patterns: for parameters, and for bodies
ParameterSchema = extend(Draft4Validator, {"pattern": _ecma_pattern})
BodySchema = extend(Draft4RequestValidator, {"pattern": _ecma_pattern})


def _body_schema(schema: dict) -> Draft4Validator:
    return BodySchema(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


class UnreadableBody(BadRequestProblem):
    """A body that is no JSON a server could read: refused before anything else is looked at,
    as a framework's body parser does before any route's key check."""


class CheckedSpecification(OpenAPISpecification):
    """One of the sandbox's own documents. Connexion checks every document against the OpenAPI
    schema as it loads it, which was a third of the CPU `serve` spent before its first answer;
    ours are checked once, by the test suite (tests/test_documents.py)."""

    @classmethod
    def _validate_spec(cls, spec) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Parsed:
    params: dict[str, Any]  # path and query parameters, typed as the document declares
    body: Any  # the JSON body parsed; raw bytes for other media types; None when absent
    read_body: BodyReader = None  # how it was read: the next request with this head is too


def parsed(scope) -> Parsed | None:
    """What validation handed on for this request (None if it did not run: no operation)."""
    return scope.get("extensions", {}).get(PARSED)


# How many parameter verdicts are kept per operation, and the longest string value kept (a head
# may carry 64 KiB: 4,096 of those would be a quarter of a gigabyte).
_MOST_VERDICTS = 4096
_LONGEST_KEPT = 256


def _keepable(value) -> bool:
    """Whether the verdict on a parameter's value is kept (it depends on the value alone): a
    number, a boolean, or a short string; an array is checked each time."""
    if isinstance(value, str):
        return len(value) <= _LONGEST_KEPT
    return isinstance(value, int | float)  # bool is an int


class NamedParameterValidator(ParameterValidator):
    """Parameter errors that name the parameter; one compiled schema per parameter."""

    def __init__(
        self,
        parameters,
        uri_parser,
        strict_validation=False,
        security_query_params=None,
        plain=False,
    ):
        super().__init__(parameters, uri_parser, strict_validation, security_query_params)
        self._plain = plain  # the control API's: said as its body refusals are
        self._checkers = {
            (p["in"], p["name"]): ParameterSchema(
                p.get("schema", p), format_checker=Draft4Validator.FORMAT_CHECKER
            )
            for p in parameters
        }
        self._verdicts: dict[tuple, str | None] = {}

    @staticmethod
    def validate_parameter_list(request_params, spec_params) -> list[str]:
        """The parameters the document does not declare, in the order the request gave them
        (Connexion's set changed order with each process's hash seed: under --workers, from
        one answer to the next)."""
        declared = set(spec_params)
        return [name for name in dict.fromkeys(request_params) if name not in declared]

    def validate_parameter(self, parameter_type, value, param, param_name=None):
        name = param.get("name", param_name)
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            return f"Missing {parameter_type} parameter '{name}'" if param.get("required") else None
        if not _keepable(value):
            return self._check(parameter_type, name, param, value)
        # A client sends the same headers and ids again and again: each verdict is kept.
        key = (param["in"], name, type(value), value)
        if key not in self._verdicts:
            if len(self._verdicts) >= _MOST_VERDICTS:
                self._verdicts.clear()
            self._verdicts[key] = self._check(parameter_type, name, param, value)
        return self._verdicts[key]

    def _check(self, parameter_type, name, param, value) -> str | None:
        try:
            self._checkers[(param["in"], name)].validate(value)
        except ValidationError as exc:
            if self._plain:
                return f"{name}: {_plain(exc)}"
            return f"Invalid {parameter_type} parameter '{name}': {schema_message(exc)}"
        return None

    def parse(self, scope) -> dict[str, Any]:
        """Validate the request's parameters; return the path and query ones, typed."""
        given = _Given(scope, self.uri_parser)
        self._once_each(given.repeated)
        self._plain_numbers(given.raw)
        self.validate_request(given)
        return {**given.path_params, **given.query_params}

    def _once_each(self, repeated: set[str]) -> None:
        """A parameter the document gives one value (not an array) must come once: Connexion
        would silently keep the last of `?limit=1&limit=2`."""
        for param in self.parameters.get("query", []):
            if param["name"] in repeated and param.get("schema", {}).get("type") != "array":
                raise BadRequestProblem(
                    detail=f"Invalid query parameter '{param['name']}': given more than once, "
                    "and it takes one value"
                )

    def _plain_numbers(self, raw: dict[str, list[str]]) -> None:
        """A number in a query is written in ASCII digits: Python's int() also reads " 1",
        "1_0" and "١" (Arabic-Indic), which the providers' servers refuse."""
        for param in self.parameters.get("query", []) if raw else ():
            kind = param.get("schema", {}).get("type")
            for value in raw.get(param["name"], ()) if kind in _PLAIN_NUMBER else ():
                if not _PLAIN_NUMBER[kind].fullmatch(value):
                    raise BadRequestProblem(
                        detail=f"Invalid query parameter '{param['name']}': "
                        f"{said_value(value)} is not of type '{kind}'"
                    )


_PLAIN_NUMBER = {
    "integer": re.compile(r"[+-]?[0-9]+"),
    "number": re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"),
}


class QueryParser(OpenAPIURIParser):
    """Connexion's parser of path and query parameters, with each value of an exploded query
    array kept whole: Connexion joins `TagKeys=a%2Cb&TagKeys=c` into "a,b,c" and splits it
    again, three keys where the client sent two (SES's UntagResource then removed tags it was
    never asked to). A form's fields are still joined: `x-comma-list` reads them so."""

    @staticmethod
    def _resolve_param_duplicates(values, param_defn, _in):
        if _in == "query" and param_defn.get("explode", param_defn.get("style", "form") == "form"):
            return list(values)
        return OpenAPIURIParser._resolve_param_duplicates(values, param_defn, _in)

    @staticmethod
    def _split(value, param_defn, _in):
        if isinstance(value, list):  # an exploded query array's values, each an item
            return value
        return OpenAPIURIParser._split(value, param_defn, _in)


class _Given:
    """What the parameter validator reads of a request, without building Starlette's Request."""

    cookies: dict = {}  # no document declares a cookie parameter

    def __init__(self, scope, uri_parser):
        self._scope = scope
        query = scope.get("query_string", b"")
        given = parse_qs(query.decode("latin-1"), keep_blank_values=True) if query else {}
        self.raw = given
        self.repeated = {name for name, values in given.items() if len(values) > 1}
        self.query_params = uri_parser.resolve_query(given) if given else {}
        path_params = scope.get("path_params", {})
        if ESCAPED_SEGMENTS in scope.get("extensions", {}):  # each segment escaped for routing
            path_params = {name: unquote(value) for name, value in path_params.items()}
        self.path_params = uri_parser.resolve_path(path_params)

    @cached_property
    def headers(self) -> Headers:
        return Headers(scope=self._scope)


class JSONBody(JSONRequestBodyValidator):
    """A JSON body read whole, parsed once and validated with a schema compiled once.

    `plain`: the control API's, whose refusals say a bound, NaN or Infinity as its handlers do
    ("field: sentence") and echo a value cut short; the providers map Connexion's "sentence -
    'field'" onto their own shapes."""

    def __init__(self, *, plain: bool = False, **kwargs):
        super().__init__(**kwargs)
        self._compiled = _body_schema(self._schema)
        self._surely_fits = quick_check(self._schema)
        self._plain = plain

    @property
    def _validator(self):
        return self._compiled

    async def read(self, receive, scope) -> Any:
        raw = await _read_all(receive, scope)
        if not raw:  # whitespace is a body, and not JSON: a 400
            if self._required:
                raise BadRequestProblem("RequestBody is required")
            return None  # an optional body that was not sent: the handler's defaults apply

        body = self._decode(raw)  # bad UTF-8 raises UnicodeDecodeError
        if not (body is None and self._nullable):
            self._validate(body)
        return body

    async def _parse(self, stream, scope) -> Any:  # Connexion's name for it
        return self._decode(b"".join([chunk async for chunk in stream]))

    def _decode(self, raw: bytes) -> Any:
        """Connexion's parse, without NaN and Infinity: JSON (RFC 8259) has neither, and a
        handler given one fails (int(NaN)) or misjudges (NaN passes every bound)."""
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError:
            raise
        except UnicodeError as problem:  # a codec that fails otherwise (punycode's): the same
            raise UnicodeDecodeError(self._encoding, raw, 0, len(raw), str(problem)) from None
        if not text:
            return None  # as Connexion's: no body, which _validate judges
        try:
            if text.startswith("\ufeff"):  # json.loads says so; the decoder alone does not
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
            document = _STRICT_JSON.decode(text)
        except json.JSONDecodeError as exc:  # the control API says what it read the body as
            said = f"not valid JSON: {exc}" if self._plain else str(exc)
            raise UnreadableBody(detail=said) from None
        except _NotFinite:
            path, said = _non_finite(json.loads(text))
            raise UnreadableBody(detail=self._say(path, said)) from None
        except ValueError:  # Python reads no integer of over 4,300 digits (a DoS guard)
            raise UnreadableBody(detail=TOO_LONG_NUMBER) from None
        if _SURROGATE_ESCAPE.search(text) and (found := _lone_surrogate(document)):
            raise UnreadableBody(detail=self._say(*found)) from None
        return document

    def _validate(self, body: Any) -> None:
        """Connexion's check, without the log line it writes for every refusal."""
        if not self._nullable and body is None:  # a JSON null (Connexion's words, which the
            # providers' shapes read as a missing body; the control API's say what it was)
            raise BadRequestProblem("body: null; send a JSON object" if self._plain else NULL_BODY)
        if self._surely_fits(body):
            return
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            message = _plain(exc) if self._plain else _said(exc)
            raise BadRequestProblem(detail=message) from None

    def _say(self, path: str, said: str) -> str:
        if self._plain:
            return f"{path or 'body'}: {said}"
        return f"{said} - '{path}'" if path else said


TOO_LONG_NUMBER = "a number of more than 4300 digits: no client sends one"


class _NotFinite(ValueError):
    pass


def _no_constant(word: str):
    raise _NotFinite(word)


_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant)  # made once: 1 us a body


# "\ud800": JSON's escape of half a UTF-16 pair. A pair makes one character; a lone half is
# none, and no answer or saved world holding it could be written as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(document) -> tuple[str, str] | None:
    """(where, what) of the first string (key or value) holding a lone surrogate, or None."""
    for path, value in _nodes(document):
        if isinstance(value, dict):  # its keys (JSON's are strings)
            if (key := next((k for k in value if not _encodable(k)), None)) is not None:
                return path, f"{key!r} is not text: a lone UTF-16 surrogate (\\u{_half(key)})"
        elif isinstance(value, str) and not _encodable(value):
            return path, f"a lone UTF-16 surrogate (\\u{_half(value)}) is not a character"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _half(text: str) -> str:
    return next(f"{ord(c):04x}" for c in text if 0xD800 <= ord(c) <= 0xDFFF)


def _non_finite(document) -> tuple[str, str]:
    """(where, what) of the first NaN or infinite number in a parsed document."""
    for path, value in _nodes(document):
        if isinstance(value, float) and not math.isfinite(value):
            word = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
            return path, f"{word} is not a JSON number; give a finite number"
    return "", "NaN and Infinity are not JSON numbers"


def _nodes(document):
    """(where, value) of a parsed document and of every value in it, depth first: where is
    "a.0.b", or "" for the document itself."""
    stack = [("", document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, list | dict):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((f"{path}.{key}" if path else str(key), item) for key, item in items)


# How a bound is said, by (keyword, exclusive).
_BOUNDS = {
    ("maximum", False): "at most",
    ("maximum", True): "less than",
    ("minimum", False): "at least",
    ("minimum", True): "more than",
}


def _said(exc: ValidationError) -> str:
    """A provider body's refusal, in Connexion's words ("... - 'field'"), the offending value
    as the client wrote it and cut short (sandbox.errors.schema_message); of several schemas,
    the one that says why (sandbox.errors.schema_branch)."""
    exc = schema_branch(exc)
    return f"{schema_message(exc)}{format_error_with_path(exc)}"


def _plain(exc: ValidationError) -> str:
    """A control API body's refusal, after the field it is about ("type: ..."): of several
    schemas, the one that says why; a bound or a choice in words; the offending value cut short
    (sandbox.errors.schema_message)."""
    error = schema_branch(exc)
    path = ".".join(map(str, error.absolute_path))
    said = schema_message(error)
    if error.validator == "pattern" and (name_said := _dns_name_said(error)):
        said = name_said
    elif error.validator == "pattern" and "description" in error.schema:  # not the regex itself
        said = f"{said_value(error.instance)} is not {error.schema['description']}"
    elif error.validator == "minLength" and error.validator_value == 1:  # not "(at least 1
        said = "may not be empty"  # characters)", as the schema's words say it
    elif error.validator == "enum":  # the choices as a person lists them, not a Python list
        choices = ", ".join(map(str, error.validator_value))
        said = f"{said_value(error.instance)} is not one of {choices}"
    return _bound(error) or (f"{path}: {said}" if path else said)


def _dns_name_said(error: ValidationError) -> str | None:
    """Of a name the control API's DNS-name pattern refused (`x-dns-name`) that is not ASCII,
    what fake_dns says of it: an IDN's xn-- form, as the Python API names it; else None."""
    name = error.instance
    if not error.schema.get("x-dns-name") or not isinstance(name, str) or name.isascii():
        return None
    try:
        normalize_name(name)
    except ValueError as exc:
        return str(exc)
    return None


def _bound(exc: ValidationError) -> str | None:
    """A number past its field's maximum or minimum in a person's words, e.g.
    "advance_seconds: at most 315360000 seconds (3650 days), not 863999913600" (and a
    `_ms` field's in ms and seconds); else None."""
    if exc.validator not in ("maximum", "minimum") or not exc.absolute_path:
        return None
    path, limit = ".".join(map(str, exc.absolute_path)), exc.validator_value
    exclusive = bool(exc.schema.get(f"exclusive{exc.validator.title()}"))
    unit = ""
    if path.endswith("_seconds"):
        unit = f" seconds ({said_number(limit / 86400)} days)" if limit >= 86400 else " seconds"
    elif path.endswith("_ms"):  # an injected delay: said in seconds too, as a person reads it
        unit = f" ms ({said_number(limit / 1000)} s)" if limit >= 1000 else " ms"
    said = _BOUNDS[exc.validator, exclusive]
    return f"{path}: {said} {said_number(limit)}{unit}, not {said_number(exc.instance)}"


class FormBody:
    """A form body (urlencoded or multipart) read whole, parsed by Connexion's form validators
    into a mapping and validated against the document's schema (Mailgun takes forms)."""

    def __init__(self, validator: FormDataValidator):
        self._validator = validator
        self._surely_fits = quick_check(validator._schema)
        self._schema = _body_schema(validator._schema)  # (Connexion's builds one a request)

    async def read(self, receive, scope) -> dict:
        raw = await _read_all(receive, scope)
        try:
            body = await self._validator._parse(_replay(raw), scope) if raw.strip() else {}
        except BadRequestProblem:  # a field of the wrong type ("Wrong type, expected ...")
            raise
        except Exception as problem:  # a multipart body without its boundary, a broken part
            raise BadRequestProblem(detail=f"the form body could not be read: {problem}") from None
        self._validate(body)
        return body

    def _validate(self, body: dict) -> None:
        """Connexion's form check, without the error log line it writes for every refusal."""
        if self._validator._strict_validation:
            self._validator._validate_params_strictly(body)
        if self._surely_fits(body):
            return
        try:
            self._schema.validate(body)
        except ValidationError as exc:
            raise BadRequestProblem(detail=_said(exc)) from None


class _UrlencodedForm:
    """Starlette's FormParser for an urlencoded body, by the standard library's `parse_qsl`:
    the same fields (tests/test_front_end.py compares them on random bodies) in half the time
    (Starlette's feeds the body to python-multipart's parser a callback at a time)."""

    MAX_FIELDS = 1000  # Starlette's

    def __init__(self, headers: Headers, stream):
        self.stream = stream

    async def parse(self) -> FormData:
        raw = b"".join([chunk async for chunk in self.stream])
        fields = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        if len(fields) > self.MAX_FIELDS:
            raise ValueError(f"Too many fields. Maximum number of fields is {self.MAX_FIELDS}.")
        return FormData(fields)


class _FieldsOnce:
    """A form parser's fields, each the document gives one value (not an array) refused when
    it comes more than once: Connexion would join `name=a&name=b` into "a,b" (the query's
    parameters are refused alike: `_once_each`). A string field whose value is a comma list
    (`x-comma-list` in its schema: Mailgun's `ips`) is not refused: its values given
    separately are joined into that list, as a client sending the list field by field means."""

    def __init__(self, parser, single: frozenset[str]):
        self._parser, self._single = parser, single

    async def parse(self) -> FormData:
        data = await self._parser.parse()
        for name in data:
            if name in self._single and len(data.getlist(name)) > 1:
                raise BadRequestProblem(
                    detail=f"given more than once, and it takes one value - '{name}'"
                )
        return data


class _OnceEach:
    """A mixin for Connexion's form validators: their parser's fields checked by _FieldsOnce."""

    @property
    def _form_parser_cls(self):
        parser_cls, single = super()._form_parser_cls, self._single_fields
        return lambda headers, stream: _FieldsOnce(parser_cls(headers, stream), single)

    @cached_property
    def _single_fields(self) -> frozenset[str]:
        fields = self._schema.get("properties", {}).items()
        return frozenset(
            name
            for name, schema in fields
            if schema.get("type") != "array" and not schema.get("x-comma-list")
        )


class _UrlencodedParsing(FormDataValidator):
    """Connexion's validator of urlencoded forms, parsing with `_UrlencodedForm`."""

    @property
    def _form_parser_cls(self):
        return _UrlencodedForm


class _UrlencodedValidator(_OnceEach, _UrlencodedParsing):
    pass


class _MultipartValidator(_OnceEach, MultiPartFormDataValidator):
    pass


_FORMS = {
    "application/x-www-form-urlencoded": _UrlencodedValidator,
    "multipart/form-data": _MultipartValidator,
}


async def _replay(raw: bytes):
    """The body read whole, as the stream Connexion's parsers take."""
    yield raw


async def _read_raw(receive, scope) -> bytes | None:
    """A body of a media type the document gives no schema for: its bytes, None if empty."""
    return await _read_all(receive, scope) or None


async def _read_all(receive, scope) -> bytes:
    """The whole body, also kept in the scope for the journal of a refusal (RAW_BODY)."""
    raw = scope.setdefault("extensions", {})[RAW_BODY] = await read_body(receive)
    return raw


class ClientGone(Exception):
    """The client closed the connection before its body was whole: an incomplete message,
    which is not carried out (RFC 9112 6.3), and nobody is left to answer."""


async def read_body(receive) -> bytes:
    """The whole body the client sent (the limits above bound it); ClientGone if it left first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class ValidatingOperation(RequestValidationOperation):
    """Connexion's checks for one operation, built once: parameters, media type, body."""

    def __init__(
        self, next_app, *, operation, strict_validation=False, validator_map=None, plain=False
    ):
        super().__init__(
            next_app,
            operation=operation,
            strict_validation=strict_validation,
            validator_map=validator_map,
        )
        parser = QueryParser(operation.parameters, _first_body_definition(operation))
        self._parameters = NamedParameterValidator(
            operation.parameters,
            uri_parser=parser,
            strict_validation=strict_validation,
            security_query_params=self.security_query_params,
            plain=plain,
        )
        # An operation without a request body ignores any body and its media type, as the
        # real APIs do (Scaleway's SDK sends `{}` with every GET and DELETE).
        self._takes_body = bool(operation.request_body)
        self._bodies: dict[tuple[str, str], JSONBody | FormBody | None] = {}
        self._plain = plain  # the control API's (JSONBody)

    def _body(self, mime_type: str, encoding: str) -> JSONBody | FormBody | None:
        """The validator of a JSON or form body of this media type (None: the body is passed
        raw)."""
        key = (mime_type, encoding)
        if (
            key not in self._bodies
            and mime_type in _FORMS
            and self._operation.body_schema(mime_type)
        ):
            self._bodies[key] = FormBody(
                _FORMS[mime_type](
                    schema=self._operation.body_schema(mime_type),
                    required=self._operation.request_body.get("required", False),
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    uri_parser=self._operation.uri_parser_class(
                        self._operation.parameters, self._operation.body_definition(mime_type)
                    ),
                )
            )
        if key not in self._bodies:
            schema = self._operation.body_schema(mime_type)
            self._bodies[key] = (
                JSONBody(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=is_nullable(self._operation.body_definition(mime_type)),
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    plain=self._plain,
                )
                if schema and is_json_mimetype(mime_type)
                else None
            )
        return self._bodies[key]

    def extract_content_type(self, headers) -> tuple[str, str]:
        """The body's media type and charset, read as RFC 9110 writes them: spaces around the
        parameters, their names in any case, a quoted value (Connexion reads a charset only
        right after the `;`, and took `; charset=utf-16` for UTF-8). An empty Content-Type
        (`curl -H 'Content-Type:'`) counts as none: the document's own, in UTF-8."""
        given = next((v for k, v in headers if k == b"content-type" and v.strip()), None)
        if given is None:
            return super().extract_content_type([])
        media_type, *parameters = given.decode("latin-1").split(";")
        charset = "utf-8"
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"')
        return media_type.strip(), charset

    async def __call__(self, scope, receive, send):
        params = self._parameters.parse(scope)
        read_body = self._body_reader(scope["headers"]) if self._takes_body else None
        body = await read_body(receive, scope) if read_body else None
        scope.setdefault("extensions", {})[PARSED] = Parsed(params, body, read_body)
        await self.next_app(scope, receive, send)

    def _body_reader(self, headers) -> BodyReader:
        """How a body with these headers is read: by its media type's validator, or raw."""
        mime_type, encoding = self.extract_content_type(headers)
        self.validate_mime_type(mime_type)
        _check_charset(encoding)
        validator = self._body(mime_type.lower(), encoding)  # RFC 9110: in any case
        return validator.read if validator else _read_raw


def _check_charset(encoding: str) -> None:
    """A 415 for a charset no text can be read in: unknown (`charset=x`), or a codec that is
    not one of text (`charset=hex`), where decoding the body would fail with a 500."""
    try:
        b"a".decode(encoding)  # (an empty body is decoded without looking the codec up)
    except UnicodeDecodeError:
        pass  # a text encoding, in which "a" alone is no text (UTF-16): the body may be
    except (LookupError, UnicodeError):  # unknown, not text, or none at all ("undefined")
        raise UnsupportedMediaTypeProblem(
            detail=f"Invalid Content-type: charset {encoding!r} is not a text encoding"
        ) from None


class _ValidationAPI(RequestValidationAPI):
    def make_operation(self, operation):
        return ValidatingOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            plain=self.base_path == CONTROL_MOUNT,
        )


class RequestValidation(RequestValidationMiddleware):
    """Connexion's request validation middleware, with each operation's validators built once."""

    api_cls = _ValidationAPI


def _first_body_definition(operation) -> dict:
    """The body definition of the operation's first media type (Connexion's own choice, made
    without its warning when the document offers two)."""
    return operation.body_definition(operation.consumes[0]) if operation.request_body else {}
