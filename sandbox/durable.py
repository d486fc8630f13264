"""Durable state: `serve --state FILE` keeps the whole world in SQLite and comes back to it.

The world is the scenario export (sandbox.scenario): domains, records and results, the DNS zone
and faults, HTTP faults, settings, the clock and how far identities have been drawn. After every
request whose operation may change the world (`apis.changes`: not a GET, HEAD or OPTIONS, nor a
read such as SES's list sent as a POST; provider or control) the whole world is written in
one SQLite transaction *before* the answer's first byte leaves, so whatever a client was told
happened is on disk; a kill -9 at any instant loses nothing acknowledged. Steps the ticker runs on
a running clock are saved as they happen, and a GET that landed due steps saves before answering.

SQLite runs in WAL mode with synchronous=FULL: each commit is fsynced, and a crash leaves either
the previous world or the new one, never a mix. Each save keeps the SHA-256 of the world's bytes
beside them, and a world that no longer matches it (a byte changed on the disk, inside what SQLite
still reads as sound) is refused as damaged instead of served. Request logs and the client report
are not kept: they describe a session, not the world.

One `serve` holds the file (an exclusive flock): a second one on it refuses to start. A save
that fails (disk full) puts the world back as it was last saved, and the request whose change
could not be saved gets a 500 in its API's error shape: memory is never ahead of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from . import scenario
from .engine.clock import LATEST, utc
from .errors import ProviderError
from .lanes import READ_ONLY_METHODS
from .request import CHANGES, compact_json, send_answer

if TYPE_CHECKING:
    from .core import Sandbox
    from .upgrade import Upgrade

log = logging.getLogger(__name__)
# How long a writer waits for SQLite's lock before giving up (another process holding it).
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS world (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row: the latest world
    saved_at REAL NOT NULL,                 -- wall time of the save, to resume a running clock
    body TEXT NOT NULL,                     -- the scenario export, as JSON
    sha256 TEXT                             -- of saved_at and body, in hex (_checksum)
)
"""
# The checksum column, added by the first save to a file written before it was kept: such a
# file's world loads unchecked once (as sandbox/upgrade.py loads worlds of earlier formats).
_CHECKSUM = "sha256"
_COLUMNS = {"id", "saved_at", "body"}  # a state file's, with or without _CHECKSUM
# What to do with a state file whose contents are damaged.
RESTORE_A_BACKUP = "restore a backup of it, or give --state another file"
# What SQLite and the OS say of a file they may not write (root included: EPERM of an
# immutable file or folder, EROFS of a read-only file system).
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
_SQLITE_NOT_WRITABLE = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


def _a_scenario_hint(path: str) -> str:
    """What to say of a file `--state` cannot open that reads as a scenario (an export given
    where the state file goes): where such a file is given instead."""
    try:
        with open(path, "rb") as file:
            start = file.read(64).lstrip()
    except OSError:
        return ""
    if start.startswith((b"format:", b"seed:", b"{", b"---")):
        return "; it reads as a scenario (an export): load one with --scenario FILE"
    return ""


