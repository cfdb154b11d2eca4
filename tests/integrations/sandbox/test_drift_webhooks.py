"""The Drift emulator's webhooks (integrations/sandbox/drift/webhooks.py): made on the app's
Events page with the app's Verification Token, offered only with their scopes; a contact patched
through the API posts contact_updated with Drift's diff, a visitor identifying in chat posts
contact_identified; each carries the token as the console's verifier expects. The console's
endpoint is a `responses` mock here (tests/e2e/test_webhooks_e2e.py posts to the real one)."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
import responses
from django.utils import timezone

from integrations.platforms.drift import webhooks as console
from integrations.platforms.webhook_events import Kind
from integrations.platforms.webhooks import InboundRequest, WebhookRejected, verify
from integrations.sandbox import drift as emulator
from integrations.sandbox import inapp, outbound, registry
from integrations.sandbox.drift import webhooks as drift_hooks
from integrations.sandbox.models import SandboxOAuthToken, SandboxWebhookDelivery

pytestmark = pytest.mark.django_db

CONSOLE = "http://127.0.0.1:8000"
HOOK_URL = f"{CONSOLE}/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
BASE = "/sandbox/drift/driftapi.com"
ORG = "sandbox-drift-org"
SECRETS = {console.SCHEME.secret.key: drift_hooks.verification_token(ORG)}


@pytest.fixture(autouse=True)
def sandbox(settings):
    settings.SANDBOX_ENABLED = True
    settings.CONSOLE_BASE_URL = CONSOLE
    registry.seed("drift")


@pytest.fixture
def auth():
    SandboxOAuthToken.objects.create(
        platform="drift", account=ORG, access_token="sbx-at-drift-hooks",
        refresh_token="sbx-rt-drift-hooks", access_expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    return {"Authorization": "Bearer sbx-at-drift-hooks"}


def call(client, method, path, headers, **attributes):
    return getattr(client, method)(
        f"{BASE}{path}", data=orjson.dumps({"attributes": attributes}),
        content_type="application/json", headers=headers,
    )  # fmt: skip


def posted(rsps) -> list[tuple[InboundRequest, dict]]:
    """Each delivery the console received, checked as the console checks it."""
    out = []
    for sent in rsps.calls:
        request = InboundRequest(body=sent.request.body, headers=dict(sent.request.headers))
        verify(console.SCHEME, request, SECRETS, 0.0)
        out.append((request, orjson.loads(sent.request.body)))
    return out


def test_the_events_page_makes_a_hook_with_the_apps_token_and_checks_scopes():
    hook = inapp.add_in_app("drift", ORG, HOOK_URL)
    assert hook.events == ["contact_identified", "contact_updated"]
    assert hook.secret == drift_hooks.verification_token(ORG) and hook.signed
    # An app without all_contact_read is not offered contact_updated.
    with pytest.raises(inapp.Refused, match="contact_updated needs the all_contact_read scope"):
        inapp.add_in_app("drift", "sandbox-drift-basic", HOOK_URL)
    only = inapp.add_in_app("drift", "sandbox-drift-basic", HOOK_URL, events=["contact_identified"])
    assert only.events == ["contact_identified"]
    assert emulator.WEBHOOKS.in_app.secret == inapp.APP


def test_a_patched_contact_posts_drifts_diff_with_the_token(client, auth):
    made = call(client, "post", "/contacts", auth, email="ann@example.com", name="Ann").json()
    contact_id = made["data"]["id"]
    inapp.add_in_app("drift", ORG, HOOK_URL)  # after the contact: it reports what follows
    assert call(client, "patch", f"/contacts/{contact_id}", auth, name="Ann").status_code == 200
    changed = call(client, "patch", f"/contacts/{contact_id}", auth, name="Ann Lee",
                   email="ann.lee@example.com", socialProfiles={"twitter": "annlee"})  # fmt: skip
    assert changed.status_code == 200
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL, status=200)
        report = outbound.post_pending(platform="drift")
        ((request, body),) = posted(rsps)  # the unchanged patch posted nothing
    assert [d.status for d in report.deliveries] == [200]
    assert (
        request.header("X-Verification-Token")
        == body["token"]
        == SECRETS["webhook_verification_token"]
    )
    assert (body["type"], body["orgId"]) == ("contact_updated", 4242)
    assert body["data"]["endUserId"] == contact_id and body["data"]["orgId"] == 4242
    assert body["data"]["diff"] == [
        {
            "name": "attributes.email",
            "previous": "ann@example.com",
            "updated": "ann.lee@example.com",
        },
        {"name": "attributes.name", "previous": "Ann", "updated": "Ann Lee"},
        {"name": "socialProfiles.twitter", "previous": None, "updated": "annlee"},
    ]
    (event,) = console.normalise(request.body, timezone.now())
    assert (event.kind, event.email, event.platform_id) == (
        Kind.CONTACT_UPDATED, "ann.lee@example.com", str(contact_id),
    )  # fmt: skip


def test_a_visitor_identifying_in_chat_posts_the_contact(client):
    inapp.add_in_app("drift", ORG, HOOK_URL, events=["contact_identified"])
    row = emulator.visitor_identifies("Bo@Example.com", "Bo")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL, status=200)
        outbound.post_pending(platform="drift")
        ((request, body),) = posted(rsps)
    assert body["type"] == "contact_identified"
    assert body["data"]["id"] == int(row.identifier)
    assert body["data"]["attributes"] == {"email": "Bo@Example.com", "name": "Bo"}
    (event,) = console.normalise(request.body, timezone.now())
    assert (event.kind, event.email) == (Kind.CONTACT_UPDATED, "Bo@Example.com")


def test_a_forged_token_is_refused_by_the_console():
    inapp.add_in_app("drift", ORG, HOOK_URL)
    emulator.visitor_identifies("cy@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK_URL, status=200)
        outbound.post_pending(platform="drift")
        outbound.forge(SandboxWebhookDelivery.objects.get())
        real, forged = (
            InboundRequest(body=c.request.body, headers=dict(c.request.headers)) for c in rsps.calls
        )
    verify(console.SCHEME, real, SECRETS, 0.0)
    with pytest.raises(WebhookRejected):
        verify(console.SCHEME, forged, SECRETS, 0.0)


def test_drift_reports_no_unsubscribes():
    with pytest.raises(LookupError, match="report no unsubscribes"):
        outbound.reader_unsubscribes("drift", "ann@example.com")
