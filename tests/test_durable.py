"""Durable state: `serve --state FILE` keeps the world in SQLite through restarts and kill -9."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
from pathlib import Path
from subprocess import PIPE

import httpx
import pytest
import yaml

from sandbox import Sandbox, SandboxServer
from sandbox.client import ControlClient, ControlError
from sandbox.durable import Durable, StateFile
from sandbox.engine.clock import Clock

from .helpers import CLI, Served, autosend, control_of, serve_refused, wait_for

FROZEN_AT = "2026-02-01T10:00:00Z"
VORTEX_KEY = {"x-api-key": "VRTX.MTIzZTQ1NjctZTg5Yi0xMm.secretA1"}
VORTEX_ACCOUNT = "123e4567-e89b-12d3-a456-426614174000"
WRITERS = 4  # client threads creating domains while the server is killed
KILL_AFTER = 120  # acknowledged creates before the kill -9


def build_a_world(served: Served) -> None:
    """Domains of two providers, published records, faults, settings, a moved clock."""
    control = control_of(served)
    control.freeze(at=FROZEN_AT)
    control.settings("autosend", verify_delay_seconds=30)
    with autosend(served, "as_durable") as api:
        domain = api.post("/domains", json={"domain": "kept.example.com"}).json()["data"]
        control.publish("autosend", domain["id"])
        assert api.post(f"/domains/{domain['id']}/verify").status_code == 200
    vortex = httpx.post(
        f"{served.urls['vortex']}/api/v1/accounts/{VORTEX_ACCOUNT}/email-domains",
        json={"domain": "vortex.example.com"},
        headers=VORTEX_KEY,
    )
    assert vortex.status_code == 201, vortex.text
    control.add_record("extra.example.com", "TXT", "hand-made")
    control.add_fault("broken.example.com", "servfail")
    control.add_http_fault("monite", status=503, count=2)
    control.advance(10)  # the verify result lands 20 s later, after the restart
    control.close()


def world_of(served: Served) -> str:
    return control_of(served).export_scenario()


def test_the_whole_world_survives_a_restart_and_ids_go_on_as_without_one(tmp_path):
    state = str(tmp_path / "world.db")
    served = Served("--seed", "5", "--state", state)
    try:
        build_a_world(served)
        before = world_of(served)
    finally:
        assert served.stop()[0] == 0

    served = Served("--seed", "6", "--clock", "fast", "--state", state)  # the saved world wins
    try:
        assert any("restored the world saved in" in line for line in served.banner)
        assert any(
            ", 2 domains (it wins over --seed 6, --clock fast)" in line for line in served.banner
        )
        assert world_of(served) == before  # domains, records, results, DNS, faults, clock...
        control = control_of(served)
        with autosend(served, "as_durable") as api:
            pending = api.get("/domains").json()["data"]["domains"][0]["verificationStatus"]
            control.advance(20)
            after_restart = api.get("/domains").json()["data"]["domains"]
            next_one = api.post("/domains", json={"domain": "next.example.com"}).json()["data"]
    finally:
        served.stop()

    uninterrupted = Served("--seed", "5")
    try:
        build_a_world(uninterrupted)
        control_of(uninterrupted).advance(20)
        with autosend(uninterrupted, "as_durable") as api:
            assert api.get("/domains").json()["data"]["domains"] == after_restart
            same = api.post("/domains", json={"domain": "next.example.com"}).json()["data"]
    finally:
        uninterrupted.stop()
    assert same == next_one  # same id, token and keys: the seeded draws went on where they were
    # the verification started before the restart lands after it, on the restored schedule
    assert (pending, after_restart[0]["verificationStatus"]) == ("PENDING", "VERIFIED")


def test_a_resend_cursor_naming_a_deleted_domain_goes_on_after_a_restart(tmp_path):
    """A clean-up loop deletes each page and goes on `after` its last domain: stopped and
    started again with the same --state file, the sandbox still knows where it stood."""
    state = str(tmp_path / "world.db")
    resend = {"Authorization": "Bearer re_durable_team"}

    def ids(served: Served, **params) -> list[str]:
        answer = httpx.get(served.urls["resend"] + "/domains", params=params, headers=resend)
        assert answer.status_code == 200, answer.text
        return [d["id"] for d in answer.json()["data"]]

    served = Served("--state", state)
    try:
        for n in range(4):
            created = httpx.post(
                served.urls["resend"] + "/domains",
                json={"name": f"c{n}.example.com"},
                headers=resend,
            )
            assert created.status_code == 201, created.text
        first_page = ids(served, limit=2)
        for domain_id in first_page:
            url = f"{served.urls['resend']}/domains/{domain_id}"
            assert httpx.delete(url, headers=resend).status_code == 200
        rest = ids(served, limit=2, after=first_page[-1])
        assert len(rest) == 2
    finally:
        assert served.stop()[0] == 0

    served = Served("--state", state)
    try:
        assert ids(served, limit=2, after=first_page[-1]) == rest
    finally:
        assert served.stop()[0] == 0


def test_fault_ids_are_kept_and_never_given_again_after_a_restart(tmp_path):
    """`--remove ID` names the fault it named before the restart: the ids were numbered again
    from h1 and f1, and a user removed another test's fault by its old id."""
    state = str(tmp_path / "world.db")
    served = Served("--state", state)
    try:
        control = control_of(served)
        for provider in ("monite", "autosend", "vortex"):
            control.add_http_fault(provider, status=503)
        control.remove_http_fault("h1")
        for name in ("a.example.com", "b.example.com", "c.example.com"):
            control.add_fault(name, "servfail")
        control.remove_fault("f3")  # the newest gone: only the count says f3 was given
        before = (control.http_faults(), control.faults())
    finally:
        assert served.stop()[0] == 0

    served = Served("--state", state)
    try:
        control = control_of(served)
        assert (control.http_faults(), control.faults()) == before
        assert [f["id"] for f in before[0]] == ["h2", "h3"]
        assert control.add_http_fault("resend", status=500)["id"] == "h4"
        assert control.add_fault("d.example.com", "refused")["id"] == "f4"
        control.remove_http_fault("h2")
        assert [f["provider"] for f in control.http_faults()] == ["vortex", "resend"]
    finally:
        served.stop()


