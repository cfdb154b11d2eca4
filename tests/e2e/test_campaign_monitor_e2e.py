"""Campaign Monitor end to end: the console's services against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import emulation, registry
from integrations.sandbox.campaign_monitor import (
    CLIENT_ID,
    DEMO_LIST_ID,
    OTHER_CLIENT_ID,
)
from integrations.sandbox.models import SandboxContact
from integrations.services import connection
from tests.e2e.support import stored_contacts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "campaign_monitor"
ACCOUNT = "sandbox-cm-account"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28
IMPORT = f"/api/v3.3/subscribers/{DEMO_LIST_ID}/import.json"


@pytest.fixture
def integration(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)
    return make_integration(SLUG, base_url=base_url, mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def imports(integration, **filters) -> int:
    return ApiCall.objects.filter(integration=integration, path=IMPORT, **filters).count()


def test_connection_with_a_client_key(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)
    credentials = {
        "api_key": "sandbox-cm-client-key",
        "client_id": CLIENT_ID,
        "list_id": DEMO_LIST_ID,
    }
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert "client API key" in report.detail


@pytest.mark.parametrize(
    ("credentials", "words"),
    [
        ({"api_key": "wrong-key-123"}, "refused the API key"),
        ({"api_key": "sandbox-cm-other-client-key"}, "client API key of another client"),
        ({"client_id": "f" * 32}, "no client with the ID"),
        ({"list_id": "e" * 32}, "no list with the ID"),
        ({"client_id": OTHER_CLIENT_ID}, "no list with the ID"),
    ],
    ids=["wrong-key", "other-client-key", "unknown-client", "unknown-list", "list-of-other-client"],
)
def test_connection_refused(make_integration, base_url, e2e_clock, credentials, words):
    registry.seed(SLUG)
    full = {
        "api_key": "sandbox-cm-account-key",
        "client_id": CLIENT_ID,
        "list_id": DEMO_LIST_ID,
        **credentials,
    }
    integration = make_integration(SLUG, base_url=base_url, credentials=full)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert words in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "wrong-key-123" not in str(integration.connection_report)


def test_suppressed_address_stays_pending_and_is_retried(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    gone = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG,
        account=ACCOUNT,
        identifier=gone.email.lower(),
        attributes={"State": "Active"},
        suppressed=True,
    )
    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_compliance) == (SUBSCRIBED - 1, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        gone.pk,
        Outcome.REJECTED_COMPLIANCE,
        "204",
    )
    assert "suppression list" in record.hint
    assert integration.sync_states.get(subscriber=gone).status == SyncStateStatus.PENDING
    assert imports(integration, status_code=400) == 1  # the partial success: 400 / Code 210

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    SandboxContact.objects.filter(identifier=gone.email.lower()).update(suppressed=False)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert integration.sync_states.get(subscriber=gone).status == SyncStateStatus.SYNCED


def test_invalid_email_is_rejected_alone(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(5, unsubscribed=())
    bad = subscribers[2]
    bad.email = "not-an-email"
    bad.save()
    run = run_sync(integration)
    assert (run.status, run.created, run.rejected_data) == (SyncStatus.PARTIAL, 4, 1)
    [record] = run.records.all()
    assert (record.subscriber_id, record.code, record.message) == (
        bad.pk,
        "1",
        "Invalid Email Address",
    )


def test_batches_and_the_import_rate(
    integration, make_subscribers, run_sync, small_batches, e2e_clock
):
    make_subscribers()
    small_batches(SLUG, 4)
    started = e2e_clock.now()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED and run.created == SUBSCRIBED
    sent = imports(integration)
    assert sent >= 7
    assert imports(integration, status_code=429) == 0
    assert e2e_clock.now() - started >= (sent - 1) * 0.5 - 1e-6  # 2 imports a second


def test_429_storm_loses_nothing(integration, make_subscribers, run_sync, settings):
    make_subscribers()
    emulation.set_faults(SLUG, throttle_next=1000, retry_after=1)
    stormy = run_sync(integration)
    # The sync's custom-field check is throttled first: the run stops before writing.
    assert stormy.status == SyncStatus.FAILED
    assert "429" in stormy.error and "customfields" in stormy.error
    assert stormy.created == 0
    assert not stored()
    emulation.set_faults(SLUG, throttle_next=0)
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED and after.created == SUBSCRIBED


def test_export_then_soft_delete(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    email = subscribers[0].email
    exported = client.export_contact(email)
    assert exported["found"] is True
    assert exported["subscriber"]["EmailAddress"] == email
    assert exported["subscriber"]["State"] == "Active"
    assert exported["lists"][0]["ListID"] == DEMO_LIST_ID
    assert exported["history"] == []
    client.delete_contact(email)
    # A soft delete: the subscriber stays, in the Deleted state, and leaves the active count.
    assert stored()[email.lower()]["State"] == "Deleted"
    assert client.segment_member_count(f"list:{DEMO_LIST_ID}") == 2
    assert client.export_contact(email)["subscriber"]["State"] == "Deleted"
    assert client.export_contact("nobody@example.com")["found"] is False


# --- who is in a list or segment (integrations/platforms/campaign_monitor/members.py) ---------


def active_pages(integration, ref: str):
    """The calls that read a page of a list's or segment's active subscribers (200s only)."""
    return ApiCall.objects.filter(
        integration=integration, path__endswith=f"{ref}/active.json", status_code=200
    )


def test_a_list_s_members_refresh_cut_short_resumes_from_its_page(
    integration, make_subscribers, run_sync, monkeypatch
):
    from audience.models import Subscriber
    from integrations.models import Segment, SegmentMember
    from integrations.platforms.campaign_monitor import members as cm_members
    from integrations.services import membership, segments

    monkeypatch.setattr(cm_members, "MEMBERS_PER_PAGE", 10)  # pagesize's minimum
    make_subscribers()
    run_sync(integration)
    # Someone on the platform's list SharpSend does not hold: counted, never created.
    SandboxContact.objects.create(
        platform=SLUG,
        account=ACCOUNT,
        identifier="stranger@example.com",
        attributes={"EmailAddress": "stranger@example.com", "State": "Active"},
    )
    segments.import_segments(integration)
    readers = Segment.objects.get(integration=integration, name="SharpSend readers")
    assert readers.remote_id == f"list:{DEMO_LIST_ID}"
    first = membership.refresh_members(readers, max_pages=2)  # a worker stopping after 2 pages
    assert (first.complete, first.pages) == (False, 2)
    readers.refresh_from_db()
    assert readers.members_refreshing and readers.members_cursor == "3"
    assert active_pages(integration, DEMO_LIST_ID).count() == 2
    rest = membership.refresh_members(readers)
    # 29 active subscribers in pages of 10: page 3 only is read again, none twice.
    assert (rest.complete, rest.pages) == (True, 1)
    assert active_pages(integration, DEMO_LIST_ID).count() == 3
    assert (rest.matched, rest.unmatched) == (SUBSCRIBED, 1)
    assert set(
        SegmentMember.objects.filter(segment=readers).values_list("subscriber__email", flat=True)
    ) == set(Subscriber.objects.filter(status="subscribed").values_list("email", flat=True))
    assert not Subscriber.objects.filter(email="stranger@example.com").exists()


def test_a_segment_s_and_a_pushed_list_s_members_are_read_by_pages(
    integration, make_subscribers, run_sync, monkeypatch
):
    from audience.models import AudienceSegment, Subscriber
    from integrations.models import Segment, SegmentMember, SegmentPush
    from integrations.platforms.campaign_monitor import members as cm_members
    from integrations.services import membership, segment_push, segments

    monkeypatch.setattr(cm_members, "MEMBERS_PER_PAGE", 10)
    subscribers = make_subscribers(55, unsubscribed=(7, 19))
    run_sync(integration)
    growth_readers = {
        s.email
        for s in subscribers
        if s.attributes.get("interest") == "growth" and s.status == "subscribed"
    }
    assert len(growth_readers) == 19  # two pages of 10

    # The console's own push makes a list of the client; its members are read back too.
    audience = AudienceSegment.objects.create(
        name="Growth readers",
        slug="growth",
        rules={"field": "attributes.interest", "op": "eq", "value": "growth"},
    )
    run, _ = segment_push.push_segment(audience, integration, "command")
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    pushed_id = SegmentPush.objects.get().remote_id
    segments.import_segments(integration)

    def members_of(segment) -> set[str]:
        rows = SegmentMember.objects.filter(segment=segment)
        return set(rows.values_list("subscriber__email", flat=True))

    growth = Segment.objects.get(integration=integration, name="Growth Investors")
    assert growth.remote_id.startswith("segment:")
    pushed = Segment.objects.get(integration=integration, remote_id=pushed_id)
    for segment in (growth, pushed):
        result = membership.refresh_members(segment)
        assert (result.complete, result.pages, result.matched) == (True, 2, 19)
        assert members_of(segment) == growth_readers
    ref = growth.remote_id.partition(":")[2]
    # The segment import's count (one page of 10) and the refresh's two pages.
    assert active_pages(integration, f"segments/{ref}").count() == 3

    # A reader leaves the segment on the platform (their interest changes and is synced).
    leaving = Subscriber.objects.get(email=sorted(growth_readers)[0])
    leaving.attributes = {"interest": "dividends"}
    leaving.save()
    run_sync(integration)
    again = membership.refresh_members(growth)
    assert (again.removed, again.pages, again.matched) == (1, 2, 18)
    assert members_of(growth) == growth_readers - {leaving.email}
