"""Where the world runs each call: on the event loop, or in a lane of threads of its own; and
which calls change nothing (their answers never wait for a save of the state file).

A call that only touches memory is answered on the event loop, at once. The others run in
threads, in lanes that never wait for one another:

- DNS: provider handlers that ask DNS (verifies): a bounded pool, so that a DNS outage's flood
  of verifies never takes the threads every other call needs;
- WORLD: control calls, and provider calls that land due steps (which may ask DNS);
- HELD: control calls that hold the world still (clock moves, resets, scenario loads and
  exports): they wait for one another, as long as a move takes, in threads of their own.
"""

from __future__ import annotations

DNS, WORLD, HELD = "dns", "world", "held"
LOOP = "loop"  # the event loop, always: nothing landed on the way (the health check)


def _lane(name: str):
    def mark(handler):
        handler.lane = name
        return handler

    return mark


# A provider handler that asks DNS.
off_loop = _lane(DNS)
# A control handler that holds the world still: it may wait for a clock move under way.
holds_world = _lane(HELD)
# A control handler answered from memory alone, on the event loop (the health check: it must
# answer while every thread waits).
on_loop = _lane(LOOP)


# Methods whose calls change nothing in the world.
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


def reads(handler):
    """Mark a handler that changes nothing in the world though its method is not a read's
    (SES's list is a POST): under `serve --state` its answer waits for no save."""
    handler.reads = True
    return handler
