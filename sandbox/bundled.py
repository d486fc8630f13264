"""The scenarios that ship with domainsandbox, found by name: `--scenario every-state`.

In a wheel they sit in the package (sandbox/scenarios/); in a checkout, at the repository's
root (scenarios/), where scenarios/build.py rebuilds them.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from .shipped import shipped

SUFFIX = ".yaml"


def scenarios_dir() -> Path:
    return shipped("scenarios")


def names() -> list[str]:
    """Every bundled scenario's name, sorted."""
    return sorted(path.stem for path in scenarios_dir().glob(f"*{SUFFIX}"))


def description(name: str) -> str:
    """What a bundled scenario holds: the first comment line of its file, after its name."""
    with (scenarios_dir() / f"{name}{SUFFIX}").open(encoding="utf-8") as file:
        first = file.readline()
    return first.removeprefix(f"# {name}:").strip()


def listing() -> list[dict[str, str]]:
    """Each bundled scenario's name and what it holds (`scenario list`, GET /_sandbox/scenarios)."""
    return [{"name": name, "description": description(name)} for name in names()]


class UnknownScenario(LookupError):
    def __str__(self) -> str:
        given = self.args[0]
        said = f"{given}: no such file, nor a bundled scenario (bundled: {', '.join(names())})"
        stem = given.removesuffix(SUFFIX).lower().replace("_", "-")
        if close := difflib.get_close_matches(stem, names(), n=1, cutoff=0.6):
            said += f"; did you mean {close[0]}?"
        return said


def find(name_or_file: str) -> Path:
    """A scenario file: `name_or_file` itself if it is a file, else the bundled scenario of that
    name (`every-state` or `every-state.yaml`). A path that is not there is `FileNotFoundError`;
    a bare name that is neither, `UnknownScenario`."""
    given = Path(name_or_file)
    if given.is_file() or given.name != name_or_file:  # there, or a path: open() says why not
        return given
    bundled = scenarios_dir() / f"{given.name.removesuffix(SUFFIX)}{SUFFIX}"
    if bundled.is_file():
        return bundled
    raise UnknownScenario(name_or_file)
