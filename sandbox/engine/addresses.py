"""Seeded public IPv4 addresses, drawn exactly as Faker's `ipv4_public()` draws them.

The sandbox once drew its addresses with Faker. Faker is no longer installed with the sandbox
(its pytest plugin builds a Faker at the start of every pytest session of every project that
has it installed, which cost a user's test suite more than half a second of CPU), so the
same draw is made here: the same seed still gives the same addresses, byte for byte
(tests/test_ids.py compares the two).
"""

from __future__ import annotations

import random
from functools import cache
from ipaddress import IPv4Network
from itertools import accumulate

_CLASSES = {"a": "0.0.0.0/1", "b": "128.0.0.0/2", "c": "192.0.0.0/3"}
_PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
# IANA's special-purpose blocks (as Faker lists them): never drawn.
_SPECIAL = [
    "0.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
]


@cache
def public_networks(address_class: str) -> tuple[list[tuple[int, int]], list[float]]:
    """The public networks of an address class, in Faker's order, each as (first address, size),
    and their sizes added up as `random.choices` adds its weights (once here, not per draw)."""
    networks = [IPv4Network(_CLASSES[address_class])]
    excluded = sorted((IPv4Network(n) for n in _PRIVATE + _SPECIAL), key=lambda n: n.prefixlen)
    for hole in excluded:
        networks = [part for network in networks for part in _without(network, hole)]
    sizes = [float(n.num_addresses) for n in networks]
    return [(int(n.network_address), n.num_addresses) for n in networks], list(accumulate(sizes))


def _without(network: IPv4Network, hole: IPv4Network) -> list[IPv4Network]:
    if hole.subnet_of(network):
        return list(network.address_exclude(hole))
    return [] if network.overlaps(hole) else [network]


def ipv4_public(stream: random.Random) -> str:
    """A public IPv4 address drawn from `stream`: a class, a network weighted by size, an
    address in it."""
    networks, added_sizes = public_networks(stream.choice("abc"))
    [(first, size)] = stream.choices(networks, cum_weights=added_sizes)
    address = first + stream.randint(0, size - 1)
    return ".".join(map(str, address.to_bytes(4, "big")))  # as IPv4Address says it
