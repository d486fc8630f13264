"""domainsandbox's pytest plugin (entry point `pytest11: domainsandbox`), under a module name
no project's own package takes.

The plugin itself is `contracts.pytest_plugin`. A project with a package of its own named
`contracts`, `sandbox` or `fake_dns` comes first on sys.path under pytest and hides
domainsandbox's: the plugin then says so once and stays out of the way, and the project's tests
run as they would without domainsandbox installed.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path

PACKAGES = ("contracts", "sandbox", "fake_dns")
# The fixtures that import domainsandbox's packages when a test asks for them.
FIXTURES = {"domain_sandbox", "domain_sandbox_session"}


def _hidden() -> list[tuple[str, str]]:
    """(package, where the one imported under its name lives) for each of domainsandbox's
    packages that another of the same name hides."""
    here = Path(__file__).resolve().parent
    hidden = []
    for name in PACKAGES:
        place = _where(name)
        if place and Path(place).resolve() != here / name:  # a package, or a module (x.py)
            hidden.append((name, place))
    return hidden


def _where(name: str) -> str | None:
    """Where `import name` takes the top-level package or module from: the one imported
    already, else the first on sys.path, the working directory first (the `pytest` command
    puts a project's folder there only as it imports its first test module, after this)."""
    if (module := sys.modules.get(name)) is not None:
        spec = module.__spec__
    else:
        spec = PathFinder.find_spec(name, [os.getcwd(), *sys.path])  # nothing is imported
    if spec is None:
        return None
    return (list(spec.submodule_search_locations or []) or [spec.origin])[0]


def _off(hidden: list[tuple[str, str]]) -> str:
    return (
        "domainsandbox's fixtures are off: this project's own package(s) "
        + ", ".join(f"{name} ({place})" for name, place in hidden)
        + " hide domainsandbox's of the same name."
    )


def _fail_the_fixture(hidden: list[tuple[str, str]]) -> None:
    """Fail the test asking for a fixture, saying why it cannot have it."""
    import pytest

    pytest.fail(f"{_off(hidden)} Rename the project's package to use them.", pytrace=False)


if _HIDDEN := _hidden():
    import pytest

    _OFF = _off(_HIDDEN)

    def pytest_configure(config: pytest.Config) -> None:
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"{_OFF} Run pytest with -p no:domainsandbox to silence this."
            ),
            stacklevel=2,
        )

    @pytest.fixture
    def domain_sandbox():
        """Stands in for the fixture, to say why a test asking for it cannot have it (pytest
        would say only "fixture 'domain_sandbox' not found")."""
        _fail_the_fixture(_HIDDEN)

else:
    import pytest

    from contracts.pytest_plugin import *  # noqa: F403 (its fixtures and hooks)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(item: pytest.Item) -> None:
        """A package a test module brought onto sys.path after the plugin loaded may hide one
        of domainsandbox's not imported yet: say so, where the fixture would fail to import."""
        if FIXTURES & set(getattr(item, "fixturenames", ())) and (hidden := _hidden()):
            _fail_the_fixture(hidden)
