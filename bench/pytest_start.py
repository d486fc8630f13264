"""What installing domainsandbox costs every pytest start of a user's project.

    python bench/pytest_start.py [--runs 7]

A user's project that installs domainsandbox pays for every pytest plugin that comes with it at
every pytest start, whether or not a test uses the sandbox. This builds the wheel, installs it
into fresh virtualenvs beside pytest (the base install, and with every extra) and compares the
CPU of `pytest` running one trivial test with that of bare pytest in a virtualenv of its own,
then names what each plugin of the base install costs (pytest run with that plugin disabled).
Target: the base install costs at most 0.3 s of CPU over bare pytest.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, figure, median, table

TARGET_OVER_BARE_SECONDS = 0.3
ONE_TEST = "def test_nothing():\n    pass\n"


def build_wheel(into: Path) -> Path:
    """The project's wheel, built from this checkout into `into`."""
    quietly([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(into), str(ROOT)])
    return next(into.glob("domainsandbox-*.whl"))


def virtualenv(where: Path, *requirements: str) -> Path:
    """A fresh virtualenv at `where` holding `requirements` (and what they need): its python.
    Installed by this interpreter's pip, which saves bootstrapping one per virtualenv."""
    quietly([sys.executable, "-m", "venv", "--without-pip", str(where)])
    python = where / "bin" / "python"
    quietly([sys.executable, "-m", "pip", "--python", str(python), "install", *requirements])
    return python


def quietly(command: list[str]) -> None:
    """Run `command`; what it says is shown only if it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def plugins(python: Path) -> list[str]:
    """The pytest plugins installed in a virtualenv (entry points `pytest11`)."""
    listing = "from importlib.metadata import entry_points as e; print(*(p.name for p in e(group='pytest11')))"
    return subprocess.run([python, "-c", listing], capture_output=True, text=True).stdout.split()


def pytest_cpu(python: Path, directory: Path, runs: int, *options: str) -> float:
    """Median CPU seconds (user + system) of a pytest run of `directory`'s one test, as a
    user's project pays it from its second run on: the first writes the caches (bytecode, and
    pytest's rewrite of the asserts in each plugin's modules) and is not counted."""
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options]
    subprocess.run(command, cwd=directory, stdout=subprocess.DEVNULL, check=True)
    spent = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=directory, stdout=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return median(spent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pytest-start-") as scratch:
        scratch = Path(scratch)
        project = scratch / "project"
        project.mkdir()
        (project / "test_one.py").write_text(ONE_TEST)
        wheel = build_wheel(scratch / "dist")
        pythons = {
            "bare pytest": virtualenv(scratch / "bare", "pytest"),
            "pytest + domainsandbox": virtualenv(scratch / "base", str(wheel), "pytest"),
            "pytest + domainsandbox[all]": virtualenv(scratch / "all", f"{wheel}[all]"),
        }
        cpu = {name: pytest_cpu(python, project, opts.runs) for name, python in pythons.items()}
        bare = cpu["bare pytest"]
        print(f"CPU of a pytest run of one test, median of {opts.runs}")
        table(
            [[name, seconds, seconds - bare] for name, seconds in cpu.items()],
            ["virtualenv", "CPU s", "over bare pytest, s"],
        )
        over = cpu["pytest + domainsandbox"] - bare
        figure(
            "pytest-start",
            "base install's cost to a pytest start",
            over,
            "s",
            target=TARGET_OVER_BARE_SECONDS,
            note=f"bare pytest {bare:.2f} s",
        )

        base = pythons["pytest + domainsandbox"]
        print("\nwhat each plugin of the base install costs (the run with it disabled)")
        rows = []
        for plugin in plugins(base):
            without = pytest_cpu(base, project, opts.runs, "-p", f"no:{plugin}")
            rows.append([plugin, cpu["pytest + domainsandbox"] - without])
        table(rows, ["plugin", "CPU s"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
