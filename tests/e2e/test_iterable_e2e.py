"""Iterable end to end: the console's services against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

from audience.models import SubscriberStatus
from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    Segment,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import emulation, registry
from integrations.sandbox.models import (
    SandboxContact,
    SandboxFieldType,
    SandboxSegment,
)
from integrations.services import connection, segments
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "iterable"
ACCOUNT = "sandbox-project-us"
US_KEY = "sandbox-iterable-server-key-us"
READ_ONLY_KEY = "sandbox-iterable-readonly-key-us"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def bulk_updates(integration, **filters) -> int:
    return ApiCall.objects.filter(
        integration=integration, path="/api/users/bulkUpdate", **filters
    ).count()


def test_eu_project(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG,
        base_url=base_url,
        region="eu",
        credentials={"api_key": "sandbox-iterable-server-key-eu"},
    )
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert report.region == "eu"


def test_wrong_key(make_integration, base_url, e2e_clock):
    credentials = {"api_key": "wrong-key-123"}
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the API key" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert integration.last_error == report.detail
    assert "wrong-key-123" not in str(integration.connection_report)


def test_read_only_key_is_refused(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(SLUG, base_url=base_url, credentials={"api_key": READ_ONLY_KEY})
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.can_write is False
    assert "read-only" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR

    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 5
    assert set(run.records.values_list("outcome", flat=True)) == {Outcome.REJECTED_AUTH}
    assert READ_ONLY_KEY not in run.error
    assert not SandboxContact.objects.exists()


@pytest.mark.parametrize(
    ("region", "key", "right", "name"),
    [
        ("eu", US_KEY, "us", "United States"),
        ("us", "sandbox-iterable-server-key-eu", "eu", "European Union"),
    ],
    ids=["us-key-set-to-eu", "eu-key-set-to-us"],
)
def test_wrong_data_center_names_the_right_one(
    make_integration, base_url, e2e_clock, region, key, right, name
):
    integration = make_integration(
        SLUG, base_url=base_url, region=region, credentials={"api_key": key}
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.region == right
    assert name in report.detail
    assert f"Choose {right.upper()}" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


def test_forgotten_user_stays_pending(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    gone = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=gone.email, attributes={}, suppressed=True
    )

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert first.created == SUBSCRIBED - 1
    assert first.rejected_compliance == 1
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        gone.pk,
        Outcome.REJECTED_COMPLIANCE,
        "Forgotten",
    )
    assert "forgotten" in record.hint.lower()
    assert states(integration)[gone.pk] == SyncStateStatus.PENDING
    assert stored()[gone.email] == {}

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    SandboxContact.objects.filter(identifier=gone.email).update(suppressed=False)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert states(integration)[gone.pk] == SyncStateStatus.SYNCED


def test_field_type_fixed_on_the_platform(integration, make_subscribers, run_sync):
    # The project already holds `interest` as a number: Iterable refuses those users' data.
    SandboxFieldType.objects.create(platform=SLUG, account=ACCOUNT, name="interest", type="long")
    subscribers = make_subscribers()
    with_interest = {
        s.pk for s in subscribers if s.status == SubscriberStatus.SUBSCRIBED and s.attributes
    }
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert run.rejected_data == len(with_interest) == 18
    assert run.created == SUBSCRIBED - 18
    records = run.records.all()
    assert {r.subscriber_id for r in records} == with_interest
    assert {(r.outcome, r.code) for r in records} == {(Outcome.REJECTED_DATA, "InvalidData")}
    assert all("fixed on first write" in r.hint for r in records)
    assert len(stored()) == SUBSCRIBED - 18


def test_client_keeps_to_the_bulk_update_rate(
    integration, make_subscribers, run_sync, small_batches, e2e_clock
):
    make_subscribers()
    small_batches(SLUG, 2)  # 15 batches, 14 with someone to send, at 5 a second
    started = e2e_clock.now()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED
    assert run.created == SUBSCRIBED
    sent = bulk_updates(integration)
    assert sent == run.api_calls >= 14
    assert bulk_updates(integration, status_code=429) == 0
    # The client spaced its calls (on the shared fake clock) instead of being throttled.
    assert e2e_clock.now() - started >= (sent - 1) * 0.2 - 1e-6


def test_segment_import_leaves_counts_past_its_budget(integration, make_subscribers, run_sync):
    registry.seed(SLUG)
    make_subscribers()
    run_sync(integration)

    # Default budget (20 s): at 5 counts a minute, the third count would wait past it.
    result = segments.import_segments(integration)
    assert result.imported == 3
    assert result.counted == 2
    assert len(result.counts_pending) == 1
    assert result.retry_in > 0
    pending = Segment.objects.get(integration=integration, remote_id=result.counts_pending[0])
    assert pending.member_count is None
    counted = Segment.objects.filter(integration=integration, member_count__isnull=False)
    for segment in counted:
        remote = SandboxSegment.objects.get(
            platform=SLUG, account=ACCOUNT, remote_id=int(segment.remote_id)
        )
        assert segment.member_count == remote.members().count()


def test_a_retry_after_too_long_to_wait_is_still_honoured(
    integration, make_subscribers, run_sync, settings, e2e_clock
):
    settings.PLATFORM_MAX_RETRY_AFTER = 5
    make_subscribers()
    emulation.set_faults(SLUG, throttle_next=1, retry_after=30)
    told_at = e2e_clock.now()
    run = run_sync(integration)
    assert run.throttled == SUBSCRIBED
    assert bulk_updates(integration) == 1  # not waited out inside the run: marked throttled

    # Iterable said "wait 30 s": a run started meanwhile sends nothing and waits for nothing.
    meanwhile = run_sync(integration)
    assert meanwhile.throttled == SUBSCRIBED
    assert bulk_updates(integration) == 1
    assert e2e_clock.now() - told_at < 5

    e2e_clock.sleep(30)
    after = run_sync(integration)
    assert after.created == SUBSCRIBED
    assert bulk_updates(integration) == 2
