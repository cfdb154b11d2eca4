"""SharpSend segments pushed over real HTTP to each platform that takes them (Klaviyo, SendGrid
and Campaign Monitor lists, Iterable static lists, Mailchimp, Kit and Keap tags, Customer.io
manual segments): the emulators keep the membership, so what the platform holds after each
push is checked there. Keap connects through the sandbox's OAuth server (it has no keys)."""

from __future__ import annotations

import pytest

from audience.models import AudienceSegment, Subscriber, SubscriberStatus
from integrations.models import ApiCall, SegmentPush, SyncKind, SyncRun, SyncStatus
from integrations.platforms.registry import get_platform
from integrations.platforms.types import AuthMethod
from integrations.sandbox.models import SandboxContact, SandboxSegment
from integrations.sandbox.registry import seed
from integrations.services import queue, segment_push, sync

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLATFORMS = (
    "klaviyo",
    "iterable",
    "mailchimp",
    "customerio",
    "kit",
    "sendgrid",
    "campaign_monitor",
    "keap",
)
GROWTH = {"field": "attributes.interest", "op": "eq", "value": "growth"}


class WorkerDied(BaseException):
    """The process running the push was killed."""


@pytest.fixture(params=PLATFORMS)
def connected(
    request, make_integration, oauth_integration, live_server, e2e_clock, make_subscribers,
    run_sync,
):  # fmt: skip
    """(slug, integration) with the audience synced there first (Klaviyo lists take profile
    ids and Keap tags contact ids, so their readers must exist there)."""
    slug = request.param
    seed(slug)  # the demo account as `make run` has it (Mailchimp's merge fields, lists …)
    make_subscribers(30, unsubscribed=(7, 19))
    oauth_only = get_platform(slug).auth_methods == (AuthMethod.OAUTH,)
    integration = (oauth_integration if oauth_only else make_integration)(
        slug,
        base_url=f"{live_server.url}/sandbox/{slug}",
        mappings=get_platform(slug).suggested_mappings,
    )
    synced = run_sync(integration)
    assert synced.status == "succeeded", synced.error
    return slug, integration


def remote_members(slug: str) -> set[str]:
    """The emails the platform's pushed list holds (Keap stores contacts under their id)."""
    (remote,) = SandboxSegment.objects.filter(platform=slug, static=True)
    return {
        contact.attributes["email"] if slug == "keap" else contact.identifier
        for contact in remote.members()
    }


def wanted() -> set[str]:
    return {
        s.email
        for s in Subscriber.objects.filter(status=SubscriberStatus.SUBSCRIBED)
        if s.attributes.get("interest") == "growth"
    }


def push(segment, integration) -> SyncRun:
    run, created = segment_push.push_segment(segment, integration, "command")
    assert created
    run.refresh_from_db()
    return run


def calls(integration) -> int:
    return ApiCall.objects.filter(integration=integration).count()


def test_push_then_only_changes_then_nothing(connected):
    slug, integration = connected
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)

    first = push(segment, integration)
    assert first.status == SyncStatus.SUCCEEDED, first.error
    assert first.created_remote and first.created == 10 and first.removed == 0
    assert remote_members(slug) == wanted() and len(wanted()) == 10
    assert SandboxSegment.objects.get(platform=slug, static=True).name == "Growth readers"

    before = calls(integration)
    second = push(segment, integration)
    assert (second.created, second.removed, second.unchanged) == (0, 0, 10)
    assert second.api_calls == 0 and calls(integration) == before  # nothing sent at all

    leaving = Subscriber.objects.get(email="reader00@example.com")
    leaving.attributes = {"interest": "dividends"}
    leaving.save()
    joining = Subscriber.objects.get(email="reader01@example.com")
    joining.attributes = {"interest": "growth"}
    joining.save()
    third = push(segment, integration)
    assert third.status == SyncStatus.SUCCEEDED, third.error
    assert (third.created, third.removed, third.unchanged) == (1, 1, 9)
    assert not third.created_remote
    members = remote_members(slug)
    assert members == wanted()
    assert "reader01@example.com" in members and "reader00@example.com" not in members
    # Klaviyo: one profile look-up for the new member, the add and the remove (the leaving
    # member's profile id was kept from the add); SendGrid: the upsert job and its two polls,
    # the contact id search and the list removal; Keap: the new member's contact id look-up,
    # applyTags and removeTags (the leaving one's id kept); the others (Campaign Monitor: the
    # import and one delete): one call each way.
    assert third.api_calls == {"klaviyo": 3, "sendgrid": 5, "keap": 3}.get(slug, 2)
    assert SandboxSegment.objects.filter(platform=slug, static=True).count() == 1


