"""Each provider's doc names the public source of its facts (the sources the audit checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers import PROVIDER_NAMES, PROVIDERS_BY_NAME

ROOT = Path(__file__).parent.parent
# Where each provider's doc lives, and public sources its "Sources" list must name.
SOURCES = {
    "monite": (
        "README.md",
        ["team-monite/monite-sdk", "schema.json", "api/concepts/http-headers", "`monite` 0.5.4"],
    ),
    "autosend": (
        "docs/autosend.md",
        ["api-reference/errors", "api-reference/rate-limit", "api-reference/domains/add"],
    ),
    "scaleway": (
        "docs/scaleway.md",
        ["mailbox_sdk.go", "validation-rules.gen.ts", "developers/api/mailbox/domains"],
    ),
    "vortex": (
        "docs/vortex.md",
        ["vortex-python-sdk", "src/vortex_sdk/vortex.py", "api-reference/email-domains"],
    ),
    "mailgun": (
        "docs/mailgun.md",
        ["openapi-final/tag/Domains", "domains-verify", "mailgun/mailgun-python", "api-intro.rst"],
    ),
    "resend": (
        "docs/resend.md",
        [
            "resend/resend-openapi",
            "`resend` 2.52.0",
            "api-reference/errors",
            "domains/introduction",
        ],
    ),
    "ses": (
        "docs/ses.md",
        [
            "botocore/data/sesv2/2019-09-27/service-2.json",
            "amazon-ses-developer-guide",
            "managing-identities.md",
            "anomalyco/sst/issues/4556",
        ],
    ),
}


def sources_section(text: str, provider: str) -> str:
    """The Sources list of a doc: its list items, from the heading to the first other line."""
    heading = re.search(r"^(## Sources|Sources of the Monite facts:)$", text, re.M)
    assert heading, f"{provider}: no Sources list"
    items: list[str] = []
    for line in text[heading.end() :].splitlines():
        if line.startswith("- ") or (items and line.startswith("  ")):
            items.append(line)
        elif items and line:
            break  # the first line after the list
    return "\n".join(items)


@pytest.mark.parametrize("provider", sorted(SOURCES))
def test_each_providers_doc_has_a_sources_list_naming_its_public_sources(provider):
    path, named = SOURCES[provider]
    section = sources_section((ROOT / path).read_text(), provider)
    for source in named:
        assert source in section, f"{provider}: {source} is not in its Sources list"


def test_autosend_doc_no_longer_says_rate_limits_are_not_modelled():
    doc = (ROOT / "docs/autosend.md").read_text()
    not_modelled = doc[doc.index("**Not modelled**") :].split("\n\n")[0]
    assert "rate limit" not in not_modelled.lower()


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_every_provider_has_a_docs_page_with_its_sources_and_its_choices(provider):
    """docs/<name>.md (Monite's facts live in the README): a Sources list of public links and
    the choices made where the provider's docs are silent."""
    page = ROOT / "docs" / f"{provider}.md"
    text = (page if page.exists() else ROOT / "README.md").read_text()
    assert provider in text.lower()
    links = re.findall(r"https?://\S+", sources_section(text, provider))
    assert len(links) >= 2, f"{provider}: its Sources list names {len(links)} public link(s)"
    assert re.search(r"^(##+ .*)?[Cc]hoices where", text, re.M), f"{provider}: no choices list"


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_each_providers_python_sdk_is_named_by_its_kit_and_installed_for_the_tests(provider):
    """`client(provider)` builds the SDK its kit names: the suite installs it to run it
    unchanged, or the kit says why there is none."""
    import tomllib

    kit = PROVIDERS_BY_NAME[provider].kit
    if kit.sdk is None:
        assert kit.no_python_sdk, f"{provider}: its kit says why it has no Python SDK"
        return
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    installed = {re.split(r"[<>=\[ ]", spec)[0] for spec in extras["test"]}
    assert kit.sdk.package in installed, f"add {kit.sdk.package} to pyproject.toml's test extra"
