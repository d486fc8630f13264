"""`serve --workers N`: several HTTP processes, one world.

Each test runs a real `domainsandbox serve --workers N` process. `make test` also runs the
provider suites against one (DOMAINSANDBOX_TEST_WORKERS, see conftest.py); the soak test and the
kill -9 test of durable state run with workers too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

import contracts
from contracts.profiles import profile, profiles
from sandbox import Sandbox, WorkerPool

from .helpers import (
    CLI,
    STOP_SIGNAL_NAMES,
    STOP_SIGNALS,
    Served,
    children_of,
    cmdline_of,
    control_of,
    run_monite_story,
    serve_refused,
    wait_for,
)

WORKERS = 3
CREATORS = 12  # client threads creating domains at once
EACH = 15  # domains each creates
RACERS = 8  # threads creating the same name at the same instant
SCALEWAY_PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
VORTEX_KEY = {"x-api-key": "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"}


def cpu_ticks(pid: int) -> int:
    """User + system CPU time the process has used, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


@pytest.fixture(scope="module")
def served():
    running = Served("--workers", str(WORKERS))
    yield running
    assert running.stop()[0] == 0


def create_autosend(base: str, key: str, names: list[str]) -> list[str]:
    """Create each name on a fresh connection (so the kernel may hand it to any worker)."""
    ids = []
    for name in names:
        response = httpx.post(
            f"{base}/domains",
            json={"domain": name},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["data"]["id"])
    return ids


def test_serve_starts_n_worker_processes_and_says_so(served):
    assert len(served.worker_pids()) == WORKERS
    assert f"  workers   {WORKERS} HTTP processes sharing this world" in served.banner


def test_concurrent_creates_on_every_worker_lose_nothing_and_make_nothing_twice(served):
    control = control_of(served)
    control.reset()
    workers = served.worker_pids()
    ticks_before = {pid: cpu_ticks(pid) for pid in workers}
    created: list[list[str]] = [[] for _ in range(CREATORS)]

    def creator(n: int) -> None:
        names = [f"c{n}-{i}.example.com" for i in range(EACH)]
        created[n] = create_autosend(served.urls["autosend"], f"as_worker{n % 3}", names)

    threads = [threading.Thread(target=creator, args=(n,)) for n in range(CREATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    acknowledged = [domain_id for ids in created for domain_id in ids]
    assert len(acknowledged) == CREATORS * EACH
    assert len(set(acknowledged)) == len(acknowledged)  # every id drawn once
    kept = [d["id"] for d in control.domains("autosend")]
    assert sorted(kept) == sorted(acknowledged)  # none lost, none extra
    for key in range(3):  # and each project's own list, through the provider API, agrees
        listed = httpx.get(
            served.urls["autosend"] + "/domains",
            headers={"Authorization": f"Bearer as_worker{key}"},
        ).json()["data"]["domains"]
        mine = [i for n, ids in enumerate(created) if n % 3 == key for i in ids]
        assert sorted(d["id"] for d in listed) == sorted(mine)
    busy = [pid for pid in workers if cpu_ticks(pid) > ticks_before[pid]]
    assert len(busy) >= 2, "the requests were not spread over the worker processes"
    control.close()


def test_the_same_name_created_at_once_on_several_workers_exists_once(served):
    control = control_of(served)
    control.reset()
    barrier = threading.Barrier(RACERS)
    statuses: Counter = Counter()

    def racer() -> None:
        with httpx.Client(timeout=30) as http:
            http.get(served.urls["scaleway"] + "/openapi.json")  # connected before the race
            barrier.wait()
            response = http.post(
                served.urls["scaleway"] + "/mailbox/v1alpha1/domains",
                json={"name": "race.example.com", "project_id": SCALEWAY_PROJECT},
                headers={"X-Auth-Token": "11111111-2222-4333-8444-555555555555"},
            )
            statuses[response.status_code] += 1

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == Counter({200: 1, 409: RACERS - 1})
    assert [d["name"] for d in control.domains("scaleway")] == ["race.example.com"]
    control.close()


def test_rate_limits_and_http_faults_count_every_worker_s_calls_together(served):
    """Each call goes on a new connection, so to any worker; the world counts them all."""
    control = control_of(served)
    control.reset()
    control.freeze(at="2026-05-01T08:00:00Z")  # one rate-limit window for the whole test
    control.rate_limits(enabled=True)
    statuses: Counter = Counter()
    for _ in range(6):
        response = httpx.get(
            served.urls["autosend"] + "/domains", headers={"Authorization": "Bearer as_limited"}
        )
        statuses[response.status_code] += 1
    control.rate_limits(enabled=False)
    assert statuses == Counter({200: 2, 429: 4})  # AutoSend's documented 2 per second

    control.add_http_fault("vortex", status=503, count=3)
    vortex = f"{served.urls['vortex']}/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains"
    statuses.clear()
    for _ in range(5):
        statuses[httpx.get(vortex, headers=VORTEX_KEY).status_code] += 1
    assert statuses == Counter({503: 3, 200: 2})
    control.close()


def test_the_control_token_guards_the_control_api_of_every_worker():
    served = Served("--workers", "2", "--control-token", "s3cret")
    try:
        clock = served.urls["control"] + "/clock"
        refused = [httpx.get(clock).status_code for _ in range(4)]
        allowed = [
            httpx.get(clock, headers={"Authorization": "Bearer s3cret"}).status_code
            for _ in range(4)
        ]
    finally:
        served.stop()
    assert (refused, allowed) == ([401] * 4, [200] * 4)


def test_a_worker_killed_is_replaced_and_the_world_keeps_everything(served):
    control = control_of(served)
    control.reset()
    before = create_autosend(served.urls["autosend"], "as_kill", ["before.example.com"])
    victim = served.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    replaced = wait_for(
        lambda: (pids := served.worker_pids()) and len(pids) == WORKERS and victim not in pids
    )
    assert replaced
    after = create_autosend(served.urls["autosend"], "as_kill", ["after.example.com"])
    assert sorted(d["id"] for d in control.domains("autosend")) == sorted(before + after)
    control.close()


def test_a_call_cut_off_by_the_worlds_death_is_not_said_to_be_a_shutdown():
    """The world killed mid-call: the worker's 503 said "shutting down; try again", though the
    call may have been carried out and saved, and a retry then got a 404 or a 409."""
    served = Served("--workers", "2", "--scenario", "every-state")
    try:
        control = control_of(served)
        start = control.clock()["now"]
        control.add_fault("*", "delay", delay_ms=200)  # each step's checks: a second or so
        outcome = {}

        def move() -> None:  # through a worker, to the world, landing step after step
            clock = served.urls["control"] + "/clock"
            outcome["answer"] = httpx.post(clock, json={"advance_seconds": 10**8}, timeout=60)

        mover = threading.Thread(target=move)
        mover.start()
        wait_for(lambda: control.clock()["now"] != start)  # the move is under way
        control.close()
        os.kill(served.process.pid, signal.SIGKILL)
        mover.join(timeout=60)
    finally:
        served.process.kill()
        served.process.communicate(timeout=10)
    answer = outcome["answer"]
    assert answer.status_code == 503
    message = answer.json()["error"]["message"]
    assert "may have been carried out" in message and "shutting down" not in message


def test_workers_answer_byte_for_byte_what_one_process_answers():
    """One world, one seeded sequence: the workers change nothing a client can see."""
    bodies = []
    for args in ((), ("--workers", "2")):
        served = Served("--seed", "77", *args)
        try:
            bodies.append(run_monite_story(served.urls))
        finally:
            served.stop()
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize("name", list(profiles()))
def test_schemathesis_finds_nothing_wrong_through_the_workers(served, name):
    target = profile(name)
    server_url = served.urls["control"].removesuffix("/_sandbox")
    url = server_url + target.mount
    credentials = target.credentials(server_url) if target.credentials else {}
    result = contracts.run(name, base_url=url, headers=credentials, max_examples=8)
    assert result.ok, result.summary()
    assert result.cases_by_phase["stateful"] > 0


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=STOP_SIGNAL_NAMES)
def test_a_signal_stops_every_worker_then_the_world(signum):
    served = Served("--workers", "2")
    workers = served.worker_pids()
    assert len(workers) == 2
    served.process.send_signal(signum)
    out, err = served.process.communicate(timeout=30)
    assert served.process.returncode == 0, err
    assert "domainsandbox: stopped" in out
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_serve_even_when_started_as_a_background_job(workers):
    served = Served("--workers", workers, sigint_ignored=True)
    workers_pids = served.worker_pids()
    assert len(workers_pids) == (0 if workers == "1" else int(workers))  # one process: none
    code, out = served.stop()  # SIGINT
    assert code == 0 and "domainsandbox: stopped" in out
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers_pids)


