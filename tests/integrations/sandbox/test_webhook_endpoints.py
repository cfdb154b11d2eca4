"""The emulators' webhook registration endpoints (Mailchimp, Campaign Monitor, Keap, Klaviyo,
SendGrid): the platforms' shapes, their refusals, Mailchimp's URL probe and Keap's
X-Hook-Secret handshake. The console's endpoint is a `responses` mock here."""

from __future__ import annotations

import base64
import types
from datetime import timedelta

import orjson
import pytest
import responses
from django.utils import timezone

from integrations.sandbox import emulation, outbound, registry
from integrations.sandbox.models import SandboxOAuthToken, SandboxWebhook

pytestmark = pytest.mark.django_db

CONSOLE = "http://127.0.0.1:8000"
ENDPOINT = f"{CONSOLE}/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
HOOK_URL = ENDPOINT + "?token=t0k3n"
JSON = "application/json"


@pytest.fixture(autouse=True)
def console(settings, monkeypatch):
    settings.SANDBOX_ENABLED = True
    settings.CONSOLE_BASE_URL = CONSOLE
    # Two seconds pass between requests: per-second limits (Klaviyo's 1/s) are not the subject.
    state = types.SimpleNamespace(now=1000.0)

    def monotonic():
        state.now += 2.0
        return state.now

    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=monotonic, sleep=lambda s: None)
    )


def post_json(client, url, body, headers, content_type=JSON):
    return client.post(url, data=orjson.dumps(body), content_type=content_type, headers=headers)


# --- Mailchimp -----------------------------------------------------------------------------------

MC = "/sandbox/mailchimp/us6.api.mailchimp.com/3.0/lists/sandbox6a/webhooks"
MC_AUTH = {"Authorization": "Bearer sandbox0mailchimp0key0000000000aa-us6"}
MC_BODY = {
    "url": HOOK_URL,
    "events": {"unsubscribe": True, "cleaned": True, "campaign": False},
    "sources": {"user": True, "admin": True, "api": False},
}


def test_mailchimp_probes_the_url_and_answers_the_signing_secret_once(client):
    with responses.RequestsMock() as rsps:
        rsps.get(ENDPOINT, status=200)
        created = post_json(client, MC, MC_BODY, MC_AUTH)
    assert created.status_code == 200, created.content
    data = created.json()
    assert (
        data["signing_secret"] and data["events"]["unsubscribe"] and not data["events"]["campaign"]
    )
    assert data["sources"] == MC_BODY["sources"] and data["list_id"] == "sandbox6a"
    listed = client.get(MC, headers=MC_AUTH).json()
    assert listed["total_items"] == 1 and "signing_secret" not in listed["webhooks"][0]
    hook = SandboxWebhook.objects.get(platform="mailchimp")
    assert hook.signed and hook.secret == data["signing_secret"] and hook.url == HOOK_URL


def test_mailchimp_refuses_a_url_that_does_not_answer_and_unknown_events(client):
    with responses.RequestsMock() as rsps:
        rsps.get(ENDPOINT, status=404)
        refused = post_json(client, MC, MC_BODY, MC_AUTH)
    assert refused.status_code == 400 and "did not answer 200" in refused.json()["detail"]
    bad = post_json(client, MC, {**MC_BODY, "events": {"opened": True}}, MC_AUTH)
    assert bad.status_code == 400
    assert not SandboxWebhook.objects.exists()


# --- Campaign Monitor ----------------------------------------------------------------------------

CM = "/sandbox/campaign_monitor/api.createsend.com/api/v3.3/lists"
CM_AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox-cm-account-key:x").decode()}


