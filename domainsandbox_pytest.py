"""domainsandbox's pytest plugin (entry point `pytest11: domainsandbox`), under a module name
no project's own package takes.

The plugin itself is `contracts.pytest_plugin`. A project with a package of its own named
`contracts`, `sandbox` or `fake_dns` comes first on sys.path under pytest and hides
domainsandbox's: the plugin then says so once and stays out of the way, and the project's tests
run as they would without domainsandbox installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGES = ("contracts", "sandbox", "fake_dns")


def _hidden() -> list[tuple[str, str]]:
    """(package, where the one imported under its name lives) for each of domainsandbox's
    packages that another of the same name hides."""
    here = Path(__file__).resolve().parent
    hidden = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)  # a top-level name: nothing is imported
        if spec is None:
            continue
        place = (list(spec.submodule_search_locations or []) or [spec.origin])[0]
        if place and Path(place).resolve() != here / name:  # a package, or a module (x.py)
            hidden.append((name, place))
    return hidden


if _HIDDEN := _hidden():
    import pytest

    _OFF = (
        "domainsandbox's fixtures are off: this project's own package(s) "
        + ", ".join(f"{name} ({place})" for name, place in _HIDDEN)
        + " hide domainsandbox's of the same name."
    )

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
        pytest.fail(f"{_OFF} Rename the project's package to use them.", pytrace=False)

else:
    from contracts.pytest_plugin import *  # noqa: F403 (its fixtures and hooks)
