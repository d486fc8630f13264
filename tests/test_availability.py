"""One client must not starve the rest: connections that send nothing, more connections than
file descriptors, a flood of verifies during a DNS outage, DNS clients keeping TCP connections
open, a silent connection to the workers' world socket, and what a kill -9 leaves behind."""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from sandbox.connection import BODY_SECONDS, HEAD_SECONDS
from sandbox.engine.clock import utc
from sandbox.limits import RESERVED_FDS
from sandbox.providers.ses import sigv4_header

from .helpers import Served, control_of, wait_for

SCALEWAY_KEY = {"X-Auth-Token": "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"}
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
AUTOSEND_KEY = {"Authorization": "Bearer as_availability"}


def allow_open_files(count: int) -> None:
    """Let this (test) process open `count` files, or skip the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"this machine allows {hard} open files; the test needs {count}")
    if soft != resource.RLIM_INFINITY and soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False  # still open
    except OSError:
        return True  # reset


def read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP answer (head and Content-Length body) read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


# --- HTTP connections ---------------------------------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed_after_a_few_seconds(server):
    with socket.create_connection(("127.0.0.1", server.port)) as idle:
        idle.setblocking(False)
        wait_for(lambda: closed_by_server(idle), seconds=HEAD_SECONDS + 20)


def test_a_head_trickled_byte_by_byte_is_cut_off_after_a_few_seconds(server):
    with socket.create_connection(("127.0.0.1", server.port)) as slow:
        slow.sendall(b"GET /_sandbox/clock HTTP/1.1\r\n")
        slow.setblocking(False)

        def trickled_until_closed() -> bool:
            with contextlib.suppress(OSError):
                slow.send(b"X")  # one header byte at a time keeps the head open
            return closed_by_server(slow)

        wait_for(trickled_until_closed, seconds=HEAD_SECONDS + 20)


def test_a_late_head_after_an_answered_request_on_the_same_connection_is_cut_off(server):
    """The head timer is looked at, not set, per request: a second head trickled on a kept-alive
    connection, after the first was answered in time, is still cut off."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /_sandbox/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_answer(conn).startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /_sandbox/clock HTTP/1.1\r\n")
        conn.setblocking(False)

        def trickled_until_closed() -> bool:
            with contextlib.suppress(OSError):
                conn.send(b"X")
            return closed_by_server(conn)

        wait_for(trickled_until_closed, seconds=HEAD_SECONDS + 20)


def test_a_body_held_back_after_its_head_is_cut_off_and_not_carried_out(server, control):
    """Only the head had a deadline: a client that sent a head and part of its body held the
    connection for ever, and 4,100 such held every slot (503 for everyone)."""
    head = (
        b"POST /autosend/v1/domains HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer as_availability\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as held:
        held.sendall(head + b'{"domain": "held.example.com"')
        held.setblocking(False)
        wait_for(lambda: closed_by_server(held), seconds=BODY_SECONDS + 20)
    listed = httpx.get(server.url + "/autosend/v1/domains", headers=AUTOSEND_KEY)
    assert listed.json()["data"]["domains"] == []


def test_a_client_that_half_closes_gets_the_answers_to_what_it_sent(server, control):
    """`nc -N` sends its requests, then shuts its side: the server dropped the answers (and
    still carried the requests out)."""
    create = b'{"domain": "half.example.com"}'
    requests = (
        b"GET /_sandbox/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"POST /autosend/v1/domains HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer as_availability\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(create), create)
    )
    answers = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as conn:
        conn.sendall(requests)
        conn.shutdown(socket.SHUT_WR)
        while chunk := conn.recv(65536):  # until the server closes, once both are answered
            answers += chunk
    assert answers.startswith(b"HTTP/1.1 200") and answers.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert b"half.example.com" in answers


def test_1100_idle_connections_on_1024_file_descriptors_do_not_take_the_server_down():
    allow_open_files(4096)
    served = Served(open_files=1024)
    port = int(served.urls["control"].split(":")[2].split("/")[0])
    idle = []
    try:
        for _ in range(1100):
            sock = socket.socket()
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
            idle.append(sock)

        def served_again() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(served.urls["control"] + "/clock", timeout=5).status_code == 200
            return False

        wait_for(served_again, seconds=90)  # once the idle ones are closed
        wait_for(lambda: all(closed_by_server(sock) for sock in idle), seconds=90)
        assert served.process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        code, _ = served.stop()
    assert code == 0


