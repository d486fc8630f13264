"""The OpenAPI documents the sandbox serves: valid, and consistent with the code serving them."""

from __future__ import annotations

import pytest
from connexion.spec import Specification

from sandbox import documents

DOCUMENTS = sorted(p.name for p in documents.openapi_dir().glob("*.yaml"))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_document_is_valid_openapi(document):
    # Serving skips Connexion's check of each document against the OpenAPI schema (it was a
    # third of start-up); this is where the check runs instead.
    spec = Specification.load(documents.fresh(document))
    assert spec.version >= (3, 0, 0)
    assert documents.operations(document), f"{document} declares no operation"
