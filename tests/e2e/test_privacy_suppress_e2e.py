"""The "do not sell / suppress" request end to end: the eight platforms with a suppress call
connected to the sandbox over real HTTP. After the request the reader's data stays everywhere,
each emulator holds them suppressed its own way, and neither a full sync, a profile import, a
webhook "subscribe" nor a send reaches or re-subscribes them (other readers are not affected)."""

from __future__ import annotations

import pytest
import requests
from django_q.conf import Conf

from audience.models import EngagementEvent, Subscriber, SubscriberStatus
from audience.suppression import is_suppressed
from campaigns.services import sending
from integrations.models import PrivacyStatus, Segment, SyncKind, SyncStatus, SyncTrigger, TaskState
from integrations.platforms.registry import get_platform
from integrations.platforms.types import Capability
from integrations.sandbox import registry
from integrations.sandbox import webhooks as signing
from integrations.sandbox.models import SandboxContact, SandboxSend, SandboxSuppression
from integrations.services import privacy, sync
from integrations.services.segments import import_segments
from integrations.services.webhooks import webhook_path
from tests.e2e.sending import approved, deliver_soon
from tests.integrations.webhooks.fixtures import integration_with_secret
from tests.integrations.webhooks.samples import signing_secret

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUPPRESSED = "reader03@example.com"
OTHER = "reader04@example.com"
# platform → the send method, the extra credentials its sends need, the kind of send the
# emulator records and the platform's campaign (tests/e2e/test_campaign_platforms_e2e.py).
# Braze's and Keap's sends are per reader, and Klaviyo's emulator does not count a campaign's
# recipients: their suppression is checked on what the emulator stores.
PLATFORMS = {
    "braze": None,
    "campaign_monitor": ("campaign", {"from_email": "news@example.com"}, "campaign", ""),
    "customerio": ("api_triggered_broadcast", {}, "trigger", "1"),
    "keap": None,
    "kit": ("broadcast", {}, "broadcast", ""),
    "klaviyo": None,
    "mailchimp": ("campaign", {}, "campaign", ""),
    "sendgrid": ("single_send", {"sender_id": "1", "suppression_group_id": "5"}, "single_send", ""),
}


