"""Deterministic identities: every id, token, key and address comes from one seeded source."""

from __future__ import annotations

import base64
import random
from functools import cache

from .addresses import ipv4_public

DEFAULT_SEED = 1234


class Ids:
    """Seeded identities: same seed and same sequence of draws, same values.

    Each draw gets its own random stream derived from (seed, draw number), so the whole state is
    two integers: a scenario can save it and a later load continues exactly where it stopped.
    """

    def __init__(self, seed: int = DEFAULT_SEED, drawn: int = 0):
        self.seed = seed
        self.drawn = drawn

    @property
    def random(self) -> random.Random:
        """A fresh seeded random stream for one draw."""
        self.drawn += 1
        return self.stream(self.drawn)

    def stream(self, draw: int) -> random.Random:
        """The random stream of the draw numbered `draw` (from 1), drawn now or reserved."""
        return random.Random(f"{self.seed}/{draw}")

    def reserve(self, count: int) -> int:
        """Skip `count` draws and say the first one's number: values a caller makes later, only
        if they are ever asked for (`uuid_of`), each what drawing it now would have given."""
        self.drawn += count
        return self.drawn - count + 1

    def state(self) -> dict:
        return {"seed": self.seed, "drawn": self.drawn}

    def uuid(self) -> str:
        return uuid4_text(self.random.getrandbits(128))

    def uuid_of(self, draw: int) -> str:
        """The `uuid()` of the draw numbered `draw` (one `reserve` kept)."""
        return uuid4_text(self.stream(draw).getrandbits(128))

    def hex(self, length: int) -> str:
        return f"{self.random.getrandbits(length * 4):0{length}x}"

    def token(self, length: int = 40) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return choices(self.random, alphabet, length)

    def ipv4(self) -> str:
        """A public IPv4 address; the same draw Faker's `ipv4_public()` makes on this stream
        (addresses drawn before Faker left the base install are unchanged)."""
        stream = random.Random(f"{self.seed}/faker/{self.drawn}")
        self.drawn += 1
        return ipv4_public(stream)

    def rsa_public_key(self, bits: int = 1024) -> str:
        """A base64 SubjectPublicKeyInfo for an RSA key, as DKIM records carry in `p=`.

        The modulus is a seeded random odd number of the right size: the record has the exact
        shape and length of a real key, which is all DNS verification ever compares.
        """
        modulus = self.random.getrandbits(bits) | (1 << (bits - 1)) | 1
        before, after = _spki_around(bits)
        spki = before + modulus.to_bytes((bits + 7) // 8, "big") + after
        return base64.b64encode(spki).decode()


def choices(stream: random.Random, alphabet: str, count: int) -> str:
    """The `count` letters `stream.choice(alphabet)` gives one call at a time, drawn in bulk: an
    eighth of the time (Easy DKIM's three tokens are 96 letters: 2.3 us where they took 18).

    Each choice of one of n letters takes k = n.bit_length() bits from the top of the stream's
    next 32-bit word, and another word while those bits say n or more. Here 256 words come at
    once, each word's top byte says its letter or nothing (a table), and the letters go on in
    the same order. An alphabet of ASCII letters."""
    table, refused = _letters_by_top_byte(alphabet)
    letters = b""
    while len(letters) < count:
        words = stream.getrandbits(32 * 256).to_bytes(4 * 256, "little")  # first word lowest
        letters += words[3::4].translate(table, refused)
    return letters[:count].decode()


@cache
def _letters_by_top_byte(alphabet: str) -> tuple[bytes, bytes]:
    """(the letter each top byte of a word gives, the top bytes that give none)."""
    shift = 8 - len(alphabet).bit_length()
    letter = [b >> shift for b in range(256)]
    table = bytes(ord(alphabet[n]) if n < len(alphabet) else 0 for n in letter)
    return table, bytes(b for b in range(256) if letter[b] >= len(alphabet))


class RequestIds:
    """UUIDs for an API's request-id header, from a seeded stream of their own: answering never
    shifts the ids of domains, and the same seed gives the same sequence."""

    def __init__(self, seed: int, name: str):
        self._stream = random.Random(f"{seed}/{name}")

    def next(self) -> str:
        return uuid4_text(self._stream.getrandbits(128))


def uuid4_text(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))`, without building the UUID: under half the time
    of a request id, answered with every call (and Scaleway's create draws fourteen)."""
    bits = bits & ~(0xC000 << 48) | (0x8000 << 48)  # the variant: RFC 4122
    bits = bits & ~(0xF000 << 64) | (4 << 76)  # the version
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return _der(0x02, raw)


@cache
def _spki_around(bits: int) -> tuple[bytes, bytes]:
    """The DER before and after the modulus in `_rsa_spki` of any `bits`-bit modulus (its top
    bit set) and the exponent 65537: such keys differ only in the modulus' bytes, so a key is
    three byte strings joined (0.2 us, where encoding it took 2.2: a key per create)."""
    exponent = _der_int(65537)
    whole = _rsa_spki(1 << (bits - 1), 65537)
    return whole[: -((bits + 7) // 8) - len(exponent)], exponent


def _rsa_spki(modulus: int, exponent: int) -> bytes:
    rsa_oid = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))
    public_key = _der(0x30, _der_int(modulus) + _der_int(exponent))
    return _der(0x30, rsa_oid + _der(0x03, b"\x00" + public_key))
