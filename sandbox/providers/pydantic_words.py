"""A request refused as FastAPI over pydantic v2 words it (Monite's stack): the `detail` item's
`loc`, `type`, `msg`, `input` and `ctx`, from the sentence the document check wrote (jsonschema's
words, as sandbox.validation and Connexion write them).

Checked against pydantic 2.14: each wording is what pydantic-core says for the same failure.
"""

from __future__ import annotations

import ast
import calendar
import json
import math
import re

from ..errors import CUT_SHORT, NULL_BODY, unexpected_fields

_JSON_ERROR = re.compile(r"^(?P<why>[^:]+): line \d+ column \d+ \(char (?P<at>\d+)\)$")
# a parameter's format refused, or its pattern (where a typed one's forms are written as one;
# said in the words of its x-pattern-said, or quoted)
_PARAMETER = re.compile(
    r"^Invalid \w+ parameter '[^']+': (?P<value>.*?) "
    r"(?:is not a '(?P<format>\w+)'|is not .+|does not match (?:'.*'|\".*\"))$"
)
_FIELD = r"(?: - '[^']*')?$"  # where in the body: the field, named apart
_SCHEMA = [
    (re.compile(r"^'[^']+' is a required property$"), "required"),
    (re.compile(r"^(?P<value>.*) is not of type '(?P<type>\w+)'" + _FIELD), "type"),
    (re.compile(r"^(?P<value>.*) is not one of (?P<choices>\[.*\])" + _FIELD), "enum"),
    (re.compile(r"^(?P<value>.*) is too long \(at most (?P<n>\d+) characters\)" + _FIELD), "long"),
    (
        re.compile(r"^(?P<value>.*) (?:is too short|should be non-empty) \(at least (?P<n>\d+) ch"),
        "short",
    ),
    (re.compile(r"^(?P<value>.*) does not match (?P<pattern>'.*?'|\".*?\")" + _FIELD), "pattern"),
    (re.compile(r"^(?P<value>.*) is not a 'uuid'" + _FIELD), "uuid"),
]
_MISSING = ("missing", "Field required")


def fastapi_refusal(
    message: str, field: str | None, typed: dict | None = None
) -> tuple[list, str, str, dict]:
    """FastAPI's (loc, type, msg, extra) for the refusal the document check said in `message`
    about `field`; `extra` holds pydantic's `input` and `ctx` where the sentence shows them
    whole. `typed` names the body fields pydantic reads as other than a str: "uuid", or an
    enum's choices. What pydantic has no words for is said as a validator's ValueError."""
    where = re.search(r"(query|path|header|cookie) parameter", message)
    where = where.group(1) if where else "body"
    if field is None and (unexpected := unexpected_fields(message)):
        # additionalProperties: false is pydantic's extra="forbid": it names the first
        return ["body", unexpected[0]], "extra_forbidden", "Extra inputs are not permitted", {}
    if decode := _JSON_ERROR.match(message):  # a body it cannot parse
        ctx = {"error": decode["why"]}
        return (
            ["body", int(decode["at"])],
            "json_invalid",
            "JSON decode error",
            {"input": {}, "ctx": ctx},
        )
    loc = [where, field] if field else [where]
    return (loc, *_pydantic_error(message, field, typed or {}))


def _pydantic_error(message: str, field: str | None, typed: dict) -> tuple[str, str, dict]:
    if message.startswith("Missing ") or message.startswith("RequestBody is required"):
        return (*_MISSING, {"input": None})  # FastAPI's missing parameter or body: input null
    if message == NULL_BODY:  # a JSON null: FastAPI reads no body
        return (*_MISSING, {"input": None})
    if (parameter := _PARAMETER.match(message)) and (
        form := parameter["format"] or typed.get(field)
    ):
        value = _said(parameter["value"])  # a parameter is a string, said in repr
        if isinstance(value, str) and (error := _format_error(form, value)):
            return error
        if form == "uuid" and (size := _cut_length(parameter["value"])):
            why = f"invalid length: found {size}"  # cut short: far past a UUID's 45 at most
            return "uuid_parsing", f"Input should be a valid UUID, {why}", {"ctx": {"error": why}}
    for pattern, case in _SCHEMA:
        if found := pattern.match(message):
            if error := _schema_error(case, found, field, typed.get(field)):
                return error
            break
    said = re.sub(_FIELD, "", message, count=1)  # the field is in loc, not in pydantic's msg
    return "value_error", f"Value error, {said}", {"ctx": {"error": {}}}


def _schema_error(
    case: str, found: re.Match, field: str | None, typed
) -> tuple[str, str, dict] | None:
    if case == "required":
        return (*_MISSING, {})  # pydantic's input is the whole body, which is not at hand
    value = _said(found["value"])
    # JSON has no Infinity (1e999 read as a float): no `input` rather than a null standing in
    shown = value is not _CUT and not (isinstance(value, float) and not math.isfinite(value))
    extra = {"input": value} if shown else {}
    if case == "type" and field is None and found["type"] == "object":
        msg = "Input should be a valid dictionary or object to extract fields from"
        return "model_attributes_type", msg, extra
    if case == "type" and typed == "uuid":
        return "uuid_type", "UUID input should be a string, bytes or UUID object", extra
    if case == "type" and isinstance(typed, tuple):
        return _enum(typed, extra)
    if case == "type" and found["type"] == "string":
        return "string_type", "Input should be a valid string", extra
    if case == "enum":
        return _enum(ast.literal_eval(found["choices"]), extra)
    if case in ("long", "short"):
        n = int(found["n"])
        most, bound = ("most", "max_length") if case == "long" else ("least", "min_length")
        unit = "character" if n == 1 else "characters"
        msg = f"String should have at {most} {n} {unit}"
        return f"string_too_{case}", msg, {**extra, "ctx": {bound: n}}
    if case == "pattern":
        pattern = _said(found["pattern"])
        if pattern is _CUT:
            return None
        msg = f"String should match pattern '{pattern}'"
        return "string_pattern_mismatch", msg, {**extra, "ctx": {"pattern": pattern}}
    if case == "uuid" and isinstance(value, str):
        return _format_error("uuid", value)
    return None


