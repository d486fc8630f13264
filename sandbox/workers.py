"""`serve --workers N`: N front-end processes on one listening socket, sharing one world.

This process keeps the world: the store, the clock, the seeded ids, the DNS server, the ticker
and the state file, behind a WorldService (sandbox.world). Each worker is a whole HTTP front
end: uvicorn, the request limits, Connexion's routing and validation, the providers' error
shapes. That is where a request spends most of its time, so that is what runs on every core;
the world's own work stays in one process, so ids, domains and DNS records are never split or
made twice. The kernel spreads connections over the workers, which accept on the same socket.

uvicorn's own multi-process supervisor pickles one Config for every worker; here each worker
builds its app, its error renderer and its HTTP protocol itself, from a few plain settings.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import uvicorn

from .app import build_asgi
from .core import Sandbox
from .logs import configure as configure_logs
from .server import SandboxServer, settle_gc, uvicorn_config
from .world import RemoteWorld, WorldService

# A fresh interpreter for each worker: nothing of this process's threads and locks is inherited.
_SPAWN = multiprocessing.get_context("spawn")
STARTUP_SECONDS = 60  # a worker imports Connexion and reads five documents: a few seconds
SUPERVISE_SECONDS = 0.5  # how often dead workers are looked for (and replaced)
# How often a worker looks for its parent: gone (a kill -9), it stops within half a second, its
# shutdown included (at 0.5, 0.63 to 0.76 s).
PARENT_CHECK_SECONDS = 0.1
STOP_SECONDS = 10  # a stopping worker's grace (uvicorn's 2 s for requests in flight) and margin
log = logging.getLogger(__name__)


class WorkerFailed(RuntimeError):
    """A worker process could not start serving."""


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to build its front end; sent to it when it is spawned."""

    world_address: str
    authkey: bytes
    control_token: str | None
    allowed_hosts: frozenset[str]
    seed: int
    parent_pid: int
    log_format: str = "text"