def test_a_new_state_file_is_its_owners_alone_it_keeps_secrets(tmp_path):
    """Registered credentials' secrets are saved in it: it was readable by every user (0644)."""
    state = tmp_path / "world.db"
    served = Served("--state", str(state))
    try:
        control_of(served).register_credential(
            "monite", "eb959578-a74d-4ac3-8b25-bf0910027857", "TeamA-S3cret"
        )
        files = [state, tmp_path / "world.db-wal", tmp_path / "world.db-shm"]
        assert {name.name: oct(name.stat().st_mode & 0o777) for name in files} == {
            name.name: "0o600" for name in files
        }
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("given", "overruled"),
    [
        (("--seed", "5", "--clock", "fast", "--clock-speed", "10"), ""),
        (("--clock", "fast", "--clock-speed", "20"), " (it wins over --clock-speed 20)"),
        (("--seed", "6", "--clock", "real"), " (it wins over --seed 6, --clock real)"),
        (("--seed", "5", "--rate-limits"), " (it wins over --rate-limits)"),
    ],
    ids=["the same options", "another speed", "another seed and clock", "rate limits"],
)
def test_a_restored_world_names_only_the_options_it_differs_from(tmp_path, given, overruled):
    state = str(tmp_path / "world.db")
    saved = Served("--seed", "5", "--clock", "fast", "--clock-speed", "10", "--state", state)
    assert saved.stop()[0] == 0
    served = Served(*given, "--state", state)
    try:
        [restored] = [line for line in served.banner if "restored the world" in line]
        assert restored.startswith(f"domainsandbox: restored the world saved in {state} at 20")
        assert restored.endswith(f"Z, 0 domains{overruled}")  # when, and what it holds
        [clock] = [line for line in served.banner if line.startswith("  clock ")]
        assert clock.endswith(" (fast, 10x)"), clock  # the restored clock's mode, not the flags'
    finally:
        served.stop()


