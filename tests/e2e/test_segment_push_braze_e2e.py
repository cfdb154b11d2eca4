"""SharpSend segments pushed to Braze over real HTTP: the sandbox applies /users/track's array
add/remove to its stored users, so what Braze would filter on ("sharpsend_segments includes
value …") is checked on the emulator's users after each push.

Apart from tests/e2e/test_segment_push_e2e.py: that file reads the emulators' static lists
(SandboxSegment), and Braze keeps none; here membership is an attribute on each user."""

from __future__ import annotations

import pytest

from audience.models import AudienceSegment, Subscriber, SubscriberStatus
from integrations.models import ApiCall, SegmentPush, SyncKind, SyncRun, SyncStatus
from integrations.platforms.braze import BrazeClient
from integrations.platforms.braze.segment_push import ATTRIBUTE, segment_value
from integrations.platforms.registry import get_platform
from integrations.sandbox.models import SandboxContact
from integrations.services import segment_push

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "braze"
ACCOUNT = "sandbox-braze-workspace-us"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
GROWTH = {"field": "attributes.interest", "op": "eq", "value": "growth"}
DIVIDENDS = {"field": "attributes.interest", "op": "eq", "value": "dividends"}


class WorkerDied(BaseException):
    """The process running the push was killed."""


@pytest.fixture
def synced(integration, make_subscribers, run_sync):
    """Braze with the audience synced there first (a push never creates a user)."""
    make_subscribers(30, unsubscribed=(7, 19))
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    return integration


def carried() -> dict[str, list]:
    """Each emulated Braze user's sharpsend_segments, by email (users without it left out)."""
    rows = SandboxContact.objects.filter(platform=SLUG, account=ACCOUNT)
    return {
        row.identifier: row.attributes[ATTRIBUTE] for row in rows if ATTRIBUTE in row.attributes
    }


def holding(value: str) -> set[str]:
    return {email for email, values in carried().items() if value in values}


def wanted(interest: str = "growth") -> set[str]:
    return {
        s.email
        for s in Subscriber.objects.filter(status=SubscriberStatus.SUBSCRIBED)
        if s.attributes.get("interest") == interest
    }


def push(segment, integration) -> SyncRun:
    run, created = segment_push.push_segment(segment, integration, "command")
    assert created
    run.refresh_from_db()
    return run


def calls(integration) -> int:
    return ApiCall.objects.filter(integration=integration).count()


def test_push_then_only_changes_then_nothing(synced):
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    value = segment_value("Growth readers")

    first = push(segment, synced)
    assert first.status == SyncStatus.SUCCEEDED, first.error
    assert first.created_remote and (first.created, first.removed, first.failed) == (10, 0, 0)
    assert first.api_calls == 1  # no create call: 10 objects in one /users/track
    assert holding(value) == wanted() and len(wanted()) == 10
    target = SegmentPush.objects.get()
    assert target.remote_id == value
    assert target.remote_name == (
        f"Braze segment filter: custom attribute sharpsend_segments includes value {value}"
    )
    users = SandboxContact.objects.filter(platform=SLUG, account=ACCOUNT).count()
    assert users == 28  # the synced users, no other one

    before, snapshot = calls(synced), carried()
    second = push(segment, synced)
    assert (second.created, second.removed, second.unchanged) == (0, 0, 10)
    assert second.api_calls == 0 and calls(synced) == before  # nothing sent at all
    assert carried() == snapshot

    leaving = Subscriber.objects.get(email="reader00@example.com")
    leaving.attributes = {"interest": "dividends"}
    leaving.save()
    joining = Subscriber.objects.get(email="reader01@example.com")
    joining.attributes = {"interest": "growth"}
    joining.save()
    third = push(segment, synced)
    assert third.status == SyncStatus.SUCCEEDED, third.error
    assert (third.created, third.removed, third.unchanged) == (1, 1, 9)
    assert third.api_calls == 2  # one add, one remove
    after = carried()
    changed = {
        email for email in set(after) | set(snapshot) if after.get(email) != snapshot.get(email)
    }
    assert changed == {"reader00@example.com", "reader01@example.com"}  # exactly those two
    assert after["reader00@example.com"] == [] and after["reader01@example.com"] == [value]
    assert holding(value) == wanted()
    assert SandboxContact.objects.filter(platform=SLUG, account=ACCOUNT).count() == users


