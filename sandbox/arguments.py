"""Ports and seeds: the ranges the sandbox takes them in, checked where they come in (the CLI's
options, the Python API), each refused in one sentence that names the range."""

from __future__ import annotations

import argparse

MAX_PORT = 65535  # 0 asks the system for a free port
MAX_SEED = 2**32 - 1  # the control API's range for seeds


def within(value: int, highest: int, what: str) -> int:
    """`value` when it is a whole number from 0 to `highest`; ValueError naming `what` if not."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise ValueError(f"{value!r} is not {what} (0 to {highest})")
    return value


def _option(highest: int, what: str):
    """An argparse type for a whole number from 0 to `highest`."""

    def parse(text: str) -> int:
        try:
            return within(int(text), highest, what)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} (0 to {highest})") from None

    return parse


port = _option(MAX_PORT, "a port number")
seed = _option(MAX_SEED, "a seed")
