"""Credentials a test registers, per provider, so that a client's handling of a wrong or revoked
key can be tested.

A provider with none registered accepts every well-formed credential (each provider says what
well-formed is). Once one is registered, only registered credentials that were not revoked are
accepted; revoked ones stay listed (and still count as registered) until the world is reset or
the provider's credentials are cleared.
"""

from __future__ import annotations

import threading


class Credentials:
    """Registered credentials: provider -> key -> {"key", "secret"?, "revoked"}."""

    def __init__(self):
        self._registered: dict[str, dict[str, dict]] = {}
        self._lock = threading.Lock()

    def register(self, provider: str, key: str, secret: str | None = None) -> dict:
        """Register (or register again, un-revoking it) a credential of `provider`."""
        entry = {"provider": provider, "key": key}
        if secret is not None:
            entry["secret"] = secret
        entry["revoked"] = False
        with self._lock:
            self._registered.setdefault(provider, {})[key] = entry
        return dict(entry)

    def revoke(self, provider: str, key: str) -> dict:
        """Revoke a registered credential; KeyError when it was never registered."""
        with self._lock:
            entry = self._registered.get(provider, {})[key]
            entry["revoked"] = True
            return dict(entry)

    def list(self, provider: str | None = None) -> list[dict]:
        with self._lock:
            return [
                dict(entry)
                for name, entries in self._registered.items()
                if provider in (None, name)
                for entry in entries.values()
            ]

    def clear(self, provider: str | None = None) -> int:
        """Forget the credentials of one provider (or all): it accepts any well-formed one again."""
        with self._lock:
            names = [provider] if provider else list(self._registered)
            return sum(len(self._registered.pop(name, {})) for name in names)

    def active(self, provider: str) -> bool:
        """True once `provider` has any credential registered (revoked ones count)."""
        return bool(self._registered.get(provider))

    def problem(
        self, provider: str, key: str | None, secret: str | None = None, name: str = "key"
    ) -> str | None:
        """Why `key` (with `secret`, for providers that pair them) is refused, as a sentence
        about the `name` of the credential, or None when it is accepted: always None while
        `provider` has nothing registered."""
        entries = self._registered.get(provider)
        if not entries:
            return None
        entry = entries.get(key or "")
        if entry is None:
            return f"the {name} is not registered in the sandbox"
        if entry["revoked"]:
            return f"the {name} was revoked"
        if "secret" in entry and secret is not None and secret != entry["secret"]:
            return f"the secret does not match the one registered for the {name}"
        return None

    # --- the world's state --------------------------------------------------------------------

    def export(self) -> dict:
        """Plain data for a scenario: provider -> list of {key, secret?, revoked}."""
        with self._lock:
            return {
                name: [
                    {k: v for k, v in entry.items() if k != "provider"}
                    for entry in entries.values()
                ]
                for name, entries in self._registered.items()
                if entries
            }

    def replace(self, registered: dict[str, list[dict]]) -> None:
        """Take the credentials of an exported world (already checked)."""
        with self._lock:
            self._registered = {
                name: {
                    e["key"]: {"provider": name, **e, "revoked": bool(e.get("revoked"))}
                    for e in entries
                }
                for name, entries in registered.items()
            }
