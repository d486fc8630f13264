"""The optional parts of domainsandbox, and the one clear message when one is not installed.

The base install serves, drives and tests; heavier tooling comes with an extra, kept out of the
base install because each package with a pytest plugin costs every pytest start of a user's
project (bench/pytest_start.py).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata

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
            f"{what} needs {missing}, which is not installed: {install_command(extra)}",
            name=exc.name,
        ) from None


def install_command(extra: str) -> str:
    """The command that installs `extra`'s packages into the Python running this, as the
    installed package's metadata requires them: it works from a checkout, a wheel, pipx or an
    index alike, where `pip install 'domainsandbox[extra]'` needs a published package and a
    bare `pip` may be another Python's."""
    wanted = " ".join(shlex.quote(requirement) for requirement in _requirements(extra))
    return f"{shlex.quote(sys.executable)} -m pip install {wanted}"


def _requirements(extra: str) -> list[str]:
    """`extra`'s requirements (`schemathesis<5,>=4.30`), or its modules' names without
    metadata (run from a checkout never installed)."""
    try:
        requires = metadata.requires("domainsandbox") or []
    except metadata.PackageNotFoundError:
        requires = []
    marker = f"extra == {extra!r}".replace("'", '"')
    wanted = [
        requirement.strip()
        for requirement, _, condition in (line.partition(";") for line in requires)
        if condition.strip().replace("'", '"') == marker
    ]
    return wanted or [EXTRAS[extra][0]]