@pytest.fixture(autouse=True)
def inline_queue(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.PRIVACY_POLL_SECONDS = 1  # on the fake clock


@pytest.fixture
def connected(make_integration, oauth_integration, sandbox_url, e2e_clock, make_subscribers):
    from integrations.sandbox import accounts

    make_subscribers(30)
    integrations = {}
    for slug, send in PLATFORMS.items():
        registry.seed(slug)
        if slug == "keap":  # OAuth only
            integrations[slug] = oauth_integration(slug, base_url=f"{sandbox_url}/keap", name=slug)
            continue

        credentials = {**accounts.demo_account(slug).credentials, **(send[1] if send else {})}
        integrations[slug] = make_integration(
            slug,
            name=slug,
            base_url=f"{sandbox_url}/{slug}",
            region="auto" if slug == "mailchimp" else "",
            credentials=credentials,
        )
    return integrations


def test_every_platform_with_a_suppress_call_is_covered():
    from integrations.platforms.registry import all_platforms

    wired = {c.slug for c in all_platforms() if c.supports(Capability.SUPPRESS_CONTACT)}
    assert wired == set(PLATFORMS)


def stored(slug: str, email: str) -> SandboxContact:
    """The emulator's row for `email` (by identifier or by an attribute holding it)."""
    rows = [
        row
        for row in SandboxContact.objects.filter(platform=slug)
        if email in f"{row.identifier} {row.attributes}".lower()
    ]
    assert len(rows) == 1, (slug, email, rows)
    return rows[0]


def held_suppressed(slug: str, email: str) -> bool:
    """Whether the emulator holds `email` suppressed the way that platform does."""
    row = stored(slug, email)
    listed = SandboxSuppression.objects.filter(platform=slug, email=email).exists()
    return {
        "braze": row.attributes.get("email_subscribe") == "unsubscribed",
        "campaign_monitor": row.suppressed,
        "customerio": row.attributes.get("unsubscribed") is True,
        "keap": row.attributes.get("email_status") == "MANUAL",  # "Opt-Out: Manual"
        "kit": row.attributes.get("state") == "cancelled",
        "klaviyo": listed,
        "mailchimp": row.attributes.get("status") == "unsubscribed",
        "sendgrid": listed,
    }[slug]


def full_syncs(integrations, run_sync):
    runs = {}
    for slug, integration in integrations.items():
        run = run_sync(integration, mode="full")
        assert run.status == SyncStatus.SUCCEEDED, (slug, run.error)
        runs[slug] = run
    return runs


def send_to_all_readers(slug, integration, make_assignment, author, approver) -> SandboxSend:
    method, _, kind, campaign = PLATFORMS[slug]
    import_segments(integration)
    segments = Segment.objects.filter(integration=integration)
    # Everyone: the demo accounts' "All readers" (Campaign Monitor: its list).
    segment = segments.get(name__in=("All readers", "SharpSend readers"))
    spec = (integration, segment.remote_id, method, campaign)
    assignment = approved(make_assignment, spec, author=author, approver=approver)
    before = set(SandboxSend.objects.filter(platform=slug, kind=kind).values_list("pk", flat=True))
    sending.send_assignment(assignment.pk)
    deliver_soon()  # Kit's "now" is two minutes ahead: held until then
    (send,) = SandboxSend.objects.filter(platform=slug, kind=kind).exclude(pk__in=before)
    return send


def test_a_suppressed_reader_keeps_their_data_and_nothing_reaches_or_resubscribes_them(
    connected, run_sync, make_assignment, author, approver, live_server, fake_clock
):
    full_syncs(connected, run_sync)
    sends_before = {
        slug: send_to_all_readers(slug, connected[slug], make_assignment, author, approver)
        for slug, send in PLATFORMS.items()
        if send
    }
    for slug in PLATFORMS:
        assert not held_suppressed(slug, SUPPRESSED), slug

    request = privacy.run_until_settled(privacy.open_request("suppress", SUPPRESSED))

    tasks = {t.platform: t for t in request.tasks.all()}
    assert {p: t.state for p, t in tasks.items()} == {p: TaskState.DONE for p in PLATFORMS}, {
        p: t.reason for p, t in tasks.items()
    }
    assert request.status == PrivacyStatus.COMPLETE
    reader = Subscriber.objects.get(email=SUPPRESSED)
    assert reader.status == SubscriberStatus.UNSUBSCRIBED and reader.first_name
    assert is_suppressed(SUPPRESSED)
    for slug in PLATFORMS:
        assert held_suppressed(slug, SUPPRESSED), slug
        assert not held_suppressed(slug, OTHER), slug
    kept = {slug: stored(slug, SUPPRESSED) for slug in PLATFORMS}  # the data stays

    # A full sync leaves the reader out: their rows on the platforms are not written again.
    for slug, run in full_syncs(connected, run_sync).items():
        assert run.excluded >= 1, slug
        row = stored(slug, SUPPRESSED)
        assert (row.attributes, row.updated_at) == (kept[slug].attributes, kept[slug].updated_at)
        assert held_suppressed(slug, SUPPRESSED), slug

    # A profile import (where the platform lists its contacts) changes nothing of the reader.
    untouched = Subscriber.objects.get(email=SUPPRESSED).updated_at
    imported = 0
    for slug, integration in connected.items():
        if not get_platform(slug).supports(Capability.LIST_CONTACTS):
            continue
        run, created = sync.start_sync(
            integration, SyncTrigger.COMMAND, kind=SyncKind.IMPORT, conflict_policy="platform"
        )
        assert created
        sync.execute_sync(run.pk)
        run.refresh_from_db()
        assert run.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL), (slug, run.error)
        imported += 1
        reader = Subscriber.objects.get(email=SUPPRESSED)
        assert (reader.status, reader.updated_at) == (SubscriberStatus.UNSUBSCRIBED, untouched)
    assert imported == 5  # Campaign Monitor, Keap, Kit, Klaviyo, Mailchimp

    # A signed "subscribe" webhook for the reader is not applied to them; the same for another
    # reader is (so the check can fail).
    hooks = integration_with_secret("mailchimp", name="mailchimp hooks")
    for email in (SUPPRESSED, OTHER):
        body = (
            "type=subscribe&fired_at=2026-12-03+10%3A00%3A00&data%5Bid%5D=8a25ff1d98"
            f"&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D={email.replace('@', '%40')}"
        ).encode()
        signed = signing.sign("mailchimp", body, signing_secret("mailchimp"), fake_clock.time)
        response = requests.post(
            live_server.url + webhook_path(hooks),
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **signed.headers},
            timeout=15,
        )
        assert response.status_code == 200, response.text
    recorded = set(
        EngagementEvent.objects.filter(integration=hooks).values_list(
            "subscriber__email", flat=True
        )
    )
    assert recorded == {OTHER}
    assert Subscriber.objects.get(email=SUPPRESSED).status == SubscriberStatus.UNSUBSCRIBED

    # A send to the same readers reaches one fewer: the suppressed reader.
    for slug, before in sends_before.items():
        after = send_to_all_readers(slug, connected[slug], make_assignment, author, approver)
        assert after.recipients == before.recipients - 1, (slug, before.recipients)


