"""What a user installing domainsandbox meets: bundled scenarios by name, `serve` configured
from the environment, clear messages for the optional parts, a warnings-clean fixture, and
(marked slow) the built wheel installed in a fresh virtualenv, used outside the repository."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from sandbox import bundled, envopts
from sandbox.cli import build_parser

from .helpers import CLI, Served, control_of, free_port

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 60):
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


def without_our_variables() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOMAINSANDBOX_")}


# --- bundled scenarios ----------------------------------------------------------------------


def test_scenario_list_names_every_bundled_scenario_and_says_what_it_holds(tmp_path):
    listed = run("scenario", "list", cwd=tmp_path)  # no sandbox, no repository needed
    assert listed.returncode == 0, listed.stderr
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:]] == shipped
    assert "One domain in each state of each provider" in listed.stdout
    as_json = json.loads(run("scenario", "list", "--json").stdout)
    assert [s["name"] for s in as_json["scenarios"]] == shipped
    assert all(s["description"] for s in as_json["scenarios"])


# --- the documentation --------------------------------------------------------------------


def documented() -> dict[str, str]:
    """Each page of the repository by the name `domainsandbox docs` takes, with its text."""
    pages = {"readme": (ROOT / "README.md").read_text()}
    return pages | {p.stem.lower(): p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}


def test_docs_lists_the_readme_and_every_page_and_prints_each_as_written(tmp_path):
    listed = run("docs", "--json", cwd=tmp_path)  # no sandbox, no repository needed
    assert listed.returncode == 0, listed.stderr
    pages = {page["name"]: page for page in json.loads(listed.stdout)["pages"]}
    assert sorted(pages) == sorted(documented())
    assert pages["scaleway"]["title"] == "Scaleway Mailbox (v1alpha1) in the sandbox"
    assert "scaleway" in run("docs").stdout.split()
    for name, text in documented().items():
        assert run("docs", name).stdout == text
    where = run("docs", "docs/SES.md", "--path").stdout.strip()
    assert Path(where).read_text() == documented()["ses"]


def test_every_page_the_readme_links_to_can_be_read_with_docs():
    linked = re.findall(r"\]\((docs/[^)#]+\.md)", (ROOT / "README.md").read_text())
    assert linked
    for link in set(linked):
        shown = run("docs", link)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == (ROOT / link).read_text()


def test_a_provider_without_a_page_of_its_own_is_the_readme():
    monite = run("docs", "monite", "--path")
    assert monite.returncode == 0, monite.stderr
    assert Path(monite.stdout.strip()) == Path(run("docs", "readme", "--path").stdout.strip())
    assert "## Walkthrough: Monite" in run("docs", "monite").stdout


def test_an_unknown_page_names_the_pages_there_are():
    missing = run("docs", "qzxv")  # in no page at all
    assert missing.returncode == 2
    assert "no page 'qzxv'" in missing.stderr and "readme, developing" in missing.stderr
    assert "did you mean" not in missing.stderr
    for blank in ("", "  "):  # not every section of every page
        empty = run("docs", blank)
        assert (empty.returncode, empty.stdout) == (2, "")
        assert "an empty name names no page; `domainsandbox docs` lists them" in empty.stderr
    typed = run("docs", "resnd")  # a page's name mistyped: the page meant
    assert typed.returncode == 2
    assert "no page 'resnd'; did you mean 'resend'? the pages: readme" in typed.stderr


def test_a_word_that_names_no_page_prints_the_sections_whose_headings_hold_it():
    readme = documented()["readme"]
    start = readme.index("## Scenarios: start in a known world")
    section = readme[start : readme.index("\n## ", start + 1)]
    shown = run("docs", "scenarios")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"{section.rstrip()}\n\n(from `domainsandbox docs readme`)\n\n"
    faults = run("docs", "FAULTS").stdout
    assert faults.startswith("## HTTP faults and rate limits\n")
    assert "\n### DNS faults and records\n" in faults  # the DNS fault kinds too
    assert faults.count("(from `domainsandbox docs ") == 2
    state = run("docs", "state").stdout  # a section and one inside it, both with the word
    assert state.count("### Backing up a state file\n") == 1, state


def test_a_word_no_heading_holds_lists_the_sections_that_mention_it_and_how_to_read_one():
    shown = run("docs", "backup")  # the section is "Backing up a state file"
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "No page or heading 'backup'; the sections that mention it:"
    assert ["reliability", "Backing", "up", "a", "state", "file"] in [
        line.split() for line in lines
    ]
    read = run("docs", "Backing up a state file")
    assert read.stdout.startswith("### Backing up a state file\n")
    assert "(from `domainsandbox docs reliability`)" in read.stdout


@pytest.fixture(scope="module")
def every_state():
    """A sandbox started in a bundled scenario, named as a user would."""
    served = Served("--scenario", "every-state")
    yield served
    served.stop()


def test_serve_starts_in_a_bundled_scenario_named(every_state):
    domains = control_of(every_state).domains()
    world = bundled.find("every-state").read_text()
    assert len(domains) == world.count("\n- provider: ") > 10


def test_scenario_load_takes_a_bundled_name_and_an_unknown_one_is_listed(every_state, tmp_path):
    url = every_state.urls["control"].removesuffix("/_sandbox")
    loaded = run("--url", url, "scenario", "load", "propagation", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("loaded propagation: ")
    assert any(d["name"].startswith("propagating.") for d in control_of(every_state).domains())
    unknown = run("--url", url, "scenario", "load", "every-stat", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "every-stat: no such file, nor a bundled scenario" in unknown.stderr
    assert "every-state" in unknown.stderr


def test_a_file_of_the_same_name_wins_over_the_bundled_scenario(tmp_path):
    (tmp_path / "every-state").write_text("format: 1\nseed: 5\n")
    assert bundled.find(str(tmp_path / "every-state")) == tmp_path / "every-state"
    assert bundled.find("every-state.yaml") == bundled.scenarios_dir() / "every-state.yaml"


# --- serve's options from the environment -----------------------------------------------------


def banner_of(process: subprocess.Popen) -> str:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return "".join(lines)
    raise AssertionError("".join(lines) + process.stderr.read())


def test_serve_reads_its_options_from_the_environment_and_a_flag_wins():
    port, dns_port = free_port(), free_port()
    env = without_our_variables() | {
        "DOMAINSANDBOX_PORT": str(port),
        "DOMAINSANDBOX_DNS_PORT": str(dns_port),
        "DOMAINSANDBOX_SEED": "seven",  # no seed: a flag given in its place wins all the same
        "DOMAINSANDBOX_RATE_LIMITS": "yes",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [*CLI, "serve", "--seed", "9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    try:
        banner = banner_of(process)
        assert "(seed 9)" in banner  # the flag, over DOMAINSANDBOX_SEED
        assert f"http://127.0.0.1:{port}/_sandbox" in banner
        assert f"DNS       127.0.0.1:{dns_port}" in banner
        limits = httpx.get(f"http://127.0.0.1:{port}/_sandbox/rate-limits", timeout=10)
        assert limits.json()["enabled"] is True
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("DOMAINSANDBOX_PORT", "eighty", "'eighty' is not a port number (0 to 65535)"),
        ("DOMAINSANDBOX_WORKERS", "0", "is not a whole number of 1 or more"),
        ("DOMAINSANDBOX_RATE_LIMITS", "maybe", "use 1/true/yes/on or 0/false/no/off"),
    ],
)
def test_a_bad_value_in_the_environment_is_refused_naming_the_variable(variable, value, said):
    refused = run("serve", env=without_our_variables() | {variable: value})
    assert refused.returncode == 2
    assert f"${variable}='{value}'" in refused.stderr
    assert said in refused.stderr


def test_every_serve_option_has_its_variable_listed_in_serve_help():
    helped = run("serve", "--help").stdout
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    options = [a for a in serve._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 12
    for action in options:  # its own variable, or one named after it
        name = "DOMAINSANDBOX_" + action.option_strings[-1][2:].replace("-", "_").upper()
        name = getattr(action, "variable", name)
        assert re.search(rf"^  {name} +{action.option_strings[-1]}", helped, re.M), name


def test_an_option_added_to_serve_gets_its_variable_without_more_code(monkeypatch):
    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]
    serve.add_argument("--banner-style", choices=["plain", "fancy"], default="plain")
    monkeypatch.setenv("DOMAINSANDBOX_BANNER_STYLE", "fancy")
    monkeypatch.setenv("DOMAINSANDBOX_ALLOWED_HOST", "sandbox, ci.internal")
    args = parser.parse_args(["serve"])
    assert args.banner_style == "fancy"
    assert args.allowed_host == ["sandbox", "ci.internal"]
    # a repeatable option given replaces the variable's values rather than adding to them
    assert parser.parse_args(["serve", "--allowed-host", "x"]).allowed_host == ["x"]
    assert "DOMAINSANDBOX_BANNER_STYLE" in envopts.epilog(serve)
    monkeypatch.setenv("DOMAINSANDBOX_BANNER_STYLE", "loud")
    with pytest.raises(SystemExit):
        parser.parse_args(["serve"])


def test_the_client_commands_are_not_read_from_serves_variables(monkeypatch):
    monkeypatch.setenv("DOMAINSANDBOX_SEED", "7")
    assert build_parser().parse_args(["reset"]).seed is None


# --- optional parts ---------------------------------------------------------------------------


def run_without(module: str, *argv: str) -> subprocess.CompletedProcess:
    """The CLI in a process where `module` cannot be imported, as in a base install."""
    code = (
        f"import sys; sys.modules[{module!r}] = None; "
        f"from sandbox.cli import main; sys.exit(main({list(argv)!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_contract_run_without_schemathesis_names_the_extra_to_install():
    """Into this Python, by the requirement the package states: `pip install
    'domainsandbox[contracts]'` needs a published package, and a bare `pip` may be another
    Python's."""
    ran = run_without("schemathesis", "contract", "run", "--provider", "monite")
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        "domainsandbox: contract testing needs schemathesis, which is not installed: "
        f"{sys.executable} -m pip install 'schemathesis<5,>=4.30'"  # pyproject's contracts extra
    )


