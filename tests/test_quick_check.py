"""The quick check of request bodies (sandbox.quick_check) never lets through what the document
refuses: for every request body of every document, Schemathesis's bodies, good and bad, are
judged by it and by the validator Connexion builds from the same schema."""

from __future__ import annotations

from functools import partial

import pytest
from connexion.json_schema import Draft4RequestValidator
from connexion.operations import OpenAPIOperation
from connexion.resolver import Resolver
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft4Validator
from schemathesis import GenerationMode
from schemathesis.openapi import from_dict

from sandbox import documents
from sandbox.providers import PROVIDERS
from sandbox.quick_check import quick_check
from sandbox.validation import CheckedSpecification  # also adds the "uuid" and "date" formats

DOCUMENTS = [provider.document for provider in PROVIDERS] + ["control.yaml"]


def _bodies():
    """(Schemathesis's operation, media type, schema as Connexion hands it to the validators)
    of every request body of every document."""
    for document in DOCUMENTS:
        spec = CheckedSpecification(documents.fresh(document))
        for result in from_dict(documents.fresh(document)).get_all_operations():
            operation = result.ok()
            connexion_operation = OpenAPIOperation.from_spec(
                spec,
                path=operation.path,
                method=operation.method.lower(),
                resolver=Resolver(lambda operation_id: print),  # no handler is called
            )
            for body in operation.body:
                yield pytest.param(
                    operation,
                    body.media_type,
                    connexion_operation.body_schema(body.media_type),
                    id=f"{document}:{operation.label}:{body.media_type}",
                )


BODIES = list(_bodies())


def _each(strategy, check) -> None:
    """`check` every example `strategy` draws: 60 of them, the same ones every run."""

    @given(strategy)
    @settings(
        max_examples=60,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(example):
        check(example)

    run()


@pytest.mark.parametrize(("operation", "media_type", "schema"), BODIES)
def test_the_quick_check_says_yes_only_to_bodies_the_document_allows(operation, media_type, schema):
    surely_fits = quick_check(schema)
    validator = Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    said_yes = {mode: 0 for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)}

    def judge(case, mode):
        if surely_fits(case.body):
            said_yes[mode] += 1
            assert validator.is_valid(case.body), case.body

    for mode in said_yes:
        _each(operation.as_strategy(mode, media_type=media_type), partial(judge, mode=mode))

    # Bodies the document allows are taken at the first look: the quick check is in use.
    assert said_yes[GenerationMode.POSITIVE] > 0, f"no good body got a quick yes: {schema}"


def _formats(schema) -> set[str]:
    """Every `format` named anywhere in a document."""
    if isinstance(schema, dict):
        own = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return own.union(*map(_formats, schema.values()))
    if isinstance(schema, list):
        return set().union(*map(_formats, schema))
    return set()


FORMATS = sorted(set().union(*(_formats(documents.load(document)) for document in DOCUMENTS)))
PROBES = ["", "x", "2024-13-45", "2024-02-01", "2024-02-01T10:00:00Z", "1.2.3.4", "a@b.example"]
PROBES += ["7c9e6679-7425-40de-944b-e07fc1f90ae7", "7C9E6679742540DE944BE07FC1F90AE7"]


@pytest.mark.parametrize("name", FORMATS)
def test_a_format_gets_no_quick_yes_for_a_value_jsonschema_refuses(name):
    """Formats are judged by jsonschema's checker: fastjsonschema alone would pass any string
    as a "uuid" or a "date", which it does not know."""
    surely_fits = quick_check({"type": "string", "format": name})
    conforms = Draft4Validator.FORMAT_CHECKER.conforms
    assert [p for p in PROBES if surely_fits(p)] == [p for p in PROBES if conforms(p, name)]
