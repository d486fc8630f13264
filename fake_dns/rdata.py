"""Validate record values given in presentation format and turn them into dnslib rdata."""

from __future__ import annotations

import ipaddress
import re

from dnslib import AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT, A

from .limits import MAX_CAA_TAG, MAX_LABEL, MAX_NAME, MAX_TXT_BYTES, TXT_CHUNK

# The types a zone accepts; the order is the order error messages list them in.
SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SRV", "NS", "CAA", "PTR")


# How much of an offending value an error message shows: a person recognises it by its start,
# and a value of a megabyte must not become a message of a megabyte.
SHOWN_CHARACTERS = 60
# ... but a name whole, when a DNS name could be that long (quoted, with a final dot to spare).
SHOWN_NAME_CHARACTERS = MAX_NAME + 7

# Matched whole (fullmatch): "$" would also match before a final newline. ASCII only, so no
# Unicode letter can pass for one (the Kelvin sign lowercases to "k").
_LABEL_RE = re.compile(r"[A-Za-z0-9_-]+|\*")
# A TXT value in double quotes: a zone file's character-strings ("v=spf1 ~all" or "a" "b").
_QUOTED_TXT_RE = re.compile(r'\s*".*"\s*', re.DOTALL)
_ONE_PLAIN_STRING_RE = re.compile(r'\s*"([^"\\]*)"\s*')  # no escapes: any length, split at 255


def brief(value, limit: int = SHOWN_CHARACTERS, text: str | None = None) -> str:
    """``repr(value)`` (or the `text` given for it), cut to its first `limit` characters and
    its size when longer."""
    text = repr(value) if text is None else text
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        size = f"{len(value)} characters"
    elif isinstance(value, (list, tuple, dict)):
        size = f"{len(value)} entries"
    else:
        size = f"{len(text)} characters"
    return f"{text[:limit]}… ({size})"


def _idna(text: str) -> str | None:
    """An internationalized name's ASCII form (Python's IDNA 2003 codec), or None; None too
    where no label needs an A-label (a Kelvin sign that nameprep maps to "k" is no IDN), and
    where that form is no DNS name either (a space kept: not a form to offer)."""
    try:
        ascii_form = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels_fit = all(_LABEL_RE.fullmatch(label) for label in ascii_form.split("."))
    return ascii_form if "xn--" in ascii_form and labels_fit else None


def normalize_name(name: str, max_length: int | None = MAX_NAME) -> str:
    """Lowercase a domain name and drop the trailing dot; raise ValueError if malformed
    (`max_length`: None checks the labels alone)."""
    shown = brief(name, limit=SHOWN_NAME_CHARACTERS)  # never a megabyte of one
    if not isinstance(name, str):
        raise ValueError(f"name must be a string, got {shown}")
    text = name.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise ValueError(f"invalid name {shown}: empty")
    if max_length is not None and len(text) > max_length:
        raise ValueError(f"invalid name {shown}: longer than {max_length} characters")
    if not text.isascii() and (ascii_form := _idna(text)):  # DNS carries an IDN's A-labels
        raise ValueError(f"invalid name {shown}: not ASCII; in DNS it is written {ascii_form!r}")
    labels = text.split(".")
    for i, label in enumerate(labels):
        if not label:
            raise ValueError(f"invalid name {shown}: empty label")
        if len(label) > MAX_LABEL:
            raise ValueError(
                f"invalid name {shown}: label {brief(label)} longer than {MAX_LABEL} characters"
            )
        if not _LABEL_RE.fullmatch(label):
            raise ValueError(
                f"invalid name {shown}: label {label!r} may only hold letters, digits, '-' and '_'"
            )
        if label == "*" and i != 0:
            raise ValueError(f"invalid name {shown}: '*' is only allowed as the first label")
    return text.lower()


def normalize_type(rtype: str) -> str:
    """Uppercase a record type and check that it is supported."""
    text = str(rtype).strip().upper()
    if text not in SUPPORTED_TYPES:
        raise ValueError(f"unknown type {brief(rtype)} (supported: {', '.join(SUPPORTED_TYPES)})")
    return text


def parse_value(rtype: str, value):
    """Validate ``value`` for ``rtype``; return (normalized presentation value, dnslib rdata).

    Raises ValueError with a message describing what is wrong with the value.
    """
    parser = _PARSERS[rtype]
    if rtype != "TXT" and not isinstance(value, str):
        raise ValueError(f"value must be a string, got {brief(value)}")
    return parser(value.strip() if isinstance(value, str) and rtype != "TXT" else value)


def _host(text: str, what: str = "host name") -> str:
    try:
        return normalize_name(text)
    except ValueError as exc:
        raise ValueError(f"invalid {what} {brief(text)}: {exc}") from None


def _int(text: str, what: str, top: int) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > top:  # not "١٠", nor "²"
        raise ValueError(f"{what} must be an integer from 0 to {top}, got {brief(text)}")
    return int(text)


def _fields(text: str, count: int, shape: str) -> list[str]:
    parts = text.split()
    if len(parts) != count:
        raise ValueError(f"expected {shape!r}, got {brief(text)}")
    return parts


def _a(text):
    try:
        addr = ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"not an IPv4 address: {brief(text)}") from None
    return str(addr), A(str(addr))


def _aaaa(text):
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError:
        raise ValueError(f"not an IPv6 address: {brief(text)}") from None
    if addr.scope_id:  # the zone index of one machine's interface: no record holds it
        raise ValueError(
            f"not an IPv6 address a record holds: {brief(text)} names an interface of one "
            "machine (%...); give the address without it"
        )
    return str(addr), AAAA(str(addr))


