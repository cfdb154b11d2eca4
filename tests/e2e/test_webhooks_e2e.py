"""Webhooks over real HTTP: each platform's signed sample posted to the running console
(live_server) is verified, stored, processed (django-q in sync mode) and recorded; a forged one
is refused. Then the whole loop: the console registers its webhooks with the emulators (twice,
one hook), the emulators post their sends' engagement and a reader's unsubscribe, signed as the
platform signs, and the console records each event once; replays and forgeries change nothing.
Drift and Front, whose webhooks are made in their apps, post what happens to a contact there."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django_q.conf import Conf

from audience.models import EngagementEvent, Subscriber, SubscriberStatus
from campaigns.services import sending, workflow
from integrations.models import RegisteredWebhook, Segment, WebhookEvent, WebhookState
from integrations.platforms.registry import PLATFORM_MODULES, get_platform
from integrations.sandbox import accounts, inapp, outbound, registry
from integrations.sandbox import webhooks as signing
from integrations.sandbox.models import (
    SandboxSend,
    SandboxWebhook,
    SandboxWebhookDelivery,
    SandboxWebhookEvent,
)
from integrations.services import webhooks
from integrations.services.segments import import_segments
from integrations.services.webhooks import webhook_path
from tests.integrations.webhooks.fixtures import integration_with_secret
from tests.integrations.webhooks.samples import READER, SAMPLES, signing_secret

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader():
    return Subscriber.objects.create(email=READER)


def _post(live_server, integration, body, content_type, signed):
    url = live_server.url + webhook_path(integration)
    if signed.query:
        url += "?" + urlencode(signed.query)
    headers = {"Content-Type": content_type, **signed.headers}
    return requests.post(url, data=body, headers=headers, timeout=15)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_signed_delivery_flows_into_engagement(
    slug, live_server, reader, fake_clock, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = integration_with_secret(slug)
    body, content_type, expected = SAMPLES[slug]
    signed = signing.sign(slug, body, signing_secret(slug), fake_clock.time)
    response = _post(live_server, integration, body, content_type, signed)
    assert response.status_code == 200, response.text
    event = WebhookEvent.objects.get(integration=integration)
    assert event.state == WebhookState.PROCESSED, event.error
    kinds = sorted(
        EngagementEvent.objects.filter(integration=integration).values_list("kind", flat=True)
    )
    assert kinds == sorted(kind for kind, email in expected if email)
    forged = signing.forge(slug, body, fake_clock.time)
    assert _post(live_server, integration, body, content_type, forged).status_code == 401


def test_an_unsubscribe_over_http_changes_the_status(live_server, reader, fake_clock, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = integration_with_secret("mailchimp")
    body, content_type, _ = SAMPLES["mailchimp"]
    signed = signing.sign("mailchimp", body, signing_secret("mailchimp"), fake_clock.time)
    assert _post(live_server, integration, body, content_type, signed).status_code == 200
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED


# --- registered from the console, posted by the emulators -----------------------------------------

# platform → the name of the segment the send goes to, extra credentials its sends need
# (tests/e2e/test_campaign_platforms_e2e.py) and the remote campaign a trigger-only send fires
# (Customer.io's API-triggered broadcast 1). Mailchimp's saved segment follows INTEREST.
SENDS = {
    "mailchimp": ("Growth Investors", {}, ""),
    "sendgrid": ("All readers", {"sender_id": "1", "suppression_group_id": "5"}, ""),
    "klaviyo": ("All readers", {}, ""),
    "customerio": ("Growth Investors", {}, "1"),
    "iterable": ("All readers", {}, ""),
    # An API-triggered campaign to its own segment in Braze (no segment named here).
    "braze": ("", {}, "c4a1d7e0-5e11-4d2b-9a10-000000000001"),
}
EXTRA_MAPPINGS = {"mailchimp": (("attributes.interest", "INTEREST", "", False),)}
REGISTERING = (
    "campaign_monitor", "customerio", "keap", "kit", "klaviyo", "mailchimp", "sendgrid",
)  # fmt: skip
# Made by a person in the platform's own app (the sandbox index's form does what they do there).
IN_APP = ("braze", "crisp", "drift", "front", "iterable")


@pytest.fixture
def connected(make_integration, oauth_integration, sandbox_url, e2e_clock, settings, live_server):
    """connected(slug) → the platform's integration on its emulator; the console's public
    address is the live server (where the emulators post)."""
    settings.CONSOLE_BASE_URL = live_server.url

    def connect(slug: str):
        registry.seed(slug)
        base = f"{sandbox_url}/{slug}"
        if not get_platform(slug).credential_fields:  # OAuth only (Keap): the consent flow
            return oauth_integration(slug, base_url=base)
        extra = SENDS.get(slug, ("", {}, ""))[1]
        credentials = {**accounts.demo_account(slug).credentials, **extra}
        mappings = [*get_platform(slug).suggested_mappings, *EXTRA_MAPPINGS.get(slug, ())]
        return make_integration(slug, base_url=base, credentials=credentials, mappings=mappings)

    return connect


def _register(integration) -> str:
    out = io.StringIO()
    call_command("register_webhooks", str(integration.pk), stdout=out)
    return out.getvalue()


def _hook_up(integration) -> None:
    """The console's webhook set up on the platform, however the platform does it: through
    its API (the console registers it), or by a person on its settings page with the URL and
    token the integration's page shows; a signing key only the platform's page shows is
    copied into the integration."""
    if integration.platform not in IN_APP:
        _register(integration)
        if integration.platform_class.webhook_registration.secret_by_hand:
            _copy_signing_key(integration)
        return
    form = outbound.declared()[integration.platform].in_app
    account = accounts.demo_account(integration.platform).account
    if form.secret == inapp.APP:  # the app's one secret, copied before the webhook is made
        _copy_app_secret(integration, form.app_secret(account))
    inapp.add_in_app(
        integration.platform,
        account,
        webhooks.webhook_url(integration, settings.CONSOLE_BASE_URL),
        secret=webhooks.ensure_secret(integration) if form.secret == inapp.TYPED else "",
    )
    if form.secret == inapp.ISSUED:
        _copy_signing_key(integration)


def _copy_app_secret(integration, value: str) -> None:
    """What a person does where the platform's app holds the secret (Drift's Verification
    Token, Front's app secret): copy it from the app's page into the integration."""
    webhooks.store_secrets(
        integration, {integration.platform_class.webhook_scheme.secret.key: value}
    )


def _copy_signing_key(integration) -> None:
    """What a person does where the platform's API hands out no signing key (Customer.io):
    copy it from the webhook's page (the sandbox index shows it) into the integration."""
    key = integration.platform_class.webhook_scheme.secret.key
    hook = SandboxWebhook.objects.get(platform=integration.platform)
    webhooks.store_secrets(integration, {key: hook.secret})