def test_campaign_monitor_creates_lists_and_deactivates_list_webhooks(client):
    registry.seed("campaign_monitor")
    from integrations.sandbox.campaign_monitor import DEMO_LIST_ID

    hooks = f"{CM}/{DEMO_LIST_ID}/webhooks"
    body = {"Events": ["Deactivate", "Update"], "Url": HOOK_URL, "PayloadFormat": "json"}
    created = post_json(client, f"{hooks}.json", body, CM_AUTH)
    assert created.status_code == 201
    webhook_id = created.json()
    (listed,) = client.get(f"{hooks}.json", headers=CM_AUTH).json()
    assert listed == {"WebhookID": webhook_id, "Events": ["Deactivate", "Update"],
                      "Url": HOOK_URL, "Status": "Active", "PayloadFormat": "Json"}  # fmt: skip
    off = client.put(f"{hooks}/{webhook_id}/deactivate.json", headers=CM_AUTH)
    assert off.status_code == 200
    assert client.get(f"{hooks}.json", headers=CM_AUTH).json()[0]["Status"] == "Deactivated"
    wrong = post_json(client, f"{hooks}.json", {**body, "Events": ["Open"]}, CM_AUTH)
    assert wrong.status_code == 400 and wrong.json()["Code"] == 600
    elsewhere = post_json(
        client, f"{hooks}.json", {**body, "Url": "https://evil.example/x"}, CM_AUTH
    )
    assert elsewhere.status_code == 400 and elsewhere.json()["Code"] == 601
    assert client.delete(f"{hooks}/{webhook_id}.json", headers=CM_AUTH).status_code == 200
    assert client.get(f"{hooks}.json", headers=CM_AUTH).json() == []


# --- Keap ----------------------------------------------------------------------------------------

KEAP = "/sandbox/keap/api.keap.com/crm/rest/v1/hooks"


@pytest.fixture
def keap_auth():
    SandboxOAuthToken.objects.create(
        platform="keap", account="sandbox-keap-app", access_token="sbx-at-hooks",
        refresh_token="sbx-rt-hooks", access_expires_at=timezone.now() + timedelta(minutes=15),
    )  # fmt: skip
    return {"Authorization": "Bearer sbx-at-hooks"}


def test_keap_verifies_a_hook_whose_url_echoes_the_secret(client, keap_auth):
    def echo(request):
        return 200, {"X-Hook-Secret": request.headers["X-Hook-Secret"]}, '{"ok": true}'

    with responses.RequestsMock() as rsps:
        rsps.add_callback("POST", ENDPOINT, callback=echo)
        created = post_json(
            client, KEAP, {"eventKey": "contact.edit", "hookUrl": HOOK_URL}, keap_auth
        )
        (handshake,) = rsps.calls
    assert handshake.request.url == HOOK_URL and not handshake.request.body
    hook = created.json()
    assert (hook["eventKey"], hook["hookUrl"], hook["status"]) == (
        "contact.edit",
        HOOK_URL,
        "Verified",
    )
    assert client.get(KEAP, headers=keap_auth).json() == [hook]


def test_keap_leaves_a_hook_unverified_without_the_echo_and_verifies_it_later(client, keap_auth):
    with responses.RequestsMock() as rsps:
        rsps.post(ENDPOINT, status=200)  # answers, but does not echo the header
        created = post_json(
            client, KEAP, {"eventKey": "contact.add", "hookUrl": HOOK_URL}, keap_auth
        )
    assert created.json()["status"] == "Unverified"
    assert outbound.post_pending().deliveries == []  # no events for an unverified hook
    key = created.json()["key"]

    def echo(request):
        return 200, {"X-Hook-Secret": request.headers["X-Hook-Secret"]}, ""

    with responses.RequestsMock() as rsps:
        rsps.add_callback("POST", ENDPOINT, callback=echo)
        verified = client.post(f"{KEAP}/{key}/verify", headers=keap_auth)
    assert verified.json()["status"] == "Verified"
    refused = post_json(
        client, KEAP, {"eventKey": "contact.opened", "hookUrl": HOOK_URL}, keap_auth
    )
    assert refused.status_code == 400
    assert client.get(f"{KEAP}/event_keys", headers=keap_auth).json()[0] == "contact.add"


# --- Klaviyo -------------------------------------------------------------------------------------

