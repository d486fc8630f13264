"""Folders that ship with domainsandbox beside its code: the OpenAPI documents, the bundled
scenarios, the documentation. In a wheel they sit inside the package (pyproject.toml's
force-include puts them there); in a checkout, at the repository's root."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CONTROL_DOCUMENT = "control.yaml"


def shipped(folder: str) -> Path:
    """Where `folder` (openapi, scenarios, docs) is: in the package, else in the checkout."""
    packaged = Path(__file__).parent / folder
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / folder


def openapi_dir() -> Path:
    """The OpenAPI documents: packaged inside `sandbox/` in a wheel, at the repo root otherwise."""
    return shipped("openapi")


@cache
def provider_names() -> tuple[str, ...]:
    """Every provider's name: one document each, named after it (the control API's aside)."""
    return tuple(sorted(p.stem for p in openapi_dir().glob("*.yaml") if p.name != CONTROL_DOCUMENT))
