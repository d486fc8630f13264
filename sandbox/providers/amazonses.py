"""Amazon SES's DNS conventions: what SES asks a domain to publish, for SES itself and for the
providers that send through it (AutoSend, Vortex). One place, so they cannot drift apart."""

from __future__ import annotations

from ..engine.records import RequiredRecord, Rule

# Where Easy DKIM's CNAMEs point: `<token>._domainkey.<domain>` -> `<token>.<zone>`.
DKIM_HOSTED_ZONE = "dkim.amazonses.com"
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


def mail_from_records(
    mail_from: str, region: str, kinds=("mail_from_mx", "mail_from_spf"), level: str = "required"
) -> list[RequiredRecord]:
    """A custom MAIL FROM domain's MX (to SES's feedback endpoint) and SPF TXT records."""
    mx_kind, spf_kind = kinds
    return [
        RequiredRecord(
            mx_kind,
            "MX",
            mail_from,
            feedback_exchange(region),
            Rule.MX,
            priority=MAIL_FROM_MX_PRIORITY,
            level=level,
        ),
        RequiredRecord(spf_kind, "TXT", mail_from, SPF_VALUE, Rule.SPF, SPF_INCLUDE, level=level),
    ]
