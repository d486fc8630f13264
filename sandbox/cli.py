"""The `domainsandbox` command line: serve the sandbox, and drive a running one.

Each command imports what only it needs when it runs (the server, Schemathesis, the scenario
loader): a command that talks to a running sandbox must not pay for them at start-up
(bench/startup.py measures it).

Each command's options are declared next to its handler (`_publish_parser` beside
`cmd_publish`); `build_parser` only assembles them, in the order --help lists them.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import shlex
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import TYPE_CHECKING

from . import envopts
from .arguments import (
    MAX_ADVANCE_SECONDS,
    MAX_PORT,
    duration,
    duration_said,
    is_timing,
    milliseconds,
    plain_number,
    port,
    seed,
    timeout,
    ttl,
    until_limit,
)
from .client import (
    DEFAULT_TIMEOUT_SECONDS,
    TIMEOUT_ENV,
    TOKEN_ENV,
    ClockState,
    ControlClient,
    ControlError,
    Credential,
    DnsFault,
    DomainView,
    HttpFault,
    Unreachable,
    default_timeout,
    sandbox_url,
)
from .extras import MissingExtra
from .logs import LOG_FORMATS, printable, status_said
from .mounts import DASHBOARD_MOUNT
from .shipped import provider_names
from .version import __version__

if TYPE_CHECKING:
    from .pages import Section


def default_url() -> str:
    """Where the CLI finds the sandbox: $DOMAINSANDBOX_URL; else this machine at the port that
    `serve` takes from $DOMAINSANDBOX_PORT, so one exported variable points both; else 8080."""
    if url := os.environ.get("DOMAINSANDBOX_URL"):
        return url
    if port := _port_from_environment():
        return f"http://127.0.0.1:{port}"
    return "http://127.0.0.1:8080"


def _whole(text: str) -> int | None:
    """`text` as a whole number written in ASCII digits, else None (int() also reads "١٠")."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _port_from_environment() -> int | None:
    """$DOMAINSANDBOX_PORT as a port the CLI can find `serve` at, None if unset or unusable."""
    port = _whole(os.environ.get("DOMAINSANDBOX_PORT", ""))
    if port is not None and 0 < port <= MAX_PORT:
        return port  # (0, any port, cannot be found again)
    return None


def _unusable_port() -> str | None:
    """Why $DOMAINSANDBOX_PORT cannot say where the sandbox is, when it is set to no port."""
    port = os.environ.get("DOMAINSANDBOX_PORT")  # set but empty is refused, as `serve` does
    if port is None or os.environ.get("DOMAINSANDBOX_URL") or _port_from_environment():
        return None
    return (
        f"$DOMAINSANDBOX_PORT={port!r} is not a port the sandbox can be found at (1 to "
        f"{MAX_PORT}); fix or unset it, or give --url"
    )


DEFAULT_URL = default_url()
# serve's --control-token read this variable before it read $DOMAINSANDBOX_TOKEN
OLD_TOKEN_ENV = "DOMAINSANDBOX_CONTROL_TOKEN"
# sandbox.engine.clock.MODES, written out: importing the engine would slow every command
CLOCK_MODES = ("frozen", "real", "fast", "on-poll")
# Exit statuses: what was asked cannot be done as asked (bad arguments, or the sandbox refused
# them with a 4xx), and the reader of our output went away (as a tool killed by SIGPIPE).
USAGE = 2
CLOSED_PIPE = 128 + signal.SIGPIPE


class UsageError(Exception):
    """A command used wrongly; the message says how to use it."""


class _Commands(argparse._SubParsersAction):
    """Commands whose --help opens with what they do: their line in the list of commands,
    unless they have a longer description. Each command's parser reads the command line its
    parent parser reads (`_Parser.words`)."""

    parent: _Parser | None = None  # the parser whose commands these are

    def add_parser(self, name, **kwargs):
        if said := kwargs.get("help"):
            kwargs.setdefault("description", f"{said[0].upper()}{said[1:]}.")
        command = super().add_parser(name, **kwargs)
        if isinstance(command, _Parser):
            command.parent = self.parent
        return command


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (usage and help stay one --help away).

    `env_prefix`: every option also read from an environment variable (sandbox.envopts)."""

    def __init__(self, *args, env_prefix: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.env_prefix = env_prefix
        self.register("action", "parsers", _Commands)
        self.parent: _Parser | None = None  # the parser of the command line, for a command's
        self._words: list[str] = []

    @property
    def words(self) -> list[str]:
        """The command line this parser (or, for a command's, its parent) was last given to
        parse: to tell a value read as an option."""
        return self.parent.words if self.parent is not None else self._words

    def add_subparsers(self, **kwargs):
        commands = super().add_subparsers(**kwargs)
        commands.parent = self
        return commands

    def error(self, message: str):
        if message.startswith("the following arguments are required") and (
            dashed := self._value_read_as_option()
        ):
            message += f" ({dashed!r} was read as an option: {self._dash_dash_before(dashed)})"
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _dash_dash_before(self, dashed: str) -> str:
        """How to give `dashed` as a value: after `--`, which ends the options (so any option
        goes before it)."""
        said = "put -- before a value that starts with -, after every option"
        if self.words[-1] != dashed:
            return said
        meant = shlex.join(["domainsandbox", *self.words[:-1], "--", dashed])
        return f"{said}: `{meant}`"

    def _value_read_as_option(self) -> str | None:
        """A word of the command line that starts with `-` and is no option of this command
        (`-bad.example.com`), or None."""
        options = self._option_string_actions
        words = self.words[: self.words.index("--")] if "--" in self.words else self.words
        return next(
            (w for w in words if w[:1] == "-" and w != "-" and w.split("=")[0] not in options),
            None,
        )

    def parse_known_args(self, args=None, namespace=None):
        if self.parent is None:  # the whole command line (a command's parser gets its tail)
            self._words = list(sys.argv[1:] if args is None else args)
        if self.env_prefix is None or namespace is not None:
            return super().parse_known_args(args, namespace)
        start = envopts.from_environment(self, self.env_prefix)
        from_env = dict(vars(start))
        parsed, rest = super().parse_known_args(args, start)
        envopts.flags_win(self, parsed, from_env, self.env_prefix)
        if refused := envopts.refusals(parsed):
            self.error(refused[0])
        return parsed, rest

    def format_help(self) -> str:
        text = super().format_help()
        if self.env_prefix is None:
            return text
        return f"{text}\n{envopts.epilog(self, self.env_prefix)}\n"


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


# How the options named in milliseconds (--latency-ms, --delay-ms) take their time.
MILLISECONDS_HELP = "a duration (250ms, 1.5s, 2s); a bare number is milliseconds"

DOMAIN_ID_HELP = "the id the provider's API gave the domain (Mailgun's: its name, or its id)"


def domain_id(text: str) -> str:
    """A domain's id as given on the command line: not empty (an empty one is a shell variable
    that was never set, and the control API would only say "Not Found")."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty: give the id the provider's API answered when the domain was created "
            "(`domainsandbox domains` lists them)"
        )
    return text


def scenario_name(text: str) -> str:
    """`serve --scenario`: a scenario file, or a bundled scenario's name, that is there; checked
    while parsing, so a value from $DOMAINSANDBOX_SCENARIO is refused naming the variable."""
    from . import bundled

    try:
        path = bundled.find(text)
    except bundled.UnknownScenario as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: a folder, not a scenario file")
    if not path.exists():  # a pipe (`--scenario <(make-world)`) is read as a file is
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return text


def status_filter(text: str) -> str:
    """`requests --status`: a status code (404), a class of them (4xx), or aborted."""
    if not re.fullmatch(r"[1-5]([0-9][0-9]|xx)|aborted", text.strip().lower()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a status code such as 404, a class such as 4xx, nor aborted"
        )
    return text.strip().lower()


def resolver(text: str) -> str:
    """`--resolver`: a DNS server's IP address, and optionally its port."""
    from .core import parse_hostport  # only `serve --resolver` pays for importing the sandbox

    try:
        parse_hostport(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def kinds(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def _provider_help(lead: str = "a provider's name") -> str:
    return f"{lead}: {', '.join(provider_names())}"


def provider_name(text: str) -> str:
    """A provider's name in any letter case (`Monite` is monite, as `txt` is TXT), or one line
    naming them all: every command says a misspelt one the same way, before it asks the
    sandbox anything (an empty one: the command says what is missing)."""
    if text and text.lower() not in provider_names():
        known = ", ".join(provider_names())
        raise argparse.ArgumentTypeError(f"unknown provider {text!r}; known: {known}")
    return text.lower()


def _faulted_provider(text: str) -> str:
    """`http fault`'s provider: `http fault add` (the help's first word) says how to add one."""
    if text in ("add", "list", "remove", "clear"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a provider: `http fault PROVIDER --status 503` adds a fault, "
            "`http fault` lists them, `--remove ID` and `--clear` remove them"
        )
    return provider_name(text)


def _client(parser: argparse.ArgumentParser, defaults: bool = False) -> argparse.ArgumentParser:
    """The options of every command that drives a running sandbox. The main parser holds their
    defaults; a command's own copy sets them only when given (after the command name)."""
    given = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--url",
        help="the running sandbox (default $DOMAINSANDBOX_URL, else http://127.0.0.1:"
        f"$DOMAINSANDBOX_PORT, else http://127.0.0.1:8080; in this shell {DEFAULT_URL})",
        **({"default": DEFAULT_URL} if defaults else given),
    )
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer", **given)
    parser.add_argument(
        "--token",
        help=f"the sandbox's control token, if it has one (default ${TOKEN_ENV})",
        **given,
    )
    parser.add_argument(
        "--timeout",
        type=timeout,
        metavar="DURATION",
        help="how long a call may go unanswered before the command gives up and says so: a "
        f"duration, 90 (seconds), 90s, 2m (default ${TIMEOUT_ENV}, else {DEFAULT_TIMEOUT_SECONDS:g}s; a clock move is "
        "waited for however long it takes)",
        **({"default": None} if defaults else given),
    )
    return parser


# --- serve ------------------------------------------------------------------------------------


def _serve_parser(sub) -> None:
    serve = sub.add_parser(
        "serve",
        help="start the HTTP APIs and the DNS server",
        env_prefix=envopts.PREFIX,  # every option also from DOMAINSANDBOX_<OPTION>
    )
    _serve_addresses(serve)
    _serve_world(serve)
    _serve_clock(serve)
    _serve_access(serve)
    _serve_running(serve)
    serve.set_defaults(func=cmd_serve)


def _serve_addresses(serve) -> None:
    """Where `serve` listens."""
    serve.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=port, default=8080, help="HTTP port (default 8080; 0 picks one)"
    )
    serve.add_argument("--dns-host", default="127.0.0.1", help="DNS address (default 127.0.0.1)")
    serve.add_argument(
        "--dns-port", type=port, default=5353, help="DNS port, UDP and TCP (default 5353)"
    )