def _unwritable(path: str, cause: str) -> str | None:
    """What to say of a state file its place keeps from being written, or None when that is not
    why. SQLite says "attempt to write a readonly database" or "unable to open database file",
    which names neither what is read-only nor what to do. `cause`: what the OS or SQLite said."""
    real = os.path.realpath(path)  # where SQLite writes, and makes its -wal and -shm beside it
    folder = os.path.dirname(real)
    cannot = f"cannot write the state file {path}"
    try:
        read_only = os.statvfs(folder).f_flag & os.ST_RDONLY
    except OSError:
        return None  # no folder there: what the OS said names it
    if read_only:  # (what the OS said, EROFS, would say it again)
        return (
            f"{cannot}: its folder {folder} is on a read-only file system; give --state a file "
            "on a writable one"
        )
    if os.path.exists(real) and not os.access(real, os.W_OK):
        return (
            f"{cannot}: the file is read-only ({cause}); make it writable, or give --state "
            "another file"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        name = os.path.basename(real)
        return (
            f"{cannot}: its folder {folder} is not writable ({cause}); make it writable (SQLite "
            f"writes {name}-wal and {name}-shm there), or give --state a file in another folder"
        )
    return None


def _no_folder(path: str) -> str | None:
    """What to say of a state file whose folder is not there (the OS says only "No such file or
    directory"), or None when it is."""
    folder = os.path.dirname(os.path.realpath(path))  # a link's target's folder, if a link
    if os.path.lexists(folder):
        return None
    return (
        f"cannot make the state file {path}: its folder {folder} does not exist; create it "
        "first, or give --state a file in a folder that does"
    )


def _not_a_folder(path: str) -> str | None:
    """What to say of a state file whose folder, or a folder above it, is a file (the OS says
    only "Not a directory"), or None when none is."""
    folder = os.path.dirname(os.path.realpath(path))
    while not os.path.isdir(folder):
        if os.path.lexists(folder):
            return (
                f"cannot make the state file {path}: {folder} is a file, not a folder; give "
                "--state a file in a folder"
            )
        folder = os.path.dirname(folder)
    return None


class StateError(Exception):
    """The state file cannot be opened or read; the message says why."""


class StateFileGone(sqlite3.OperationalError):
    """The state file was removed while the sandbox held it: a save would land in a file no
    path leads to, and a restart would find nothing; refused as a full disk is."""


class SaveFailed(ProviderError):
    """A change that could not be saved: the world was put back as saved, the caller is told."""

    def __init__(self, why: str):
        super().__init__(500, f"the change could not be saved ({why}); it was undone: try again")


def _hold(path: str) -> tuple[int, bool]:
    """A descriptor of `path` holding an exclusive flock on it, and whether this call made the
    file; or StateError.

    flock, not SQLite's own (POSIX) locks, which it takes only while it writes. The descriptor
    must stay open while SQLite uses the file: closing any descriptor of a file drops the
    process's POSIX locks on it."""
    try:
        try:
            # it keeps registered credentials' secrets: for its owner's eyes only (SQLite gives
            # the -wal and -shm files beside it the same mode)
            fd, made = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), True
        except FileExistsError:  # (or a link to none yet: made where it points, as before)
            fd, made = os.open(path, os.O_RDWR | os.O_CREAT, 0o600), False
    except OSError as exc:
        said = _unwritable(path, exc.strerror) if exc.errno in _NOT_WRITABLE else None
        if exc.errno == errno.ENOENT:
            said = _no_folder(path)
        elif exc.errno == errno.ENOTDIR:
            said = _not_a_folder(path)
        raise StateError(said or f"{path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)  # made or not, it is another's now: left as it is
        raise StateError(
            f"{path}: another `domainsandbox serve` is using this state file; stop it first, "
            "or give this one a file of its own"
        ) from None
    return fd, made


def _companions(path: str) -> tuple[str, str]:
    """SQLite's files beside a state file in WAL mode."""
    return path + "-wal", path + "-shm"


def _remove(names) -> None:
    """Remove the files named, those there. (Removing one that is not there may fail otherwise
    than "not found": under a file, or on a read-only file system.)"""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            if os.path.lexists(name):
                os.remove(name)


def _refuse_a_wal_alone(path: str) -> None:
    """StateError for SQLite's files beside a state file that is not there (moved or removed
    without them): a new file there would take the -wal for its own, and SQLite removes it as it
    closes, with the last changes it holds."""
    if os.path.lexists(path):
        return
    if left := [name for name in _companions(path) if os.path.lexists(name)]:
        raise StateError(
            f"{path}: not there, but {', '.join(left)} beside it is: the state file was moved "
            "or removed without it (keep the three together); put it back, or remove "
            f"{'them' if len(left) > 1 else 'it'} for a new state file"
        )


def _refuse_another_database(db: sqlite3.Connection, path: str) -> None:
    """StateError for an SQLite file that holds tables but no saved world: another program's
    database, which a state file's table must not be added to."""
    tables = sorted(
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
    )
    if tables and "world" not in tables:
        raise StateError(
            f"{path}: not a domainsandbox state file (it holds the tables {', '.join(tables)}, "
            "and no saved world); give serve a file of its own"
        )
    columns = {row[1] for row in db.execute("PRAGMA table_info(world)")}
    if tables and columns - {_CHECKSUM} != _COLUMNS:  # another program's table `world`
        raise StateError(
            f"{path}: not a domainsandbox state file (its table world holds "
            f"{', '.join(sorted(columns))}, not a saved world); give serve a file of its own"
        )


def _why_not_opened(path: str, error: Exception) -> str:
    """The one line saying why the state file at `path` did not open."""
    if not isinstance(error, sqlite3.Error):
        return str(error)
    # without the extended code's detail; none on an error Python's sqlite3 raised itself
    primary = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if primary in _SQLITE_NOT_WRITABLE and (said := _unwritable(path, str(error))):
        return said
    return f"{path}: {error}{_a_scenario_hint(path)}"


def _checksum(body: bytes, saved_at: float) -> str:
    """What a save keeps beside the world: of its bytes and of when it was saved (a running
    clock resumes from then, so a changed instant would run steps that were never due)."""
    return hashlib.sha256(f"{saved_at!r}\n".encode() + body).hexdigest()


def _matches(body: bytes | None, saved_at, checksum) -> bool:
    """Whether a saved world's bytes and instant are those its checksum was made of."""
    return isinstance(body, bytes) and _checksum(body, saved_at) == checksum


class StateFile:
    """One SQLite file holding the latest world, held by this process alone."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        _refuse_a_wal_alone(path)
        self._held, self.made = _hold(path)
        self._db = None
        self._has_checksum_column = False
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _refuse_another_database(self._db, path)  # before WAL mode changes the file
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StateError(f"{path}: SQLite refused WAL mode ({mode})")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
            self._has_checksum_column = _CHECKSUM in {
                r[1] for r in self._db.execute("PRAGMA table_info(world)")
            }
        except (sqlite3.Error, StateError) as exc:
            self.discard()
            raise StateError(_why_not_opened(path, exc)) from None

    def read(self) -> tuple[dict, float] | None:
        """(world, wall time it was saved at), or None for a new file; StateError for a world
        that is not what was saved (its checksum differs: damaged) or does not read."""
        # a file saved before checksums were kept has no column for one: NULL in its place
        column = _CHECKSUM if self._has_checksum_column else "NULL"
        with self._lock:
            try:
                row = self._db.execute(  # the bytes as stored, to hash and parse
                    f"SELECT CAST(body AS BLOB), saved_at, {column} FROM world WHERE id = 1"
                ).fetchone()
            except sqlite3.Error as exc:
                raise StateError(f"{self.path}: {exc}") from None
        if row is None:
            return None
        body, saved_at, checksum = row
        # every save since the column was added wrote one
        if self._has_checksum_column and not _matches(body, saved_at, checksum):
            why = "differs from the checksum saved with it" if checksum else "has no checksum"
            raise StateError(
                f"{self.path}: the saved world is damaged (it {why}): {RESTORE_A_BACKUP}"
            )
        try:
            return json.loads(body), saved_at
        except ValueError as exc:
            raise StateError(f"{self.path}: the saved world is not JSON ({exc})") from None
        except RecursionError:
            raise StateError(f"{self.path}: the saved world is nested too deeply to read") from None

    def write(self, world: dict) -> None:
        """Replace the saved world, in one transaction; StateFileGone once the file was removed
        (its last link: a file moved elsewhere is still written)."""
        data, saved_at = compact_json(world), time.time()
        body, checksum = data.decode(), _checksum(data, saved_at)
        with self._lock:
            if os.fstat(self._held).st_nlink == 0:
                raise StateFileGone(
                    f"{self.path} was removed while the sandbox served: export the world "
                    "(domainsandbox scenario export FILE), then serve --scenario FILE --state "
                    f"{self.path}"
                )
            try:
                self._db.execute("BEGIN IMMEDIATE")
                if not self._has_checksum_column:  # a file saved before checksums: brought forward
                    self._db.execute(f"ALTER TABLE world ADD COLUMN {_CHECKSUM} TEXT")
                self._db.execute(
                    f"INSERT OR REPLACE INTO world (id, saved_at, body, {_CHECKSUM}) "
                    "VALUES (1, ?, ?, ?)",
                    (saved_at, body, checksum),
                )
                self._db.execute("COMMIT")  # where a full disk is found, in WAL mode
                self._has_checksum_column = True
            except BaseException:
                if self._db.in_transaction:  # SQLite rolls some failures back by itself
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._held is None:  # closed already
            return
        if self._db is not None:
            self._db.close()
        os.close(self._held)  # after SQLite: see _hold
        self._held = None

    def discard(self) -> None:
        """Close the file, and remove it if this start made it (with the files SQLite made
        beside it): it never served, and a later start must not restore what it holds. A file
        another process made is never this start's to remove."""
        with self._lock:
            self._close()
        if self.made:
            _remove([self.path, *_companions(self.path)])


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
        self._faults_saved = 0  # http_faults.used when last saved
        self.undos = 0  # times the world was put back as saved, after a save failed
        self.restored = False  # the world now served is the one the file held
        self.saved_at: float | None = None  # the wall time the restored world was saved at
        self.upgrade: Upgrade | None = None  # what restoring a world of an earlier format changed

    def restore(self, keep_logs: bool = False) -> bool:
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
            self.upgrade = scenario.load_world(self.sandbox, _resumed(world, saved_at), keep_logs)
        except scenario.NewerFormat as exc:  # not damage: a newer version's file, left as it is
            raise StateError(f"{self.file.path}: {exc}") from None
        except scenario.ScenarioError as exc:
            raise StateError(f"{self.file.path}: the saved world does not load: {exc}") from None
        self.restored, self.saved_at = True, saved_at
        return True

    def save(self, since: int | None = None) -> None:
        """Write the world as it stands now, covering every change finished before this call.

        Concurrent callers share writes: a caller whose change an already-written snapshot
        covers returns at once (group commit), so a burst of requests costs few fsyncs.
        A write that fails puts the world back as saved and raises SaveFailed; so does a call
        whose change began before such an undo (`since`: `undos` when it began), as the undo
        may have taken that change away too.
        """
        with self._tickets:
            self._issued += 1
            ticket = self._issued
        with self._save_lock:
            if since is not None and since != self.undos:
                raise SaveFailed("an earlier change could not be saved, and the world was undone")
            if self._saved >= ticket:
                return
            with self._tickets:
                covered = self._issued  # every ticket so far belongs to a finished change
            steps, faults = self.sandbox.steps_run, self.sandbox.http_faults.used
            try:
                self.file.write(scenario.export_world(self.sandbox))
            except sqlite3.Error as exc:
                self._undo(exc)
                raise SaveFailed(str(exc)) from None  # the log names the file; clients need not
            self._saved, self._steps_saved, self._faults_saved = covered, steps, faults
            if self.sandbox.save_problem is not None:
                self.sandbox.save_problem = None
                log.warning("saving to %s works again", self.file.path)

    def save_first(self) -> None:
        """Write the world before serving, so that the file holds one from the start: with no
        change to undo yet, a file that cannot take it is a StateError, said in one line."""
        try:
            self.file.write(scenario.export_world(self.sandbox))
        except sqlite3.Error as exc:
            damaged = "malformed" in str(exc)
            fix = RESTORE_A_BACKUP if damaged else "make room for it, or give --state another file"
            raise StateError(
                f"{self.file.path}: the world cannot be saved there ({exc}): {fix}"
            ) from None
        self._steps_saved = self.sandbox.steps_run
        self._faults_saved = self.sandbox.http_faults.used

    def _undo(self, error: Exception) -> None:
        """Put the world back as it was last saved: nothing unsaved stays visible."""
        self.undos += 1
        if self.sandbox.save_problem is None:  # said once in the log, not at every try
            log.error(
                "could not save the world to %s (%s): changes are undone until saving works",
                self.file.path,
                error,
            )
        self.sandbox.save_problem = f"the world cannot be saved to {self.file.path}: {error}"
        try:
            self.restore(keep_logs=True)
        except StateError as exc:  # the file cannot even be read back: say so, keep serving
            log.error("could not put the world back as saved: %s", exc)

    def save_if_possible(self) -> None:
        """Save with nobody to answer (the ticker's steps, the last save at a stop): a failed
        save has been logged and undone already."""
        with contextlib.suppress(SaveFailed):
            self.save()

    def behind(self) -> bool:
        """True when scheduled steps ran since the last save."""
        return self.sandbox.steps_run != self._steps_saved

    def owed(self, changed: bool) -> bool:
        """Whether an answer waits for a save: its call changed the world, or since the last
        save steps ran or a call used an HTTP fault (a read answered by one, a draw of its
        probability). Not while a clock move holds the world: the move saves as it answers, and
        a read must not wait minutes for it."""
        faults_used = self.sandbox.http_faults.used != self._faults_saved
        return changed or ((self.behind() or faults_used) and self.sandbox.world_free())

    def attach(self) -> None:
        """Save after the steps the ticker runs on a running clock."""
        self.sandbox.after_steps = self.save_if_possible

    def wrap(self, app, render):
        """The ASGI app, saving the world before answering any request that changed it.
        `render(path, error, headers, scope)`: a failed save's answer in the shape of the API at
        `path`."""
        return _SaveBeforeAnswer(app, self, render)

    def close(self) -> None:
        self.sandbox.after_steps = None
        self.file.close()

    def discard(self) -> None:
        """Close the file, removed if this start made it (StateFile.discard): a start that never
        served must not leave a world a later start would restore."""
        self.sandbox.after_steps = None
        self.file.discard()


def _resumed(world: dict, saved_at: float) -> dict:
    """`world` with a running clock moved on by the time since `saved_at`, in its mode: a
    scenario's running clock keeps the mode of the sandbox it loads into, a saved world's wins
    over `serve --clock` (a real-time one is written without its mode)."""
    clock = world.get("clock")
    if not isinstance(clock, dict) or clock.get("frozen") is not False or not clock.get("now"):
        return world
    try:
        now = utc(clock["now"])
        speed = clock.get("speed", 1) if clock.get("mode") == "fast" else 1  # a fast one ran fast
        downtime = timedelta(seconds=max(0.0, time.time() - saved_at) * speed)
    except (TypeError, ValueError, OverflowError):
        return world  # the load names what is wrong with it
    resumed = now + min(downtime, max(LATEST - now, timedelta(0)))
    mode = clock.get("mode", "real")
    return world | {"clock": clock | {"now": resumed.isoformat(), "mode": mode}}


def changed(scope) -> bool:
    """Whether a request may have changed the world: as the dispatcher found its operation
    marked, else as its method says."""
    return scope.get("extensions", {}).get(CHANGES, scope["method"] not in READ_ONLY_METHODS)


class _SaveBeforeAnswer:
    def __init__(self, app, durable: Durable, render):
        self.app, self.durable, self.render = app, durable, render

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        since, replaced = self.durable.undos, False

        async def send_after_saving(message):
            nonlocal replaced
            if replaced:
                return  # the answer was replaced by the failed save's
            if message["type"] == "http.response.start" and self.durable.owed(changed(scope)):
                # the handler has finished: its change is in the world, now make it durable
                try:
                    await asyncio.to_thread(self.durable.save, since)
                except SaveFailed as error:
                    replaced = True
                    return await send_answer(send, self.render(scope["path"], error, None, scope))
            await send(message)

        await self.app(scope, receive, send_after_saving)
