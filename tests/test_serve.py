"""`domainsandbox serve` as a user runs it: a real process, real ports, Ctrl-C to stop."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess

import httpx
import pytest

from sandbox import Sandbox, SandboxServer

from .helpers import Served, run_monite_story, serve_refused


def test_serve_prints_every_base_url_and_the_dns_address_and_stops_on_ctrl_c():
    served = Served("--seed", "7")
    try:
        assert set(served.urls) >= {"monite", "control"}
        assert served.urls["monite"].endswith("/monite/v1")
        host, port = served.dns
        dig = subprocess.run(
            ["dig", f"@{host}", "-p", port, "+short", "+time=2", "+tries=1", "example.com", "TXT"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert dig.returncode == 0  # the DNS server answers (empty: nothing published yet)
        assert httpx.get(served.urls["control"] + "/clock").status_code == 200
    finally:
        code, out = served.stop()
    assert code == 0
    assert "stopped" in out


def test_same_seed_same_calls_give_byte_identical_bodies_across_two_runs():
    runs = []
    for _ in range(2):
        served = Served("--seed", "99")
        try:
            runs.append(run_monite_story(served.urls))
        finally:
            served.stop()
    assert runs[0] == runs[1]
    assert b"verified" in runs[0][-1]


def test_a_different_seed_gives_different_ids():
    bodies = []
    for seed in ("1", "2"):
        served = Served("--seed", seed)
        try:
            bodies.append(run_monite_story(served.urls)[1])
        finally:
            served.stop()
    assert bodies[0] != bodies[1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # TEST-NET-1: an address of no machine here
        (["--host", "192.0.2.1", "--control-token", "t"], "cannot listen for HTTP on 192.0.2.1"),
        (["--dns-host", "999.1.1.1"], "cannot listen for DNS on 999.1.1.1"),  # not an address
    ],
)
def test_an_address_it_cannot_listen_on_gets_a_clear_message_and_exit_code_2(args, said):
    result = serve_refused(*args, "--port", "0", "--dns-port", "0")
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("which", ["--port", "--dns-port"])
def test_a_port_in_use_gets_a_clear_message_and_exit_code_2(which):
    with socket.socket() as busy_tcp, socket.socket(type=socket.SOCK_DGRAM) as busy_udp:
        busy_tcp.bind(("127.0.0.1", 0))
        busy_tcp.listen()
        port = busy_tcp.getsockname()[1]
        with contextlib.suppress(OSError):
            busy_udp.bind(("127.0.0.1", port))
        other = "--dns-port" if which == "--port" else "--port"
        result = serve_refused(which, str(port), other, "0")
    assert result.returncode == 2
    variable = "DOMAINSANDBOX_PORT" if which == "--port" else "DOMAINSANDBOX_DNS_PORT"
    assert (
        f"port {port} is already in use on 127.0.0.1; choose another with {which} N "
        f"(0: any free one) or ${variable}"
    ) in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("build", "said"),
    [
        (lambda: Sandbox(seed=-1), "-1 is not a seed (0 to 4294967295)"),
        (lambda: Sandbox(seed=2**32), "4294967296 is not a seed (0 to 4294967295)"),
        (lambda: Sandbox(dns_port=70000), "70000 is not a port number (0 to 65535)"),
        (lambda: SandboxServer(Sandbox(), port=-1), "-1 is not a port number (0 to 65535)"),
    ],
    ids=["seed below", "seed above", "dns port", "http port"],
)
def test_the_python_api_refuses_ports_and_seeds_out_of_range(build, said):
    with pytest.raises(ValueError, match=re.escape(said)):
        build()


def test_a_reset_with_a_seed_out_of_range_changes_nothing():
    sandbox = Sandbox(seed=7)
    with pytest.raises(ValueError, match="is not a seed"):
        sandbox.reset(seed=-1)
    assert sandbox.seed == 7
