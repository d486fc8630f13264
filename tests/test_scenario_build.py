"""The bundled scenario files are what scenarios/build.py builds today: a change to a provider
that changes what its domains are given shows here, and the files are built again."""

from __future__ import annotations

import importlib.util

import pytest

from .helpers import SCENARIOS

_spec = importlib.util.spec_from_file_location("scenario_build", SCENARIOS / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


@pytest.fixture(scope="module")
def server():
    from sandbox import Sandbox, SandboxServer
    from sandbox.engine.clock import Clock

    clock = Clock(start=build.START, frozen=True)
    with SandboxServer(Sandbox(seed=build.SEED, clock=clock)) as served:
        yield served


@pytest.mark.parametrize("name", sorted(build.SCENARIOS))
def test_each_bundled_scenario_is_what_the_build_makes_now(server, name):
    built = build.header(name) + build.build(name, server)
    assert (SCENARIOS / f"{name}.yaml").read_text() == built, (
        f"scenarios/{name}.yaml is stale: run `python scenarios/build.py {name}`"
    )
