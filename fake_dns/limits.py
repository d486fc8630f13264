"""DNS's bounds, written once: code that checks one imports it from here. Documents that must
hold the numbers themselves (openapi/control.yaml, the scenario schema) are held to these by
tests/test_dns_limits.py."""

# A wire name is at most 255 octets (RFC 1035 3.1); in text, without the final dot, that is
# 253 characters (each label's length octet and the root's zero take the rest).
MAX_WIRE_NAME = 255
MAX_NAME = 253
# A label is at most 63 octets (RFC 1035 2.3.4).
MAX_LABEL = 63
# A TXT character-string holds at most 255 bytes (RFC 1035 3.3); longer values are split.
TXT_CHUNK = 255
# Our cap on one TXT (or CAA) value, so an answer always fits a 64 KiB TCP message.
MAX_TXT_BYTES = 16_384
# A CAA tag's length is one byte on the wire; RFC 8659 asks for 15 at most, 255 is the hard cap.
MAX_CAA_TAG = 255
# A DNS message over TCP carries a 2-byte length (RFC 1035 4.2.2).
MAX_MESSAGE = 65_535
