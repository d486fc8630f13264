"""Durable state: `serve --state FILE` keeps the whole world in SQLite and comes back to it.

The world is the scenario export (sandbox.scenario): domains, records and results, the DNS zone
and faults, HTTP faults, settings, the clock and how far identities have been drawn. After every
mutating request (any method but GET and HEAD, provider or control) the whole world is written in
one SQLite transaction *before* the answer's first byte leaves, so whatever a client was told
happened is on disk; a kill -9 at any instant loses nothing acknowledged. Steps the ticker runs on
a running clock are saved as they happen, and a GET that landed due steps saves before answering.

SQLite runs in WAL mode with synchronous=FULL: each commit is fsynced, and a crash leaves either
the previous world or the new one, never a mix. Request logs and the client report are not kept:
they describe a session, not the world.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from . import scenario
from .engine.clock import LATEST, utc

if TYPE_CHECKING:
    from .core import Sandbox

# Methods that never change the world: their answers are not waited on by a save.
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
# How long a writer waits for SQLite's lock before giving up (another process holding it).
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS world (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row: the latest world
    saved_at REAL NOT NULL,                 -- wall time of the save, to resume a running clock
    body TEXT NOT NULL                      -- the scenario export, as JSON
)
"""


class StateError(Exception):
    """The state file cannot be opened or read; the message says why."""


class StateFile:
    """One SQLite file holding the latest world."""

    def __init__(self, path: str):
        self.path = path
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StateError(f"{path}: SQLite refused WAL mode ({mode})")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StateError(f"{path}: {exc}") from None
        self._lock = threading.Lock()

    def read(self) -> tuple[dict, float] | None:
        """(world, wall time it was saved at), or None for a new file."""
        with self._lock:
            try:
                row = self._db.execute("SELECT body, saved_at FROM world WHERE id = 1").fetchone()
            except sqlite3.Error as exc:
                raise StateError(f"{self.path}: {exc}") from None
        if row is None:
            return None
        try:
            return json.loads(row[0]), row[1]
        except ValueError as exc:
            raise StateError(f"{self.path}: the saved world is not JSON ({exc})") from None

    def write(self, world: dict) -> None:
        """Replace the saved world, in one transaction."""
        body = json.dumps(world, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO world (id, saved_at, body) VALUES (1, ?, ?)",
                    (time.time(), body),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Durable:
    """Keeps one sandbox's world in a state file: `restore()` at start, `save()` after changes."""

    def __init__(self, sandbox: Sandbox, path: str):
        self.sandbox = sandbox
        self.file = StateFile(path)
        self._save_lock = threading.Lock()
        self._tickets = threading.Lock()
        self._issued = 0  # changes announced so far
        self._saved = 0  # changes known to be on disk
        self._steps_saved = 0

    def restore(self) -> bool:
        """Load the saved world into the sandbox; False when the file holds none yet.

        A running clock resumes as if it had kept running while the sandbox was down (up to
        the last instant the clock shows). StateError says why a saved world does not load.
        """
        saved = self.file.read()
        if saved is None:
            return False
        world, saved_at = saved
        if not isinstance(world, dict):
            raise StateError(f"{self.file.path}: the saved world is not a scenario mapping")
        try:
            scenario.load_world(self.sandbox, _resumed(world, saved_at))
        except scenario.ScenarioError as exc:
            raise StateError(f"{self.file.path}: the saved world does not load: {exc}") from None
        return True

    def save(self) -> None:
        """Write the world as it stands now, covering every change finished before this call.

        Concurrent callers share writes: a caller whose change an already-written snapshot
        covers returns at once (group commit), so a burst of requests costs few fsyncs.
        """
        with self._tickets:
            self._issued += 1
            ticket = self._issued
        with self._save_lock:
            if self._saved >= ticket:
                return
            with self._tickets:
                covered = self._issued  # every ticket so far belongs to a finished change
            steps = self.sandbox.steps_run
            self.file.write(scenario.export_world(self.sandbox))
            self._saved, self._steps_saved = covered, steps

    def behind(self) -> bool:
        """True when scheduled steps ran since the last save."""
        return self.sandbox.steps_run != self._steps_saved

    def attach(self) -> None:
        """Save after the steps the ticker runs on a running clock."""
        self.sandbox.after_steps = self.save

    def wrap(self, app):
        """The ASGI app, saving the world before answering any request that changed it."""
        return _SaveBeforeAnswer(app, self)

    def close(self) -> None:
        self.sandbox.after_steps = None
        self.file.close()


def _resumed(world: dict, saved_at: float) -> dict:
    """`world` with a running clock moved on by the time since `saved_at`."""
    clock = world.get("clock")
    if not isinstance(clock, dict) or clock.get("frozen") is not False or not clock.get("now"):
        return world
    try:
        now = utc(clock["now"])
        downtime = timedelta(seconds=max(0.0, time.time() - saved_at))
    except (TypeError, ValueError):
        return world  # the load names what is wrong with it
    resumed = now + min(downtime, max(LATEST - now, timedelta(0)))
    return world | {"clock": clock | {"now": resumed.isoformat()}}


class _SaveBeforeAnswer:
    def __init__(self, app, durable: Durable):
        self.app, self.durable = app, durable

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        mutating = scope["method"] not in READ_ONLY_METHODS

        async def send_after_saving(message):
            if message["type"] == "http.response.start" and (mutating or self.durable.behind()):
                # the handler has finished: its change is in the world, now make it durable
                await asyncio.to_thread(self.durable.save)
            await send(message)

        await self.app(scope, receive, send_after_saving)
