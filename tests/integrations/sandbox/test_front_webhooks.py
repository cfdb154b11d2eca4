"""The Front emulator's application webhooks (integrations/sandbox/front/webhooks.py): made on
the app's settings page with the app secret, kept only when the URL answers Front's signed
challenge; a bounce and an inbound message posted as Front's event envelopes, signed as the
console's verifier expects (and refused when forged or stale). The console's endpoint is a
`responses` mock here (tests/e2e/test_webhooks_e2e.py posts to the real one)."""

from __future__ import annotations

import orjson
import pytest
import responses
from django.utils import timezone

from integrations.platforms.front import webhooks as console
from integrations.platforms.webhook_events import Kind
from integrations.platforms.webhooks import InboundRequest, WebhookRejected, verify
from integrations.sandbox import front as emulator
from integrations.sandbox import inapp, outbound, registry
from integrations.sandbox.front import webhooks as front_hooks
from integrations.sandbox.models import SandboxWebhook, SandboxWebhookDelivery

pytestmark = pytest.mark.django_db

CONSOLE = "http://127.0.0.1:8000"
HOOK_URL = f"{CONSOLE}/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
COMPANY = "sbx-company"
SECRETS = {console.SCHEME.secret.key: front_hooks.app_secret(COMPANY)}


@pytest.fixture(autouse=True)
def sandbox(settings):
    settings.SANDBOX_ENABLED = True
    settings.CONSOLE_BASE_URL = CONSOLE
    registry.seed("front")


def checked(sent, now: float) -> InboundRequest:
    """The request as the console's verifier sees it (WebhookRejected when it refuses it)."""
    request = InboundRequest(body=sent.body, headers=dict(sent.headers))
    verify(console.SCHEME, request, SECRETS, now)
    return request


def answering(reply):
    """A console endpoint that verifies the challenge and answers with `reply(value)`."""

    def callback(sent):
        checked(sent, float(sent.headers["X-Front-Request-Timestamp"]) / 1000)
        assert orjson.loads(sent.body) == {
            "type": "sync",
            "authorization": {"id": "cmp_sbx-company"},
        }
        return reply(sent.headers["X-Front-Challenge"])

    return callback


def add(reply=lambda value: (200, {}, orjson.dumps({"challenge": value})), **fields):
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, HOOK_URL, callback=answering(reply))
        return inapp.add_in_app("front", COMPANY, HOOK_URL, **fields)


@pytest.mark.parametrize(
    "reply",
    [
        lambda value: (200, {}, orjson.dumps({"challenge": value})),
        lambda value: (200, {}, value),
        lambda value: (200, {"X-Front-Challenge": value}, ""),
    ],
    ids=["json", "text", "header"],
)
def test_a_webhook_is_kept_once_the_signed_challenge_is_answered(reply):
    hook = add(reply)
    assert hook.secret == front_hooks.app_secret(COMPANY) and hook.signed
    assert hook.events == ["message_bounce_error", "inbound"]
    assert emulator.WEBHOOKS.in_app.secret == inapp.APP


@pytest.mark.parametrize(
    "reply", [lambda value: (200, {}, "{}"), lambda value: (401, {}, "")], ids=["no-echo", "401"]
)
def test_a_url_that_does_not_answer_the_challenge_is_refused(reply):
    with pytest.raises(inapp.Refused, match="did not answer Front's challenge"):
        add(reply)
    assert not SandboxWebhook.objects.exists()


def post_all() -> list:
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL, status=200)
        report = outbound.post_pending(platform="front")
        sent = [c.request for c in rsps.calls]
    assert [d.status for d in report.deliveries] == [200] * len(sent)
    return sent


def test_a_bounce_and_an_inbound_message_post_fronts_envelopes_signed():
    add()
    emulator.message_bounces("Ann@Example.com")
    emulator.contact_writes_in("bo@example.com")
    bounce, inbound = post_all()
    now = timezone.now().timestamp()
    bounced = orjson.loads(checked(bounce, now).body)
    assert bounced["type"] == bounced["payload"]["type"] == "message_bounce_error"
    assert bounced["authorization"] == {"id": "cmp_sbx-company"}
    payload = bounced["payload"]
    assert payload["id"].startswith("evt_") and payload["target"]["_meta"]["type"] == "message"
    assert payload["conversation"]["recipient"]["handle"] == "ann@example.com"
    assert payload["conversation"]["recipient"]["role"] == "to"
    assert abs(payload["emitted_at"] - now) < 60  # seconds, as EventResponse has it
    (event,) = console.normalise(bounce.body, timezone.now())
    assert (event.kind, event.email, event.event_id) == (
        Kind.BOUNCED_SOFT, "ann@example.com", payload["id"],
    )  # fmt: skip
    assert console.FrontWebhooks.webhook_delivery_id(bounce.body) == payload["id"]
    received = orjson.loads(checked(inbound, now).body)["payload"]
    assert received["type"] == "inbound" and received["target"]["data"]["is_inbound"] is True
    assert received["conversation"]["recipient"] == {**received["conversation"]["recipient"],
                                                     "handle": "bo@example.com", "role": "from"}  # fmt: skip
    assert console.normalise(inbound.body, timezone.now()) == []  # the console takes no action


def test_only_the_events_the_hook_subscribes_to_are_posted():
    add(events=["message_bounce_error"])
    emulator.contact_writes_in("bo@example.com")
    emulator.message_bounces("ann@example.com")
    (only,) = post_all()
    assert orjson.loads(only.body)["type"] == "message_bounce_error"


def test_a_forged_or_stale_delivery_is_refused_by_the_console():
    add()
    emulator.message_bounces("ann@example.com")
    (sent,) = post_all()
    now = timezone.now().timestamp()
    checked(sent, now)
    with pytest.raises(WebhookRejected):
        checked(sent, now + 600)  # older than Front's five minutes
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL, status=401)
        outbound.forge(SandboxWebhookDelivery.objects.get())
        forged = rsps.calls[0].request
    assert forged.body == sent.body
    with pytest.raises(WebhookRejected):
        checked(forged, now)


def test_front_reports_no_unsubscribes():
    with pytest.raises(LookupError, match="report no unsubscribes"):
        outbound.reader_unsubscribes("front", "ann@example.com")