def test_requests_over_the_connection_limit_get_a_503_in_their_apis_shape():
    open_files = 256
    limit = open_files - RESERVED_FDS
    served = Served(open_files=open_files)
    port = int(served.urls["control"].split(":")[2].split("/")[0])
    request = b"GET /autosend/v1/domains HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer as_x\r\n\r\n"
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(limit + 8)]
    try:
        try:
            for sock in socks:
                sock.sendall(request)
            answers = [read_answer(sock) for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        busy = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
        assert busy, "no request was over the limit"
        for answer in busy:
            head, _, body = answer.partition(b"\r\n\r\n")
            assert b"content-type: application/json" in head
            assert httpx.Response(503, content=body).json()["success"] is False  # AutoSend's
        url = served.urls["autosend"] + "/domains"
        key = {"Authorization": "Bearer as_x"}
        # served again once they are gone (whether any of them was answered 200 first depends on
        # when the server took each connection and closed each it answered 503)
        wait_for(lambda: httpx.get(url, headers=key).status_code == 200)
        control = control_of(served)  # and each 503 was noted, as any refused request is
        assert wait_for(lambda: control.count_requests("autosend", status=503) == len(busy))
    finally:
        served.stop()


# --- a DNS outage ------------------------------------------------------------------------------


def test_40_verifies_during_a_dns_outage_leave_other_tenants_and_the_control_api_answering(
    urls, control
):
    scaleway, autosend = urls["scaleway"] + "/mailbox/v1alpha1", urls["autosend"]
    # every check asks DNS at once (as the call is answered, or as the next request lands it)
    control.settings("autosend", verify_delay_seconds=0)
    control.settings("scaleway", creating_seconds=0, validating_seconds=0)
    verifies = []  # (url, headers): 20 AutoSend verifies (they ask DNS as they are answered)
    for i in range(20):  # and 20 Scaleway validations (DNS asked when their step lands)
        created = httpx.post(
            f"{autosend}/domains", json={"domain": f"a{i}.outage.example"}, headers=AUTOSEND_KEY
        )
        verifies.append((f"{autosend}/domains/{created.json()['data']['id']}/verify", AUTOSEND_KEY))
        created = httpx.post(
            f"{scaleway}/domains",
            json={"name": f"s{i}.outage.example", "project_id": SCALEWAY_PROJECT},
            headers=SCALEWAY_KEY,
        )
        url = f"{scaleway}/domains/{created.json()['id']}/validate-records"
        verifies.append((url, SCALEWAY_KEY))
    control.domains()  # Scaleway's domains are created: ready to validate
    control.add_fault("*", "drop")  # every lookup waits for its timeout
    answers = []

    def verify(url: str, headers: dict) -> None:
        answers.append(httpx.post(url, json={}, headers=headers, timeout=300))

    threads = [threading.Thread(target=verify, args=call) for call in verifies]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(control.queries()) >= 10)  # verifying, and DNS not answering
        # Meanwhile another tenant and the control API are answered without waiting for them.
        other = httpx.get(f"{autosend}/domains", headers={"Authorization": "Bearer as_other"})
        assert other.status_code == 200
        assert httpx.get(urls["control"] + "/clock", timeout=15).status_code == 200
        control_write = httpx.post(
            urls["control"] + "/dns/records",
            json={"name": "meanwhile.example.com", "type": "TXT", "value": "still here"},
            timeout=15,
        )
        assert control_write.status_code == 201
    finally:
        for thread in threads:
            thread.join()
        control.clear_faults()
    assert sorted(a.status_code for a in answers) == [200] * 40


