"""The OpenAPI documents the sandbox serves: valid, and consistent with the code serving them."""

from __future__ import annotations

import re

import pytest
from connexion.spec import Specification

from sandbox import documents
from sandbox.client import ControlError

DOCUMENTS = sorted(p.name for p in documents.openapi_dir().glob("*.yaml"))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_document_is_valid_openapi(document):
    # Serving skips Connexion's check of each document against the OpenAPI schema (it was a
    # third of start-up); this is where the check runs instead.
    spec = Specification.load(documents.fresh(document))
    assert spec.version >= (3, 0, 0)
    assert documents.operations(document), f"{document} declares no operation"


def test_every_provider_is_named_after_its_document_and_the_control_api_knows_them_all():
    from sandbox.providers import PROVIDERS

    assert sorted(p.name for p in PROVIDERS) == list(documents.provider_names())
    assert all(p.document == f"{p.name}.yaml" for p in PROVIDERS)
    provider_name = documents.load("control.yaml")["components"]["schemas"]["ProviderName"]
    names = ", ".join(documents.provider_names())
    assert provider_name["description"] == f"one of {names}, in any letter case"
    pattern = re.compile(provider_name["pattern"])
    for name in documents.provider_names():
        assert pattern.fullmatch(name) and pattern.fullmatch(name.upper())
    assert not pattern.fullmatch("monitex") and not pattern.fullmatch("control")


def test_the_control_api_refuses_a_provider_it_does_not_have(control):
    with pytest.raises(ControlError) as refused:
        control.domains("nosuchprovider")
    assert refused.value.status == 400


def test_a_provider_that_limits_its_rate_declares_the_429_on_every_operation():
    """An answer the sandbox gives must be one the document declares: Schemathesis's status
    check, and any client generated from the document, would take a 429 for a bug."""
    from sandbox.providers import PROVIDERS

    undeclared = [
        f"{provider.name} {op}"
        for provider in PROVIDERS
        if provider.rate_limit is not None
        for op, method, path in documents.operations(provider.document)
        if "429"
        not in documents.load(provider.document)["paths"][path][method.lower()]["responses"]
    ]
    assert undeclared == []
