"""The official Scaleway SDK's `wait_for_domain`, unchanged, in a test of the pytest plugin's
`domain_sandbox` fixture with its default (on-poll) clock and Scaleway's default timings: the
wait ends having seen every transient status, each at its own instant on the sandbox clock."""

from __future__ import annotations

from scaleway import Client
from scaleway.mailbox.v1alpha1 import DomainStatus, MailboxV1Alpha1API
from scaleway_core.utils import WaitForOptions

PROJECT = "2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c"
SECRET = "6f1c3a52-8d0e-4b7a-9c21-3e5f7a9b1d24"


def test_wait_for_domain_sees_validating_and_provisioning_then_ends_ready(domain_sandbox):
    client = Client(
        access_key="SCWXXXXXXXXXXXXXXXXX",
        secret_key=SECRET,
        default_project_id=PROJECT,
        api_url=domain_sandbox.urls["scaleway"],
    )
    api = MailboxV1Alpha1API(client)
    seen = []
    get_domain = api.get_domain

    def watched_get_domain(**kwargs):  # what each of the SDK's polls read
        domain = get_domain(**kwargs)
        seen.append(domain.status)
        return domain

    api.get_domain = watched_get_domain

    domain = api.create_domain(name="waited.example.com")
    one_second = WaitForOptions(min_delay=1, max_delay=1)  # (creating: two polls)
    assert (
        api.wait_for_domain(domain_id=domain.id, options=one_second).status == "waiting_validation"
    )
    domain_sandbox.control.publish("scaleway", domain.id)
    api.validate_domain_records(domain_id=domain.id)

    ready = api.wait_for_domain(domain_id=domain.id)  # the SDK's own options: 300 s, backoff

    assert ready.status == DomainStatus.READY
    assert seen == ["creating", "waiting_validation", "validating", "provisioning", "ready"]
    timeline = domain_sandbox.control.domain("scaleway", domain.id)["timeline"]
    assert [(t["status"], t["at"]) for t in timeline] == [
        ("creating", "2026-01-01T09:00:00Z"),
        ("waiting_validation", "2026-01-01T09:00:30Z"),
        ("validating", "2026-01-01T09:00:30Z"),
        ("provisioning", "2026-01-01T09:01:30Z"),
        ("ready", "2026-01-01T09:03:30Z"),
    ]


def test_the_next_test_starts_at_start_in_the_on_poll_mode(domain_sandbox):
    domain_sandbox.set_clock_mode("fast", speed=10)
    domain_sandbox.reset()
    assert domain_sandbox.control.clock() == {
        "now": "2026-01-01T09:00:00Z",
        "frozen": True,
        "mode": "on-poll",
        "speed": 1,
    }


def test_another_organization_listing_its_domains_hides_no_state_of_mine(domain_sandbox):
    """On-poll, a read of the list showed (and moved the clock for) every organization's
    domains: another organization listing its own made my wait_for_domain start past
    `creating`."""
    mine, theirs = (
        MailboxV1Alpha1API(
            Client(
                access_key="SCWXXXXXXXXXXXXXXXXX",
                secret_key=secret,
                default_project_id=PROJECT,
                api_url=domain_sandbox.urls["scaleway"],
            )
        )
        for secret in (SECRET, "0b8d2e4f-6a1c-4e3b-9d5f-7a9c1e3b5d7f")
    )
    seen = []
    get_domain = mine.get_domain

    def watched_get_domain(**kwargs):
        domain = get_domain(**kwargs)
        seen.append(domain.status)
        return domain

    mine.get_domain = watched_get_domain
    domain = mine.create_domain(name="mine.example.com")
    for _ in range(3):  # the other organization's own wait loop, on a list it has nothing in
        assert theirs.list_domains().domains == []

    one_second = WaitForOptions(min_delay=1, max_delay=1)
    assert mine.wait_for_domain(domain_id=domain.id, options=one_second).status == (
        "waiting_validation"
    )
    assert seen == ["creating", "waiting_validation"]
    assert domain_sandbox.control.clock()["now"] == "2026-01-01T09:00:30Z"


def test_list_domains_all_pages_through_one_instant(domain_sandbox):
    """On-poll, each page after the first moved the clock (every domain had been shown by the
    first): the SDK's list_domains_all read its pages at two instants, and with a status
    filter left out the domains that had moved on before their page was read."""
    api = MailboxV1Alpha1API(
        Client(
            access_key="SCWXXXXXXXXXXXXXXXXX",
            secret_key=SECRET,
            default_project_id=PROJECT,
            api_url=domain_sandbox.urls["scaleway"],
        )
    )
    for n in range(3):
        api.create_domain(name=f"page{n}.example.com")

    creating = api.list_domains_all(statuses=[DomainStatus.CREATING], page_size=2)
    assert [d.name for d in creating] == [f"page{n}.example.com" for n in (2, 1, 0)]
    assert domain_sandbox.control.clock()["now"] == "2026-01-01T09:00:00Z"
    # a wait loop reads the first page again: that moves the clock on, one step a read
    listed = api.list_domains_all(page_size=2)
    assert [d.status for d in listed] == ["waiting_validation"] * 3
    assert domain_sandbox.control.clock()["now"] == "2026-01-01T09:00:30Z"
