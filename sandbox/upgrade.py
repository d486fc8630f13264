"""Worlds an earlier domainsandbox wrote (state files, exported scenarios), brought up to the
format this one writes before they load (scenario.load_world applies UPGRADES).

A world's `format` says what its keys mean; scenario.FORMAT is the one this version writes.
Whenever what a world holds changes, FORMAT goes up by one and a function here turns a world
of the format before into one of the new: worlds of every earlier format load, and a world of
a newer format is refused in one line (from format 2's version on) instead of misread.

- Format 1: every world written before format 2, from 7ab896f (the first `serve --state`)
  on. Until d77d6f8 a domain's owner was the credential itself: AutoSend's API key,
  Scaleway's secret key (in lower case), Vortex's "<API key>|<account>" ("(no key)" for calls
  made without one). Scaleway kept the organization it drew for each secret key, Vortex its
  principals by API key, Monite a table of the access tokens it issued. From d77d6f8 on,
  owners are opaque ids (Provider.owner_of(credential)), Scaleway derives the organization
  from the owner id and Monite's tokens carry their own signed grant: format-1 worlds written
  since need nothing but the new number.
- Format 2: owners are owner ids; no provider state is keyed by a credential.
- Format 3: `deleted_places`, where deleted domains stood for a page cursor that names one
  (Resend's `after`); a format-2 world kept none, and its cursors naming a deleted domain are
  refused as they were after a load before.

A state file's own layout, around the world it holds, is brought forward the same way by
sandbox/durable.py: a file saved before checksums were kept loads as it is, and its first save
adds the checksum.
"""

from __future__ import annotations

import re

from .providers.base import owner_id

# An owner id as Provider.owner_of makes it: already upgraded, or written since d77d6f8.
OWNER_ID = re.compile(r"^owner-[0-9a-f]{24}$")
# Providers whose domain owners were credentials before d77d6f8 (Monite's owner, its client_id,
# did not change).
_CREDENTIAL_OWNERS = ("autosend", "scaleway", "vortex")


class Upgrade:
    """What upgrading one world changed: `changes` for the line that says it was upgraded,
    `notices` each a line of its own."""

    def __init__(self, from_format: int, to_format: int):
        self.from_format, self.to_format = from_format, to_format
        self.changes: list[str] = []
        self.notices: list[str] = []

    def lines(self, what: str, always: bool = False) -> list[str]:
        """Lines saying that `what` (the world upgraded) was upgraded and what that changed;
        none when only its format number changed, unless `always`."""
        if not (self.changes or self.notices or always):
            return []
        changed = "".join(f"; {change}" for change in self.changes)
        return [
            f"{what} was written by an earlier domainsandbox (format {self.from_format}): "
            f"upgraded to format {self.to_format}{changed}",
            *self.notices,
        ]


def from_format_1(world: dict, upgrade: Upgrade) -> dict:
    """A format-1 world as format 2: owners that are credentials become owner ids (domains,
    Vortex's principals), Scaleway's organization table goes (each organization is derived
    from its owner id), and Monite's token table goes (its clients log in again).

    Shapes the schema would refuse are left as they are, for the load to name them."""
    world = dict(world)
    domains = world.get("domains")
    if isinstance(domains, list):
        world["domains"], moved = _owners_upgraded(domains)
        if moved:
            upgrade.changes.append(
                f"the owners of {_count(moved, 'domain')} are kept as owner ids, not credentials"
            )
    providers = world.get("providers")
    if isinstance(providers, dict):
        world["providers"] = _states_upgraded(providers, upgrade)
    return world


def _owners_upgraded(domains: list) -> tuple[list, int]:
    upgraded, moved = [], 0
    for entry in domains:
        owner = _owner_upgraded(entry) if isinstance(entry, dict) else None
        if owner is not None:
            entry, moved = entry | {"owner": owner}, moved + 1
        upgraded.append(entry)
    return upgraded, moved


def _owner_upgraded(entry: dict) -> str | None:
    """The owner id standing for a domain entry's credential owner, or None (nothing to do)."""
    provider, owner = entry.get("provider"), entry.get("owner")
    if provider not in _CREDENTIAL_OWNERS or not isinstance(owner, str) or not owner:
        return None
    if provider != "vortex":
        return None if OWNER_ID.match(owner) else owner_id(provider, owner)
    attrs = entry.get("attrs")
    account = attrs.get("accountId") if isinstance(attrs, dict) else None
    if isinstance(account, str) and owner.endswith(f"|{account}"):
        key = owner[: -len(account) - 1]
    else:
        key, _, account = owner.partition("|")
    return None if OWNER_ID.match(key) else f"{owner_id('vortex', key)}|{account}"


def _states_upgraded(providers: dict, upgrade: Upgrade) -> dict:
    providers = dict(providers)
    monite = providers.get("monite")
    if isinstance(monite, dict) and "tokens" in monite:
        tokens = monite["tokens"]
        providers["monite"] = {k: v for k, v in monite.items() if k != "tokens"}
        if isinstance(tokens, dict) and tokens:
            upgrade.notices.append(
                f"{_count(len(tokens), 'Monite access token')} issued before the upgrade "
                f"{'no longer works' if len(tokens) == 1 else 'no longer work'}: Monite "
                "clients get a new one with their client credentials (POST /auth/token)"
            )
    scaleway = providers.get("scaleway")
    if isinstance(scaleway, dict) and "organizations" in scaleway:
        providers["scaleway"] = {k: v for k, v in scaleway.items() if k != "organizations"}
    vortex = providers.get("vortex")
    if isinstance(vortex, dict) and isinstance(vortex.get("principals"), dict):
        principals = {
            key
            if not isinstance(key, str) or OWNER_ID.match(key)
            else owner_id("vortex", key): principal
            for key, principal in vortex["principals"].items()
        }
        providers["vortex"] = vortex | {"principals": principals}
    return providers


def from_format_2(world: dict, upgrade: Upgrade) -> dict:
    """A format-2 world as format 3: as it is (it kept no deleted domain's place)."""
    return world


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


# format -> the function that turns a world of that format into one of the next
UPGRADES = {1: from_format_1, 2: from_format_2}
