"""A first look at a request body: the document's schema compiled to Python code.

jsonschema walks a schema anew for every body: 8 to 40 us for a create's small body, most of
the cost of validating it. fastjsonschema turns the schema into a Python function once, which
says yes to the same body in 1 to 5 us. It is only a first look, and never the last word:

- it knows no OpenAPI `nullable` and reads `$` as the very end of a string (jsonschema lets it
  match before a final newline), so it may refuse a body the document allows, never the other
  way round (tests/test_quick_check.py holds it to that with Schemathesis's bodies);
- a body it refuses is judged again by jsonschema, whose verdict and words stand.

Formats are judged by jsonschema's own format checker, so a `uuid` or a `date` gets the same
verdict from both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator

# Connexion validates requests with Draft 4: `exclusiveMinimum` is a flag there, not a number.
_DRAFT_4 = "http://json-schema.org/draft-04/schema#"

# One compiled function per distinct schema, for the life of the process: an app is built again
# for every test sandbox, and compiling a form's schema takes up to 8 ms.
_COMPILED: dict[str, Callable[[Any], Any] | None] = {}


def quick_check(schema: dict) -> Callable[[Any], bool]:
    """A function saying True when a body surely fits `schema`; False means "ask jsonschema"."""
    compiled = _compiled(schema)
    if compiled is None:
        return _unsure

    def surely_fits(body: Any) -> bool:
        try:
            compiled(body)
        except Exception:  # a refusal, or anything else: jsonschema decides
            return False
        return True

    return surely_fits


def _compiled(schema: dict) -> Callable[[Any], Any] | None:
    # Connexion hangs the document's components on every body schema (where one of them may
    # be the schema itself): its references are resolved, so the schema stands without them.
    schema = {key: value for key, value in schema.items() if key != "components"}
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _COMPILED:
        try:
            _COMPILED[key] = fastjsonschema.compile(
                {**schema, "$schema": _DRAFT_4},
                formats=_EveryFormat(),
                use_default=False,  # it would write the schema's defaults into the body
                detailed_exceptions=False,
            )
        except Exception:  # e.g. a `$` in a character class, which it rewrites into bad regex
            _COMPILED[key] = None
    return _COMPILED[key]


class _EveryFormat(dict):
    """Every format a schema names, judged by the checker jsonschema uses (which passes a format
    it does not know, and knows the "uuid" and "date" sandbox.validation adds): never
    fastjsonschema's own patterns, which differ."""

    def __contains__(self, name) -> bool:
        return True

    def __missing__(self, name: str) -> Callable[[str], bool]:
        conforms = Draft4Validator.FORMAT_CHECKER.conforms
        self[name] = checker = lambda value: conforms(value, name)  # noqa: E731
        return checker


def _unsure(body: Any) -> bool:
    return False
