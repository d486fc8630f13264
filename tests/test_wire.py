"""The wire between `serve --workers` processes and the world (sandbox.wire), over a real Unix
socket: calls answered by number, errors carried back, strangers and oversized frames shut out.
"""

from __future__ import annotations

import asyncio
import pickle
import secrets
import socket
import struct
import threading

import pytest

from sandbox import wire
from sandbox.errors import ProviderError
from sandbox.wire import WireClient, WireClosed, WireServer

KEY = b"k" * 32


class Calls:
    """What the tests' world answers: at once, after a wait, or by failing."""

    def __init__(self):
        self.seen: list[tuple] = []
        self.release = threading.Event()

    def table(self) -> dict:
        calls = {"echo": self.echo, "slow": self.slow, "refuse": self.refuse, "bug": self.bug}
        return calls | {"unpicklable": lambda: threading.Lock()}

    def echo(self, value):
        self.seen.append(("echo", value))
        return value

    async def slow(self, value):
        await asyncio.to_thread(self.release.wait, 10)
        return value

    def refuse(self):
        raise ProviderError(429, "slow down")

    def bug(self):
        raise KeyError("nothing here")


@pytest.fixture
def world():
    calls = Calls()
    address = f"\0domainsandbox-test-{secrets.token_hex(8)}"
    server = WireServer(address, KEY, calls.table()).start()
    yield address, calls, server
    calls.release.set()
    server.stop()


def frame(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


def raw_connection(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(address)
    return sock


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_calls_in_flight_are_answered_by_number_and_a_slow_one_holds_up_none(world):
    address, calls, _ = world

    async def scenario():
        client = WireClient(address, KEY)
        slow = asyncio.ensure_future(client.ask("slow", "late"))
        quick = await asyncio.gather(*(client.ask("echo", n) for n in range(50)))
        assert not slow.done()  # the fifty were answered while it waited
        calls.release.set()
        return quick, await slow

    quick, late = asyncio.run(scenario())
    assert quick == list(range(50))
    assert late == "late"


def test_a_provider_error_is_raised_at_the_caller_and_a_bug_is_named_on_the_same_line(world):
    address, _, _ = world

    async def scenario():
        client = WireClient(address, KEY)
        with pytest.raises(ProviderError) as refused:
            await client.ask("refuse")
        with pytest.raises(RuntimeError, match="KeyError"):
            await client.ask("bug")
        with pytest.raises(RuntimeError, match="TypeError"):  # an answer that cannot travel
            await client.ask("unpicklable")
        return refused.value, await client.ask("echo", "still here")

    refused, after = asyncio.run(scenario())
    assert (refused.status, refused.message) == (429, "slow down")
    assert after == "still here"


def test_frames_cut_into_single_bytes_still_arrive_whole(world):
    address, _, _ = world
    call = pickle.dumps((7, "echo", ({"body": "x" * 1000},)))
    with raw_connection(address) as sock:
        for byte in frame(KEY) + frame(call):
            sock.send(bytes([byte]))
        head = sock.recv(4, socket.MSG_WAITALL)
        body = sock.recv(struct.unpack("!I", head)[0], socket.MSG_WAITALL)
    assert pickle.loads(body) == (7, "ok", {"body": "x" * 1000})


def test_a_client_without_the_key_is_closed_and_nothing_it_sends_is_called(world):
    address, calls, _ = world
    with raw_connection(address) as sock:
        sock.sendall(frame(b"w" * 32) + frame(pickle.dumps((1, "echo", ("sneaked",)))))
        assert closed_by_peer(sock)
    assert calls.seen == []


def test_a_client_that_never_presents_the_key_is_closed(world, monkeypatch):
    monkeypatch.setattr(wire, "AUTH_SECONDS", 0.2)
    address, _, _ = world
    with raw_connection(address) as sock:
        assert closed_by_peer(sock)  # within the socket's 5 s timeout


def test_a_frame_over_the_limit_closes_the_connection(world):
    address, calls, _ = world
    with raw_connection(address) as sock:
        sock.sendall(frame(KEY) + struct.pack("!I", wire.MAX_FRAME_BYTES + 1))
        assert closed_by_peer(sock)
    assert asyncio.run(WireClient(address, KEY).ask("echo", "others go on")) == "others go on"


def test_calls_waiting_when_the_world_stops_get_a_503(world):
    address, _, server = world

    async def scenario():
        client = WireClient(address, KEY)
        waiting = asyncio.ensure_future(client.ask("slow", "never"))
        await client.ask("echo", "connected")
        await asyncio.to_thread(server.stop)
        with pytest.raises(WireClosed) as gone:
            await waiting
        with pytest.raises(WireClosed):
            await client.ask("echo", "after")
        return gone.value

    assert asyncio.run(scenario()).status == 503
