"""The emulators' outbound webhooks (integrations/sandbox/outbound.py): what a hook reports and
from when, batches in order, a failed delivery held back and retried, only this console's URLs,
replays and forgeries, the schedule and the command. The console's endpoint is a `responses`
mock here (the e2e tests post to the real one)."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from integrations.sandbox import outbound, tasks
from integrations.sandbox.models import (
    SandboxContact,
    SandboxWebhook,
    SandboxWebhookDelivery,
    SandboxWebhookEvent,
)
from integrations.services import schedules

pytestmark = pytest.mark.django_db

CONSOLE = "http://127.0.0.1:8000"
HOOK_URL = f"{CONSOLE}/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/?token=t0k3n"
CM = "campaign_monitor"
CM_ACCOUNT = "sandbox-cm-account"


@pytest.fixture(autouse=True)
def console(settings):
    settings.SANDBOX_ENABLED = True
    settings.CONSOLE_BASE_URL = CONSOLE
    settings.SANDBOX_BASE_URL = f"{CONSOLE}/sandbox"


def cm_hook(url=HOOK_URL, **fields) -> SandboxWebhook:
    return outbound.new_hook(
        CM, CM_ACCOUNT, remote_id=fields.pop("remote_id", "h1"), url=url,
        events=["Deactivate"], settings={"list_id": "L1"}, **fields,
    )  # fmt: skip


def unsubscribe(email: str):
    SandboxContact.objects.get_or_create(
        platform=CM, account=CM_ACCOUNT, identifier=email,
        defaults={"attributes": {"EmailAddress": email, "Name": "Ada Reader", "State": "Active"}},
    )  # fmt: skip
    return outbound.reader_unsubscribes(CM, email)


def test_a_new_hook_reports_only_what_happens_after_it(fake_clock):
    unsubscribe("before@example.com")
    hook = cm_hook()
    unsubscribe("after@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=200)
        report = outbound.post_pending()
        (call,) = rsps.calls
    body = call.request.body
    assert b"after@example.com" in body and b"before@example.com" not in body
    assert parse_qs(call.request.url.split("?")[1]) == {"token": ["t0k3n"]}
    assert b'"State":"Unsubscribed"' in body and b'"ListID":"L1"' in body
    assert report.summary() == "1 deliveries, 1 events delivered"
    contact = SandboxContact.objects.get(identifier="after@example.com")
    assert contact.attributes["State"] == "Unsubscribed"  # the emulator's own record
    hook.refresh_from_db()
    assert outbound.post_pending().deliveries == []  # nothing twice


def test_a_failed_delivery_holds_the_rest_back_and_is_tried_again(fake_clock):
    cm_hook()
    unsubscribe("one@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=503)
        failed = outbound.post_pending()
    assert [(d.events, d.status) for d in failed.deliveries] == [(1, 503)]
    unsubscribe("two@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=200)
        retried = outbound.post_pending()
        (call,) = rsps.calls
    assert b"one@example.com" in call.request.body and b"two@example.com" in call.request.body
    assert retried.delivered == 2


def test_batches_keep_the_platforms_limit(fake_clock, monkeypatch):
    hook = cm_hook()
    declared = outbound.declared()
    small = {**declared, CM: outbound.Outbound(**{**vars(declared[CM]), "batch_max": 2})}
    monkeypatch.setattr(outbound, "declared", lambda: small)
    for n in range(5):
        unsubscribe(f"r{n}@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=200)
        report = outbound.post_pending()
    assert [d.events for d in report.deliveries] == [2, 2, 1]
    assert SandboxWebhookDelivery.objects.filter(hook=hook).count() == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/webhooks/x/",  # metadata address
        "http://10.0.0.8:8000/webhooks/x/",
        f"{CONSOLE}/admin/",  # this console, but not a webhook URL
        "http://user:pw@127.0.0.1:8000/webhooks/x/",
    ],
)
def test_only_this_consoles_webhook_urls_are_posted_to(url, fake_clock):
    hook = cm_hook(url=url)
    unsubscribe("reader@example.com")
    with responses.RequestsMock() as rsps:  # any request leaving would fail here
        report = outbound.post_pending()
        assert not rsps.calls
    (delivery,) = report.deliveries
    assert delivery.status is None and "only to this console" in delivery.error
    hook.refresh_from_db()
    # Kept for when the URL is right: the event is still pending (ids are the database's own,
    # not 1 on PostgreSQL, whose sequences a test's rollback does not reset).
    event = SandboxWebhookEvent.objects.filter(platform=CM, account=CM_ACCOUNT).latest("pk")
    assert hook.posted_through == event.pk - 1


def test_replay_posts_the_same_bytes_and_forge_another_key(fake_clock):
    cm_hook()
    unsubscribe("reader@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=200)
        outbound.post_pending()
        delivery = SandboxWebhookDelivery.objects.get()
        outbound.replay(delivery)
        outbound.forge(delivery)
        first, replayed, forged = rsps.calls
    assert replayed.request.body == first.request.body
    assert replayed.request.url == first.request.url
    assert "token=t0k3n" not in forged.request.url and forged.request.body == first.request.body


def test_engagement_is_harvested_once_per_reader_and_kind(fake_clock):
    from integrations.sandbox.models import SandboxSegment, SandboxSend, SandboxWebhookEvent

    account = "sandbox-audience-us6"
    for n in range(40):
        SandboxContact.objects.create(
            platform="mailchimp", account=account, identifier=f"m{n}@example.com",
            attributes={"email_address": f"m{n}@example.com", "status": "subscribed"},
        )  # fmt: skip
    SandboxSegment.objects.create(platform="mailchimp", account=account, remote_id=9, name="All")
    sent_at = timezone.now() - timedelta(hours=80)
    SandboxSend.objects.create(
        platform="mailchimp", account=account, kind="campaign", remote_id="c1", sends=1,
        sent_at=sent_at, body={"recipients": {"list_id": "sandbox6a"},
                               "settings": {"subject_line": "Markets"}},
    )  # fmt: skip
    made = outbound.harvest("mailchimp", account, timezone.now())
    again = outbound.harvest("mailchimp", account, timezone.now())
    rows = SandboxWebhookEvent.objects.filter(platform="mailchimp")
    assert made == rows.count() > 40  # at least a delivery or a bounce for each reader
    assert again == 0 and rows.count() == made  # nothing stored twice
    assert (
        rows.filter(kind="delivered").count() + rows.filter(kind__startswith="bounced").count()
        == 40
    )


def test_the_schedule_exists_only_while_the_sandbox_is_on(settings):
    schedules.ensure_housekeeping()
    assert Schedule.objects.filter(func="integrations.sandbox.tasks.post_webhooks").exists()
    settings.SANDBOX_ENABLED = False
    schedules.ensure_housekeeping()
    assert not Schedule.objects.filter(func="integrations.sandbox.tasks.post_webhooks").exists()
    assert tasks.post_webhooks() == "skipped: the sandbox is off"


def test_the_command_posts_and_explains_what_it_cannot(fake_clock, settings):
    cm_hook()
    SandboxContact.objects.create(
        platform=CM, account=CM_ACCOUNT, identifier="reader@example.com",
        attributes={"EmailAddress": "reader@example.com", "State": "Active"},
    )  # fmt: skip
    out = io.StringIO()
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL.split("?")[0], status=200)
        call_command(
            "sandbox_post_webhooks", "--platform", CM, "--unsubscribe", "reader@example.com",
            stdout=out,
        )  # fmt: skip
        call_command("sandbox_post_webhooks", "--platform", CM, "--replay-last", stdout=out)
    text = out.getvalue()
    assert "reader@example.com unsubscribed" in text
    assert "1 deliveries, 1 events delivered" in text and "→ 200" in text
    assert "replayed → 200" in text
    with pytest.raises(CommandError, match="No emulator posts webhooks as 'zapier'"):
        call_command("sandbox_post_webhooks", "--platform", "zapier")
    with pytest.raises(CommandError, match="front's webhooks report no unsubscribes"):
        call_command("sandbox_post_webhooks", "--platform", "front", "--unsubscribe", "a@b.example")
    with pytest.raises(CommandError, match="holds no reader nobody@example.com"):
        call_command(
            "sandbox_post_webhooks", "--platform", CM, "--unsubscribe", "nobody@example.com"
        )
    with pytest.raises(CommandError, match="--unsubscribe needs --platform"):
        call_command("sandbox_post_webhooks", "--unsubscribe", "x@example.com")
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="The sandbox is off"):
        call_command("sandbox_post_webhooks")