def _send_to_everyone(integration, make_assignment, author, approver) -> SandboxSend:
    import_segments(integration)
    name, _, remote_campaign = SENDS[integration.platform]
    segment = Segment.objects.get(integration=integration, name=name).remote_id if name else ""
    method = integration.platform_class.send_methods[0].key
    assignment = make_assignment((integration, segment, method, remote_campaign))
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    sending.send_assignment(assignment.pk)
    return SandboxSend.objects.get(platform=integration.platform, sends=1)


def _expected(integration, hook) -> list[tuple[str, str]]:
    """(kind, email) of what the emulator reports to `hook` for readers the console holds."""
    topics = outbound.declared()[integration.platform].topics
    known = set(Subscriber.objects.values_list("email", flat=True))
    rows = SandboxWebhookEvent.objects.filter(
        platform=integration.platform, occurred_at__gte=hook.created_at
    )
    return sorted(
        (row.kind, row.email)
        for row in rows
        if topics.get(row.kind) in hook.events and row.email in known
    )


def _recorded(integration) -> list[tuple[str, str]]:
    rows = EngagementEvent.objects.filter(integration=integration).select_related("subscriber")
    return sorted((row.kind, row.subscriber.email) for row in rows)


@pytest.mark.parametrize("slug", REGISTERING)
def test_registering_twice_makes_one_hook_on_the_emulator(slug, connected, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = connected(slug)
    first = _register(integration)
    hooks = list(SandboxWebhook.objects.filter(platform=slug))
    assert hooks and all(h.status == outbound.ACTIVE for h in hooks), first
    assert all(h.url.startswith(live_url(integration)) for h in hooks)
    second = _register(integration)
    assert SandboxWebhook.objects.filter(platform=slug).count() == len(hooks)
    assert "0 webhook(s) registered" in second and f"{len(hooks)} already in place" in second
    registered = RegisteredWebhook.objects.filter(integration=integration)
    assert sorted(registered.values_list("remote_id", flat=True)) == sorted(
        h.remote_id for h in hooks
    )
    assert all("token=" not in r.endpoint and r.active for r in registered)
    integration.refresh_from_db()
    registration = integration.platform_class.webhook_registration
    for key in registration.issued:
        assert integration.secrets.get(key), key  # the signing secret the platform issued
    if registration.secret_by_hand:  # said until the key is copied, then no more
        assert "still to do: " + registration.secret_by_hand in second
        _copy_signing_key(integration)
        assert "still to do" not in _register(integration)


@pytest.mark.parametrize("slug", sorted(SENDS))
def test_a_sends_engagement_is_posted_signed_and_recorded_once(
    slug, connected, make_subscribers, run_sync, make_assignment, author, approver, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)
    readers = make_subscribers(30, unsubscribed=())
    integration = connected(slug)
    run_sync(integration)
    _hook_up(integration)
    send = _send_to_everyone(integration, make_assignment, author, approver)
    # Mailchimp's audience webhooks report only opt-outs and cleaned addresses, which the seeded
    # engagement of 10 readers may not hold: one reader also unsubscribes on the platform.
    outbound.reader_unsubscribes(slug, readers[0].email)
    later = send.sent_at + timedelta(hours=73)
    report = outbound.post_pending(later, slug)
    hook = SandboxWebhook.objects.get(platform=slug)
    expected = _expected(integration, hook)
    assert ("unsubscribed", readers[0].email.lower()) in expected
    assert report.deliveries and all(d.status == 200 for d in report.deliveries), report
    assert report.delivered == len(
        [e for e in SandboxWebhookEvent.objects.filter(platform=slug)
         if outbound.declared()[slug].topics.get(e.kind) in hook.events]
    )  # fmt: skip
    assert (
        not WebhookEvent.objects.filter(integration=integration)
        .exclude(state=WebhookState.PROCESSED)
        .exists()
    )
    assert _recorded(integration) == expected
    # Nothing new to post; an exact replay of a delivery is a redelivery, recorded nothing.
    assert outbound.post_pending(later, slug).deliveries == []
    delivery = SandboxWebhookDelivery.objects.filter(hook=hook).last()
    if delivery is not None:
        assert outbound.replay(delivery) == 200
        assert WebhookEvent.objects.filter(integration=integration, redeliveries=1).count() == 1
        assert outbound.forge(delivery) == 401
    assert _recorded(integration) == expected


@pytest.mark.parametrize(
    "slug",
    ("braze", "campaign_monitor", "crisp", "customerio", "iterable", "kit", "klaviyo", "mailchimp",
     "sendgrid"),
)  # fmt: skip
def test_an_unsubscribe_in_the_emulator_unsubscribes_the_reader(
    slug, connected, make_subscribers, run_sync, monkeypatch, e2e_clock
):
    monkeypatch.setattr(Conf, "SYNC", True)
    readers = make_subscribers(5, unsubscribed=())
    integration = connected(slug)
    run_sync(integration)
    _hook_up(integration)
    reader = readers[2]
    outbound.reader_unsubscribes(slug, reader.email)
    report = outbound.post_pending(platform=slug)
    assert [d.status for d in report.deliveries] == [200], report.deliveries
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED
    assert _recorded(integration) == [("unsubscribed", reader.email)]
    delivery = SandboxWebhookDelivery.objects.get(hook__platform=slug)
    e2e_clock.time += 600  # later than any signed timestamp's window
    replayed = outbound.replay(delivery)
    event = WebhookEvent.objects.get(integration=integration, state=WebhookState.PROCESSED)
    if integration.platform_class.webhook_scheme.signed:  # the old signature is refused
        assert replayed == 401
        assert WebhookEvent.objects.filter(state=WebhookState.REJECTED).count() == 1
    else:  # only a URL or header token (no timestamp): a counted redelivery, not processed
        assert replayed == 200 and event.redeliveries == 1
    assert _recorded(integration) == [("unsubscribed", reader.email)]


# --- Drift and Front: what happens to a contact on the platform ----------------------------------


def _drift_changes(client, readers) -> int:
    """A reader the console holds gives their email in Drift's chat (contact_identified, with
    the contact), then a person renames them in Drift: contact_updated names only what changed
    (Drift's diff), so the console finds no reader in it. Readers left unrecorded: 1."""
    from integrations.sandbox.drift import visitor_identifies
    from integrations.sandbox.models import SandboxOAuthToken

    row = visitor_identifies(readers[2].email, "Reader Two")
    token = SandboxOAuthToken.objects.filter(platform="drift").latest("pk").access_token
    renamed = client.patch(
        f"/sandbox/drift/driftapi.com/contacts/{row.identifier}",
        data={"attributes": {"name": "Reader Two Renamed"}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert renamed.status_code == 200, renamed.content
    return 1


def _front_changes(client, readers) -> int:
    """A message Front sent a reader bounces (message_bounce_error, recorded as a soft
    bounce); another reader writes in (inbound: the console takes no action on it). Front
    reports nothing of a contact's own changes."""
    from integrations.sandbox.front import contact_writes_in, message_bounces

    message_bounces(readers[2].email)
    contact_writes_in(readers[3].email)
    return 0


# platform → the change made on it, and the kind the console records for readers[2].
CONTACT_CHANGES = {
    "drift": (_drift_changes, "contact_updated"),
    "front": (_front_changes, "bounced_soft"),
}


@pytest.mark.parametrize("slug", sorted(CONTACT_CHANGES))
def test_a_contact_change_on_the_emulator_arrives_signed_and_is_recorded(
    slug, connected, make_subscribers, run_sync, client, monkeypatch, e2e_clock
):
    monkeypatch.setattr(Conf, "SYNC", True)
    readers = make_subscribers(5, unsubscribed=())
    integration = connected(slug)
    run_sync(integration)
    _hook_up(integration)
    hook = SandboxWebhook.objects.get(platform=slug)
    assert hook.status == outbound.ACTIVE and not WebhookEvent.objects.exists()  # a challenge
    change, kind = CONTACT_CHANGES[slug]
    unrecorded = change(client, readers)
    report = outbound.post_pending(platform=slug)
    assert [d.status for d in report.deliveries] == [200, 200], report.deliveries
    events = WebhookEvent.objects.filter(integration=integration).order_by("pk")
    assert [e.state for e in events] == [WebhookState.PROCESSED] * 2
    assert _recorded(integration) == [(kind, readers[2].email)]
    assert sum("for no known subscriber" in e.note for e in events) == unrecorded
    delivery = SandboxWebhookDelivery.objects.filter(hook=hook).first()
    assert outbound.forge(delivery) == 401
    assert WebhookEvent.objects.filter(state=WebhookState.REJECTED).count() == 1
    e2e_clock.time += 600  # later than any signed timestamp's window
    replayed = outbound.replay(delivery)
    if integration.platform_class.webhook_scheme.signed:  # Front: the old signature is refused
        assert replayed == 401
    else:  # Drift: its static token only, a counted redelivery
        assert replayed == 200 and events.all().first().redeliveries == 1
    assert _recorded(integration) == [(kind, readers[2].email)]


def test_front_keeps_no_webhook_whose_challenge_the_console_cannot_verify(
    connected, monkeypatch, e2e_clock
):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = connected("front")  # the app secret not yet copied into the integration
    url = webhooks.webhook_url(integration, settings.CONSOLE_BASE_URL)
    with pytest.raises(inapp.Refused, match=r"did not answer Front's challenge \(HTTP 401\)"):
        inapp.add_in_app("front", accounts.demo_account("front").account, url)
    assert not SandboxWebhook.objects.exists()
    assert WebhookEvent.objects.get(integration=integration).state == WebhookState.REJECTED


def test_keap_verifies_its_hooks_and_posts_id_only_edits(
    connected, make_subscribers, run_sync, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)
    readers = make_subscribers(3, unsubscribed=())
    integration = connected("keap")
    run_sync(integration)
    _register(integration)
    hooks = SandboxWebhook.objects.filter(platform="keap")
    assert sorted(h.events[0] for h in hooks) == ["contact.add", "contact.delete", "contact.edit"]
    assert {h.status for h in hooks} == {outbound.ACTIVE}  # the X-Hook-Secret echo worked
    outbound.reader_unsubscribes("keap", readers[0].email)
    report = outbound.post_pending(platform="keap")
    assert [(d.events, d.status) for d in report.deliveries] == [(1, 200)]
    event = WebhookEvent.objects.get(integration=integration)
    assert event.state == WebhookState.PROCESSED and event.events_count == 1
    assert "for no known subscriber" in event.note  # ids only: nothing to record by itself


def live_url(integration) -> str:
    return settings.CONSOLE_BASE_URL + webhook_path(integration)