def test_an_opted_out_member_is_removed(connected):
    slug, integration = connected
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, integration)
    Subscriber.objects.filter(email="reader03@example.com").update(
        status=SubscriberStatus.UNSUBSCRIBED
    )
    run = push(segment, integration)
    assert (run.created, run.removed) == (0, 1)
    assert "reader03@example.com" not in remote_members(slug)
    assert remote_members(slug) == wanted()


def test_a_push_that_dies_resumes_without_loss_or_a_second_list(connected, monkeypatch, settings):
    slug, integration = connected
    cls = get_platform(slug)
    monkeypatch.setattr(cls, "segment_batch_max", 3)
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    original = cls.add_to_segment
    sent = []

    def dies_on_the_third_batch(self, remote_id, members):
        if len(sent) == 2:
            raise WorkerDied
        sent.append(len(members))
        return original(self, remote_id, members)

    monkeypatch.setattr(cls, "add_to_segment", dies_on_the_third_batch)
    with pytest.raises(WorkerDied):
        segment_push.push_segment(segment, integration, "command")
    held = SegmentPush.objects.get().members.count()
    assert held == 6  # two batches of 3 committed
    assert len(remote_members(slug)) == 6

    monkeypatch.setattr(cls, "add_to_segment", original)
    settings.SYNC_STALE_AFTER_SECONDS = 0  # the dead run is taken for dead at once
    resumed = push(segment, integration)
    assert resumed.status == SyncStatus.SUCCEEDED, resumed.error
    assert not resumed.created_remote and resumed.created == 4
    assert remote_members(slug) == wanted()
    assert SandboxSegment.objects.filter(platform=slug, static=True).count() == 1
    (dead,) = SyncRun.objects.filter(status=SyncStatus.INTERRUPTED)
    assert (dead.kind, resumed.resumed_from_id) == (SyncKind.SEGMENT, dead.pk)


@pytest.fixture
def iterable(make_integration, live_server, e2e_clock, make_subscribers):
    seed("iterable")
    make_subscribers(30, unsubscribed=(7, 19))
    return make_integration("iterable", base_url=f"{live_server.url}/sandbox/iterable")


def test_refused_members_are_recorded_and_sent_again_next_push(iterable):
    from integrations.sandbox.models import SandboxContact

    SandboxContact.objects.create(
        platform="iterable", account="sandbox-project-us", identifier="reader03@example.com",
        suppressed=True, attributes={"email": "reader03@example.com"},
    )  # fmt: skip
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, iterable)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_compliance) == (9, 1)
    (record,) = run.records.all()
    assert (record.email, record.action, record.code) == (
        "reader03@example.com",
        "add",
        "Forgotten",
    )
    assert "reader03@example.com" not in remote_members("iterable")
    again = push(segment, iterable)  # the refused one is tried again, and only it
    assert (again.created, again.rejected_compliance, again.api_calls) == (0, 1, 1)


def test_a_reader_deleted_from_sharpsend_is_removed(iterable):
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, iterable)
    Subscriber.objects.filter(email="reader06@example.com").delete()
    run = push(segment, iterable)
    assert (run.created, run.removed) == (0, 1)
    assert "reader06@example.com" not in remote_members("iterable")
    assert not SegmentPush.objects.get().members.filter(identifier="reader06@example.com").exists()


