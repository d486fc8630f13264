"""README.md's "Use it in CI": its shell script runs as printed (on free ports, through the
variables it reads), and its GitHub Actions job runs the same commands."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import yaml

from .helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Use it in CI"

USER_TEST = textwrap.dedent(
    """
    import os

    from sandbox.client import ControlClient


    def test_the_sandbox_serves_the_scenario_it_was_started_in():
        with ControlClient(os.environ["DOMAINSANDBOX_URL"]) as control:
            assert control.health()["ready"]
            assert len(control.domains()) > 10
    """
)


def ci_blocks() -> dict[str, str]:
    """The CI section's script and workflow: its ```sh block that starts the sandbox, and its
    ```yaml block."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    blocks: dict[str, str] = {}
    for part in section.split("```")[1::2]:
        language, _, body = part.partition("\n")
        if language == "yaml" or "domainsandbox serve" in body:
            blocks[language] = body
    return blocks


def run_recipe(project: Path, port: int | None = None) -> subprocess.CompletedProcess:
    (project / "recipe.sh").write_text(ci_blocks()["sh"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOMAINSANDBOX_"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        "DOMAINSANDBOX_PORT": str(port or free_port()),
        "DOMAINSANDBOX_DNS_PORT": str(free_port()),
        # the user's tests here need no plugin: spare the seconds of those installed for ours
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    return subprocess.run(
        ["bash", "recipe.sh"], cwd=project, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_shell_recipe_serves_waits_on_health_runs_the_tests_and_stops(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_with_the_sandbox.py").write_text(USER_TEST)
    ran = run_recipe(tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr + (tmp_path / "sandbox.log").read_text()
    assert '"ready":true' in ran.stdout
    assert "1 passed" in ran.stdout
    assert (tmp_path / "sandbox.log").read_text().rstrip().endswith("domainsandbox: stopped")


def test_the_shell_recipe_fails_when_the_tests_fail_and_still_stops_the_sandbox(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_failing.py").write_text("def test_fails():\n    assert False\n")
    ran = run_recipe(tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 failed" in ran.stdout
    assert (tmp_path / "sandbox.log").read_text().rstrip().endswith("domainsandbox: stopped")


VIOLATING_TEST = textwrap.dedent(
    """
    import os

    import httpx


    def test_a_client_that_sends_a_field_the_document_does_not_declare():
        url = os.environ["DOMAINSANDBOX_URL"] + "/autosend/v1/domains"
        key = {"Authorization": "Bearer as_sample_project_0"}
        answer = httpx.post(url, json={"domainName": "x.example"}, headers=key)
        assert answer.status_code == 400  # the test passes: the client's bug does not show
    """
)


def test_the_shell_recipe_fails_on_a_request_the_document_refuses_though_the_tests_pass(
    tmp_path,
):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_violating.py").write_text(VIOLATING_TEST)
    ran = run_recipe(tmp_path)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout
    assert "request(s) an API's document refuses" in ran.stderr, ran.stdout + ran.stderr
    assert (tmp_path / "sandbox.log").read_text().rstrip().endswith("domainsandbox: stopped")


def test_the_shell_recipe_fails_saying_why_when_another_server_holds_the_port(tmp_path):
    """Another server answering health on the port must not pass for this sandbox: the tests
    would run against a world that is not the one asked for."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_with_the_sandbox.py").write_text(USER_TEST)
    squatter = http.server.HTTPServer(("127.0.0.1", 0), _HealthyEverywhere)
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    try:
        ran = run_recipe(tmp_path, port=squatter.server_port)
    finally:
        squatter.shutdown()
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert f"HTTP port {squatter.server_port} is already in use" in ran.stdout
    assert "passed" not in ran.stdout and "failed" not in ran.stdout  # no test ran


def test_the_github_actions_job_starts_the_sandbox_and_its_last_step_shows_it_stopped(tmp_path):
    """Its last step printed the log before the sandbox had stopped (no "domainsandbox:
    stopped"): it now waits for the process to end."""
    steps = {s.get("name"): s["run"] for s in yaml.safe_load(ci_blocks()["yaml"])["jobs"]["test"]["steps"] if "run" in s}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOMAINSANDBOX_"))}
    port = free_port()
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        "DOMAINSANDBOX_PORT": str(port),
        "DOMAINSANDBOX_DNS_PORT": str(free_port()),
        "DOMAINSANDBOX_URL": f"http://127.0.0.1:{port}",
    }
    for name in ("Start the sandbox", "Stop the sandbox"):
        ran = subprocess.run(
            ["bash", "-e", "-c", steps[name]], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert ran.returncode == 0, name + ran.stdout + ran.stderr
    assert ran.stdout.rstrip().endswith("domainsandbox: stopped"), ran.stdout


class _HealthyEverywhere(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ready": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_github_actions_job_runs_the_shell_recipes_commands():
    blocks = ci_blocks()
    job = yaml.safe_load(blocks["yaml"])["jobs"]["test"]
    script = blocks["sh"].splitlines()
    runs = [line for step in job["steps"] for line in step.get("run", "").splitlines()]
    for command in ("domainsandbox serve", "curl ", "python -m pytest", "domainsandbox report"):
        in_job = [line for line in runs if line.startswith(command)]
        assert in_job, command
        assert all(any(s.startswith(line) for s in script) for line in in_job), command
    port = job["env"]["DOMAINSANDBOX_PORT"]
    assert job["env"]["DOMAINSANDBOX_URL"] == f"http://127.0.0.1:{port}"
