"""Serving the sandbox over HTTP with uvicorn, in a background thread or in the foreground."""

from __future__ import annotations

import gc
import ipaddress
import logging
import socket
import threading
import time

import uvicorn

from .app import ErrorRenderer, build_asgi
from .arguments import MAX_PORT, within
from .core import Sandbox, cannot_listen
from .limits import ShutdownAnswer, check_exposure, connection_limit
from .logs import uvicorn_log_config
from .mounts import CONTROL_MOUNT
from .request import AbortConnection

# The cyclic garbage collector's thresholds while serving. With Python's defaults (700, 10, 10)
# a growing store triggers full collections that scan every domain: 218 ms pauses at 20,000
# domains, 33 us per create in all (bench/gc_cost.py). The store's objects are long-lived and
# freed by reference counting: collections come every 20,000 allocations, and what survives
# one goes to the oldest generation at the next, so a young collection never scans more than
# two rounds of survivors (with 50 rounds between them, a collection of the middle generation
# scanned 50 rounds of new domains: 250 to 290 ms at 20,000 Scaleway creates). The oldest is
# looked at as rarely as before (every 2,500 middle collections, and only once it has grown by
# a quarter): pauses stay near 15 ms, the cost near 6 us a create.
SERVING_GC_THRESHOLDS = (20_000, 1, 2_500)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the sandbox as soon as it starts to shut down: a clock move
    under way stops at its next step, within the grace period, instead of holding the server
    (which waits for its thread) for as long as the move takes. `on_ready` is called once it
    serves."""

    def __init__(self, config: uvicorn.Config, sandbox: Sandbox):
        super().__init__(config)
        self._sandbox = sandbox
        self.on_ready = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        # Said from here, not before run(): a Ctrl-C once a user (or a test) is told the server
        # is ready is uvicorn's to handle. Before, it could land in an import of uvicorn's
        # start-up and be lost there (a weakref callback's exception is only printed).
        if self.started and self.on_ready:
            self.on_ready()

    async def shutdown(self, sockets=None) -> None:
        self._sandbox.begin_stop()
        await super().shutdown(sockets=sockets)


def settle_gc() -> None:
    """Tune the garbage collector for a process that only serves: what start-up built is kept
    out of every later collection, and collections come less often."""
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def bind_tcp(host: str, port: int) -> socket.socket:
    """A listening TCP socket, or PortInUse with a sentence naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise cannot_listen(exc, "HTTP", host, port) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def one_line_aborts(record: logging.LogRecord) -> bool:
    """A logging filter for uvicorn: an injected connection abort (AbortConnection) is said in
    one line, not as the traceback of an exception in the ASGI application."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, AbortConnection):
        record.msg, record.args = "%s", (str(error),)
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


def uvicorn_config(app, sandbox: Sandbox, note=None) -> uvicorn.Config:
    """How the sandbox's HTTP is served, by this process or by each worker process. `note`:
    how a request the HTTP protocol answers itself is noted (app.RequestRecorder.note)."""
    config = uvicorn.Config(
        app,
        http=_http_protocol(sandbox, note),
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # a local sandbox behind no proxy: one middleware less per request
        lifespan="off",
        ws="none",  # no API here speaks WebSocket: an Upgrade is ignored, the request answered
        timeout_graceful_shutdown=2,
        h11_max_incomplete_event_size=64 * 1024,
        limit_concurrency=connection_limit(),  # beyond: a 503 in the API's shape
        log_config=uvicorn_log_config(sandbox.log_format),
    )
    # after the Config, which configures logging; added once (a logger's filters are a set)
    logging.getLogger("uvicorn.error").addFilter(one_line_aborts)
    if not isinstance(config.http, str):  # the sandbox's protocol: it names the refused request
        from .connection import unnamed_refusals_dropped

        logging.getLogger("uvicorn.error").addFilter(unnamed_refusals_dropped)
    return config


def _http_protocol(sandbox: Sandbox, note):
    """uvicorn's httptools protocol with the sandbox's bounds on each connection
    (sandbox/connection.py); without httptools, uvicorn's choice (h11, bounded by
    `h11_max_incomplete_event_size`)."""
    try:
        from .connection import http_protocol
    except ImportError:
        return "auto"
    return http_protocol(ErrorRenderer(sandbox).render, note)


class SandboxServer:
    """A Sandbox plus its HTTP server. `with SandboxServer(...) as server: server.url`."""

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        durable=None,
    ):
        self.sandbox = sandbox or Sandbox()
        self.durable = durable  # a sandbox.durable.Durable: save the world after each change
        self.host, self._requested_port = host, within(port, MAX_PORT, "a port number")
        if not _is_address(host):  # clients reach it by that name: the control API answers it
            self.sandbox.allowed_hosts.add(host.lower().rstrip("."))
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._port = port
        self._thread: threading.Thread | None = None
        self.worker_count = 1  # processes serving HTTP (sandbox.workers serves with several)

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def loopback_url(self) -> str:
        """The URL this process reaches itself at: loopback when it serves every address."""
        everywhere = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}
        if self.host in everywhere:
            return f"http://{everywhere[self.host]}:{self.port}"
        return self.url

    def base_urls(self) -> dict[str, str]:
        """Each provider's base URL as its client should be configured, plus the control API."""
        urls = {name: self.url + p.client_base for name, p in self.sandbox.providers.items()}
        return urls | {"control": self.url + CONTROL_MOUNT}

    def _bind_and_start(self) -> None:
        """Take the HTTP port, then start the sandbox (its DNS server and ticker)."""
        check_exposure(self.host, self.sandbox.control_token)
        self._socket = bind_tcp(self.host, self._requested_port)
        self._port = self._socket.getsockname()[1]
        self.sandbox.http_url = self.loopback_url
        try:
            self.sandbox.start()
        except BaseException:
            self._socket.close()
            raise

    def _prepare(self) -> uvicorn.Server:
        self._bind_and_start()
        app = recorder = build_asgi(self.sandbox)
        self.events = app.events
        if self.durable:
            render = ErrorRenderer(self.sandbox).render
            # A request cut off by the shutdown while its change was being saved gets the 503
            # too, not uvicorn's 500: the world is saved once more as the server stops.
            app = ShutdownAnswer(self.durable.wrap(app, render), render)
            self.durable.attach()
        config = uvicorn_config(app, self.sandbox, recorder.note)
        self._server = server = _Server(config, self.sandbox)
        self.events.stop_when(lambda: server.should_exit)  # open streams must not hold a stop
        return server

    def start(self) -> SandboxServer:
        """Serve in a background thread; returns once requests are accepted."""
        server = self._prepare()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("the HTTP server did not start")
        return self

    def serve_forever(self, on_ready=None) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM, then stop everything."""
        server = self._prepare()
        settle_gc()
        server.on_ready = on_ready
        try:
            server.run(sockets=[self._socket])
        finally:
            self._close()

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=5)
        self._close()

    def _close(self) -> None:
        self.sandbox.stop()
        if self.durable:  # the last steps the ticker ran, then let go of the file
            self.durable.save_if_possible()
            self.durable.close()
        if self._socket:
            self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
