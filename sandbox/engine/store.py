"""The store: every provider's domains, in memory, safe to use from several threads."""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from .records import Domain

Key = tuple[str, str]  # (provider, id)
# A removed domain's place as a saved world keeps it: (provider, id, owner, after), `after`
# how many of the domains kept (in the order they were added) were added before it.
Place = tuple[str, str, str, int]
# How many removed domains of each provider keep their place for a cursor that names them
# (Store.place): a provider's own, so that many deletions in one never end another's cursors.
REMEMBERED_PLACES = 10_000


class Store:
    """Domains keyed by (provider, id), kept in insertion order, indexed by provider, owner,
    name and due time: a tenant's list costs what that tenant holds, not what the store does."""

    def __init__(self):
        self._domains: dict[Key, Domain] = {}
        # (provider,) and (provider, owner): their domains by id, in insertion order
        self._groups: dict[tuple[str, ...], dict[str, Domain]] = {}
        self._by_name: dict[tuple[str, str], list[Domain]] = {}  # (provider, name): domains
        # Scheduled steps: a heap of (due_at, insertion number, key). An entry whose domain is
        # gone or due at another time is stale and skipped; ties go in insertion order, as the
        # export keeps it, so a restored world runs its steps in the same order.
        self._due: list[tuple[datetime, int, Key]] = []
        self._added: dict[Key, int] = {}
        self._numbers = itertools.count()
        # each provider's last removed, oldest first: {provider: {id: (number, owner)}}
        self._removed: dict[str, dict[str, tuple[int, str]]] = {}
        self._lock = threading.RLock()
        # The id of the last domain this thread found, added or removed: the domain a request
        # touched, for the request journal (a world call runs in one thread, start to end).
        self._touched = threading.local()

    def forget_touched(self) -> None:
        """From now on, `touched()` in this thread names only the domains touched after this."""
        self._touched.id = None

    def touched(self) -> str | None:
        """The id of the last domain this thread found, added or removed."""
        return getattr(self._touched, "id", None)

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """Hold the store for a read-modify-write that must not interleave with others."""
        with self._lock:
            yield self

    def add(self, domain: Domain) -> Domain:
        with self._lock:
            key = (domain.provider, domain.id)
            self.remove(*key)
            self._domains[key] = domain
            for group in _groups_of(domain):
                self._groups.setdefault(group, {})[domain.id] = domain
            self._added[key] = next(self._numbers)
            self._removed.get(domain.provider, {}).pop(domain.id, None)
            self._by_name.setdefault(_name_key(domain), []).append(domain)
            self._touched.id = domain.id
            domain._store = self  # from now on its due_at changes reach rescheduled()
            self.rescheduled(domain)
            return domain

    def get(self, provider: str, domain_id: str) -> Domain | None:
        with self._lock:
            domain = self._domains.get((provider, domain_id))
        if domain is not None:
            self._touched.id = domain_id
        return domain

    def holds(self, provider: str, domain_id: str) -> bool:
        """Whether a domain has this id (not counted as touching it)."""
        with self._lock:
            return (provider, domain_id) in self._domains

    def remove(self, provider: str, domain_id: str) -> Domain | None:
        with self._lock:
            domain = self._domains.pop((provider, domain_id), None)
            if domain is not None:
                self._touched.id = domain_id
                self._remember_place((provider, domain_id), domain.owner)
                for group in _groups_of(domain):
                    members = self._groups[group]
                    del members[domain_id]
                    if not members:
                        del self._groups[group]
                domain._store = None
                same_name = self._by_name[_name_key(domain)]
                same_name.remove(domain)
                if not same_name:
                    del self._by_name[_name_key(domain)]
            return domain

    def _remember_place(self, key: Key, owner: str) -> None:
        provider, domain_id = key
        places = self._removed.setdefault(provider, {})
        places[domain_id] = (self._added.pop(key), owner)
        _forget_oldest(places)

    def place(self, provider: str, domain_id: str, owner: str) -> int | None:
        """Where an owner's domain stands in the order domains were added (a number that only
        grows), or None if it is not the owner's. A removed domain keeps its place, so that a
        page cursor naming it still says where the next page starts."""
        key = (provider, domain_id)
        with self._lock:
            domain = self._domains.get(key)
            if domain is not None:
                return self._added[key] if domain.owner == owner else None
            number, its_owner = self._removed.get(provider, {}).get(domain_id, (None, None))
            return number if its_owner == owner else None

    def removed_places(self, providers: Iterable[str]) -> list[Place]:
        """The places removed domains of these providers keep (`place`), provider by provider
        in the order given, each's in the order they were removed, each said by how many of the
        domains `list()` gives were added before it: what a saved world keeps of them, without
        the numbers, which a load draws anew."""
        with self._lock:
            numbers = [self._added[key] for key in self._domains]  # growing: the added order
            return [
                (provider, domain_id, owner, bisect.bisect_left(numbers, number))
                for provider in dict.fromkeys(providers)
                for domain_id, (number, owner) in self._removed.get(provider, {}).items()
            ]

    def restore(self, domains: Iterable[Domain], places: Iterable[Place] = ()) -> None:
        """Add `domains` in their order to this empty store and give removed domains back the
        places `removed_places()` said, among them; a place of a domain that is there again is
        its own."""
        domains, places = list(domains), list(places)
        before: dict[int, list[Key]] = {}
        for provider, domain_id, _, after in places:
            before.setdefault(min(after, len(domains)), []).append((provider, domain_id))
        numbers: dict[Key, int] = {}
        with self._lock:
            for at in range(len(domains) + 1):
                for key in before.get(at, ()):
                    numbers[key] = next(self._numbers)
                if at < len(domains):
                    self.add(domains[at])
            for provider, domain_id, owner, _ in places:  # in the order they were removed
                key = (provider, domain_id)
                if key not in self._domains:
                    self._removed.setdefault(provider, {})[domain_id] = (numbers[key], owner)
            for kept in self._removed.values():
                _forget_oldest(kept)

    def list(self, provider: str | None = None, owner: str | None = None) -> list[Domain]:
        """Domains in the order they were added: all, a provider's, or an owner's of one."""
        with self._lock:
            if provider is None:
                return [d for d in self._domains.values() if owner is None or d.owner == owner]
            group = (provider,) if owner is None else (provider, owner)
            return list(self._groups.get(group, {}).values())

    def count(self, provider: str, owner: str | None = None) -> int:
        """How many domains a provider holds, or an owner holds of it, without listing them."""
        with self._lock:
            return len(self._groups.get((provider,) if owner is None else (provider, owner), ()))

    def find_name(
        self, provider: str, name: str, owner: str | None = None, same_case: bool = False
    ) -> Domain | None:
        """The provider's domain of that name (of that owner, if given), without a scan. Names
        compare without regard to case, as DNS names do, unless `same_case`."""
        with self._lock:
            same_name = self._by_name.get((provider, name.lower()), ())
            domain = next(
                (
                    d
                    for d in same_name
                    if (owner is None or d.owner == owner) and (not same_case or d.name == name)
                ),
                None,
            )
        if domain is not None:
            self._touched.id = domain.id
        return domain

    def named(self, provider: str, name: str) -> list[Domain]:
        """The provider's domains of that name, of every owner, in the order they were added."""
        with self._lock:
            return list(self._by_name.get((provider, name.lower()), ()))

    def rescheduled(self, domain: Domain) -> None:
        """Note a stored domain's new due_at (called by Domain when it is set)."""
        if domain.due_at is None:
            return  # its old entries are stale now
        with self._lock:
            key = (domain.provider, domain.id)
            if self._domains.get(key) is not domain:
                return
            if len(self._due) > 2 * len(self._domains) + 64:  # mostly stale or repeated
                self._due = list({e for e in self._due if self._current(e)})
                heapq.heapify(self._due)
            heapq.heappush(self._due, (domain.due_at, self._added[key], key))

    def next_due(self, until: datetime) -> Domain | None:
        """The domain whose scheduled step comes first, if it is due by `until`."""
        with self._lock:
            while self._due and not self._current(self._due[0]):
                heapq.heappop(self._due)
            if not self._due or self._due[0][0] > until:
                return None
            return self._domains[self._due[0][2]]

    def _current(self, entry: tuple[datetime, int, Key]) -> bool:
        due_at, number, key = entry
        domain = self._domains.get(key)
        return domain is not None and domain.due_at == due_at and self._added[key] == number

    def clear(self) -> None:
        with self._lock:
            for domain in self._domains.values():
                domain._store = None
            self._domains.clear()
            self._groups.clear()
            self._by_name.clear()
            self._due.clear()
            self._added.clear()
            self._removed.clear()

    def __len__(self) -> int:
        return len(self._domains)


def _forget_oldest(places: dict[str, tuple[int, str]]) -> None:
    """Drop a provider's oldest removed places past the REMEMBERED_PLACES it keeps."""
    while len(places) > REMEMBERED_PLACES:
        del places[next(iter(places))]


def _groups_of(domain: Domain) -> tuple[tuple[str, ...], ...]:
    return (domain.provider,), (domain.provider, domain.owner)


def _name_key(domain: Domain) -> tuple[str, str]:
    """Where the name index keeps `domain`: names are found whatever their case."""
    return domain.provider, domain.name.lower()
