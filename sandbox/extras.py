"""The optional parts of domainsandbox, and the one clear message when one is not installed.

The base install serves, drives and tests; heavier tooling comes with an extra, kept out of the
base install because each package with a pytest plugin costs every pytest start of a user's
project (bench/pytest_start.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# extra -> the top-level modules it installs that the sandbox imports
EXTRAS = {
    "contracts": ("schemathesis", "hypothesis"),
    "demo": ("faker",),
}


class MissingExtra(ImportError):
    """What was asked needs an optional part of domainsandbox that is not installed."""


@contextmanager
def needs(extra: str, what: str) -> Iterator[None]:
    """Imports inside this block that miss a module of `extra` say how to install it."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in EXTRAS[extra]:
            raise
        raise MissingExtra(
            f"{what} needs {missing}, which is not installed: pip install 'domainsandbox[{extra}]'",
            name=exc.name,
        ) from None