def test_two_segments_share_the_attribute_without_touching_each_other(synced):
    growth = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    dividends = AudienceSegment.objects.create(name="Dividends", slug="div", rules=DIVIDENDS)
    everyone = AudienceSegment.objects.create(name="Everyone", slug="all", rules={"all": []})
    for segment in (growth, dividends, everyone):
        assert push(segment, synced).status == SyncStatus.SUCCEEDED
    g, d, e = (segment_value(s.name) for s in (growth, dividends, everyone))
    assert holding(g) == wanted("growth") and holding(d) == wanted("dividends")
    assert len(holding(e)) == 28

    Subscriber.objects.filter(email="reader03@example.com").update(
        status=SubscriberStatus.UNSUBSCRIBED
    )
    assert (push(growth, synced).removed, push(everyone, synced).removed) == (1, 1)
    assert "reader03@example.com" not in holding(g) | holding(e)
    assert holding(d) == wanted("dividends")  # the other segment's value stays


def test_a_reader_braze_does_not_hold_is_not_created(synced):
    Subscriber.objects.create(email="late@example.com", attributes={"interest": "growth"})
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    run = push(segment, synced)
    # Braze skips an update-only object for an unknown user without an error: counted as
    # added, yet no user is made (docs/platforms/braze.md, "SharpSend segments").
    assert run.created == 11 and run.failed == 0
    assert not SandboxContact.objects.filter(platform=SLUG, identifier="late@example.com")
    assert holding(segment_value("Growth readers")) == wanted() - {"late@example.com"}


def test_a_push_that_dies_resumes_without_loss(synced, monkeypatch, settings):
    monkeypatch.setattr(BrazeClient, "segment_batch_max", 3)
    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    value = segment_value("Growth readers")
    original = BrazeClient.add_to_segment
    sent = []

    def dies_on_the_third_batch(self, remote_id, members):
        if len(sent) == 2:
            raise WorkerDied
        sent.append(len(members))
        return original(self, remote_id, members)

    monkeypatch.setattr(BrazeClient, "add_to_segment", dies_on_the_third_batch)
    with pytest.raises(WorkerDied):
        segment_push.push_segment(segment, synced, "command")
    assert SegmentPush.objects.get().members.count() == 6  # two batches of 3 committed
    assert len(holding(value)) == 6

    monkeypatch.setattr(BrazeClient, "add_to_segment", original)
    settings.SYNC_STALE_AFTER_SECONDS = 0  # the dead run is taken for dead at once
    resumed = push(segment, synced)
    assert resumed.status == SyncStatus.SUCCEEDED, resumed.error
    assert not resumed.created_remote and resumed.created == 4
    assert holding(value) == wanted()
    assert SegmentPush.objects.get().remote_id == value
    (dead,) = SyncRun.objects.filter(status=SyncStatus.INTERRUPTED)
    assert (dead.kind, resumed.resumed_from_id) == (SyncKind.SEGMENT, dead.pk)


def test_the_segment_admin_says_the_exact_braze_filter(synced, admin_client):
    from django.urls import reverse

    segment = AudienceSegment.objects.create(name="Growth readers", slug="growth", rules=GROWTH)
    page = reverse("admin:audience_audiencesegment_change", args=[segment.pk])
    listing = admin_client.get(reverse("admin:audience_audiencesegment_changelist"))
    assert f"Create/update on {synced.name}" in listing.content.decode()  # Braze is pushable
    push(segment, synced)
    content = admin_client.get(page).content.decode()
    value = segment_value("Growth readers")
    assert f"custom attribute sharpsend_segments includes value {value}" in content