def test_fake_data_without_faker_names_the_extra_to_install():
    code = (
        "import sys; sys.modules['faker'] = None\n"
        "from sandbox import Sandbox\n"
        "from sandbox.control import Control\n"
        "from sandbox.engine.ids import Ids\n"
        "print(Ids(7).ipv4())  # addresses need no Faker\n"
        "Control(Sandbox()).build_demo()\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 1
    assert ran.stdout.count(".") == 3
    assert (
        f"the demo world needs faker, which is not installed: {sys.executable} -m pip install "
        "'faker>=30'"
    ) in ran.stderr


# --- warnings ---------------------------------------------------------------------------------

USER_CONFTEST = "import sandbox.client  # imported at collection, before the fixture starts\n"
USER_TEST = textwrap.dedent(
    """
    import httpx


    def test_a_token_from_the_sandbox(domain_sandbox):
        answer = httpx.post(
            domain_sandbox.urls["monite"] + "/auth/token",
            headers={"x-monite-version": "2024-05-25"},
            json={
                "client_id": "eb959578-a74d-4ac3-8b25-bf0910027857",
                "client_secret": "s",
                "grant_type": "client_credentials",
            },
        )
        assert answer.status_code == 200
        assert domain_sandbox.control.health()["ready"]
    """
)


def write_user_suite(directory: Path) -> None:
    (directory / "conftest.py").write_text(USER_CONFTEST)
    (directory / "test_user.py").write_text(USER_TEST)


def test_a_user_suite_run_with_warnings_as_errors_passes_with_the_fixture(tmp_path):
    write_user_suite(tmp_path)
    # only our plugin: the others installed here for the project's own tests (Schemathesis,
    # Hypothesis, Faker) would cost seconds; the wheel test below runs with all a user gets
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-W", "error", "-p", "contracts.pytest_plugin", "-q"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout
    assert "warning" not in ran.stdout.lower()


# --- the wheel, outside the repository ----------------------------------------------------------


@pytest.mark.slow
def test_the_wheel_serves_a_bundled_scenario_and_runs_a_fixture_test_outside_the_repository(
    tmp_path,
):
    """What `pip install domainsandbox` gives a user: built from this checkout, installed into
    a fresh virtualenv with pytest, and used from a directory that is not the repository."""
    sys.path.insert(0, str(ROOT / "bench"))
    from pytest_start import build_wheel, virtualenv

    python = virtualenv(tmp_path / "venv", str(build_wheel(tmp_path / "dist")), "pytest")
    project = tmp_path / "project"
    project.mkdir()
    write_user_suite(project)
    port = free_port()
    env = without_our_variables() | {
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "DOMAINSANDBOX_PORT": str(port),
        "DOMAINSANDBOX_DNS_PORT": str(free_port()),
        "DOMAINSANDBOX_URL": f"http://127.0.0.1:{port}",
    }
    env = {k: v for k, v in env.items() if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV"))}

    def user(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)

    where = user("python", "-c", "import sandbox; print(sandbox.__file__)").stdout
    assert where.startswith(str(tmp_path / "venv")), where
    package = Path(where.strip()).parent  # the repository's own tools stay in the repository
    leftovers = [*(package / "docs").glob("*.png"), *(package / "docs").glob("*.py")]
    assert leftovers + [*(package / "scenarios").glob("*.py")] == []
    light = "import importlib.util as u; print([m for m in ('schemathesis', 'hypothesis', 'faker') if u.find_spec(m)])"
    assert user("python", "-c", light).stdout.strip() == "[]"  # the extras stay out
    listed = json.loads(user("domainsandbox", "scenario", "list", "--json").stdout)
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert [s["name"] for s in listed["scenarios"]] == shipped  # every one is in the wheel
    pages = json.loads(user("domainsandbox", "docs", "--json").stdout)["pages"]
    assert sorted(page["name"] for page in pages) == sorted(documented())  # and every page
    assert user("domainsandbox", "docs", "readme").stdout == documented()["readme"]

    server = subprocess.Popen(
        ["domainsandbox", "serve", "--scenario", "every-state"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        banner = banner_of(server)
        assert f"127.0.0.1:{port}" in banner
        health = httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=10).json()
        assert health["ready"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/_sandbox/ui", timeout=10).status_code == 200
        monite = httpx.get(f"http://127.0.0.1:{port}/monite/v1/openapi.json", timeout=10)
        assert monite.json()["info"]["title"]
        loaded = user("domainsandbox", "scenario", "load", "propagation")
        assert loaded.returncode == 0, loaded.stderr
        contract = user("domainsandbox", "contract", "run", "--provider", "monite")
        hint = f"{python} -m pip install 'schemathesis<5,>=4.30'"  # into the user's virtualenv
        assert hint in contract.stderr, contract.stderr
        demo = user("domainsandbox", "demo", "--domains", "2")
        assert demo.returncode != 0
        install = demo.stderr.split("which is not installed: ")[1].strip()
        assert install == f"{python} -m pip install 'faker>=30'"
        # what it names installs (this virtualenv was made without pip: this Python's installs)
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        assert user(*pip, *shlex.split(install)[4:]).returncode == 0
        assert user("domainsandbox", "demo", "--domains", "2").returncode == 0
    finally:
        server.terminate()
        server.communicate(timeout=15)
    suite = user("python", "-m", "pytest", "-W", "error", "-q", "-p", "no:cacheprovider")
    assert suite.returncode == 0, suite.stdout + suite.stderr
    assert "1 passed" in suite.stdout