def _serve_world(serve) -> None:
    """The world `serve` starts: its ids, its DNS, its limits, its scenario."""
    serve.add_argument(
        "--seed",
        type=seed,
        default=None,
        # sandbox.engine.ids.DEFAULT_SEED, not imported: the CLI's commands that do not serve
        # must not pay for the engine (tests/test_cli.py checks they agree)
        help="seed for every id, token and key (default 1234; a --scenario or --state world "
        "keeps its own)",
    )
    serve.add_argument(
        "--resolver",
        type=resolver,
        metavar="HOST:PORT",
        help="verify against this DNS resolver instead of the built-in fake DNS (pre-flight checks)",
    )
    serve.add_argument(
        "--rate-limits",
        action="store_true",
        help="enforce each provider's documented rate limits (windows on the sandbox clock; a "
        "client that waits its Retry-After gets through, whatever the clock does)",
    )
    serve.add_argument(
        "--scenario",
        type=scenario_name,
        metavar="FILE|NAME",
        help="start in the world of a scenario file, or of a bundled one by name (every-state; "
        "see `domainsandbox scenario list`)",
    )


def _serve_clock(serve) -> None:
    """The clock `serve` starts with."""
    serve.add_argument(
        "--clock",
        choices=CLOCK_MODES,
        help="the clock's mode: real (wall time, the default), frozen (moves only when told), "
        "fast (--clock-speed sandbox seconds per real second) or on-poll (a client reading a "
        "domain it has seen moves the clock to the domain's next step); with --scenario, from "
        "the scenario's instant (else the scenario's own mode)",
    )
    serve.add_argument(
        "--clock-speed",
        type=float,
        metavar="N",
        help="with --clock fast: sandbox seconds per real second (default 60)",
    )


def _serve_access(serve) -> None:
    """Who may reach the control API and the dashboard, and by which names."""
    token = serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="require 'Authorization: Bearer TOKEN' on every control API call; needed to "
        "listen on an address other than loopback",
    )
    token.variable = TOKEN_ENV  # the one every command reads the token from
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name clients reach the control API and dashboard by, repeatable (they "
        "answer at localhost, IP addresses and --host's name; any other name is refused, so "
        "no web page can reach them by DNS rebinding)",
    )


def _serve_running(serve) -> None:
    """Where `serve` keeps the world, how many processes serve it, what it logs."""
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="keep the world in this SQLite file: saved after every change, restored at start",
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="serve HTTP from N processes sharing one world, to use every core (default 1)",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log one line per provider request (provider, operationId, status, milliseconds) "
        "and per control call that may change the world (a reset, a clock move...)",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="how the console lines are written (default text; json: one object per line)",
    )


def cmd_serve(args) -> int:
    _stop_on_signals()  # first: a stop asked for while starting stops it, not lost nor a kill
    try:
        return _serve(args)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before it served: nothing to finish
        from .logs import console

        console("domainsandbox: stopped", log_format=args.log_format)
        return 0


def _serve(args) -> int:
    from .core import Sandbox
    from .engine.clock import Clock
    from .engine.ids import DEFAULT_SEED
    from .logs import configure as configure_logs
    from .logs import console

    say = partial(console, log_format=args.log_format)  # each line as --log-format writes lines
    try:
        clock = Clock(mode=args.clock or "real", speed=args.clock_speed)
    except ValueError as exc:
        say(f"domainsandbox: --clock-{exc}", error=True)
        return 2
    if args.token is not None and not args.control_token:  # the other commands' spelling
        args.control_token = args.token
    if misuse := _serve_misuse(args):
        say(f"domainsandbox: {misuse}", error=True)
        return 2
    sandbox = Sandbox(
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        dns_host=args.dns_host,
        dns_port=args.dns_port,
        resolver=args.resolver,
        rate_limits=args.rate_limits,
        clock=clock,
    )
    sandbox.access_log, sandbox.log_format = args.access_log, args.log_format
    configure_logs(args.log_format, args.access_log)
    # (its variable is $DOMAINSANDBOX_TOKEN; the one named after the option still works)
    sandbox.control_token = args.control_token or os.environ.get(OLD_TOKEN_ENV) or None
    sandbox.allowed_hosts = {name.lower().rstrip(".") for name in args.allowed_host or ()}
    from .limits import ExposedWithoutToken, check_exposure

    try:
        check_exposure(args.host, sandbox.control_token)
    except ExposedWithoutToken as exc:
        say(f"domainsandbox: {exc}", error=True)
        return 2
    if args.scenario and (refused := _load_scenario(sandbox, args.scenario, say)):
        say(f"domainsandbox: {refused}", error=True)
        return 2
    return _start_and_serve(args, sandbox, sandbox.seed, say)


def _start_and_serve(args, sandbox, scenario_seed: int, say) -> int:
    """Open the state file, then serve `sandbox` until stopped. The exit status."""
    from .server import SandboxServer
    from .workers import WorkerFailed, WorkerPool

    durable = None
    if args.state is not None:
        durable = _open_state(sandbox, args.state, partial(_overruled, args), say)
        if durable is None:
            return 2
    restored = durable is not None and durable.restored  # then the saved world won over both
    if args.scenario and args.seed not in (None, scenario_seed) and not restored:
        say(
            f"domainsandbox: the scenario {args.scenario} brings its seed, {scenario_seed} "
            f"(it wins over --seed {args.seed}: the scenario's ids were drawn with it)"
        )
    if args.scenario and args.clock and not restored:  # asked for: the clock runs so from there
        sandbox.clock.set_mode(args.clock, args.clock_speed)
    if args.workers > 1:
        server = WorkerPool(sandbox, args.host, args.port, durable, workers=args.workers)
    else:
        server = SandboxServer(sandbox, host=args.host, port=args.port, durable=durable)

    ready = []

    def on_ready():
        ready.append(True)
        _print_banner(server, say)

    try:
        server.serve_forever(on_ready=on_ready)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down: a normal stop
        pass
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            say(f"domainsandbox: {exc.strerror}{_another_port(exc)}", error=True)
            return 2
        raise
    except WorkerFailed as exc:
        say(f"domainsandbox: {exc}", error=True)
        return 1
    finally:
        if durable and not ready:  # never served: a later start must not restore its world
            durable.discard()
    say("domainsandbox: stopped")
    return 0


def _another_port(exc: OSError) -> str:
    """After "HTTP (or DNS) port N is already in use": how to choose another."""
    if exc.errno != errno.EADDRINUSE:
        return ""
    flag = "--dns-port" if exc.strerror.startswith("DNS") else "--port"
    return f"; choose another with {flag} N (0: any free one) or ${envopts.variable_of(flag)}"


def _load_scenario(sandbox, name: str, say) -> str | None:
    """Load `serve --scenario NAME` (a file, or a bundled scenario) into `sandbox`; None, or why
    not in one line naming it once. What upgrading an earlier version's scenario changed is
    said with `say`."""
    from . import bundled, scenario

    try:
        with bundled.find(name).open(encoding="utf-8") as file:
            upgrade = scenario.load_world(sandbox, scenario.parse(file.read()))
    except bundled.UnknownScenario as exc:  # its message names the scenario
        return str(exc)
    except OSError as exc:
        return f"{name}: {exc.strerror}"
    except scenario.ScenarioError as exc:
        return f"{name}: {exc}"
    for line in upgrade.lines(f"the scenario {name}") if upgrade else ():
        say(f"domainsandbox: {line}")
    return None


def _serve_misuse(args) -> str | None:
    """What makes `serve`'s options impossible together, said before anything starts."""
    if args.state is not None and not args.state.strip():
        return "--state needs a file to keep the world in (it was given an empty name)"
    if args.url != DEFAULT_URL:
        return (
            "--url names a running sandbox for the other commands; serve listens where --host "
            "and --port say"
        )
    if args.token is not None and args.control_token != args.token:
        return "--token and --control-token give two tokens: give the sandbox's one"
    token = args.control_token or ""  # empty: none (an unset CI secret), as before
    if any(not ("!" <= c <= "~") for c in token):
        # a header's value loses the spaces around it, and the clients send ASCII alone: such a
        # token could never be given back
        return (
            f"--control-token (or ${TOKEN_ENV}) needs a token of visible ASCII characters, "
            f"without spaces, as an Authorization header carries it; not {token!r}"
        )
    wildcards = {"0.0.0.0", "::", ""}
    same_host = args.host == args.dns_host or {args.host, args.dns_host} & wildcards
    if args.port and args.port == args.dns_port and same_host:
        return (
            f"--port and --dns-port are both {args.port}: the HTTP server and the DNS server's "
            "TCP side cannot share a port"
        )
    return None


def _overruled(args, sandbox) -> str:
    """The options given for a new world that the world restored into `sandbox` wins over (its
    clock included: it resumes as it ran): the seed, the clock's mode and speed and rate limits
    where they differ from the restored world's; a scenario always (its world was replaced)."""
    clock = sandbox.clock
    given = [f"--scenario {args.scenario}"] if args.scenario else []
    given += [f"--seed {args.seed}"] if args.seed not in (None, sandbox.seed) else []
    given += [f"--clock {args.clock}"] if args.clock not in (None, clock.mode) else []
    speed = args.clock_speed
    if speed is not None and (clock.mode != "fast" or speed != clock.speed):
        given.append(f"--clock-speed {plain_number(speed)}")
    given += ["--rate-limits"] if args.rate_limits and not sandbox.rate_limits.enabled else []
    return ", ".join(given)


