"""The standalone server: ``dns serve [--host 127.0.0.1] [--port 5353] [--zone zone.yaml]``.

Run as ``python -m fake_dns dns serve ...`` (the leading ``dns serve`` words are optional).
Serves until Ctrl-C or SIGTERM, then exits 0; a bad zone file or a busy port exits 2.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from .server import FakeDNS
from .zonefile import ZoneFileError, apply_records, load_zone_file

# Defaults for the standalone server: loopback only, and the mDNS port, which needs no root.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5353
PROG = "fake_dns"  # who says an error, unless the command that ran this says otherwise


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, zone_path=None, prog=PROG) -> int:
    """Serve ``zone_path`` (a YAML zone file, optional) on host:port until interrupted.

    Returns the process exit code: 0 after Ctrl-C/SIGTERM, 2 on a bad zone file or busy port,
    said in one line starting with ``prog`` (the command the user ran).
    """
    records = []
    if zone_path:
        try:
            records = load_zone_file(zone_path)
        except ZoneFileError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 2
    dns = FakeDNS(host=host, port=port)
    apply_records(dns.zone, records)
    try:
        dns.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            said = f"port {port} is already in use on {host}; choose another with --port N"
        else:
            said = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        print(f"{prog}: {said}", file=sys.stderr)
        return 2
    done, previous = _stop_on_signals()  # before announcing, so an early Ctrl-C is clean
    try:
        print(
            f"fake DNS listening on {dns.host}:{dns.port} (UDP and TCP), {len(records)} record(s)",
            flush=True,
        )
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass  # Ctrl-C outside the main thread's handler (e.g. when called from another tool)
    finally:
        dns.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("fake DNS stopped", flush=True)
    return 0


def _port(text: str) -> int:
    if not text.strip().isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["dns", "serve"]:
        args = args[2:]
    elif args[:1] == ["serve"]:
        args = args[1:]
    parser = argparse.ArgumentParser(
        prog="python -m fake_dns [dns serve]", description="Serve a fake DNS zone."
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="UDP and TCP port")
    parser.add_argument("--zone", help="YAML zone file: a list of {name, type, value, ttl}")
    opts = parser.parse_args(args)
    return serve(opts.host, opts.port, opts.zone)


def _stop_on_signals() -> tuple[threading.Event, dict]:
    """An event set by SIGINT or SIGTERM, and the handlers it replaced (to restore later).

    Handlers can only be installed from the main thread; elsewhere the event never fires.
    """
    done = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    return done, previous
