"""Folders that ship with domainsandbox beside its code: the OpenAPI documents, the bundled
scenarios, the documentation. In a wheel they sit inside the package (pyproject.toml's
force-include puts them there); in a checkout, at the repository's root."""

from __future__ import annotations

from pathlib import Path


def shipped(folder: str) -> Path:
    """Where `folder` (openapi, scenarios, docs) is: in the package, else in the checkout."""
    packaged = Path(__file__).parent / folder
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / folder