def test_a_restored_real_time_clock_wins_over_the_clock_given(tmp_path):
    """A real-time clock is saved without its mode: `--clock fast` then took it over without a
    word, and the file went on as fast."""
    state = str(tmp_path / "world.db")
    assert Served("--state", state).stop()[0] == 0
    served = Served("--clock", "fast", "--state", state)
    try:
        [restored] = [line for line in served.banner if "restored the world" in line]
        assert restored.endswith("Z, 0 domains (it wins over --clock fast)")
        assert control_of(served).clock()["mode"] == "real"
    finally:
        served.stop()


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "2 workers"])
def test_kill_9_under_load_keeps_every_acknowledged_change_and_the_file_sound(tmp_path, workers):
    state = str(tmp_path / "load.db")
    served = Served("--state", state, "--workers", str(workers))
    worker_pids = served.worker_pids()
    acknowledged: list[str] = []
    records: list[str] = []
    unexpected: list[str] = []
    stop = threading.Event()

    def acknowledged_by(response: httpx.Response, expected: int) -> bool:
        if response.status_code == 503 and workers > 1:
            return False  # a worker whose world was killed under it refuses: not acknowledged
        if response.status_code != expected:
            unexpected.append(f"{response.status_code} {response.text}")
        return response.status_code == expected

    def create_domains(writer: int) -> None:
        with autosend(served, f"as_writer{writer}") as api:
            for i in range(100_000):
                if stop.is_set():
                    return
                try:
                    response = api.post("/domains", json={"domain": f"w{writer}-{i}.example.com"})
                except httpx.HTTPError:
                    return  # killed mid-request: not acknowledged
                if not acknowledged_by(response, 200):
                    return
                acknowledged.append(response.json()["data"]["id"])

    def add_records() -> None:
        url = served.urls["control"] + "/dns/records"
        for i in range(100_000):
            if stop.is_set():
                return
            body = {"name": f"r{i}.example.com", "type": "TXT", "value": "acknowledged"}
            try:
                response = httpx.post(url, json=body, timeout=10)
            except httpx.HTTPError:
                return
            if not acknowledged_by(response, 201):
                return
            records.append(f"r{i}.example.com")

    threads = [threading.Thread(target=create_domains, args=(w,)) for w in range(WRITERS)]
    threads.append(threading.Thread(target=add_records))
    for thread in threads:
        thread.start()
    while len(acknowledged) < KILL_AFTER and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    served.process.kill()  # SIGKILL, with requests in flight
    served.process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= KILL_AFTER
    assert unexpected == []
    assert len(worker_pids) == (workers if workers > 1 else 0)
    # orphaned workers notice and stop by themselves
    wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in worker_pids), seconds=15)

    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    served = Served("--state", state)
    try:
        control = control_of(served)
        kept = [d["id"] for d in control.domains("autosend")]
        zone = {r["name"] for r in control.records()}
        control.close()
    finally:
        served.stop()
    assert set(acknowledged) <= set(kept)
    assert len(kept) == len(set(kept))  # nothing twice
    assert len(kept) - len(acknowledged) <= WRITERS  # at most the ones cut off mid-answer
    assert records and set(records) <= zone


def test_a_state_file_that_is_not_sqlite_stops_serve_with_a_clear_message(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("these are my notes, not a database\n" * 100)
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(bad))
    assert result.returncode == 2
    assert f"{bad}: file is not a database" in result.stderr
    assert "--scenario" not in result.stderr
    assert bad.read_text().startswith("these are my notes")  # left alone


def test_a_state_file_under_a_file_is_refused_in_one_line_naming_the_file(tmp_path):
    """Its clean-up, removing the state file it could not make, ended in a traceback (so did
    one on a read-only file system); then the OS's words alone, "Not a directory", named
    neither the file in the way nor what to do."""
    (tmp_path / "afile").write_text("")
    for state in (tmp_path / "afile" / "w.db", tmp_path / "afile" / "deeper" / "w.db"):
        result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
        assert (result.returncode, result.stderr) == (
            2,
            f"domainsandbox: cannot make the state file {state}: {tmp_path / 'afile'} is a "
            "file, not a folder; give --state a file in a folder\n",
        )
    assert (tmp_path / "afile").read_text() == ""  # left alone


def test_a_state_file_in_a_folder_that_is_not_there_says_so(tmp_path):
    """The OS said only "No such file or directory", which reads as the file missing."""
    state = tmp_path / "no-such-folder" / "w.db"
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert (result.returncode, result.stderr) == (
        2,
        f"domainsandbox: cannot make the state file {state}: its folder {state.parent} does not "
        "exist; create it first, or give --state a file in a folder that does\n",
    )


def test_a_restart_on_a_full_disk_says_so_in_one_line(tmp_path):
    """Its first save failed as a change does: "the change could not be saved (...); it was
    undone: try again", after a log line, for a change nobody made."""
    state = tmp_path / "world.db"
    served = Served("--scenario", "every-state", "--state", str(state))
    assert served.stop()[0] == 0
    room = state.stat().st_size  # a file may grow no further: the disk is full

    def full() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    refused = subprocess.run(
        [*CLI, "serve", "--port", "0", "--dns-port", "0", "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=full,
    )
    assert refused.returncode == 2, refused.stderr
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"domainsandbox: {state}: the world cannot be saved there (")
    assert line.endswith("): make room for it, or give --state another file")