KLAVIYO = "/sandbox/klaviyo/a.klaviyo.com/api"
KLAVIYO_AUTH = {
    "Authorization": "Klaviyo-API-Key pk_sandbox-klaviyo-private-key",
    "revision": "2026-07-15",
}
VND = "application/vnd.api+json"


def _klaviyo_body(topics, url=HOOK_URL):
    return {
        "data": {
            "type": "webhook",
            "attributes": {"name": "SharpSend x", "endpoint_url": url, "secret_key": "k3y"},
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in topics]}
            },
        }
    }


def test_klaviyo_creates_a_webhook_and_shows_its_url_truncated(client):
    topics = [
        t["id"]
        for t in client.get(f"{KLAVIYO}/webhook-topics", headers=KLAVIYO_AUTH).json()["data"]
    ]
    assert "event:klaviyo.opened_email" in topics
    created = post_json(client, f"{KLAVIYO}/webhooks", _klaviyo_body(topics[:2]), KLAVIYO_AUTH, VND)
    assert created.status_code == 201, created.content
    (listed,) = client.get(f"{KLAVIYO}/webhooks", headers=KLAVIYO_AUTH).json()["data"]
    assert listed["attributes"]["endpoint_url"] == CONSOLE
    assert [t["id"] for t in listed["relationships"]["webhook-topics"]["data"]] == topics[:2]
    assert SandboxWebhook.objects.get(platform="klaviyo").secret == "k3y"


def test_klaviyo_refuses_unknown_topics_plain_http_elsewhere_and_a_read_only_key(client):
    unknown = post_json(
        client, f"{KLAVIYO}/webhooks", _klaviyo_body(["event:x"]), KLAVIYO_AUTH, VND
    )
    assert unknown.status_code == 400
    plain = _klaviyo_body(["event:klaviyo.opened_email"], url="http://evil.example/webhooks/x/")
    assert post_json(client, f"{KLAVIYO}/webhooks", plain, KLAVIYO_AUTH, VND).status_code == 400
    read_only = {**KLAVIYO_AUTH, "Authorization": "Klaviyo-API-Key pk_sandbox-klaviyo-readonly-key"}
    denied = post_json(
        client, f"{KLAVIYO}/webhooks", _klaviyo_body(["event:klaviyo.opened_email"]), read_only, VND
    )
    assert denied.status_code == 403
    assert not SandboxWebhook.objects.exists()


# --- SendGrid ------------------------------------------------------------------------------------

SG = "/sandbox/sendgrid/api.sendgrid.com/v3/user/webhooks/event/settings"
SG_AUTH = {"Authorization": "Bearer SG.sandbox-sendgrid-full-key"}


def test_sendgrid_creates_lists_and_signs_event_webhooks(client):
    body = {"enabled": True, "url": ENDPOINT, "open": True, "click": True, "friendly_name": "x"}
    created = post_json(client, SG, body, SG_AUTH)
    assert created.status_code == 201
    hook_id = created.json()["id"]
    assert created.json()["open"] and not created.json()["processed"]
    assert "public_key" not in created.json()
    signed = client.patch(
        f"{SG}/signed/{hook_id}", data=b'{"enabled": true}', content_type=JSON, headers=SG_AUTH
    )
    key = signed.json()["public_key"]
    assert signed.status_code == 200 and key
    (listed,) = client.get(f"{SG}/all", headers=SG_AUTH).json()["webhooks"]
    assert listed["public_key"] == key and listed["id"] == hook_id
    again = post_json(client, SG, body, SG_AUTH)
    assert again.status_code == 400 and again.json()["errors"][0]["id"] == hook_id
    read_only = {"Authorization": "Bearer SG.sandbox-sendgrid-readonly-key"}
    assert post_json(client, SG, {**body, "url": ENDPOINT + "2/"}, read_only).status_code == 403
    assert (
        client.patch(
            f"{SG}/signed/nope", data=b'{"enabled": true}', content_type=JSON, headers=SG_AUTH
        ).status_code
        == 404
    )