def test_workers_stop_by_themselves_when_the_serving_process_is_killed():
    served = Served("--workers", "2")
    workers = served.worker_pids()
    assert len(workers) == 2
    served.process.kill()
    served.process.wait(timeout=10)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), seconds=15)


def test_workers_stop_by_themselves_when_the_serving_process_is_killed_as_they_start():
    """Killed while it waited for them to say they served: a worker then hung in saying so,
    waiting for the dead process to wake, and answered 503 on the port for good."""
    process = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--dns-port", "0", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(spawned(process.pid)) == 2)
        workers = spawned(process.pid)
    finally:
        process.kill()  # while it waits for them: they take a second to start
        process.wait(timeout=10)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), seconds=15)


def spawned(pid: int) -> list[int]:
    return [child for child in children_of(pid) if b"spawn_main" in cmdline_of(child)]


def test_a_worker_pool_runs_from_python_and_its_world_is_this_process_s_sandbox():
    sandbox = Sandbox(seed=9)
    with WorkerPool(sandbox, workers=2) as server:
        workers = [worker.process for worker in server.workers]
        response = httpx.post(
            server.base_urls()["autosend"] + "/domains",
            json={"domain": "pool.example.com"},
            headers={"Authorization": "Bearer as_pool"},
        )
        assert response.status_code == 200, response.text
        kept = [domain.id for domain in sandbox.store.list("autosend")]
    assert kept == [response.json()["data"]["id"]]
    assert not any(process.is_alive() for process in workers)


@pytest.mark.parametrize("count", ["0", "-2", "many"])
def test_workers_must_be_a_whole_number_of_one_or_more(count):
    done = serve_refused("--workers", count, timeout=60)
    assert done.returncode == 2
    assert "--workers" in done.stderr and "is not a whole number of 1 or more" in done.stderr