# --- a long clock move --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["one process", "--workers 2", "--state"])
def test_clock_moves_queued_behind_a_long_one_leave_every_other_call_answering(how, tmp_path):
    """A clock move lands every step on its way; with each lookup delayed, this one takes
    minutes, and moves asked meanwhile (by clients that gave up, too) wait for it. They held the
    threads every other call needed: the health check, a provider's list and the control API's
    reads and writes went unanswered until every move had run (with --state, every read waited
    to save the move's steps). A reset still stops the moves, and Ctrl-C the server."""
    durable = how == "--state"
    options = {"one process": [], "--workers 2": ["--workers", "2"]}
    served = Served(*options.get(how, ["--state", str(tmp_path / "world.db")]), "--clock", "frozen")
    try:
        control, resend = control_of(served), served.urls["resend"] + "/domains"
        start = control.clock()["now"]
        key = {"Authorization": "Bearer re_moves"}
        for n in range(10):  # pending, so re-checked all through the next hours
            created = httpx.post(resend, json={"name": f"m{n}.slow.example"}, headers=key)
            httpx.post(f"{resend}/{created.json()['id']}/verify", headers=key)
        control.add_fault("*.slow.example", "delay", delay_ms=500)

        def checks() -> int:
            return sum(domain["checks"] for domain in control.domains())

        checked = checks()

        def gives_up() -> None:
            with contextlib.suppress(httpx.TimeoutException):
                control_url = served.urls["control"] + "/clock"
                httpx.post(control_url, json={"advance_seconds": 3600}, timeout=0.5)

        givers_up = [threading.Thread(target=gives_up) for _ in range(20)]
        for thread in givers_up:
            thread.start()
        for thread in givers_up:
            thread.join()
        wait_for(lambda: control.clock()["now"] != start)  # the first move, under way
        wait_for(lambda: checks() > checked)  # its steps landing
        health = httpx.get(served.urls["control"] + "/health", timeout=5)
        assert health.status_code == 200
        assert httpx.get(resend, headers=key, timeout=5).status_code == 200
        # SES's list is a POST that changes nothing: under --state it waited for the move
        listed = httpx.post(
            served.urls["ses"] + "/v2/email/list-identities",
            json={},
            headers={"Authorization": sigv4_header("AKIAMOVES")},
            timeout=5,
        )
        assert listed.status_code == 200, listed.text
        if not durable:  # a change is saved before it is acknowledged, and saving waits
            added = httpx.post(  # for the move (docs/reliability.md)
                served.urls["control"] + "/dns/records",
                json={"name": "meanwhile.example.com", "type": "TXT", "value": "answered"},
                timeout=5,
            )
            assert added.status_code == 201, added.text
        hour_later = utc(start) + timedelta(hours=1)
        assert utc(control.clock()["now"]) < hour_later  # the first move is still on its way

        reset = httpx.post(served.urls["control"] + "/reset", json={}, timeout=30)
        assert reset.status_code == 200, reset.text
        stood = control.clock()["now"]
        wait_for(lambda: not control.faults())  # a reset clears faults; and no move goes on:
        assert control.clock()["now"] == stood
    finally:
        code, _ = served.stop()
    assert code == 0


# --- the workers' world socket -----------------------------------------------------------------


def world_sockets(pid: int) -> set[str]:
    """The abstract Unix socket names `serve --workers` (process `pid`) listens on."""
    names = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        path = line.split()[-1] if len(line.split()) > 7 else ""
        if path.startswith(f"@domainsandbox-{pid}-"):
            names.add(path)
    return names


def test_a_silent_connection_to_the_world_socket_blocks_nothing_and_is_closed():
    served = Served("--workers", "2")
    try:
        [name] = world_sockets(served.process.pid)
        with socket.socket(socket.AF_UNIX) as silent:
            silent.connect("\0" + name[1:])
            silent.setblocking(False)
            for _ in range(4):  # over fresh connections, so both workers answer some
                answer = httpx.get(served.urls["autosend"] + "/domains", headers=AUTOSEND_KEY)
                assert answer.status_code == 200
            wait_for(lambda: closed_by_server(silent))  # it never gave the key
        assert control_of(served).clock()["frozen"] is False
    finally:
        assert served.stop()[0] == 0


def test_a_kill_9_of_a_workers_serve_leaves_nothing_in_the_temporary_folder():
    before = set(Path("/tmp").glob("domainsandbox-*"))
    served = Served("--workers", "2")
    workers = served.worker_pids()
    assert len(workers) == 2
    listening = world_sockets(served.process.pid)  # without a file
    served.process.kill()
    served.process.wait(timeout=10)
    assert listening
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), seconds=15)
    assert set(Path("/tmp").glob("domainsandbox-*")) == before
    assert not world_sockets(served.process.pid)