def test_a_list_deleted_on_the_platform_stops_the_push_with_a_clear_message(
    make_integration, live_server, e2e_clock, make_subscribers, run_sync
):
    seed("klaviyo")
    make_subscribers(30, unsubscribed=(7, 19))
    klaviyo = make_integration("klaviyo", base_url=f"{live_server.url}/sandbox/klaviyo")
    run_sync(klaviyo)
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, klaviyo)
    SandboxSegment.objects.filter(platform="klaviyo", static=True).delete()
    Subscriber.objects.filter(email="reader01@example.com").update(
        attributes={"interest": "growth"}
    )
    run = push(segment, klaviyo)
    assert run.status == SyncStatus.FAILED
    assert "no longer has the list 'Growth readers'" in run.error and "deleted there" in run.error
    pushed = SegmentPush.objects.get()
    assert pushed.last_error == run.error
    assert pushed.members.count() == 10  # nothing is forgotten: the membership as last accepted


def test_an_unsupported_platform_or_invalid_rules_queue_nothing(make_integration):
    from django.core.exceptions import ValidationError

    from integrations.platforms.errors import UnsupportedCapability

    drift = make_integration("drift")
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    with pytest.raises(UnsupportedCapability, match="Drift has no segment or list API"):
        segment_push.start_push(segment, drift, "command")
    bad = AudienceSegment.objects.create(name="Bad", slug="bad", rules={"field": "nope"})
    with pytest.raises(ValidationError):
        segment_push.start_push(bad, make_integration("iterable", name="it"), "command")
    assert not SyncRun.objects.filter(kind=SyncKind.SEGMENT).exists()


def test_a_second_start_while_one_is_queued_returns_the_active_run(make_integration):
    integration = make_integration("iterable")
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    first, created = segment_push.start_push(segment, integration, "command")
    again, created_again = segment_push.start_push(segment, integration, "command")
    assert created and not created_again and again.pk == first.pk


def test_a_queued_push_whose_task_was_lost_is_queued_again_and_run_once(
    make_integration, live_server, e2e_clock, make_subscribers, settings, monkeypatch
):
    """The sync runner's rule for every kind: a queued run is never taken for dead (it may
    wait behind long runs); the housekeeping queues its task again, and only one worker runs
    it, however many copies of the task turn up."""
    seed("iterable")
    make_subscribers(30, unsubscribed=(7, 19))
    integration = make_integration("iterable", base_url=f"{live_server.url}/sandbox/iterable")
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    lost, _ = segment_push.start_push(segment, integration, "manual")
    settings.SYNC_STALE_AFTER_SECONDS = 0
    again, created = segment_push.start_push(segment, integration, "manual")
    assert not created and again.pk == lost.pk  # still queued: no second run beside it
    requeued = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, **kw: requeued.append(args))
    assert queue.look_after_sync_runs().requeued == 1
    assert requeued == [(lost.pk,)]
    assert sync.execute_sync(lost.pk).status == SyncStatus.SUCCEEDED
    before = calls(integration)
    late = sync.execute_sync(lost.pk)  # the late copy of the task runs nothing
    assert (late.status, late.created, calls(integration)) == (SyncStatus.SUCCEEDED, 10, before)
    assert remote_members("iterable") == wanted()
    assert SandboxSegment.objects.filter(platform="iterable", static=True).count() == 1


