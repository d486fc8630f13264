"""The store: its index of scheduled steps answers what a scan of every domain would, and its
counts what listing would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sandbox.engine import store as store_module
from sandbox.engine.records import Domain
from sandbox.engine.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def domain(number: int) -> Domain:
    return Domain("p", str(number), f"d{number}.example.com", "owner", T0, T0, "pending")


def scanned(store: Store, until: datetime) -> Domain | None:
    """The answer by brute force: the earliest due_at, ties in insertion order."""
    due = [d for d in store.list() if d.due_at is not None and d.due_at <= until]
    return min(due, key=lambda d: d.due_at, default=None)


def test_next_due_follows_every_change_as_a_scan_would():
    store, rng = Store(), random.Random(7)
    for step in range(5000):
        action = rng.random()
        number = rng.randrange(60)
        if action < 0.5 and (found := store.get("p", str(number))):
            found.due_at = rng.choice([None, T0 + timedelta(seconds=rng.randrange(40))])
        elif action < 0.8:
            added = store.add(domain(number))  # re-adding moves it to the end of the order
            added.due_at = T0 + timedelta(seconds=rng.randrange(40))
        elif action < 0.98:
            store.remove("p", str(number))
        else:
            store.clear()
        until = T0 + timedelta(seconds=rng.randrange(45))
        assert store.next_due(until) is scanned(store, until), step


def test_setting_the_same_due_time_again_and_again_keeps_the_index_small():
    store = Store()
    domains = [store.add(domain(n)) for n in range(10)]
    for _ in range(10_000):
        domains[3].due_at = T0
    assert len(store._due) <= 2 * len(domains) + 64
    assert store.next_due(T0) is domains[3]


def test_a_removed_domain_is_never_due_and_no_longer_reports_to_the_store():
    store = Store()
    gone = store.add(domain(1))
    gone.due_at = T0
    store.remove("p", "1")
    gone.due_at = T0  # a stray reference changing it must not bring it back
    assert store.next_due(T0 + timedelta(days=1)) is None


def test_count_answers_what_listing_would_through_every_change():
    store, rng = Store(), random.Random(11)
    for step in range(3000):
        provider, owner, number = rng.choice("pq"), rng.choice("ab"), rng.randrange(40)
        if rng.random() < 0.6:
            store.add(Domain(provider, str(number), f"d{number}.example", owner, T0, T0, "x"))
        else:
            store.remove(provider, str(number))
        for provider in "pqr":
            assert store.count(provider) == len(store.list(provider)), step
            for owner in "abc":
                assert store.count(provider, owner) == len(store.list(provider, owner)), step


def test_each_provider_keeps_its_own_most_recent_removed_places(monkeypatch):
    """Many deletions in one provider pushed another's places out of one shared bound, and
    a page cursor naming its deleted domain failed; each keeps its own, through a restore."""
    monkeypatch.setattr(store_module, "REMEMBERED_PLACES", 3)
    store = Store()
    for provider in "pq":
        for n in range(6):
            store.add(Domain(provider, str(n), f"d{n}.example", "owner", T0, T0, "x"))
    store.remove("p", "1")
    for n in range(5):  # more than the bound, all of q's
        store.remove("q", str(n))
    assert store.place("p", "1", "owner") == 1  # p's place outlives q's deletions
    assert [store.place("q", str(n), "owner") for n in range(5)] == [None, None, 8, 9, 10]
    for n in (2, 3, 4):  # past p's own bound its oldest goes
        store.remove("p", str(n))
    assert store.place("p", "1", "owner") is None
    places = store.removed_places("pq")
    assert [provider + i for provider, i, _, _ in places] == ["p2", "p3", "p4", "q2", "q3", "q4"]
    restored = Store()
    restored.restore(store.list(), places)
    assert restored.removed_places("pq") == places
