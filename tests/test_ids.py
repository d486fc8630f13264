"""Seeded identities: addresses drawn as Faker drew them, without Faker installed with the
sandbox; UUIDs said as the standard library says them; letters drawn in bulk as one by one;
DKIM keys framed as the DER encoder frames them."""

import base64
import random
import uuid

from faker import Faker

from sandbox.engine.addresses import ipv4_public
from sandbox.engine.ids import Ids, _rsa_spki, choices, uuid4_text


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


def test_a_uuid_is_said_as_the_standard_library_says_it():
    stream = random.Random(7)
    edges = [0, (1 << 128) - 1, 0x8000 << 48, 0xF000 << 64]
    for bits in edges + [stream.getrandbits(128) for _ in range(20000)]:
        assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4)), hex(bits)


def test_letters_drawn_in_bulk_are_the_ones_drawn_one_by_one():
    """Easy DKIM tokens and API keys keep the letters every seed gave them."""
    base32 = "abcdefghijklmnopqrstuvwxyz234567"
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # Ids.token's
    alphabets = [base32, letters, "ab", "q", "abc"]
    for alphabet in alphabets:
        for seed in range(100):
            for count in (1, 32, 96, 600):  # 600: more than one bulk draw of 256 words gives
                one_by_one = random.Random(f"{seed}/{count}")
                expected = "".join(one_by_one.choice(alphabet) for _ in range(count))
                assert choices(random.Random(f"{seed}/{count}"), alphabet, count) == expected


def test_a_dkim_key_is_the_der_encoding_of_its_modulus():
    """Keys are joined from a frame made once per size: each one is what encoding its
    modulus (the draw's bits, top and bottom bit set) gives, for sizes in whole bytes or not."""
    for bits in (512, 1020, 1024, 2048, 2049):
        ids = Ids(seed=bits)
        for _ in range(20):
            stream = ids.stream(ids.drawn + 1)
            modulus = stream.getrandbits(bits) | (1 << (bits - 1)) | 1
            expected = base64.b64encode(_rsa_spki(modulus, 65537)).decode()
            assert ids.rsa_public_key(bits) == expected, bits