def _enum(choices, extra: dict) -> tuple[str, str, dict]:
    said = [repr(c) if isinstance(c, str) else str(c) for c in choices]
    expected = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} or {said[-1]}"
    return "enum", f"Input should be {expected}", {**extra, "ctx": {"expected": expected}}


def _format_error(form: str, value: str) -> tuple[str, str, dict] | None:
    """pydantic's error for a string its UUID or date type refuses; None where pydantic would
    take it (the sandbox's document is stricter) or its words are not known here."""
    if form == "uuid" and (why := _uuid_problem(value)):
        msg = f"Input should be a valid UUID, {why}"
        return "uuid_parsing", msg, {"input": value, "ctx": {"error": why}}
    if form == "date" and value.isascii() and value.isdigit():
        if int(value) < 20_000_000_000 and int(value) % 86400:  # seconds since 1970, not midnight
            msg = "Datetimes provided to dates should have zero time - e.g. be exact dates"
            return "date_from_datetime_inexact", msg, {"input": value}
        return None
    if form == "date" and (why := _date_problem(value)):
        msg = f"Input should be a valid date or datetime, {why}"
        return "date_from_datetime_parsing", msg, {"input": value, "ctx": {"error": why}}
    return None


_CUT = object()


def _said(said: str):
    """The value a validation sentence shows (sandbox.errors.said_value), or _CUT when it was
    cut short or cannot be read back."""
    if re.search(f"{CUT_SHORT}$", said):
        return _CUT
    try:
        return ast.literal_eval(said) if said[:1] in "'\"" else json.loads(said)
    except (ValueError, SyntaxError):
        return _CUT


def _cut_length(said: str) -> int | None:
    """The length of a string a sentence showed cut short ("'aaa…' (5000 characters)")."""
    cut = re.search(r"… \((\d+) characters\)$", said)
    return int(cut.group(1)) if cut else None


_HEX = frozenset("0123456789abcdefABCDEF")


def _uuid_problem(text: str) -> str | None:
    """Why the `uuid` crate (pydantic-core's UUID parser) refuses `text`, in its words; None if
    it parses (hyphenated, simple, {braced} or urn:uuid:)."""
    size = len(text.encode())
    if size > 45:
        return f"invalid length: found {size}"
    braced = len(text) >= 2 and text[0] == "{" and text[-1] == "}"
    urn = text.startswith("urn:uuid:")
    # the shape is read from the length; positions count from the prefix only off those lengths
    if size in (32, 36):
        core, offset, simple = text, 0, True
    elif braced or urn:
        core = text[1:-1] if braced else text[9:]
        offset = 0 if size == (38 if braced else 45) else (1 if braced else 9)
        simple = False
    else:
        core, offset, simple = text, 0, True
    hyphens, index = [], 0
    for char in core:
        if char == "-":
            hyphens.append(index)
        elif char not in _HEX:
            return f"invalid character: found `{char}` at {index + offset}"
        index += len(char.encode())
    if not hyphens and simple:
        return None if size == 32 else f"invalid length: found {size}"
    if len(hyphens) != 4:
        return f"invalid group count: expected 5, found {len(hyphens) + 1}"
    starts, sizes = (0, 9, 14, 19, 24), (8, 4, 4, 4, 12)
    for group in range(4):
        if hyphens[group] != starts[group + 1] - 1:
            found = hyphens[group] - starts[group]
            return f"invalid group length in group {group}: expected {sizes[group]}, found {found}"
    if len(core) == 36:
        return None
    return f"invalid group length in group 4: expected 12, found {size - 24}"


def _date_problem(text: str) -> str | None:
    """Why `speedate` (pydantic-core's date and datetime parser) refuses `text` as a date or
    datetime, in its words; None if it reads it or the reason lies past the date."""
    data = text.encode("latin-1", "replace")
    if len(data) < 10:
        return "input is too short"
    fields = (
        (data[0:4], "invalid character in year"),
        (data[4:5], "invalid date separator, expected `-`"),
        (data[5:7], "invalid character in month"),
        (data[7:8], "invalid date separator, expected `-`"),
        (data[8:10], "invalid character in day"),
    )
    for part, why in fields:
        if not (part == b"-" if len(part) == 1 else part.isdigit()):
            return why
    year, month, day = int(data[0:4]), int(data[5:7]), int(data[8:10])
    if not 1 <= month <= 12:
        return "month value is outside expected range of 1-12"
    if not 1 <= day <= calendar.monthrange(year or 2000, month)[1]:
        return "day value is outside expected range"
    if len(data) > 10 and data[10:11] not in (b"T", b"t", b"_", b" "):
        return "invalid datetime separator, expected `T`, `t`, `_` or space"
    return "input is too short" if len(data) == 11 else None