def run_worker(settings: WorkerSettings, sock, ready) -> None:
    """A worker process: serve HTTP on `sock`, asking the world of the parent for everything."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # uvicorn re-raises it once stopped
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal: the serving process stops us
    # never started: mounts, documents, error shapes (and the request ids of the refusals its
    # front end answers itself: the worker's own, apart from the world's)
    sandbox = Sandbox(seed=settings.seed, worker=f"worker-{os.getpid()}")
    sandbox.control_token = settings.control_token
    sandbox.allowed_hosts = set(settings.allowed_hosts)
    sandbox.log_format = settings.log_format
    configure_logs(settings.log_format)
    world = RemoteWorld(settings.world_address, settings.authkey, sandbox)
    app = build_asgi(sandbox, world)
    server = uvicorn.Server(uvicorn_config(app, sandbox, app.note))
    app.events.stop_when(lambda: server.should_exit)
    watch = threading.Thread(target=_watch, args=(server, ready, settings.parent_pid), daemon=True)
    watch.start()
    settle_gc()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        server.run(sockets=[sock])


def _watch(server: uvicorn.Server, ready, parent_pid: int) -> None:
    """Say when the worker serves; stop it if its parent, and so its world, is gone."""
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    with contextlib.suppress(OSError):  # a parent gone already: the loop below sees it
        ready.send_bytes(b"serving")
    while os.getppid() == parent_pid and not server.should_exit:
        time.sleep(PARENT_CHECK_SECONDS)
    server.should_exit = True


def _world_address() -> tuple[str, str | None]:
    """Where the world listens for its workers, and a folder to remove at the end, if any.

    On Linux an abstract socket: it has no file, so it goes with the process, even after a
    kill -9. Elsewhere a socket in a private (0700) temporary folder."""
    if sys.platform == "linux":
        return f"\0domainsandbox-{os.getpid()}-{secrets.token_hex(8)}", None
    folder = tempfile.mkdtemp(prefix="domainsandbox-")
    return os.path.join(folder, "world.sock"), folder


class Worker:
    """One worker process and its "serving" flag."""

    def __init__(self, settings: WorkerSettings, sock):
        # a pipe, not an Event: setting an Event waits for every process waiting on it to wake,
        # and one killed (kill -9) while it waited never does, so the worker hung, serving 503s
        self.ready, said = _SPAWN.Pipe(duplex=False)
        self.process = _SPAWN.Process(
            target=run_worker,
            args=(settings, sock, said),
            name="domainsandbox-worker",
            daemon=True,  # ended at this process's exit; after a kill -9, by its own _watch
        )
        self.process.start()
        said.close()  # the worker's end: the worker has it now

    def wait_ready(self, deadline: float) -> None:
        while not self.ready.poll(0.05):
            if time.monotonic() > deadline:
                raise WorkerFailed(f"a worker process did not start within {STARTUP_SECONDS} s")
        try:
            self.ready.recv_bytes()  # the end of the pipe, when the worker exited first
        except EOFError:
            self.process.join(STOP_SECONDS)
            raise WorkerFailed(
                f"a worker process exited while starting (code {self.process.exitcode})"
            ) from None
        finally:
            self.ready.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: uvicorn finishes or refuses what is in flight

    def join(self) -> None:
        self.ready.close()  # a replacement's, never waited on
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class WorkerPool(SandboxServer):
    """A Sandbox whose HTTP is served by `workers` processes.

    `serve_forever()` runs it in the foreground (the CLI); `with WorkerPool(...) as server:`
    runs it from a background thread, like a SandboxServer.
    """

    def __init__(self, sandbox: Sandbox, host="127.0.0.1", port=0, durable=None, workers=2):
        super().__init__(sandbox, host, port, durable)
        self.worker_count = workers
        self.workers: list[Worker] = []
        self._stopping = threading.Event()

    def serve_forever(self, on_ready=None) -> None:
        """Serve until Ctrl-C, SIGTERM or stop(); a worker that dies is replaced."""
        self._bind_and_start()
        address, folder = _world_address()
        world = None
        try:
            if self.durable:
                self.durable.attach()
            authkey = os.urandom(32)
            world = WorldService(self.sandbox, self.durable).serving(address, authkey).start()
            settings = WorkerSettings(
                address,
                authkey,
                self.sandbox.control_token,
                frozenset(self.sandbox.allowed_hosts),
                self.sandbox.seed,
                os.getpid(),
                self.sandbox.log_format,
            )
            self.workers = [Worker(settings, self._socket) for _ in range(self.worker_count)]
            deadline = time.monotonic() + STARTUP_SECONDS
            for worker in self.workers:
                worker.wait_ready(deadline)
            settle_gc()
            if on_ready:
                on_ready()
            self._supervise(settings)
        finally:
            self.sandbox.begin_stop()  # a clock move under way stops at its next step
            self._socket.close()  # newcomers are refused once the workers let go of it too
            self._stop_workers()  # they finish their requests while the world still answers
            if world:
                world.stop()
            self._close()
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    def start(self) -> WorkerPool:
        """Serve from a background thread; returns once every worker accepts requests."""
        ready, failed = threading.Event(), []

        def serve() -> None:
            try:
                self.serve_forever(on_ready=ready.set)
            except BaseException as exc:  # handed to the caller of start()
                failed.append(exc)
                ready.set()

        self._thread = threading.Thread(target=serve, name="worker-pool", daemon=True)
        self._thread.start()
        ready.wait()
        if failed:
            raise failed[0]
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread:
            self._thread.join(STOP_SECONDS + 5)

    def _supervise(self, settings: WorkerSettings) -> None:
        while not self._stopping.wait(SUPERVISE_SECONDS):
            for index, worker in enumerate(self.workers):
                if not worker.process.is_alive():
                    log.warning(
                        "worker pid %s exited (code %s); starting another",
                        worker.process.pid,
                        worker.process.exitcode,
                    )
                    self.workers[index] = Worker(settings, self._socket)

    def _stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.join()