def test_a_damaged_state_file_is_said_damaged_and_nothing_said_restored(tmp_path):
    """A file whose world reads but cannot be written again (its free page list points past
    its end) was said "restored", then to need room on the disk."""
    state = tmp_path / "world.db"
    served = Served("--scenario", "every-state", "--state", str(state))
    assert served.stop()[0] == 0
    damaged = bytearray(state.read_bytes())
    damaged[32:40] = struct.pack(">II", len(damaged) // 4096 + 1000, 1)  # the free page list
    state.write_bytes(damaged)
    refused = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert refused.returncode == 2, refused.stderr
    assert "restored" not in refused.stdout + refused.stderr
    [line] = refused.stderr.splitlines()
    assert line == (
        f"domainsandbox: {state}: the world cannot be saved there (database disk image is "
        "malformed): restore a backup of it, or give --state another file"
    )


def a_dkim_key_in(state: Path) -> bytes:
    """A DKIM public key as the state file's bytes hold it (the saved world's JSON)."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        body = json.loads(db.execute("SELECT body FROM world").fetchone()[0])
    keys = [
        record["value"]
        for domain in body["domains"]
        for record in domain["records"]
        if record["kind"] == "dkim" and "p=MII" in record["value"]
    ]
    key = keys[0].split("p=", 1)[1].encode()
    # the body as it lies in the file, once (a free page may hold an older copy: not this one)
    assert state.read_bytes().count(key) == 1
    return key


def test_a_byte_changed_inside_the_saved_world_is_said_damaged_and_left_as_it_was(tmp_path):
    """A crash trial changed one byte of a DKIM key inside the saved JSON, where SQLite checks
    nothing: the world loaded with another key, and the sandbox served it without a word."""
    state = tmp_path / "world.db"
    assert Served("--scenario", "every-state", "--state", str(state)).stop()[0] == 0
    key = a_dkim_key_in(state)
    changed = key[:40] + (b"B" if key[40:41] != b"B" else b"C") + key[41:]  # base64 still
    damaged = state.read_bytes().replace(key, changed, 1)
    state.write_bytes(damaged)
    with contextlib.closing(sqlite3.connect(state)) as db:  # sound, as SQLite sees it
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    refused = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert refused.returncode == 2, refused.stdout
    assert refused.stderr == (
        f"domainsandbox: {state}: the saved world is damaged (it differs from the checksum "
        "saved with it): restore a backup of it, or give --state another file\n"
    )
    assert state.read_bytes() == damaged  # byte for byte, for whoever looks into it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world.db"]


def test_a_saved_world_whose_checksum_was_taken_away_is_said_damaged(tmp_path):
    """A file that keeps checksums holds one with every save: a body changed with its checksum
    set to NULL was read as a file saved before checksums, and restored without a word."""
    state = tmp_path / "world.db"
    assert Served("--scenario", "every-state", "--state", str(state)).stop()[0] == 0
    key = a_dkim_key_in(state).decode()
    with contextlib.closing(sqlite3.connect(state)) as db:
        changed = key[:40] + ("B" if key[40] != "B" else "C") + key[41:]
        db.execute("UPDATE world SET sha256 = NULL, body = replace(body, ?, ?)", (key, changed))
        db.commit()
    refused = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert refused.returncode == 2, refused.stdout
    assert "the saved world is damaged (it has no checksum" in refused.stderr, refused.stderr


def test_a_saved_instant_changed_is_said_damaged(tmp_path):
    """A running clock resumes from the save's instant: changed, it would run steps that were
    never due (the checksum kept the body alone)."""
    state = tmp_path / "world.db"
    assert Served("--clock", "real", "--state", str(state)).stop()[0] == 0
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.execute("UPDATE world SET saved_at = 12345.0")
        db.commit()
    refused = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert refused.returncode == 2, refused.stdout
    assert "the saved world is damaged (it differs from the checksum" in refused.stderr


# The world table as every state file was written before its checksum was kept (17ea1ff).
UNCHECKED_SCHEMA = """
CREATE TABLE IF NOT EXISTS world (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row: the latest world
    saved_at REAL NOT NULL,                 -- wall time of the save, to resume a running clock
    body TEXT NOT NULL                      -- the scenario export, as JSON
)
"""


def test_a_state_file_saved_before_checksums_loads_and_is_checked_from_then_on(tmp_path):
    """Files users have hold no checksum: they load as they are, and the first save (as the
    restart writes the world it restored) adds one."""
    served = Served("--scenario", "every-state")
    try:
        before = world_of(served)
        body = json.dumps(yaml.safe_load(before))  # the world as a save writes it
    finally:
        served.stop()
    state = tmp_path / "world.db"
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(UNCHECKED_SCHEMA)
        db.execute("INSERT INTO world VALUES (1, ?, ?)", (time.time(), body))
        db.commit()

    served = Served("--state", str(state))
    try:
        assert any(", 33 domains" in line for line in served.banner), served.banner
        assert world_of(served) == before
    finally:
        assert served.stop()[0] == 0
    with contextlib.closing(sqlite3.connect(state)) as db:
        row = db.execute("SELECT CAST(body AS BLOB), saved_at, sha256 FROM world").fetchone()
    saved, saved_at, checksum = row
    assert checksum == hashlib.sha256(f"{saved_at!r}\n".encode() + saved).hexdigest()


def without_overriding_permissions(command: list[str]) -> list[str]:
    """`command` run as a user whom file permissions bind. Root (as tests may run) writes
    through them: it runs without the capabilities that override them (setpriv)."""
    if os.geteuid() != 0:
        return command
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    if shutil.which("setpriv") is None or subprocess.run([*drop, "true"]).returncode != 0:
        pytest.skip("root writes through file permissions, and setpriv cannot drop that here")
    return [*drop, *command]


@pytest.mark.parametrize(
    "case", ["a new file", "a file saved before", "a read-only file"], ids=lambda c: c
)
def test_a_state_file_that_cannot_be_written_says_what_is_read_only_and_what_to_do(tmp_path, case):
    """SQLite's own words were "attempt to write a readonly database", of a file in a folder
    the user may not write, naming neither the folder nor what to do."""
    folder = tmp_path / "team"
    folder.mkdir()
    state = folder / "world.db"
    if case != "a new file":
        assert Served("--state", str(state)).stop()[0] == 0
    read_only = state if case == "a read-only file" else folder
    read_only.chmod(0o444 if read_only == state else 0o555)
    before = state.read_bytes() if state.exists() else None
    try:
        refused = subprocess.run(
            without_overriding_permissions(
                [*CLI, "serve", "--port", "0", "--dns-port", "0", "--state", str(state)]
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        read_only.chmod(0o600 if read_only == state else 0o755)
    assert refused.returncode == 2, refused.stdout
    [line] = refused.stderr.splitlines()
    if case == "a read-only file":
        assert line == (
            f"domainsandbox: cannot write the state file {state}: the file is read-only "
            "(Permission denied); make it writable, or give --state another file"
        )
    else:
        assert line.startswith(
            f"domainsandbox: cannot write the state file {state}: its folder {folder} is not "
            "writable ("
        )
        assert line.endswith(
            "); make it writable (SQLite writes world.db-wal and world.db-shm there), or give "
            "--state a file in another folder"
        )
    assert (state.read_bytes() if state.exists() else None) == before
    assert sorted(p.name for p in folder.iterdir()) == ([] if before is None else ["world.db"])


def test_a_state_file_on_a_read_only_file_system_says_so(tmp_path):
    folder = tmp_path / "mounted"
    folder.mkdir()
    assert Served("--state", str(folder / "world.db")).stop()[0] == 0
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot mount here: {bound.stderr.decode().strip()}")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(folder)]
        if (made := subprocess.run(remount, capture_output=True)).returncode != 0:
            pytest.skip(f"cannot mount read-only here: {made.stderr.decode().strip()}")
        for name in ("world.db", "new.db"):
            state = folder / name
            refused = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
            assert (refused.returncode, refused.stderr) == (
                2,
                f"domainsandbox: cannot write the state file {state}: its folder {folder} is on "
                "a read-only file system; give --state a file on a writable one\n",
            )
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_scenario_given_as_the_state_file_is_told_where_it_goes(tmp_path):
    export = tmp_path / "before.yaml"
    export.write_text("format: 2\nseed: 7\n")
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(export))
    assert result.returncode == 2
    assert (
        f"{export}: file is not a database; it reads as a scenario (an export): load one with --scenario FILE"
        in result.stderr
    )
    assert export.read_text() == "format: 2\nseed: 7\n"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_serve_that_never_started_leaves_no_state_file_it_made(tmp_path, workers):
    """Else the next start, with other options, restored the world of one that never ran."""
    state = tmp_path / "new.db"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = serve_refused(
            "--port", port, "--dns-port", "0", "--state", str(state), "--workers", workers
        )
    assert result.returncode == 2 and "already in use" in result.stderr
    assert not state.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_wal_left_without_its_state_file_is_kept_and_said(tmp_path):
    """A -wal left beside a state file moved away (it holds the last changes) was taken for a
    new file's own, and removed with it."""
    state = tmp_path / "w.db"
    left = tmp_path / "w.db-wal"
    left.write_bytes(b"the last acknowledged change")
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(state))
    assert result.returncode == 2
    said = f"{state}: not there, but {left} beside it is: the state file was moved or removed"
    assert said in result.stderr
    assert not state.exists()
    assert left.read_bytes() == b"the last acknowledged change"


