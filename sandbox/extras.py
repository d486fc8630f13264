"""The optional parts of domainsandbox, and the one clear message when one is not installed.

The base install serves, drives and tests; heavier tooling comes with an extra, kept out of the
base install because each package with a pytest plugin costs every pytest start of a user's
project (bench/pytest_start.py).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

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
    """The pip command that adds `extra` to this install, from where it was installed: the
    checkout or the wheel file pip recorded (PEP 610), else the published name."""
    source, editable = _installed_from()
    if source is None or not source.exists():
        return f"pip install 'domainsandbox[{extra}]'"
    return f"pip install {'-e ' if editable else ''}{shlex.quote(f'{source}[{extra}]')}"


def _installed_from() -> tuple[Path | None, bool]:
    """(the local folder or file pip installed domainsandbox from, or None; whether editable)."""
    try:
        recorded = metadata.distribution("domainsandbox").read_text("direct_url.json")
        origin = json.loads(recorded or "null") or {}
    except (metadata.PackageNotFoundError, ValueError):
        return None, False
    url = urlparse(origin.get("url", ""))
    if url.scheme != "file" or "vcs_info" in origin:
        return None, False
    return Path(url2pathname(url.path)), bool(origin.get("dir_info", {}).get("editable"))