def _target(cls):
    def parse(text):
        host = _host(text, "target")
        return host, cls(host + ".")

    return parse


def _mx(text):
    pref, host = _fields(text, 2, "PREFERENCE EXCHANGE")
    pref_n = _int(pref, "MX preference", 65535)
    if host == ".":  # the null MX: this domain accepts no mail (RFC 7505)
        return f"{pref_n} .", MX(".", pref_n)
    host = _host(host, "exchange")
    return f"{pref_n} {host}", MX(host + ".", pref_n)


def _srv(text):
    prio, weight, port, host = _fields(text, 4, "PRIORITY WEIGHT PORT TARGET")
    nums = [_int(v, w, 65535) for v, w in ((prio, "priority"), (weight, "weight"), (port, "port"))]
    host = "." if host == "." else _host(host, "target")
    target = host if host == "." else host + "."
    return f"{nums[0]} {nums[1]} {nums[2]} {host}", SRV(*nums, target=target)


# dnspython's words for a CAA it cannot read, said as a person who wrote one would say them
_CAA_REASONS = {
    "string too long": f"its tag is over {MAX_CAA_TAG} characters",  # its length is one byte
    "expected EOL or EOF": "its value is not one string in quotes",  # "a" "b", or a b
}


def _caa(text):
    """FLAGS TAG VALUE, read as a zone file reads it (dnspython): the value bare or one string
    in quotes, its escapes read (RFC 8659 4.1.1, RFC 1035 5.1)."""
    import dns.exception
    import dns.rdata

    try:
        caa = dns.rdata.from_text("IN", "CAA", text)
        val = caa.value.decode("utf-8")
    except dns.exception.DNSException as exc:
        reason = _CAA_REASONS.get(str(exc).split(",")[0], str(exc).rstrip("."))
        raise ValueError(f"expected 'FLAGS TAG \"VALUE\"', got {brief(text)}: {reason}") from None
    except UnicodeDecodeError:  # \255, or bytes that are no UTF-8
        raise ValueError(f"its value in {brief(text)} is no UTF-8 text") from None
    if (size := len(caa.value)) > MAX_TXT_BYTES:
        raise ValueError(f"its value is {size} bytes: at most {MAX_TXT_BYTES}")
    tag = caa.tag.decode("ascii").lower()
    return f"{caa.flags} {tag} {_in_quotes(val)}", CAA(caa.flags, tag, val)


def _txt(value):
    """A str becomes one TXT record split into strings of 255 bytes at most, each ending where a
    character does; a list stays several strings."""
    if isinstance(value, str):
        data = value.encode("utf-8")
        if len(data) > MAX_TXT_BYTES:
            raise ValueError(f"TXT value of {len(data)} bytes: at most {MAX_TXT_BYTES} are allowed")
        return value, TXT(_character_strings(data))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        chunks = []
        for part in value:
            data = part.encode("utf-8")
            if len(data) > TXT_CHUNK:
                raise ValueError(
                    f"TXT string longer than {TXT_CHUNK} bytes in a multi-string value"
                )
            chunks.append(data)
        return list(value), TXT(chunks)
    raise ValueError(
        f"TXT value must be a string or a non-empty list of strings, got {brief(value)}"
    )


def _character_strings(data: bytes) -> list[bytes]:
    """UTF-8 ``data`` in character-strings of TXT_CHUNK bytes at most, each cut before the
    first byte of a character, never inside one: a string read alone (as a client that decodes
    each may) is then whole UTF-8, and the strings joined are ``data`` still (RFC 7208 3.3)."""
    chunks, start = [], 0
    while len(data) - start > TXT_CHUNK:
        end = start + TXT_CHUNK
        while data[end] & 0xC0 == 0x80:  # a continuation byte: its character began before
            end -= 1
        chunks.append(data[start:end])
        start = end
    chunks.append(data[start:])
    return chunks


def unquoted_txt(value):
    """A TXT value as a person gives it to a DNS host: in double quotes, the strings a zone file
    writes (`"v=spf1 ~all"`, `"a" "b"`, `\"` inside; RFC 1035 5.1, read by dnspython), one as a
    str and several as a list; any other value as it is. Providers show values so (Resend's
    SPF); the zone itself takes every value literally."""
    if not isinstance(value, str) or not _QUOTED_TXT_RE.fullmatch(value):
        return value
    if one := _ONE_PLAIN_STRING_RE.fullmatch(value):
        return one[1]
    import dns.exception
    import dns.rdata

    try:
        strings = [data.decode("utf-8") for data in dns.rdata.from_text("IN", "TXT", value).strings]
    except (dns.exception.DNSException, UnicodeDecodeError) as exc:
        raise ValueError(
            f'TXT value {brief(value)} is not zone-file strings ("one" or "one" "two"): '
            f"{str(exc).rstrip('.')}; or give it without the quotes"
        ) from None
    return strings[0] if len(strings) == 1 else strings


def quoted_txt(value) -> str:
    """A TXT value of several strings as a zone file writes them (`"one" "two"`), which
    unquoted_txt reads back; a value of one string as it is."""
    if isinstance(value, str):
        return value
    return " ".join(_in_quotes(text) for text in value)


def _in_quotes(text: str) -> str:
    """One character-string as a zone file writes it: in quotes, `"` and `\\` escaped."""
    return '"' + re.sub(r'(["\\])', r"\\\1", text) + '"'


_PARSERS = {
    "A": _a,
    "AAAA": _aaaa,
    "CNAME": _target(CNAME),
    "NS": _target(NS),
    "PTR": _target(PTR),
    "MX": _mx,
    "TXT": _txt,
    "SRV": _srv,
    "CAA": _caa,
}