def test_two_serves_started_at_once_on_a_new_state_file_keep_it(tmp_path):
    """The one refused removed the file the other held (it had found no file when it started),
    and that one served on, saving every change to a file no longer there."""
    for attempt in range(3):
        state = tmp_path / f"race{attempt}.db"
        command = [*CLI, "serve", "--port", "0", "--dns-port", "0", "--state", str(state)]
        both = [subprocess.Popen(command, stdout=PIPE, stderr=PIPE, text=True) for _ in range(2)]
        try:
            wait_for(lambda both=both: any(p.poll() is not None for p in both), seconds=60)
            [refused] = [p for p in both if p.poll() is not None]
            assert refused.returncode == 2
            assert "another `domainsandbox serve`" in refused.stderr.read()
            assert state.exists(), "the state file the other serve holds was removed"
        finally:
            for process in both:
                process.send_signal(signal.SIGINT)
                process.communicate(timeout=30)


@pytest.mark.parametrize(
    "table, said",
    [
        ("users (name TEXT)", "(it holds the tables users, and no saved world)"),
        # switched to WAL mode for good, then refused with "no such column: body"
        ("world (x INTEGER)", "(its table world holds x, not a saved world)"),
    ],
    ids=["tables of its own", "a table world of its own"],
)
def test_another_programs_database_stops_serve_and_is_left_alone(tmp_path, table, said):
    other = tmp_path / "app.db"
    db = sqlite3.connect(other)
    db.execute(f"CREATE TABLE {table}")
    db.commit()
    db.close()
    before = other.read_bytes()
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", str(other))
    assert result.returncode == 2
    assert f"{other}: not a domainsandbox state file {said}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert other.read_bytes() == before  # no table of ours added, no WAL mode