def test_the_id_a_platform_webhook_gave_is_what_the_request_records_and_uses(
    make_integration, sandbox_url, e2e_clock, make_subscribers, run_sync, live_server, fake_clock
):
    """Kit addresses subscribers by id: the id its signed webhook gave the console is recorded
    on the request's task, shown as where it came from, and used without an email look-up."""
    import json

    from integrations.models import ApiCall
    from integrations.sandbox import accounts
    from tests.integrations.webhooks.samples import stored_secret

    make_subscribers(30)
    registry.seed("kit")
    secret_key = get_platform("kit").webhook_scheme.secret.key
    kit = make_integration(
        "kit",
        name="kit",
        base_url=f"{sandbox_url}/kit",
        credentials={**accounts.demo_account("kit").credentials, secret_key: stored_secret("kit")},
    )
    assert run_sync(kit, mode="full").status == SyncStatus.SUCCEEDED
    kit_id = stored("kit", SUPPRESSED).pk  # the emulator's subscriber id
    event = {
        "id": "evt_privacy_1",
        "type": "subscriber.activated",
        "created_at": "2026-12-03T10:00:00Z",
        "data": {"subscriber": {"id": kit_id, "email_address": SUPPRESSED}},
    }
    body = json.dumps({"events": [event]}).encode()
    signed = signing.sign("kit", body, signing_secret("kit"), fake_clock.time)
    response = requests.post(
        live_server.url + webhook_path(kit),
        data=body,
        headers={"Content-Type": "application/json", **signed.headers},
        timeout=15,
    )
    assert response.status_code == 200, response.text

    request = privacy.run_until_settled(privacy.open_request("suppress", SUPPRESSED))
    task = request.tasks.get()
    assert (task.platform_id, task.platform_id_source) == (
        str(kit_id),
        "webhook event (contact_updated)",
    )
    assert task.state == TaskState.DONE, task.reason
    assert "found by the id the console knew" in task.reason
    assert held_suppressed("kit", SUPPRESSED)
    paths = list(ApiCall.objects.filter(integration=kit).values_list("method", "path"))
    assert ("POST", f"/v4/subscribers/{kit_id}/unsubscribe") in paths
    assert not [p for m, p in paths if m == "GET" and p.startswith("/v4/subscribers")], paths
