"""The store: every provider's domains, in memory, safe to use from several threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from .records import Domain


class Store:
    """Domains keyed by (provider, id), kept in insertion order."""

    def __init__(self):
        self._domains: dict[tuple[str, str], Domain] = {}
        self._by_name: dict[tuple[str, str], list[Domain]] = {}  # (provider, name): domains
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """Hold the store for a read-modify-write that must not interleave with others."""
        with self._lock:
            yield self

    def add(self, domain: Domain) -> Domain:
        with self._lock:
            self.remove(domain.provider, domain.id)
            self._domains[(domain.provider, domain.id)] = domain
            self._by_name.setdefault((domain.provider, domain.name), []).append(domain)
            return domain

    def get(self, provider: str, domain_id: str) -> Domain | None:
        with self._lock:
            return self._domains.get((provider, domain_id))

    def remove(self, provider: str, domain_id: str) -> Domain | None:
        with self._lock:
            domain = self._domains.pop((provider, domain_id), None)
            if domain is not None:
                same_name = self._by_name[(provider, domain.name)]
                same_name.remove(domain)
                if not same_name:
                    del self._by_name[(provider, domain.name)]
            return domain

    def list(self, provider: str | None = None, owner: str | None = None) -> list[Domain]:
        with self._lock:
            return [
                d
                for d in self._domains.values()
                if (provider is None or d.provider == provider)
                and (owner is None or d.owner == owner)
            ]

    def find_name(self, provider: str, name: str, owner: str | None = None) -> Domain | None:
        """The provider's domain of that name (of that owner, if given), without a scan."""
        with self._lock:
            same_name = self._by_name.get((provider, name.lower()), ())
            return next((d for d in same_name if owner is None or d.owner == owner), None)

    def next_due(self, until: datetime) -> Domain | None:
        """The domain whose scheduled step comes first, if it is due by `until`."""
        with self._lock:
            due = [d for d in self._domains.values() if d.due_at is not None and d.due_at <= until]
            return min(due, key=lambda d: d.due_at, default=None)

    def clear(self) -> None:
        with self._lock:
            self._domains.clear()
            self._by_name.clear()

    def __len__(self) -> int:
        return len(self._domains)