def test_a_killed_push_is_resumed_by_the_housekeeping_beside_a_running_sync(
    iterable, monkeypatch, settings
):
    """The housekeeping every run has resumes a push whose worker died, and the one task
    (run_sync) runs it: the rest is sent once, no second list. A sync of the same integration
    running all along neither holds the push up nor is touched by it."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations import tasks

    settings.SYNC_STALE_AFTER_SECONDS = 600
    cls = get_platform("iterable")
    monkeypatch.setattr(cls, "segment_batch_max", 3)
    now = timezone.now()
    alive = SyncRun.objects.create(integration=iterable, trigger="manual",
                                   status=SyncStatus.RUNNING, started_at=now,
                                   heartbeat_at=now)  # fmt: skip
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    original = cls.add_to_segment
    sent = []

    def dies_on_the_third_batch(self, remote_id, members):
        if len(sent) == 2:
            raise WorkerDied
        sent.append(len(members))
        return original(self, remote_id, members)

    monkeypatch.setattr(cls, "add_to_segment", dies_on_the_third_batch)
    with pytest.raises(WorkerDied):
        segment_push.push_segment(segment, iterable, "command")
    (dead,) = SyncRun.objects.filter(kind=SyncKind.SEGMENT)
    assert dead.status == SyncStatus.RUNNING and len(remote_members("iterable")) == 6
    SyncRun.objects.filter(pk=dead.pk).update(heartbeat_at=now - timedelta(seconds=601))
    monkeypatch.setattr(cls, "add_to_segment", original)

    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    done = queue.look_after_sync_runs()
    assert (done.interrupted, done.resumed) == (1, 1)
    resumed = SyncRun.objects.get(resumed_from=dead)
    assert queued == [("integrations.tasks.run_sync", (resumed.pk,))]
    assert tasks.run_sync(resumed.pk) == f"segment push run {resumed.pk}: succeeded (+4 -0)"
    resumed.refresh_from_db()
    assert (resumed.trigger, resumed.created_remote, resumed.api_calls) == ("resume", False, 2)
    assert remote_members("iterable") == wanted()
    assert SandboxSegment.objects.filter(platform="iterable", static=True).count() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == SyncStatus.INTERRUPTED and alive.status == SyncStatus.RUNNING


@pytest.fixture
def campaign_monitor(make_integration, live_server, e2e_clock, make_subscribers, run_sync):
    seed("campaign_monitor")
    make_subscribers(30, unsubscribed=(7, 19))
    integration = make_integration(
        "campaign_monitor",
        base_url=f"{live_server.url}/sandbox/campaign_monitor",
        mappings=get_platform("campaign_monitor").suggested_mappings,
    )
    assert run_sync(integration).status == "succeeded"
    return integration


def test_campaign_monitor_list_is_the_client_s_and_shows_in_the_segment_import(campaign_monitor):
    from integrations.models import Segment
    from integrations.sandbox.campaign_monitor import DEMO_LIST_ID
    from integrations.sandbox.models import SandboxContact
    from integrations.services.segments import import_segments

    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, campaign_monitor)
    assert run.status == SyncStatus.SUCCEEDED and run.api_calls == 2  # create, one import
    pushed = SegmentPush.objects.get()
    assert pushed.remote_id.startswith("list:") and DEMO_LIST_ID not in pushed.remote_id
    import_segments(campaign_monitor)
    listed = Segment.objects.get(integration=campaign_monitor, remote_id=pushed.remote_id)
    assert (listed.name, listed.kind, listed.member_count) == ("Growth readers", "list", 10)
    # The integration's own list is untouched by the push and its removes.
    Subscriber.objects.filter(email="reader03@example.com").update(attributes={})
    assert push(segment, campaign_monitor).removed == 1
    main = SandboxContact.objects.get(
        platform="campaign_monitor", identifier="reader03@example.com"
    )
    assert main.attributes["State"] == "Active"
    import_segments(campaign_monitor)
    listed.refresh_from_db()
    assert listed.member_count == 9
    demo = Segment.objects.get(integration=campaign_monitor, name="SharpSend readers")
    assert demo.member_count == 28


def test_campaign_monitor_invalid_address_is_refused_from_failure_details(campaign_monitor):
    Subscriber.objects.create(email="not-an-email", attributes={"interest": "growth"})
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, campaign_monitor)
    assert run.status == SyncStatus.PARTIAL  # the import's 400 Code 210: the rest went in
    assert (run.created, run.rejected_data) == (10, 1)
    (record,) = run.records.all()
    assert (record.email, record.action, record.code, record.message) == (
        "not-an-email",
        "add",
        "1",
        "Invalid Email Address",
    )
    assert remote_members("campaign_monitor") == wanted() - {"not-an-email"}


def test_campaign_monitor_a_removed_reader_who_rejoins_is_not_resubscribed(campaign_monitor):
    """Removing moves the reader to the pushed list's Deleted state; the console never sends
    Resubscribe, so a rejoin is reported (not counted in) until they are reactivated there."""
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, campaign_monitor)
    reader = Subscriber.objects.get(email="reader03@example.com")
    reader.attributes = {}
    reader.save()
    assert push(segment, campaign_monitor).removed == 1
    reader.attributes = {"interest": "growth"}
    reader.save()
    run = push(segment, campaign_monitor)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_compliance) == (0, 1)
    (record,) = run.records.all()
    assert (record.email, record.code) == ("reader03@example.com", "state_deleted")
    assert "reader03@example.com" not in remote_members("campaign_monitor")
    assert not SegmentPush.objects.get().members.filter(identifier=reader.email).exists()


def test_campaign_monitor_a_list_deleted_there_stops_the_push(campaign_monitor):
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, campaign_monitor)
    SandboxSegment.objects.filter(platform="campaign_monitor", static=True).delete()
    Subscriber.objects.filter(email="reader01@example.com").update(
        attributes={"interest": "growth"}
    )
    run = push(segment, campaign_monitor)
    assert run.status == SyncStatus.FAILED
    assert "no longer has the list 'Growth readers'" in run.error and "deleted there" in run.error
    assert SegmentPush.objects.get().members.count() == 10


@pytest.fixture
def keap(oauth_integration, live_server, e2e_clock, make_subscribers, run_sync):
    seed("keap")
    make_subscribers(30, unsubscribed=(7, 19))
    integration = oauth_integration(
        "keap",
        base_url=f"{live_server.url}/sandbox/keap",
        mappings=get_platform("keap").suggested_mappings,
    )
    assert run_sync(integration).status == "succeeded"
    return integration


def test_keap_a_reader_not_in_keap_is_refused_until_synced(keap, run_sync):
    """Keap tags contact ids: a reader Keap does not hold is refused (never created there)
    with the reason, and added by the push after a sync."""
    Subscriber.objects.create(email="late@example.com", attributes={"interest": "growth"})
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, keap)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_data) == (10, 1)
    (record,) = run.records.all()
    assert (record.email, record.action, record.code) == (
        "late@example.com",
        "add",
        "contact_not_found",
    )
    assert "not in Keap" in record.message and "sync" in record.hint
    assert remote_members("keap") == wanted() - {"late@example.com"}
    assert not SandboxContact.objects.filter(
        platform="keap", attributes__email="late@example.com"
    ).exists()

    assert run_sync(keap).status == "succeeded"
    again = push(segment, keap)
    assert (again.status, again.created, again.rejected_data) == (SyncStatus.SUCCEEDED, 1, 0)
    assert again.api_calls == 2  # its look-up and one applyTags
    assert remote_members("keap") == wanted()


def test_keap_the_pushed_tag_shows_in_the_tag_import_with_its_contacts(keap):
    from integrations.models import Segment
    from integrations.services.segments import import_segments

    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, keap)
    assert run.status == SyncStatus.SUCCEEDED and run.created_remote
    assert run.api_calls == 1 + 10 + 1  # the tag, one look-up a reader, one applyTags
    pushed = SegmentPush.objects.get()
    kept = dict(pushed.members.values_list("identifier", "remote_key"))
    stored = SandboxContact.objects.filter(platform="keap", attributes__email__in=list(kept))
    assert kept == {c.attributes["email"]: c.identifier for c in stored}  # Keap's contact ids
    import_segments(keap)
    listed = Segment.objects.get(integration=keap, remote_id=pushed.remote_id)
    assert (listed.name, listed.kind, listed.member_count) == ("Growth readers", "tag", 10)
    Subscriber.objects.filter(email="reader03@example.com").update(attributes={})
    assert push(segment, keap).removed == 1
    import_segments(keap)
    listed.refresh_from_db()
    assert listed.member_count == 9


def test_keap_a_tag_deleted_there_stops_the_push(keap):
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    push(segment, keap)
    SandboxSegment.objects.filter(platform="keap", static=True).delete()
    Subscriber.objects.filter(email="reader01@example.com").update(
        attributes={"interest": "growth"}
    )
    run = push(segment, keap)
    assert run.status == SyncStatus.FAILED
    assert "no longer has the list 'Growth readers'" in run.error and "deleted there" in run.error
    assert SegmentPush.objects.get().members.count() == 10