def state_file(path, body: str, saved_at=0.0) -> str:
    """A state file as some earlier or broken run could have left it."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE world (id INTEGER PRIMARY KEY, saved_at REAL NOT NULL, body TEXT)")
    db.execute("INSERT INTO world VALUES (1, ?, ?)", (saved_at, body))
    db.commit()
    db.close()
    return str(path)


BAD_WORLDS = {
    "a JSON list": ("[]", "the saved world is not a scenario mapping"),
    "not JSON": ("{oops", "the saved world is not JSON"),
    "an unknown provider": (
        json.dumps({"domains": [{"provider": "nope"}]}),
        "the saved world does not load: domains[0] (nope): missing id",
    ),
    "a clock past the end of its range": (
        json.dumps({"clock": {"now": "9999-12-31T23:59:58Z", "frozen": False}}),
        "clock.now: 9999-12-31T23:59:58Z is outside the sandbox clock's range",
    ),
    "a clock that is a number": (
        json.dumps({"clock": {"now": 5, "frozen": True}}),
        "clock.now: 5 is not of type 'string'",
    ),
    "a provider state that does not load": (
        json.dumps({"providers": {"monite": {"issued": "many"}}}),
        "providers.monite: ",
    ),
    "a Scaleway count that is not one": (
        json.dumps({"providers": {"scaleway": {"created": "x"}}}),
        "providers.scaleway: scaleway: created is a count",
    ),
    "Vortex principals that are not": (
        json.dumps({"providers": {"vortex": {"principals": {"a": 1}}}}),
        "providers.vortex: vortex: principals maps owners",
    ),
    "JSON nested too deeply to read": ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
}


@pytest.mark.parametrize("what", BAD_WORLDS)
def test_every_bad_state_file_stops_serve_with_one_line_and_exit_code_2(tmp_path, what):
    body, message = BAD_WORLDS[what]
    path = state_file(tmp_path / "bad.db", body)
    result = serve_refused("--port", "0", "--dns-port", "0", "--state", path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- in-process: what is saved when -----------------------------------------------------------


@pytest.fixture
def durable_server(tmp_path):
    sandbox = Sandbox(seed=3, clock=Clock(start=FROZEN_AT, frozen=True))
    durable = Durable(sandbox, str(tmp_path / "s.db"))
    with SandboxServer(sandbox, durable=durable) as running:
        yield running, str(tmp_path / "s.db")


def saved_world(path: str) -> dict:
    """The world on disk, read beside the serve that holds the file."""
    with contextlib.closing(sqlite3.connect(path)) as reader:
        return json.loads(reader.execute("SELECT body FROM world WHERE id = 1").fetchone()[0])


def test_each_acknowledged_change_is_on_disk_before_its_answer(durable_server):
    server, path = durable_server
    control = ControlClient(server.url)
    control.add_record("first.example.com", "TXT", "one")
    assert [r["name"] for r in saved_world(path)["dns"]["records"]] == ["first.example.com"]
    with httpx.Client(headers={"Authorization": "Bearer as_x"}) as api:
        created = api.post(server.base_urls()["autosend"] + "/domains", json={"domain": "a.io"})
    assert [d["id"] for d in saved_world(path)["domains"]] == [created.json()["data"]["id"]]
    control.reset()
    assert saved_world(path)["domains"] == []


def test_a_step_the_ticker_runs_on_a_running_clock_is_saved_without_any_request(durable_server):
    server, path = durable_server
    control = ControlClient(server.url)
    control.settings("autosend", verify_delay_seconds=1)
    with httpx.Client(headers={"Authorization": "Bearer as_x"}) as api:
        base = server.base_urls()["autosend"]
        domain = api.post(f"{base}/domains", json={"domain": "tick.example.com"}).json()["data"]
        control.publish("autosend", domain["id"])
        api.post(f"{base}/domains/{domain['id']}/verify")
    assert saved_world(path)["domains"][0]["status"] == "PENDING"
    control.unfreeze()
    wait_for(lambda: saved_world(path)["domains"][0]["status"] != "PENDING", seconds=10)
    assert saved_world(path)["domains"][0]["status"] == "VERIFIED"


def test_a_read_that_uses_an_http_fault_is_saved_before_its_answer(durable_server):
    """A fault's count and its probability's draws go on after kill -9 from where they were:
    a read they answered saved them, though the read itself changes nothing."""
    server, path = durable_server
    control = ControlClient(server.url)
    control.add_http_fault("autosend", operation="list_domains", status=503, count=2)
    control.add_http_fault("scaleway", status=500, probability=0.5)
    with httpx.Client(headers={"Authorization": "Bearer as_x"}) as api:
        assert api.get(server.base_urls()["autosend"] + "/domains").status_code == 503
    assert [f["count"] for f in saved_world(path)["http_faults"]] == [1, None]
    scaleway = server.base_urls()["scaleway"] + "/mailbox/v1alpha1/domains"
    token = {"X-Auth-Token": "9ab5e7f6-1b0f-4a0e-8d8c-2f9c1c7d3e11"}
    for draws in (1, 2, 3):
        httpx.get(scaleway, headers=token)
        assert saved_world(path)["http_fault_draws"] == draws


# --- one serve per file; a save that fails --------------------------------------------------


def test_a_second_serve_on_the_same_state_file_refuses_to_start(tmp_path):
    state = str(tmp_path / "team.db")
    first = Served("--state", state)
    try:
        result = serve_refused("--port", "0", "--dns-port", "0", "--state", state)
        assert result.returncode == 2
        assert "another `domainsandbox serve` is using this state file" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        control_of(first).add_record("still.example.com", "TXT", "first serve")
    finally:
        assert first.stop()[0] == 0
    again = Served("--state", state)  # the lock went with the first process
    try:
        assert control_of(again).records("still.example.com")[0]["value"] == "first serve"
    finally:
        again.stop()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB file system of its own (tmpfs), to fill up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk) -> None:
    """Write to `disk` until it is full."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):  # ENOSPC: full
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)


