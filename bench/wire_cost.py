"""What the wire of `serve --workers N` costs the world, apart from the world's own work.

    python bench/wire_cost.py [--calls 20000] [--clients 2] [--in-flight 8]

A WireServer in this process answers a call that does nothing but hand back a ready answer;
`--clients` processes (the workers) each keep `--in-flight` calls going on one WireClient, each
call carrying a provider request as the front end sends one, and each answer a list of three
domains. The CPU this process spent per call is the wire's share of the world's CPU per request
that bench/workers.py measures: the rest of that figure is the world's own work. Run once with
one call in flight per client too: with several, a read or write may carry several frames.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import subprocess
import sys
import time

from _common import figure, table

from sandbox.request import Answer, Call, Request
from sandbox.wire import WireClient, WireServer

KEY_ENV = "WIRE_COST_KEY"  # how the clients learn the run's key
HEADERS = {
    "host": "127.0.0.1:8080",
    "user-agent": "monite-python/0.5",
    "accept": "application/json",
    "x-monite-version": "2024-05-25",
    "x-monite-entity-id": "9d2b4c8e-2a6f-4e1b-8c3d-5f7a9b1c3e5d",
    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXJ0bmVyIn0.c2lnbmF0dXJl",
}
DOMAIN = {"id": "cdc2d4b3-9ff6-48ce-9ca0-31087ea7cdc5", "domain": "a.example.com", "status": "new"}
ANSWER = Answer.json({"data": [DOMAIN] * 3}, 200, {"x-request-id": "0f1e2d3c-4b5a-6978"})


def call() -> Call:
    request = Request("GET", "/monite/v1/mailbox_domains", "list", {}, None, HEADERS, "")
    return Call("monite", request, received_at=time.monotonic())


def run_client(address: str, key: bytes, calls: int, in_flight: int) -> None:
    """A worker's side: `calls` calls, `in_flight` at a time, on one connection."""

    async def asking():
        client = WireClient(address, key)

        async def one_after_another(count: int):
            for _ in range(count):
                await client.ask("serve", call())

        await asyncio.gather(*(one_after_another(calls // in_flight) for _ in range(in_flight)))

    asyncio.run(asking())


def world_cpu_us(calls: int, clients: int, in_flight: int) -> float:
    """This process's CPU per call while `clients` processes make `calls` calls in all."""
    address, key = f"\0domainsandbox-bench-{secrets.token_hex(8)}", secrets.token_bytes(32)
    server = WireServer(address, key, {"serve": lambda _call: ANSWER}).start()
    each = calls // clients
    command = [sys.executable, __file__, "--client", address[1:], "--calls", str(each)]
    env = os.environ | {KEY_ENV: key.hex()}
    try:
        before = resource.getrusage(resource.RUSAGE_SELF)
        workers = [
            subprocess.Popen([*command, "--in-flight", str(in_flight)], env=env)
            for _ in range(clients)
        ]
        if any(worker.wait() for worker in workers):
            raise RuntimeError("a client failed")
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        server.stop()
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return spent / (each * clients) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls in all, per run")
    parser.add_argument("--clients", type=int, default=2, help="client processes (workers)")
    parser.add_argument("--in-flight", type=int, default=8, help="calls in flight per client")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # a client process's address
    opts = parser.parse_args()
    if opts.client:
        key = bytes.fromhex(os.environ[KEY_ENV])
        run_client("\0" + opts.client, key, opts.calls, opts.in_flight)
        return 0
    rows = []
    for in_flight in dict.fromkeys([1, opts.in_flight]):
        us = world_cpu_us(opts.calls, opts.clients, in_flight)
        rows.append([opts.clients, in_flight, opts.calls, us])
        figure(
            "wire",
            f"world CPU per call, wire alone, {opts.clients} clients x {in_flight} in flight",
            us,
            "us",
        )
    print(f"the wire alone: a ready answer to each call, {os.cpu_count()} cores")
    table(rows, ["clients", "in flight each", "calls", "world CPU us/call"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