def _open_state(sandbox, path: str, overruled, say):
    """The Durable keeping `sandbox` in `path`, its saved world loaded; None (said why, with
    `say`) if not. `overruled(sandbox)`: the options a restored world wins over, named when it
    does; what upgrading a world of an earlier version changed is said too."""
    from datetime import UTC, datetime

    from .durable import Durable, StateError
    from .engine.clock import iso

    durable, lines = None, []
    try:
        durable = Durable(sandbox, path)
        if durable.restore():
            given = overruled(sandbox)
            note = f" (it wins over {given})" if given else ""
            # when, and how much: a stale backup (a copy without its -wal) shows as one
            saved = iso(datetime.fromtimestamp(durable.saved_at, UTC))
            held = f"{len(sandbox.store)} domain{'' if len(sandbox.store) == 1 else 's'}"
            lines.append(f"restored the world saved in {path} at {saved}, {held}{note}")
            lines += durable.upgrade.lines(path, always=True) if durable.upgrade else []
        durable.save_first()  # before saying it restored anything: a start may end here
    except StateError as exc:
        say(f"domainsandbox: {exc}", error=True)
        if durable:
            durable.discard()
        return None
    for line in lines:
        say(f"domainsandbox: {line}")
    return durable


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: finish what is in flight, close both servers, exit 0."""


def _stop_on_signals() -> None:
    # uvicorn catches SIGTERM while serving, shuts down gracefully, then raises the signal again
    # with the handler found before it: without this one, that second raise would kill the
    # process (exit -15) before the DNS server and the state file are closed.
    def terminated(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    # A shell starts background jobs with SIGINT ignored, and Python keeps it so; `serve
    # --workers`, which runs no uvicorn of its own, would then not stop on SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # A closed terminal or an ssh session gone (SIGHUP) stops it as SIGTERM does, not outright.
    signal.signal(signal.SIGHUP, _hung_up)


def _hung_up(signum, frame) -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's handler while it serves; ours before


def _print_banner(server, say) -> None:
    from .limits import weak_token

    sandbox = server.sandbox
    say(f"domainsandbox serving (seed {sandbox.seed})")
    for name, url in server.base_urls().items():
        say(f"  {name:<9} {url}")
    say(f"  {'dashboard':<9} {server.url}{DASHBOARD_MOUNT}")
    say(f"  {'DNS':<9} {sandbox.dns.host}:{sandbox.dns.port} (UDP and TCP)")
    say(f"  {'clock':<9} {_clock_said(sandbox.clock.snapshot())}")
    if server.worker_count > 1:
        say(f"  {'workers':<9} {server.worker_count} HTTP processes sharing this world")
    if server.durable:
        say(f"  {'state':<9} {server.durable.file.path} (saved after every change)")
    if sandbox.control_token:
        say("  the control API and the dashboard need the control token")
        say(f"  (dashboard: {server.url}{DASHBOARD_MOUNT}?token=...)")
        if weak := weak_token(server.host, sandbox.control_token):
            say(f"  {weak}")
    if sandbox.resolver:
        say(f"  verifying against the resolver at {sandbox.resolver}")
    if server.host in ("0.0.0.0", "::"):  # no address a teammate can open
        say("  on every address: other machines reach it at this machine's name or address")
        if sandbox.dns.host in ("127.0.0.1", "::1", "localhost"):
            say(f"  (the DNS server only on {sandbox.dns.host}: --dns-host for other machines')")
    say("Press Ctrl-C to stop.")


def _dns_parser(sub) -> None:
    dns = _client(  # --url, --json, --token also between `dns` and its action
        sub.add_parser("dns", help="the fake DNS: serve it alone, or change a running sandbox's")
    )
    dns_sub = dns.add_subparsers(dest="dns_command", required=True, metavar="ACTION")
    for add_action in (
        _dns_serve_parser,
        _dns_ls_parser,
        _dns_add_parser,
        _dns_rm_parser,
        _dns_fault_parser,
        _dns_queries_parser,
    ):
        add_action(dns_sub)


def _dns_serve_parser(dns_sub) -> None:
    dserve = dns_sub.add_parser(
        "serve", help="serve a zone file with the fake DNS alone", env_prefix=envopts.PREFIX
    )
    # read from the variables `serve` takes its DNS address from
    dserve.add_argument(
        "--host", default="127.0.0.1", help="address (default 127.0.0.1)"
    ).variable = envopts.variable_of("--dns-host")
    dserve.add_argument(
        "--port", type=port, default=5353, help="port, UDP and TCP (default 5353; 0 picks one)"
    ).variable = envopts.variable_of("--dns-port")
    dserve.add_argument(
        "--zone", help="YAML list of {name, type, value | values, ttl}"
    ).variable = envopts.variable_of("--dns-zone")
    dserve.set_defaults(func=cmd_dns_serve)


def cmd_dns_serve(args) -> int:
    from fake_dns.standalone import serve

    return serve(args.host, args.port, args.zone, prog="domainsandbox")


# --- client commands ----------------------------------------------------------------------------
# Each asks ControlClient, which alone knows the control API's paths and bodies. The list
# methods return the list; `--json` prints it as the API answered it, under the same key.


def _control(args) -> ControlClient:
    if args.url == DEFAULT_URL and (unusable := _unusable_port()):
        raise UsageError(unusable)  # else a junk port silently meant 8080
    try:
        url = sandbox_url(args.url)
    except ValueError as exc:  # a mistyped --url or $DOMAINSANDBOX_URL: a usage error
        given = os.environ.get("DOMAINSANDBOX_URL") if args.url == DEFAULT_URL else None
        raise UsageError(f"{'$DOMAINSANDBOX_URL' if given else '--url'}: {exc}") from None
    control = ControlClient(url, _control_timeout(args), token=args.token)  # None: $..._TOKEN
    control.token_hint = f"give it with --token TOKEN or ${TOKEN_ENV}"
    args.control = control  # main() asks it, if an answer has another shape than ours
    return control


def _control_timeout(args) -> float:
    """Seconds a control call may go unanswered: --timeout, else ControlClient's default
    ($DOMAINSANDBOX_TIMEOUT, else 30 s)."""
    if args.timeout is not None:
        return args.timeout
    try:
        return default_timeout()
    except ValueError as exc:
        raise UsageError(f"{exc}, or give --timeout") from None


def _show(args, data, table=None) -> None:
    if args.json or table is None:
        print(json.dumps(data, indent=2))
    else:
        table(data)


def _print_rows(rows: list[list[str]], header: list[str] | None, indent: str = "") -> None:
    """A table: each column as wide as its widest cell, two spaces between, the last column
    never padded (a long value there widens its own line only; put a column that can run long
    last). `header` None prints the rows alone; `indent` goes before every line."""
    if not rows:
        print(f"{indent}(none)")
        return
    shown = [[printable(str(cell)) for cell in row] for row in ([header] if header else []) + rows]
    widths = [max(len(row[i]) for row in shown) for i in range(len(shown[0]) - 1)]
    for *cells, last in shown:
        padded = [c.ljust(w) for c, w in zip(cells, widths, strict=True)]
        print(f"{indent}{'  '.join([*padded, last])}".rstrip())  # no padding after an empty cell


# A table's value cut to this many characters (a DKIM key would widen every row past a
# screen); --json shows values whole.
SHOWN_VALUE_CHARACTERS = 72


def _shown(value: str, limit: int = SHOWN_VALUE_CHARACTERS) -> str:
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters; --json shows it)"


# A table's DNS name cut to this many characters, in the middle: its start (a DKIM selector)
# and its end (the domain, in whole labels) say which record it is (one name ran to 85
# characters in the every-state scenario, and padded every row to it); --json shows it whole.
SHOWN_NAME_CHARACTERS = 60
SHOWN_NAME_START = 8  # at least this much of a cut name's start is kept


def _names_shown(names: list[str]) -> list[str]:
    """Each name as a table shows it (`_name_shown`), unless two would then read alike: then
    every one whole."""
    shown = [_name_shown(name) for name in names]
    return shown if len(set(shown)) == len(set(names)) else names


def _name_shown(name: str) -> str:
    """A name over SHOWN_NAME_CHARACTERS cut in the middle, an ellipsis where it was cut: its
    end kept in whole labels where they fit
    (`6blf6bjz…._domainkey.mail-from-temporary-failure.ses.example`)."""
    if len(name) <= SHOWN_NAME_CHARACTERS:
        return name
    end = name[-(SHOWN_NAME_CHARACTERS - 1 - SHOWN_NAME_START) :]
    if "." in end[1:] and end[0] != ".":
        end = end[end.index(".", 1) :]
    return f"{name[: SHOWN_NAME_CHARACTERS - 1 - len(end)]}…{end}"


# What the help of a command whose table cuts names (`_names_shown`) and values says of it.
NAMES_CUT = (
    f"A name over {SHOWN_NAME_CHARACTERS} characters is cut in its middle (where an ellipsis "
    "stands); --json shows it whole."
)
NAMES_AND_VALUES_CUT = (
    f"A name over {SHOWN_NAME_CHARACTERS} characters is cut in its middle, a value over "
    f"{SHOWN_VALUE_CHARACTERS} at its end (each where an ellipsis stands); --json shows them "
    "whole."
)


# A journal's path and query cut to this many characters: the longest a provider's API names
# fit, a client's 60,000-character path does not.
SHOWN_PATH_CHARACTERS = 200


def _path_shown(entry: dict) -> str:
    return _shown(
        entry["path"] + (f"?{entry['query']}" if entry["query"] else ""), SHOWN_PATH_CHARACTERS
    )


def _instant_shown(text: str | None) -> str:
    """An instant of the fake DNS in a table: to the millisecond at most. Its API keeps the
    microseconds (an export read back is the world written), which read as noise here."""
    if not text:
        return ""
    return re.sub(r"(\.[0-9]{3})[0-9]*Z$", r"\1Z", text)


def _dns_ls_parser(dns_sub) -> None:
    ls = _client(
        dns_sub.add_parser(
            "ls",
            help="list records",
            description=f"List records. {NAMES_AND_VALUES_CUT}",
        )
    )
    ls.add_argument("name", nargs="?", help="only the records at this name")
    ls.add_argument("--type", help="only records of this type, e.g. TXT")
    ls.set_defaults(func=cmd_dns_ls)


def cmd_dns_ls(args) -> int:
    from fake_dns.rdata import quoted_txt  # (here: other commands need no DNS library)

    with _control(args) as control:
        records = control.records(args.name, args.type and args.type.upper())
    names = _names_shown([r["name"] for r in records])
    rows = [  # the value last: a long one (a DKIM key) widens its own line, not the others
        [
            name,
            r["type"],
            r["ttl"],
            _instant_shown(r["visible_after"]),
            _shown(quoted_txt(r["value"])),
        ]
        for name, r in zip(names, records, strict=True)
    ]
    header = ["NAME", "TYPE", "TTL", "VISIBLE AFTER", "VALUE"]
    _show(args, {"records": records}, lambda _: _print_rows(rows, header))
    return 0


def _dns_add_parser(dns_sub) -> None:
    add = _client(dns_sub.add_parser("add", help="add a record"))
    add.add_argument("name", help="the owner name, e.g. _dmarc.mail.example.com")
    add.add_argument("type", help="a record type, e.g. TXT, MX or CNAME")
    add.add_argument("value", help="as in a zone file, e.g. '10 mx.example.net' for MX")
    add.add_argument("--ttl", type=ttl, default=300, help="a duration: 300, 5m, 1h (default 300 s)")
    add.add_argument(
        "--visible-after",
        type=duration,
        help="hide it for a while (30s, 5m; default: seen at once)",
    )
    add.set_defaults(func=cmd_dns_add)


def cmd_dns_add(args) -> int:
    kind = args.type.upper()
    with _control(args) as control:
        records = control.add_record(
            args.name, kind, args.value, args.ttl, visible_after_seconds=args.visible_after or 0
        )
    name = records[0]["name"] if records else args.name  # as the zone holds it
    said = f"{name} {kind}: {len(records)} record(s)"
    _show(args, {"records": records}, lambda _: print(said))
    return 0


def _dns_rm_parser(dns_sub) -> None:
    rm = _client(
        dns_sub.add_parser(
            "rm",
            help="remove the records at a name (of one type)",
            description="Remove the records at a name; exit status 1 when none matched.",
        )
    )
    rm.add_argument("name", help="the owner name")
    rm.add_argument("type", nargs="?", help="only the records of this type")
    rm.add_argument(
        "--value",
        help="""remove only this value (a TXT value of several strings as 'dns ls' shows it, '"one" "two"')""",
    )
    rm.set_defaults(func=cmd_dns_rm)


def cmd_dns_rm(args) -> int:
    if args.value is not None and not args.type:
        raise UsageError("dns rm --value needs a TYPE too")
    with _control(args) as control:
        kind = args.type.upper() if args.type else None
        removed = control.remove_records(args.name, kind, args.value)
    if removed or args.json:
        _show(args, {"removed": removed}, lambda _: print(f"removed {removed} record(s)"))
    if not removed:  # most often a name mistyped: `rm` of nothing is an error there too
        which = f"{kind} record" if kind else "record"
        value = f" of value {args.value!r}" if args.value is not None else ""
        print(f"domainsandbox: no {which}{value} at {args.name}: nothing removed", file=sys.stderr)
        return 1
    return 0


DNS_FAULT_KINDS = ("servfail", "refused", "nxdomain", "drop", "delay", "truncate")


def _fault_action(args, command: str, wanted: dict[str, str | None], options: list[str]) -> str:
    """What `dns fault` or `http fault` is asked: "add", "list", "remove" (one fault) or
    "clear". `wanted`: what a new fault needs (its description: what was given); `options`: the
    options that describe one. A half-given fault is a usage error, never a listing that looks
    like success."""
    given = [f"--{o.replace('_', '-')}" for o in options if getattr(args, o) not in (None, False)]
    named = any(value is not None for value in wanted.values())
    if args.clear:
        if named or given or args.remove:
            raise UsageError(f"{command} --clear removes every fault, and takes nothing else")
        return "clear"
    if args.remove:
        if named or given:
            raise UsageError(f"{command} --remove ID removes that fault, and takes nothing else")
        return "remove"
    if named:
        missing = [what for what, value in wanted.items() if not value]
        if missing:
            raise UsageError(
                f"{command} needs {' and '.join(wanted)} to add a fault (missing: "
                f"{', '.join(w.split(' (')[0] for w in missing)}); `{command}` alone lists the "
                f"faults, `{command} --clear` removes them"
            )
        return "add"
    if given:
        raise UsageError(f"{command} {given[0]} describes a new fault: give {next(iter(wanted))}")
    return "list"


def _dns_fault_parser(dns_sub) -> None:
    fault = _client(
        dns_sub.add_parser("fault", help="add, list (no arguments), remove or clear DNS faults")
    )
    fault.add_argument("match", nargs="?", help="a name, *.suffix or *")
    fault.add_argument(
        "kind",
        nargs="?",
        choices=DNS_FAULT_KINDS,
        help="what the matching queries get (drop: no answer; delay: --delay-ms late; truncate: "
        "TC over UDP)",
    )
    fault.add_argument("--qtype", help="only queries of this type, e.g. TXT (default: any)")
    fault.add_argument("--count", type=int, help="for the next N queries (default: until cleared)")
    fault.add_argument(
        "--delay-ms",
        type=milliseconds,
        metavar="DURATION",
        help=f"a delay fault's, which needs it: how late the answer comes, {MILLISECONDS_HELP}",
    )
    fault.add_argument("--remove", metavar="ID", help="remove the fault of this id (f1)")
    fault.add_argument("--clear", action="store_true", help="remove every fault")
    fault.set_defaults(func=cmd_dns_fault)


def cmd_dns_fault(args) -> int:
    wanted = {
        "a MATCH (a name, *.suffix or *)": args.match,
        f"a KIND ({', '.join(DNS_FAULT_KINDS)})": args.kind,
    }
    action = _fault_action(args, "dns fault", wanted, ["qtype", "count", "delay_ms"])
    with _control(args) as control:
        if action == "clear":
            removed = control.clear_faults()
            _show(args, {"removed": removed}, lambda _: print(f"cleared {removed} fault(s)"))
        elif action == "remove":
            control.remove_fault(args.remove)
            _show(args, {"removed": 1}, lambda _: print(f"removed fault {args.remove}"))
        elif action == "add":
            qtype = args.qtype.upper() if args.qtype else None  # as `dns add` takes a type
            fault = control.add_fault(
                args.match, args.kind, qtype=qtype, count=args.count, delay_ms=args.delay_ms
            )
            _show(args, fault, lambda f: print(_dns_fault_said(f)))
        else:
            _show_dns_faults(args, control.faults())
    return 0


def _dns_fault_said(fault: DnsFault) -> str:
    """A DNS fault added, as the sandbox holds it: `fault f1: servfail for example.com (TXT
    queries, 2 times)`; only what narrows it is in brackets."""
    narrowed = [f"{fault['qtype']} queries"] if fault.get("qtype") else []
    narrowed += [f"{fault['delay_ms']} ms"] if fault.get("delay_ms") is not None else []
    if count := fault.get("count"):
        narrowed.append("once" if count == 1 else f"{count} times")
    said = f"fault {fault['id']}: {fault['kind']} for {fault['match']}"
    return f"{said} ({', '.join(narrowed)})" if narrowed else said


def _show_dns_faults(args, faults: list[DnsFault]) -> None:
    rows = [
        [
            f["id"],
            f.get("match", ""),
            f["kind"],
            f.get("qtype") or "*",
            "" if f.get("delay_ms") is None else f["delay_ms"],  # a delay of 0 ms shows 0
            f.get("count") or "until cleared",
        ]
        for f in faults
    ]
    header = ["ID", "MATCH", "KIND", "QTYPE", "DELAY MS", "REMAINING"]
    _show(args, {"faults": faults}, lambda _: _print_rows(rows, header))


def _dns_queries_parser(dns_sub) -> None:
    queries = _client(
        dns_sub.add_parser(
            "queries",
            help="the query log",
            description=f"The queries the fake DNS answered, and how. {NAMES_CUT}",
        )
    )
    queries.add_argument("--limit", type=int, default=100, help="the last N queries (default 100)")
    queries.set_defaults(func=cmd_dns_queries)


def cmd_dns_queries(args) -> int:
    with _control(args) as control:
        queries = control.queries(limit=args.limit)
    names = _names_shown([q["name"] for q in queries])  # a long one pushed the columns after it
    rows = [
        [
            _instant_shown(q["time"]),
            q["transport"],
            name,
            q["type"],
            q["rcode"] or "-",  # a dropped query got no answer
            q["answers"],
            q.get("fault") or "-",  # a fault's own answer reads like any other without it
        ]
        for name, q in zip(names, queries, strict=True)
    ]
    header = ["TIME", "VIA", "NAME", "TYPE", "RCODE", "ANSWERS", "FAULT"]
    _show(args, {"queries": queries}, lambda _: _print_rows(rows, header))
    return 0


def _names_a_domain(parser: argparse.ArgumentParser) -> None:
    """The PROVIDER and DOMAIN_ID a command about one domain takes first."""
    parser.add_argument("provider", type=provider_name, help=_provider_help())
    parser.add_argument("domain_id", type=domain_id, help=DOMAIN_ID_HELP)


def _publish_parser(sub) -> None:
    publish = _client(
        sub.add_parser(
            "publish",
            help="publish a domain's expected records in the fake DNS",
            description="Publish a domain's expected records in the fake DNS, and list them. "
            + NAMES_AND_VALUES_CUT,
        )
    )
    _names_a_domain(publish)
    publish.add_argument(
        "--omit",
        type=kinds,
        metavar="KINDS",
        help="record kinds to leave out, comma-separated (spf,dkim): the first column of "
        "`domainsandbox domains`; the provider's page in `domainsandbox docs` lists them",
    )
    publish.add_argument(
        "--corrupt", type=kinds, metavar="KINDS", help="record kinds to publish wrong, as --omit"
    )
    publish.add_argument(
        "--visible-after", type=duration, help="propagation delay (30s, 5m; default: none)"
    )
    publish.set_defaults(func=cmd_publish)


def cmd_publish(args) -> int:
    if both := sorted(set(args.omit or ()) & set(args.corrupt or ())):
        raise UsageError(f"publish: {', '.join(both)} cannot be both omitted and corrupted")
    with _control(args) as control, warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        published = control.publish(
            args.provider,
            args.domain_id,
            omit=args.omit or (),
            corrupt=args.corrupt or (),
            visible_after_seconds=args.visible_after or 0,
        )
    for warning in said:  # on stderr: --json's output stays one JSON document
        print(f"domainsandbox: warning: {warning.message}", file=sys.stderr)
    names = _names_shown([e["name"] for e in published])
    rows = [  # a DKIM name and key cut as `domains show` cuts them: dig and --json give them whole
        [
            e["kind"],
            e["type"],
            name,
            _shown(e["value"]) + ("  (corrupted)" if e.get("corrupted") else ""),
        ]
        for name, e in zip(names, published, strict=True)
    ]
    header = ["KIND", "TYPE", "NAME", "VALUE"]
    _show(args, {"published": published}, lambda _: _print_rows(rows, header))
    return 0


def _verify_parser(sub) -> None:
    verify = _client(
        sub.add_parser(
            "verify",
            help="run a provider's own verification of a domain now",
            description="Run a provider's own verification of a domain now, as the domain's "
            "owner would trigger it. The sandbox runs it itself, without an HTTP call: no HTTP "
            "fault applies and the request journal has no entry (`create` calls the "
            "provider's API). It prints the status, and when a check it scheduled lands.",
        )
    )
    _names_a_domain(verify)
    verify.set_defaults(func=cmd_verify)


def cmd_verify(args) -> int:
    with _control(args) as control:
        domain = control.verify(args.provider, args.domain_id)
    _show(args, domain, lambda d: print(_domain_line(d)))
    return 0


def _create_parser(sub) -> None:
    create = _client(
        sub.add_parser(
            "create",
            help="create a domain through a provider's own API, as a client",
            description="The domain is created through the provider's own API with its "
            "sample credential (the one the README names as seeing the bundled scenarios' "
            "domains), as any client would: the request log and the client report count the "
            "request, and a name the API refuses is a violation there.",
        )
    )
    create.add_argument("provider", type=provider_name, help=_provider_help())
    create.add_argument("name", help="the domain name, e.g. mail.example.com")
    create.add_argument(
        "--api",
        metavar="PATH",
        help="which of the provider's APIs to create through, where it serves several: "
        "mailgun's US region at /mailgun (the default), its EU region at /mailgun/eu",
    )
    create.set_defaults(func=cmd_create)


def cmd_create(args) -> int:
    with _control(args) as control:
        domain = control.create_domain(args.provider, args.name, args.api)
    _show(args, domain, lambda d: print(_domain_line(d, shows_api=args.api is not None)))
    return 0


def _domain_line(domain: DomainView, shows_api: bool = False) -> str:
    """A domain in one line: its status, and when its provider's next step comes (a check a
    verify scheduled, say), on the sandbox clock. `shows_api`: say the API that knows it (its
    region's)."""
    line = f"{domain['provider']} {domain['id']} {domain['name']}: {domain['status']}"
    if domain.get("next_step_at"):
        line += f" (next step at {domain['next_step_at']})"
    if shows_api:
        line += f" [API {domain['api']}]"
    return printable(line)


# A clock move runs every scheduled step on the way, each with its DNS checks: one that takes
# longer than this many seconds is said to be under way, so a long wait is not a silent one.
MOVE_NOTICE_SECONDS = 2.0


@contextmanager
def _telling_a_long_move(control: ControlClient) -> Iterator[None]:
    """Say on stderr that the clock is moving if the block still runs after MOVE_NOTICE_SECONDS.
    The sandbox is asked first whether it answers: a move's answer is waited for unbounded."""
    control.clock()
    what = "moving the clock: every scheduled step on the way runs its DNS checks..."
    notice = threading.Timer(MOVE_NOTICE_SECONDS, lambda: print(what, file=sys.stderr, flush=True))
    notice.daemon = True
    notice.start()
    try:
        with _going_on_when_interrupted("moves its clock"):
            yield
    finally:
        notice.cancel()


@contextmanager
def _going_on_when_interrupted(work: str) -> Iterator[None]:
    """Ctrl-C stops the waiting, not the sandbox's work: say so, and how to see or stop it."""
    try:
        yield
    except KeyboardInterrupt:
        print(
            f"domainsandbox: interrupted; the sandbox still {work} (`domainsandbox clock` shows "
            "where its clock stands; `domainsandbox reset` stops it, with a new world)",
            file=sys.stderr,
        )
        raise


def _clock_parser(sub) -> None:
    clock = _client(
        sub.add_parser(
            "clock", help="show, freeze, unfreeze, advance or set the clock, or change its mode"
        )
    )
    clock.add_argument(
        "action",
        nargs="?",
        default="show",
        choices=["show", "freeze", "unfreeze", "advance", "set", "mode"],
        help="what to do (default show)",
    )
    clock.add_argument(
        "value",
        nargs="?",
        help="a duration for advance (5m); an ISO time for set, or for freeze (default: now); "
        f"for mode, one of {', '.join(CLOCK_MODES)}",
    )
    clock.add_argument(
        "--speed", type=float, help="with `mode fast`: sandbox seconds per real second (60)"
    )
    clock.add_argument(
        "--until",
        metavar="STATUS",
        help="with advance: step by step until the --domain reaches this status",
    )
    clock.add_argument("--domain", metavar="PROVIDER/ID", help="the domain --until waits for")
    clock.add_argument(
        "--limit",
        type=until_limit,
        help="with --until: how far ahead at most (72h, up to 365d; default the provider's window)",
    )
    clock.set_defaults(func=cmd_clock)


def cmd_clock(args) -> int:
    if args.until or args.domain:
        return _advance_until(args)
    if args.limit is not None:
        raise UsageError("--limit goes with `clock advance --until STATUS --domain PROVIDER/ID`")
    change = _clock_change(args.action, args.value, args.speed)  # misuse said before sending
    moves = args.action in ("advance", "set", "freeze")  # freeze may be told an instant ahead
    with _control(args) as control, _telling_a_long_move(control) if moves else nullcontext():
        clock = change(control)
    _show(args, clock, lambda c: print(f"{c['now']}  ({_clock_mode(c)})"))
    return 0


def _clock_mode(clock: ClockState) -> str:
    """How `clock` shows a clock's mode: frozen, running (real time), on-poll, fast (60x)."""
    mode = clock.get("mode") or ("frozen" if clock["frozen"] else "real")
    if mode == "fast":
        return f"fast, {plain_number(clock['speed'])}x"
    return "running" if mode == "real" else mode


def _advance_until(args) -> int:
    """`clock advance --until STATUS --domain PROVIDER/ID [--limit 72h]`."""
    if args.action != "advance" or args.value or not (args.until and args.domain):
        raise UsageError("use: clock advance --until STATUS --domain PROVIDER/ID [--limit 72h]")
    provider, slash, domain_id = args.domain.partition("/")
    if not (slash and provider and domain_id):
        raise UsageError(f"--domain: {args.domain!r} is not PROVIDER/ID (monite/3f6e...)")
    provider = provider.lower()  # in any letter case, as every command takes it
    with _control(args) as control, _telling_a_long_move(control):
        got = control.advance_until(provider, domain_id, status=args.until, limit=args.limit)
    _show(args, got, lambda g: print(
        f"{provider} {domain_id}: {g['status']} after {g['steps']} step(s), "
        f"{plain_number(g['advanced_seconds'])}s; "
        f"clock {g['clock']['now']}  ({_clock_mode(g['clock'])})"
    ))  # fmt: skip
    return 0


def _clock_change(
    action: str, value: str | None, speed: float | None = None
) -> Callable[[ControlClient], ClockState]:
    """What `clock ACTION [VALUE]` asks of the sandbox."""
    if speed is not None and action != "mode":
        raise UsageError("--speed goes with `clock mode fast`")
    if action == "mode":
        if value not in CLOCK_MODES:
            said = f"{value!r} is not a mode" if value else "needs a mode"
            raise UsageError(f"clock mode {said}: {', '.join(CLOCK_MODES)}")
        return lambda control: control.set_clock_mode(value, speed)
    if action == "show":
        if value:
            raise UsageError(f"clock show takes no value (got {value!r})")
        return ControlClient.clock
    if action == "unfreeze":
        if value:
            raise UsageError(f"clock unfreeze takes no value (got {value!r})")
        return ControlClient.unfreeze
    if action == "freeze":  # `freeze` and `freeze now`: here; `freeze ISO`: there
        at = value if value and value != "now" else None
        return lambda control: control.freeze(at)
    if not value:
        raise UsageError(f"clock {action} needs a value (advance 5m, set 2026-01-01T00:00:00Z)")
    if action == "advance":
        if value.startswith("-"):
            raise UsageError(
                f"clock advance {value}: time only moves forward; "
                "`clock set ISO` jumps to any instant, earlier ones too"
            )
        if (seconds := duration(value)) > MAX_ADVANCE_SECONDS:
            raise UsageError(
                f"clock advance {value}: at most 10y (3650 days) at a time; "
                "`clock set ISO` jumps to any instant"
            )
        return lambda control: control.advance(seconds)
    return lambda control: control.set_time(value)


def _demo_parser(sub) -> None:
    demo = _client(
        sub.add_parser("demo", help="replace the world with realistic domains in every state")
    )
    demo.add_argument(
        "--domains", type=positive_int, default=40, help="how many (default 40, at most 100)"
    )
    demo.add_argument("--seed", type=seed, help="the same seed gives the same world")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    with _control(args) as control, _going_on_when_interrupted("builds the demo world"):
        world = control.demo(args.domains, args.seed)
    rows = [
        [d["provider"], d["id"], d["name"], d["status"], d["company"]] for d in world["domains"]
    ]
    header = ["PROVIDER", "ID", "NAME", "STATUS", "COMPANY"]
    _show(args, world, lambda _: _print_rows(rows, header))
    return 0


def _reset_parser(sub) -> None:
    reset = _client(sub.add_parser("reset", help="forget everything; optionally reseed"))
    reset.add_argument("--seed", type=seed, help="the new seed (default: the current one)")
    reset.add_argument(
        "--restore-clock", action="store_true", help="put the clock back as the sandbox started"
    )
    reset.set_defaults(func=cmd_reset)


def cmd_reset(args) -> int:
    with _control(args) as control:
        done = control.reset(args.seed, restore_clock=args.restore_clock)
    _show(args, done, lambda d: print(f"reset; seed {d['seed']}, clock {_clock_said(d['clock'])}"))
    return 0


def _clock_said(clock: ClockState) -> str:
    """A clock as `reset` says it, its mode too: a reset puts back the mode `serve` started
    with, so a clock frozen since then runs again."""
    return f"{clock['now']} ({_clock_mode(clock)})"


def _domains_parser(sub) -> None:
    domains = _client(
        sub.add_parser(
            "domains",
            help="every provider's domains and record checks, or one domain's (show)",
            description="Every provider's domains and their records' last checks, or one "
            f"domain's with each record's value (show). {NAMES_AND_VALUES_CUT}",
        )
    )
    domains.add_argument(
        "action",
        nargs="?",
        choices=["show"],
        help="show PROVIDER ID: one domain, with each record's value and last check (default: "
        "list every domain)",
    )
    domains.add_argument(
        "shown_provider",
        nargs="?",
        metavar="PROVIDER",
        type=provider_name,
        help=_provider_help("with show, the domain's provider"),
    )
    domains.add_argument(
        "domain_id", nargs="?", metavar="ID", type=domain_id, help=f"with show, {DOMAIN_ID_HELP}"
    )
    domains.add_argument(
        "--provider", type=provider_name, help=_provider_help("only this provider")
    )
    domains.set_defaults(func=cmd_domains)


def cmd_domains(args) -> int:
    if args.action == "show":
        return _show_domain(args)
    with _control(args) as control:
        domains = control.domains(args.provider)
        providers = [] if args.json else control.providers()  # (--json shows no lines)
        regions = {p["name"] for p in providers if len(p["apis"]) > 1}
    _show(args, {"domains": domains}, lambda _: _print_domains(domains, regions))
    return 0


def _show_domain(args) -> int:
    """`domains show PROVIDER ID`: one domain, named as publish and verify name it."""
    if args.provider:
        raise UsageError("domains show names its domain by PROVIDER ID: no --provider")
    if not (args.shown_provider and args.domain_id):
        raise UsageError(
            "domains show needs a PROVIDER and the domain's ID (`domainsandbox domains` lists them)"
        )
    with _control(args) as control:
        domain = control.domain(args.shown_provider, args.domain_id)
    _show(args, domain, _print_domain)
    return 0


def _print_domain(domain: DomainView) -> None:
    """A domain's status, who holds it (the account, partner or team the provider keeps it
    for; SES's with its region) and when it was checked; each required record, its last check's
    outcome and the value its provider expects; then why each failed check failed (under the
    table: the verifier's sentences would push the values off any screen)."""
    print(_domain_line(domain))
    checked = (
        f"last checked {domain['last_checked_at']} ({domain['checks']} check(s))"
        if domain["last_checked_at"]
        else "not checked yet"
    )
    held = f"API {domain['api']}; owner {domain['owner']}; created {domain['created_at']}"
    print(printable(f"{held}; {checked}"))
    records = domain["records"]
    names = _names_shown([r["name"] for r in records])
    rows = [
        [r["kind"], r["type"], name, _outcome(r["result"]), _shown(_zone_value(r))]
        for name, r in zip(names, records, strict=True)
    ]
    _print_rows(rows, ["KIND", "TYPE", "NAME", "LAST CHECK", "VALUE"])
    _print_reasons(records)


def _outcome(result: dict | None) -> str:
    return result["outcome"] if result else "unchecked"


def _zone_value(record: dict) -> str:
    """A required record's value as a zone file writes it (and `publish` prints it): an MX
    record's preference first."""
    priority = record.get("priority")
    return record["value"] if priority is None else f"{priority} {record['value']}"


def _print_reasons(records: list[dict], indent: str = "") -> None:
    """Why each of a domain's failed checks failed, under its records' table: the verifier's
    sentences in a column would push every line past a screen."""
    for record in records:
        if record["result"] and record["result"]["reason"]:
            print(printable(f"{indent}{record['kind']}: {record['result']['reason']}"))


def _print_domains(domains: list[DomainView], regions: set[str]) -> None:
    """Each domain and its records' last checks, in columns (each domain's own: a long name in
    one widens no other), then why each failed check failed, as `domains show` prints them;
    for a provider that serves several APIs (its `regions`), the one that knows the domain."""
    for domain in domains:
        api = f" [API {domain['api']}]" if domain["provider"] in regions else ""
        line = f"{domain['provider']} {domain['id']} {domain['name']}: {domain['status']}{api}"
        print(printable(line))  # a loaded scenario's text as much as the sandbox's own
        records = domain["records"]
        names = _names_shown([r["name"] for r in records])
        rows = [
            [r["kind"], r["type"], name, _outcome(r["result"])]
            for name, r in zip(names, records, strict=True)
        ]
        if rows:
            _print_rows(rows, None, indent="    ")
        _print_reasons(records, indent="    ")
    if not domains:
        print("(no domains)")


def _requests_parser(sub) -> None:
    requests = _client(
        sub.add_parser(
            "requests",
            help="the request journal: provider API requests received, filtered",
            description="Provider API requests received, oldest first (credentials redacted; "
            "--json shows headers and bodies). Filters combine.",
        )
    )
    requests.add_argument(
        "--provider", type=provider_name, help=_provider_help("only this provider")
    )
    requests.add_argument("--operation", metavar="OPERATION_ID", help="e.g. verify_domain")
    requests.add_argument(
        "--status",
        metavar="N",
        type=status_filter,
        help="a status code (404), a class (4xx), or aborted (calls a fault dropped)",
    )
    requests.add_argument("--domain", metavar="ID", help="requests that touched this domain")
    requests.add_argument("--since", metavar="TIME", help="at or after (sandbox clock, ISO-8601)")
    requests.add_argument("--until", metavar="TIME", help="at or before (sandbox clock)")
    requests.add_argument(
        "--limit", type=positive_int, help="only the last N that match (default: all it keeps)"
    )
    requests.add_argument("--count", action="store_true", help="print how many match")
    requests.add_argument("--clear", action="store_true", help="empty the journal")
    requests.set_defaults(func=cmd_requests)


def cmd_requests(args) -> int:
    filters = {k: getattr(args, k) for k in ("operation", "status", "domain", "since", "until")}
    if args.clear and (args.count or args.provider or args.limit or any(filters.values())):
        raise UsageError("requests --clear empties the whole journal, and takes nothing else")
    if args.count and args.limit is not None:
        raise UsageError("requests --count counts every entry the filters match: no --limit")
    with _control(args) as control:
        if args.clear:
            control.clear_requests()
            _show(args, {"cleared": True}, lambda _: print("cleared the request journal"))
            return 0
        if args.count:
            count = control.count_requests(args.provider, **filters)
            _show(args, {"count": count}, lambda _: print(count))
            return 0
        requests = control.requests(args.provider, args.limit, **filters)
    rows = [
        [r["at"], r["provider"] or "", r["operation"] or "-", status_said(r)]
        + [r["domain_id"] or "-", r["method"], _path_shown(r)]
        for r in requests
    ]
    header = ["AT", "PROVIDER", "OPERATION", "STATUS", "DOMAIN", "METHOD", "PATH"]
    _show(args, {"requests": requests}, lambda _: _print_rows(rows, header))
    return 0


HTTP_FAULT_OPTIONS = [
    "operation",
    "status",
    "latency_ms",
    "abort",
    "abort_after",
    "reset",
    "reset_after",
    "count",
    "probability",
]
# The ways a fault may drop the connection (sandbox.gate.DROPS), and the options that ask them.
HTTP_FAULT_DROPS = {
    "abort": "--abort",
    "abort_after": "--abort-after",
    "reset": "--reset",
    "reset_after": "--reset-after",
}


def _http_parser(sub) -> None:
    http = _client(sub.add_parser("http", help="HTTP faults on provider operations"))
    http_sub = http.add_subparsers(dest="http_command", required=True, metavar="ACTION")
    _http_fault_parser(http_sub)


def _http_fault_parser(http_sub) -> None:
    hfault = _client(
        http_sub.add_parser("fault", help="add, list (no arguments), remove or clear HTTP faults")
    )
    hfault.add_argument(
        "provider", nargs="?", type=_faulted_provider, help="whose operations get the fault"
    )
    hfault.add_argument(
        "--operation", help="an operationId of the provider's document (default: all)"
    )
    hfault.add_argument(
        "--status",
        type=int,
        choices=[429, 500, 502, 503, 504],
        help="answer this status, in the provider's error shape",
    )
    hfault.add_argument(
        "--latency-ms",
        type=milliseconds,
        metavar="DURATION",
        help=f"answer this much later: {MILLISECONDS_HELP}",
    )
    _http_fault_drops(hfault)
    hfault.add_argument("--count", type=int, help="for the next N calls (default: until cleared)")
    hfault.add_argument(
        "--probability",
        type=float,
        help="0..1, drawn from the seeded random source (default 1: every matching call)",
    )
    hfault.add_argument(
        "--remove", metavar="ID", help="remove the fault of this id (h1), leaving the others"
    )
    hfault.add_argument("--clear", action="store_true", help="remove every HTTP fault")
    hfault.set_defaults(func=cmd_http_fault)


def _http_fault_drops(hfault) -> None:
    """The ways `http fault` drops a connection (HTTP_FAULT_DROPS), before or after the call."""
    hfault.add_argument(
        "--abort", action="store_true", help="drop the connection mid-answer, the call not made"
    )
    hfault.add_argument(
        "--abort-after",
        action="store_true",
        help="carry the call out, then drop the connection mid-answer: the change is made and "
        "its answer lost (what a client's retry of a create must survive)",
    )
    hfault.add_argument(
        "--reset",
        action="store_true",
        help="reset the connection (TCP RST) before any answer, the call not made: the failure "
        "clients retry",
    )
    hfault.add_argument(
        "--reset-after",
        action="store_true",
        help="carry the call out, then reset the connection before any answer",
    )


def cmd_http_fault(args) -> int:
    wanted = {f"a PROVIDER ({', '.join(provider_names())})": args.provider}
    action = _fault_action(args, "http fault", wanted, HTTP_FAULT_OPTIONS)
    if action == "add":
        _check_http_fault(args)
    with _control(args) as control:
        if action == "clear":
            removed = control.clear_http_faults()
            _show(args, {"removed": removed}, lambda _: print(f"cleared {removed} fault(s)"))
        elif action == "remove":
            control.remove_http_fault(args.remove)
            _show(args, {"removed": 1}, lambda _: print(f"removed fault {args.remove}"))
        elif action == "add":
            fault = control.add_http_fault(
                args.provider,
                operation=args.operation,
                status=args.status,
                latency_ms=args.latency_ms,
                abort=args.abort or None,  # absent unless asked: the API's default
                count=args.count,
                probability=args.probability,
                abort_after=args.abort_after or None,
                reset=args.reset or None,
                reset_after=args.reset_after or None,
            )
            _show(args, fault, _print_http_fault)
        else:
            _show_http_faults(args, control.http_faults())
    return 0


def _check_http_fault(args) -> None:
    """What the control API would refuse of a new fault, said with the command's options."""
    drops = [flag for name, flag in HTTP_FAULT_DROPS.items() if getattr(args, name)]
    if args.status is None and args.latency_ms == 0 and not drops:
        raise UsageError(
            "http fault --latency-ms 0 delays nothing: give more than 0, or with it a --status "
            "or a drop (--abort, --abort-after, --reset or --reset-after)"
        )
    if args.status is None and not args.latency_ms and not drops:
        raise UsageError(
            "http fault needs --status, --latency-ms, or a drop: --abort, --abort-after, "
            "--reset or --reset-after"
        )
    if len(drops) > 1:
        raise UsageError(
            f"http fault: a fault drops the connection one way: give one of {', '.join(drops)}"
        )
    if args.status is not None and drops:
        raise UsageError(f"http fault: a fault answers --status or drops ({drops[0]}), not both")


def _print_http_fault(fault: HttpFault) -> None:
    """A fault added, and the note the sandbox gave with it (what it does not meet)."""
    print(_http_fault_said(fault))
    if note := fault.get("note"):
        print(f"note: {note}")


def _http_fault_said(fault: HttpFault) -> str:
    """An HTTP fault added, as the sandbox holds it: `fault h1 on monite verify_domain: 503,
    2 times`, as `_dns_fault_said` says a DNS fault."""
    what = [str(fault["status"]) if fault["status"] else _dropped(fault)]
    what += [f"{fault['latency_ms']} ms later"] if fault["latency_ms"] else []
    if count := fault["count"]:
        what.append("once" if count == 1 else f"{count} times")
    what += [f"probability {fault['probability']}"] if fault["probability"] is not None else []
    said = f"fault {fault['id']} on {fault['provider']} {fault['operation'] or '*'}"
    return f"{said}: {', '.join(w for w in what if w)}"


def _dropped(fault: HttpFault) -> str:
    """How `http fault` lists a fault that drops the connection: how, and before or after the
    call is carried out ("abort", "reset after")."""
    return next((name for name in HTTP_FAULT_DROPS if fault.get(name)), "").replace("_", " ")


def _show_http_faults(args, faults: list[HttpFault]) -> None:
    rows = [
        [
            f["id"],
            f["provider"],
            f["operation"] or "*",
            f["status"] or _dropped(f),
            f["latency_ms"] or "",
            f["count"] or "until cleared",
            "" if f["probability"] is None else f["probability"],
        ]
        for f in faults
    ]
    header = ["ID", "PROVIDER", "OPERATION", "STATUS", "LATENCY MS", "REMAINING", "PROBABILITY"]
    _show(args, {"faults": faults}, lambda _: _print_rows(rows, header))


def _rate_limits_parser(sub) -> None:
    limits = _client(
        sub.add_parser("rate-limits", help="show, or turn on/off, the documented rate limits")
    )
    limits.add_argument(
        "state",
        nargs="?",
        default="show",
        choices=["show", "on", "off"],
        help="show the providers' documented quotas and whether they are enforced (the "
        "default); on: enforce them, answering each provider's own 429; off: enforce none",
    )
    limits.set_defaults(func=cmd_rate_limits)


def cmd_rate_limits(args) -> int:
    enabled = None if args.state == "show" else args.state == "on"
    with _control(args) as control:
        limits = control.rate_limits(enabled)

    def table(d):
        if d["enabled"]:
            print("rate limits on")
        else:  # why: the same table under "off" alone read as quotas still in force
            print("rate limits off")
            print("nothing is enforced; the documented quotas, for `rate-limits on`:")
        for name, quota in d["quotas"].items():
            print(f"  {name:<9} {quota['requests']} requests / {quota['window_seconds']} s")
        if unlimited := d.get("unlimited"):
            print(f"  {', '.join(unlimited)}: no documented quota, never limited")

    _show(args, limits, table)
    return 0


def _credentials_parser(sub) -> None:
    creds = _client(
        sub.add_parser(
            "credentials",
            help="register or revoke the keys a provider accepts (none registered: any works)",
            description="Once a provider has a credential registered, it accepts only registered "
            "ones that were not revoked and answers any other with its own 401 (SES and Resend: "
            "403; Monite's /auth/token: 400). KEY is a Monite client_id (with --secret, its "
            "client_secret), an AutoSend, Vortex or Resend API key, a Mailgun API key (the "
            "password of its basic auth), a Scaleway secret key, or an SES access key ID.",
        )
    )
    creds.add_argument("action", choices=["ls", "add", "revoke", "clear"], help="what to do")
    creds.add_argument(
        "provider", nargs="?", type=provider_name, help="ls and clear: only this provider"
    )
    creds.add_argument("key", nargs="?", help="add and revoke: the key (see above)")
    creds.add_argument("--secret", help="Monite: the client_secret of the client_id")
    creds.set_defaults(func=cmd_credentials)


def cmd_credentials(args) -> int:
    if args.action in ("add", "revoke") and not (args.provider and args.key):
        raise UsageError(f"credentials {args.action} needs a PROVIDER and a KEY")
    if args.action in ("ls", "clear") and args.key:  # `clear autosend as_a` forgot them all
        raise UsageError(
            f"credentials {args.action} takes a PROVIDER and no KEY ({args.key!r}); to stop one "
            "key working: credentials revoke PROVIDER KEY"
        )
    with _control(args) as control:
        if args.action == "ls":
            _show_credentials(args, control.credentials(args.provider))
            return 0
        if args.action == "clear":
            removed = control.clear_credentials(args.provider)
            _show(args, {"removed": removed}, lambda _: print(f"forgot {removed} credential(s)"))
            return 0
        if args.action == "add":
            credential = control.register_credential(args.provider, args.key, args.secret)
        else:
            credential = control.revoke_credential(args.provider, args.key)
    state = "revoked" if credential["revoked"] else "registered"
    _show(args, credential, lambda c: print(f"{c['provider']} {c['key']}: {state}"))
    return 0


def _show_credentials(args, credentials: list[Credential]) -> None:
    rows = [  # the short columns first: a long key or secret widens its own line alone
        [c["provider"], "revoked" if c["revoked"] else "active", c["key"], c.get("secret", "")]
        for c in credentials
    ]
    header = ["PROVIDER", "STATE", "KEY", "SECRET"]
    _show(args, {"credentials": credentials}, lambda _: _print_rows(rows, header))


# An exported world's registered credentials: a top-level key of the YAML.
_HOLDS_CREDENTIALS = re.compile(r"^credentials:", re.M)


def _write_export(path: str, text: str, private: bool) -> None:
    """Write an exported world; owner-only when it holds registered keys and secrets, as the
    state file is (a backup should not leak what the sandbox keeps private)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    with open(fd, "w", encoding="utf-8") as file:
        if private:
            os.fchmod(fd, 0o600)  # a file that was there keeps its mode otherwise
        file.write(text)


def _scenario_parser(sub) -> None:
    scen = _client(
        sub.add_parser(
            "scenario", help="export the world to a file, load one, or list the bundled ones"
        )
    )
    scen.add_argument("action", choices=["export", "load", "list"], help="what to do")
    scen.add_argument(
        "file",
        nargs="?",
        help="the YAML file (a .json one is JSON, both ways; export prints to stdout without "
        "one, or with -, in JSON with --json); load also takes a bundled scenario's name (see "
        "scenario list), or - for standard input",
    )
    scen.set_defaults(func=cmd_scenario)


def cmd_scenario(args) -> int:
    if args.action == "list":
        if args.file:
            raise UsageError(f"scenario list takes no FILE ({args.file!r})")
        return _list_scenarios(args)
    if args.action == "export":
        return _export_scenario(args)
    text = _read_scenario(args.file)
    if not text.strip():
        raise UsageError(
            f"{args.file}: the file is empty; a scenario is a YAML or JSON mapping "
            "(seed, clock, domains, dns, ...)"
        )
    with _control(args) as control:
        try:
            loaded = control.load_scenario(text, "json" if _is_json_file(args.file) else "yaml")
        except ControlError as exc:  # name the file: the sandbox only saw its text
            raise ControlError(f"{args.file}: {exc}", exc.status) from None
    said = (
        f"loaded {args.file}: {loaded['domains']} domain(s), "
        f"{loaded['dns_records']} DNS record(s), clock {_clock_said(loaded['clock'])}"
    )
    _show(args, loaded, lambda _: print(said))
    return 0


def _is_json_file(path: str | None) -> bool:
    """Whether a scenario file is JSON, both ways: export writes JSON there, and load reads it
    as JSON (YAML would read it without a word of its errors: a trailing comma, a key twice)."""
    return (path or "").lower().endswith(".json")


def _export_scenario(args) -> int:
    """`scenario export [FILE]`: to the file, or to standard output without one (or with -)."""
    as_json = args.json or _is_json_file(args.file)
    with _control(args) as control:
        text, private = _exported_world(control, as_json)
    if not args.file or args.file == "-":
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    try:
        _write_export(args.file, text, private)
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from None
    print(f"wrote {args.file}" + (" (owner-only: it holds registered keys)" if private else ""))
    return 0


def _exported_world(control: ControlClient, as_json: bool) -> tuple[str, bool]:
    """The world as `scenario export` writes it, and whether it holds registered keys. JSON is
    indented as every other --json output is: the control API answers it in one long line."""
    if not as_json:
        text = control.export_scenario("yaml")
        return text, _HOLDS_CREDENTIALS.search(text) is not None
    world = json.loads(control.export_scenario("json"))
    return json.dumps(world, indent=2) + "\n", "credentials" in world


def _read_scenario(path: str | None) -> bytes:
    from . import bundled

    if not path:
        raise UsageError("scenario load needs a FILE or a bundled scenario's name")
    if path == "-":  # standard input, as `scenario export -` writes standard output
        return sys.stdin.buffer.read()
    try:
        return bundled.find(path).read_bytes()
    except bundled.UnknownScenario as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def _list_scenarios(args) -> int:
    """The bundled scenarios: no sandbox needed."""
    from . import bundled

    found = bundled.listing()
    rows = [[s["name"], s["description"]] for s in found]
    _show(args, {"scenarios": found}, lambda _: _print_rows(rows, ["NAME", "WORLD"]))
    return 0


def _docs_parser(sub) -> None:
    docs = sub.add_parser(
        "docs", help="list the documentation installed with the package, or print one page"
    )
    docs.add_argument(
        "page",
        nargs="?",
        help="a page's name, e.g. scaleway or readme; another word prints the sections whose "
        "headings hold it (scenarios, faults), else lists the sections that mention it",
    )
    docs.add_argument("--path", action="store_true", help="print where the page is, not the page")
    docs.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON: without PAGE, {pages: [{name, title, path}]}; with a page's name, "
        "{name, title, path, text (its Markdown), headings: [{level, heading}]} (no text with "
        "--path); with another word, {sections: [{page, level, heading, text}], mentions: "
        "[{page, heading}]}",
    )
    docs.set_defaults(func=cmd_docs)


def cmd_docs(args) -> int:
    """The documentation installed with the package: no sandbox needed."""
    from . import pages

    if args.page is not None and not args.page.strip():  # else every section of every page
        raise UsageError("docs: an empty name names no page; `domainsandbox docs` lists them")
    if args.page is None:
        found = [
            {"name": n, "title": pages.title(p), "path": str(p)} for n, p in pages.pages().items()
        ]
        rows = [[page["name"], page["title"]] for page in found]
        _show(args, {"pages": found}, lambda _: _print_rows(rows, ["PAGE", "TITLE"]))
        return 0
    try:
        path = pages.find(args.page)
    except pages.UnknownPage as exc:
        found = [] if args.path else pages.sections(args.page)
        mentioned = [] if args.path or found else pages.mentions(args.page)
        if not (found or mentioned):
            raise UsageError(str(exc)) from None
        if getattr(args, "json", False):
            _print_sections_json(found, mentioned)
            return 0
        for section in found:  # no page of that name: the sections about it
            print(f"{section.text.rstrip()}\n\n(from `domainsandbox docs {section.page}`)\n")
        if mentioned:  # nor a heading: where the text speaks of it
            print(f"No page or heading {args.page!r}; the sections that mention it:")
            _print_rows([[page, heading] for page, heading in mentioned], ["PAGE", "SECTION"])
            print('Read one with `domainsandbox docs "WORDS OF ITS HEADING"`.')
        return 0
    if getattr(args, "json", False):  # the page as data: what it is, its text, its headings
        page = {"name": pages.name_of(path), "title": pages.title(path), "path": str(path)}
        if not args.path:
            page |= {"text": path.read_text(encoding="utf-8"), "headings": pages.outline(path)}
        print(json.dumps(page, indent=2))
        return 0
    print(path if args.path else path.read_text(encoding="utf-8"), end="\n" if args.path else "")
    return 0


def _print_sections_json(found: list[Section], mentioned: list[tuple[str, str]]) -> None:
    """`docs WORD --json`: the sections whose headings hold the word, each with its page, its
    heading and its text; else where the text mentions it."""
    sections = [section._asdict() for section in found]
    mentions = [{"page": page, "heading": heading} for page, heading in mentioned]
    print(json.dumps({"sections": sections, "mentions": mentions}, indent=2))


def _settings_parser(sub) -> None:
    settings = _client(
        sub.add_parser("settings", help="show or change a provider's timings, switches and counts")
    )
    settings.add_argument("provider", type=provider_name, help=_provider_help())
    settings.add_argument(
        "changes",
        nargs="*",
        default=[],  # optional: none shows the settings (argparse calls a bare "*" required)
        help="name=value: a duration for timings (verify_delay_seconds=30s), a whole number for "
        "the others (max_identities=50); none: show them",
    )
    settings.set_defaults(func=cmd_settings)


def cmd_settings(args) -> int:
    given = {}
    for pair in args.changes:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(
                f"{pair!r}: write settings as name=value (verify_delay_seconds=30s, "
                "max_identities=50)"
            )
        given[key] = value
    with _control(args) as control:
        settings = control.settings(args.provider)
        if given:
            if unknown := sorted(set(given) - set(settings)):  # the names first: a value's
                raise UsageError(  # advice would send a misspelt name to another refusal
                    f"unknown setting(s) {', '.join(unknown)} for {args.provider}; known: "
                    f"{', '.join(sorted(settings))}"
                )
            changes = {k: _setting_value(args.provider, k, v) for k, v in given.items()}
            settings = control.update_settings(args.provider, changes)
    _show(args, settings, lambda d: [print(f"{k} = {_setting_said(k, v)}") for k, v in d.items()])
    return 0


def _setting_said(key: str, value) -> str:
    """A setting as `settings` shows it: a timing of a minute or more also as a duration,
    `300 (5m)`, `259200 (3d)` (--json keeps the seconds alone)."""
    if is_timing(key) and isinstance(value, int | float) and value >= 60:
        return f"{value} ({duration_said(value)})"
    return str(value)


_SWITCH_WORDS = {"on": 1, "true": 1, "off": 0, "false": 0}


def _setting_value(provider: str, key: str, value: str) -> int | float:
    """A duration for the timings (their names end in _seconds), a whole number for the
    switches and counts (require_api_key=0, max_identities=50); a switch also takes on, off,
    true or false."""
    if is_timing(key):
        seconds = duration(value)
        return int(seconds) if seconds.is_integer() else seconds  # 2m is 120, not 120.0
    if (switched := _SWITCH_WORDS.get(value.strip().lower())) is not None:
        return switched
    if (number := _whole(value)) is None:
        raise UsageError(
            f"{key}={value!r}: {key} takes a whole number, such as {key}=1 (timings end in "
            f"_seconds; `domainsandbox settings {provider}` lists every setting)"
        )
    return number


def _report_parser(sub) -> None:
    report = _client(
        sub.add_parser("report", help="the client conformance report: what clients exercised")
    )
    report.add_argument("--provider", type=provider_name, help=_provider_help("only this provider"))
    report.add_argument("--clear", action="store_true", help="empty the report (a new session)")
    report.add_argument(
        "--fail-on-violations",
        action="store_true",
        help="exit with status 1 when the client sent requests an API's document refuses (its "
        "expected errors apart): a CI job's gate",
    )
    report.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from .report import render_table

    if args.clear and args.provider:
        raise UsageError("report --clear empties the whole report, and takes no --provider")
    if args.clear and args.fail_on_violations:  # it would clear what it was asked to judge
        raise UsageError(
            "report --clear judges nothing, and takes no --fail-on-violations: judge with "
            "`report --fail-on-violations`, then clear with `report --clear`"
        )
    with _control(args) as control:
        if args.clear:
            control.clear_report()
            _show(args, {"cleared": True}, lambda _: print("cleared the client report"))
            return 0
        report = control.report()
    if args.provider:  # a known one (provider_name): the report has every provider
        report = {"providers": {args.provider: report["providers"][args.provider]}}
    _show(args, report, lambda d: print(render_table(d), end=""))
    if args.fail_on_violations and (count := _violations(report)):
        # what pytest --domainsandbox-fail-on-violations does, for a client that is not pytest
        print(f"domainsandbox: {count} request(s) an API's document refuses", file=sys.stderr)
        return 1
    if args.fail_on_violations and not any(v["requests"] for v in report["providers"].values()):
        print(  # a gate that judged nothing: the client's tests went to another sandbox
            f"domainsandbox: warning: no request reached the sandbox at {args.url}"
            f"{' for ' + args.provider if args.provider else ''}: nothing was judged (tests "
            "using pytest's domain_sandbox fixture run their own sandbox: judge them with "
            "--domainsandbox-fail-on-violations)",
            file=sys.stderr,
        )
    return 0


def _violations(report: dict) -> int:
    """How many requests the report's client violations stand for (expected ones apart)."""
    return sum(v["count"] for view in report["providers"].values() for v in view["violations"])


def header(text: str) -> tuple[str, str]:
    """'Authorization: Bearer x' -> ('Authorization', 'Bearer x')."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a header such as 'Name: value'")
    return name.strip(), value.strip()


def _contract_parser(sub) -> None:
    contract = sub.add_parser("contract", help="contract-test an API against its document")
    contract_sub = contract.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    run = contract_sub.add_parser(
        "run", help="run Schemathesis (all phases) against the sandbox or any base URL"
    )
    _contract_run_target(run)
    _contract_run_examples(run)
    run.set_defaults(func=cmd_contract_run)


def _contract_run_target(run) -> None:
    """Which API `contract run` tests, where, and with which headers."""
    run.add_argument(
        "--provider",
        required=True,
        type=str.lower,  # in any letter case, as every command takes it
        help=f"a provider's name ({', '.join(provider_names())}), or control for the control API",
    )
    run.add_argument(
        "--base-url",
        help="where the document's paths are served, e.g. https://api.sandbox.monite.com/v1 "
        "(default: a private in-process sandbox on free ports)",
    )
    run.add_argument(
        "--header", "-H", type=header, action="append", help="'Name: value', repeatable"
    )
    run.add_argument(
        "--token",
        help=f"a running sandbox's control token, if it has one (default ${TOKEN_ENV}): read "
        "to find its registered credentials, and sent by a run of the control API",
    )


def _contract_run_examples(run) -> None:
    """How many requests `contract run` sends, how, and how it reports them."""
    from contracts.defaults import (
        CONTROL_REQUEST_TIMEOUT_SECONDS,
        DEFAULT_MAX_EXAMPLES,
        DEFAULT_REQUEST_TIMEOUT_SECONDS,
        DEFAULT_SEED,
        PHASES,
    )

    run.add_argument(
        "--max-examples",
        type=positive_int,
        default=DEFAULT_MAX_EXAMPLES,
        help=f"examples per operation in each phase (default {DEFAULT_MAX_EXAMPLES})",
    )
    run.add_argument(
        "--phases", type=kinds, default=list(PHASES), help=f"comma-separated: {','.join(PHASES)}"
    )
    run.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"the same seed generates the same requests (default {DEFAULT_SEED})",
    )
    run.add_argument(
        "--request-timeout",
        type=timeout,
        metavar="DURATION",
        help="how long one request may take before the run records it as an error, e.g. 30s "
        f"or 2m (default {DEFAULT_REQUEST_TIMEOUT_SECONDS:g}s; for the control API, whose "
        f"clock moves may take long, {CONTROL_REQUEST_TIMEOUT_SECONDS:g}s)",
    )
    run.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    run.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON"
    )


def cmd_contract_run(args) -> int:
    import contracts

    if args.token is not None:  # where the run reads it, as every command reads it
        os.environ[TOKEN_ENV] = args.token
    try:
        result = contracts.run(
            args.provider,
            base_url=args.base_url,
            headers=dict(args.header or []),
            max_examples=args.max_examples,
            phases=args.phases,
            seed=args.seed,
            junit_xml=args.junit_xml,
            request_timeout=args.request_timeout,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:  # the results on stdout (`> results.txt`), notes on the sandbox run against on stderr
        print(result.summary(context=False))
        sys.stdout.flush()
        for note in result.context_notes():
            print(note, file=sys.stderr)
    if result.interrupted:
        return 130  # as any command stopped by Ctrl-C
    return 0 if result.ok else 1


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="domainsandbox",
        description="A local, deterministic sandbox of email-domain APIs with a real, controllable DNS server.",
    )
    parser.add_argument("--version", action="version", version=f"domainsandbox {__version__}")
    _client(parser, defaults=True)  # --url, --json, --token also before the command
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMAND_PARSERS:
        add_command(sub)
    return parser


# Each command's parser (next to the command's handler), in the order --help lists them.
COMMAND_PARSERS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _serve_parser,
    _dns_parser,
    _publish_parser,
    _verify_parser,
    _create_parser,
    _clock_parser,
    _demo_parser,
    _reset_parser,
    _domains_parser,
    _requests_parser,
    _http_parser,
    _rate_limits_parser,
    _credentials_parser,
    _scenario_parser,
    _docs_parser,
    _settings_parser,
    _report_parser,
    _contract_parser,
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = _negative_values_joined(parser, sys.argv[1:] if argv is None else argv)
    args, rest = parser.parse_known_args(argv)
    if rest and _a_negative_clock_value(args, rest):
        args.value = rest.pop(0)  # `clock advance -5m`: said as a usage error below, not an option
    if rest:
        command = _command_parser(parser, args)
        _fill_late_positionals(command, args, rest)
        if rest:
            command.error(f"unrecognized arguments: {' '.join(rest)}")
    if said := _not_text(args):
        return _fail(UsageError(said), USAGE)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then ours to handle
        return code
    except (UsageError, argparse.ArgumentTypeError) as exc:
        return _fail(exc, USAGE)
    except MissingExtra as exc:
        return _fail(exc, 1)
    except ControlError as exc:  # a 4xx: the sandbox refused what was asked
        said = _said_in_flags(str(exc), _command_parser(parser, args))
        if isinstance(exc, Unreachable):
            said += (
                " If it serves elsewhere: --url URL, $DOMAINSANDBOX_URL, or $DOMAINSANDBOX_PORT"
                " (the port `serve` took it from too)."
            )
        return _fail(said, USAGE if exc.status and 400 <= exc.status < 500 else 1)
    except BrokenPipeError:
        # The reader stopped reading (`| head`): end quietly, and let nothing flush to it again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except KeyboardInterrupt:
        return 130
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        if (other := _another_server(args, exc)) is None:
            raise  # a sandbox answered: the bug is ours, and its traceback says where
        return _fail(other, 1)


# A control API refusal naming the field it refused: `400: latency_ms: at most 60000, not 9e9`.
_REFUSED_FIELD = re.compile(r"^(\d{3}: )([a-z_]+): ")


def _said_in_flags(message: str, command: argparse.ArgumentParser) -> str:
    """A refusal naming a field of the control API in the words of the option that gave it
    (`visible_after_seconds` is `--visible-after`, `latency_ms` is `--latency-ms`)."""
    if not (refused := _REFUSED_FIELD.match(message)):
        return message
    field = refused[2]
    for action in command._actions:
        if action.option_strings and field in (action.dest, f"{action.dest}_seconds"):
            return f"{refused[1]}{action.option_strings[0]}: {message[refused.end() :]}"
    return message


def _another_server(args, problem: Exception) -> ControlError | None:
    """When a command could not read an answer of the server at --url: the error saying that
    server is no domainsandbox (another service answering JSON at the port), or None when it
    answers the health check as one does."""
    control = getattr(args, "control", None)
    if control is None or control.answers_as_sandbox():
        return None
    lacks = f"lacks {problem.args[0]!r}" if isinstance(problem, KeyError) else "has another shape"
    return control.not_a_sandbox(f"its answer {lacks}")


# Arguments that name files: a file name may hold any bytes (Python keeps those that are no
# UTF-8 as lone surrogates in the text, and open() turns them back).
_FILE_ARGUMENTS = {"file", "state", "scenario", "junit_xml"}


def _not_text(args) -> str | None:
    """Why an argument (a file name aside) cannot be sent: bytes that are no UTF-8 text, which
    no request can carry; or None."""
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if name in _FILE_ARGUMENTS or not isinstance(item, str):
                continue
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return f"argument {name.replace('_', '-')}: {item!r} holds bytes that are no UTF-8"
    return None


def _command_parser(parser: argparse.ArgumentParser, args) -> argparse.ArgumentParser:
    """The parser of the (sub)command `args` ran, whose --help says what it takes."""
    while chosen := next(
        (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
    ):
        if getattr(args, chosen.dest, None) is None:
            break
        parser = chosen.choices[getattr(args, chosen.dest)]
    return parser


# A word argparse takes for an option, though it is a negative value: -5m, -0.5s, -.5
_NEGATIVE_VALUE = re.compile(r"-\.?\d")


def _negative_values_joined(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`argv` with a value such as `-5m` joined to its option (`--visible-after=-5m`). argparse
    takes any word starting with `-` that is not a plain number for an option, and tells only
    that the option "expected one argument"; joined, the option's own check says what is
    wrong with the value."""
    taking = _options_taking_a_value(parser)
    joined: list[str] = []
    for word in argv:
        if joined and joined[-1] in taking and _NEGATIVE_VALUE.match(word):
            joined[-1] = f"{joined[-1]}={word}"
        else:
            joined.append(word)
    return joined


def _options_taking_a_value(parser: argparse.ArgumentParser) -> set[str]:
    """The long options of `parser` and its commands that take one value."""
    taking = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                taking |= _options_taking_a_value(command)
        elif action.nargs is None and action.option_strings:
            taking.update(s for s in action.option_strings if s.startswith("--"))
    return taking


def _fill_late_positionals(command: argparse.ArgumentParser, args, rest: list[str]) -> None:
    """Give the words argparse left over to the optional positionals it left empty. It fills
    one with nothing as soon as the positional before it is read, so in `scenario export --json
    FILE` (or `clock advance --json 5m`) the word after the option was "unrecognized"."""
    for action in command._actions:
        empty = getattr(args, action.dest, None) in (None, action.default)
        if action.option_strings or action.nargs != "?" or not empty:
            continue
        if not rest or (rest[0].startswith("-") and rest[0] != "-"):  # "-": stdin or stdout
            return
        try:
            setattr(args, action.dest, command._get_values(action, [rest.pop(0)]))
        except argparse.ArgumentError as exc:
            command.error(str(exc))


def _a_negative_clock_value(args, rest: list[str]) -> bool:
    """Whether argparse took a `clock` value such as -5m for an unknown option."""
    return (
        args.func is cmd_clock and args.value is None and _NEGATIVE_VALUE.match(rest[0]) is not None
    )


def _fail(error: Exception, code: int) -> int:
    # the sandbox's words may quote a client's or a scenario file's text: each line printable
    said = "\n".join(printable(line) for line in str(error).split("\n"))
    print(f"domainsandbox: {said}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