def test_a_state_file_removed_while_serving_refuses_changes_and_says_how_to_keep_the_world(
    tmp_path,
):
    """Changes were acknowledged into a file no path led to any more: a restart found none."""
    state = tmp_path / "s.db"
    served = Served("--state", str(state))
    try:
        control = control_of(served)
        with autosend(served, "as_gone") as api:
            assert api.post("/domains", json={"domain": "kept.example.com"}).status_code == 200
            for name in ("s.db", "s.db-wal", "s.db-shm"):
                (tmp_path / name).unlink(missing_ok=True)
            refused = api.post("/domains", json={"domain": "lost.example.com"})
            assert refused.status_code == 500, refused.text
            assert "was removed while the sandbox served" in refused.json()["error"]["message"]
        health = httpx.get(served.urls["control"] + "/health")
        assert health.status_code == 503 and "scenario export" in health.json()["problem"]
        world = control.export_scenario()  # what it says to do first: the world is all there
        assert "kept.example.com" in world and "lost.example.com" not in world
        control.close()
    finally:
        served.stop()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_change_that_cannot_be_saved_is_answered_in_the_apis_shape_and_undone(tiny_disk, workers):
    state = str(tiny_disk / "s.db")
    served = Served("--state", state, "--workers", workers)
    try:
        control = control_of(served)
        with autosend(served, "as_full") as api:
            kept = api.post("/domains", json={"domain": "kept.example.com"}).json()["data"]
            fill(tiny_disk)
            refused = api.post("/domains", json={"domain": "lost.example.com"})
            assert refused.status_code == 500
            assert refused.json()["success"] is False
            assert "could not be saved" in refused.json()["error"]["message"]
            names = [d["domainName"] for d in api.get("/domains").json()["data"]["domains"]]
            assert names == ["kept.example.com"]  # undone: not visible, as not saved
            with pytest.raises(ControlError) as error:
                control.add_record("lost.example.com", "TXT", "not saved")
            assert error.value.status == 500 and "could not be saved" in str(error.value)
            assert control.records() == []
            health = httpx.get(served.urls["control"] + "/health")  # what a probe sees
            assert health.status_code == 503 and health.json()["ready"] is False
            assert health.json()["problem"].startswith(f"the world cannot be saved to {state}: ")
            os.remove(tiny_disk / "filler")
            again = api.post("/domains", json={"domain": "again.example.com"})
            assert again.status_code == 200
            health = httpx.get(served.urls["control"] + "/health")
            assert health.status_code == 200 and "problem" not in health.json()
        control.close()
    finally:
        served.process.send_signal(signal.SIGINT)
        _, console = served.process.communicate(timeout=30)
    assert served.process.returncode == 0
    assert "Traceback" not in console
    assert "could not save the world to" in console
    restarted = Served("--state", state)
    try:
        names = [d["name"] for d in control_of(restarted).domains()]
        assert names == ["kept.example.com", "again.example.com"]
        assert kept["id"] in [d["id"] for d in control_of(restarted).domains()]
    finally:
        restarted.stop()


