"""Seeded addresses are drawn as Faker drew them, without Faker installed with the sandbox."""

import random

from faker import Faker

from sandbox.engine.addresses import ipv4_public
from sandbox.engine.ids import Ids


def test_public_addresses_are_the_ones_faker_draws_from_the_same_stream():
    faker = Faker()
    for n in range(3000):
        seed = f"{n % 7}/faker/{n}"
        faker.seed_instance(seed)
        assert ipv4_public(random.Random(seed)) == faker.ipv4_public(), seed


def test_ids_draw_the_addresses_faker_drew_for_the_same_seed_and_draw():
    ids, faker = Ids(seed=1234), Faker()
    for _ in range(50):
        faker.seed_instance(f"1234/faker/{ids.drawn}")
        assert ids.ipv4() == faker.ipv4_public()
        ids.uuid()  # other draws in between move the stream on as before
