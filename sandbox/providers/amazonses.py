"""Amazon SES's DNS conventions: what SES asks a domain to publish, for SES itself and for the
providers that send through it (AutoSend, Vortex, Resend). One place, so they cannot drift
apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.ids import choices
from ..engine.records import RequiredRecord, Rule

if TYPE_CHECKING:
    from ..engine.ids import Ids

# Where Easy DKIM's CNAMEs point: `<token>._domainkey.<domain>` -> `<token>.<zone>`.
DKIM_HOSTED_ZONE = "dkim.amazonses.com"
# Easy DKIM's three records, as record kinds, and the shape of their tokens.
EASY_DKIM_KINDS = ("dkim_1", "dkim_2", "dkim_3")
TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, as the tokens seen in the wild
TOKEN_LENGTH = 32
# A custom MAIL FROM domain's SPF record, and the include its checks look for.
SPF_INCLUDE = "include:amazonses.com"
SPF_VALUE = f"v=spf1 {SPF_INCLUDE} ~all"
MAIL_FROM_MX_PRIORITY = 10


def feedback_exchange(region: str) -> str:
    """The MX exchange of a custom MAIL FROM domain in `region`."""
    return f"feedback-smtp.{region}.amazonses.com"


def dkim_cname(kind: str, token: str, domain: str, zone: str = DKIM_HOSTED_ZONE) -> RequiredRecord:
    """One Easy DKIM record: `<token>._domainkey.<domain>` CNAME `<token>.<zone>`."""
    return RequiredRecord(
        kind, "CNAME", f"{token}._domainkey.{domain}", f"{token}.{zone}", Rule.CNAME
    )


def easy_dkim_tokens(ids: Ids) -> list[str]:
    """Three Easy DKIM tokens, from one seeded draw."""
    letters = choices(ids.random, TOKEN_ALPHABET, TOKEN_LENGTH * len(EASY_DKIM_KINDS))
    return [letters[at : at + TOKEN_LENGTH] for at in range(0, len(letters), TOKEN_LENGTH)]


def easy_dkim_records(
    tokens: list[str], domain: str, zone: str = DKIM_HOSTED_ZONE
) -> list[RequiredRecord]:
    """Easy DKIM's three CNAMEs, one per token, as kinds dkim_1..dkim_3."""
    return [
        dkim_cname(kind, token, domain, zone)
        for kind, token in zip(EASY_DKIM_KINDS, tokens, strict=True)
    ]


def mail_from_records(
    mail_from: str,
    region: str,
    kinds=("mail_from_mx", "mail_from_spf"),
    levels=("required", "required"),
) -> list[RequiredRecord]:
    """A custom MAIL FROM domain's MX (to SES's feedback endpoint) and SPF TXT records, each at
    the level (required, recommended) the provider gives it."""
    (mx_kind, spf_kind), (mx_level, spf_level) = kinds, levels
    return [
        RequiredRecord(
            mx_kind,
            "MX",
            mail_from,
            feedback_exchange(region),
            Rule.MX,
            priority=MAIL_FROM_MX_PRIORITY,
            level=mx_level,
        ),
        RequiredRecord(
            spf_kind, "TXT", mail_from, SPF_VALUE, Rule.SPF, SPF_INCLUDE, level=spf_level
        ),
    ]