def test_the_state_file_keeps_what_json_can_write_and_orjson_cannot(tmp_path):
    state = StateFile(str(tmp_path / "state.db"))  # saves are written with orjson, and with
    try:  # json where orjson refuses: an integer past 64 bits
        world = {"format": 1, "seed": 1, "n": 2**70, "name": "café", "at": 0.1}
        state.write(world)
        assert state.read()[0] == world
    finally:
        state.close()


def test_a_state_file_copied_alone_while_serving_or_after_kill_9_lacks_the_world(tmp_path):
    """What docs/reliability.md says of backups: the latest saves sit in FILE-wal until a clean
    stop; after a kill -9 the file needs its -wal beside it."""
    state, alone, kept = tmp_path / "world.db", tmp_path / "alone.db", tmp_path / "kept"
    served = Served("--state", str(state))
    try:
        with autosend(served, "as_backup") as api:
            assert api.post("/domains", json={"domain": "kept.example.com"}).is_success
        shutil.copy(state, alone)  # the file alone, while it serves
    finally:
        served.process.kill()
        served.process.communicate(timeout=15)
    kept.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copy(f"{state}{suffix}", kept / f"world.db{suffix}")
    for path, domains in ((alone, []), (kept / "world.db", ["kept.example.com"])):
        served = Served("--state", str(path))
        try:
            assert any("restored the world" in line for line in served.banner) == bool(domains)
            assert [d["name"] for d in control_of(served).domains()] == domains
        finally:
            served.stop()
