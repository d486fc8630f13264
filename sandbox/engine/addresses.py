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
def public_networks(address_class: str) -> tuple[list[IPv4Network], list[float]]:
    """The public networks of an address class, in Faker's order, weighted by size."""
    networks = [IPv4Network(_CLASSES[address_class])]
    excluded = sorted((IPv4Network(n) for n in _PRIVATE + _SPECIAL), key=lambda n: n.prefixlen)
    for hole in excluded:
        networks = [part for network in networks for part in _without(network, hole)]
    return networks, [float(n.num_addresses) for n in networks]


def _without(network: IPv4Network, hole: IPv4Network) -> list[IPv4Network]:
    if hole.subnet_of(network):
        return list(network.address_exclude(hole))
    return [] if network.overlaps(hole) else [network]


def ipv4_public(stream: random.Random) -> str:
    """A public IPv4 address drawn from `stream`: a class, a network weighted by size, an
    address in it."""
    networks, weights = public_networks(stream.choice("abc"))
    network = stream.choices(networks, weights=weights, k=1)[0]
    return str(network[stream.randint(0, network.num_addresses - 1)])
