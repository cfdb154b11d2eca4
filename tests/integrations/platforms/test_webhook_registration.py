"""Registering the console's webhook: the engine (integrations/platforms/webhook_registration.py)
and each platform's adapter, with strict `responses` mocks of the shapes in the fact sheets'
webhooks sections and the specs (Klaviyo's stable.json, SendGrid's tsg_webhooks_v3.json)."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.kit import KitClient
from integrations.platforms.klaviyo import KlaviyoClient
from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.sendgrid import SendGridClient
from integrations.platforms.webhook_registration import RemoteWebhook, hook_name, same_endpoint
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import HEADERS, JSON_API_BODY, _closed, _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"  # steady_retries gives it a fake OAuth app

URL = "https://console.example.com/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
TOKEN_URL = URL + "?token=url-token-not-real"
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})


def body(expected) -> matchers:
    return matchers.json_params_matcher(expected, strict_match=True)


# --- the engine ----------------------------------------------------------------------------------


def test_same_endpoint_ignores_the_query_and_a_trailing_slash():
    assert same_endpoint(TOKEN_URL, URL.rstrip("/"))
    assert same_endpoint(
        "HTTPS://Console.Example.com/webhooks/a/", "https://console.example.com/webhooks/a"
    )
    assert not same_endpoint(URL, "https://console.example.com/webhooks/other/")
    assert not same_endpoint(
        URL, "http://console.example.com/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
    )
    assert not same_endpoint("", URL)


def test_the_hook_name_carries_the_webhook_id():
    assert hook_name(TOKEN_URL) == "SharpSend 6f1c2a9e-0000-4000-8000-00000000abcd"


def test_a_remote_webhook_never_shows_its_secret():
    hook = RemoteWebhook("1", issued={"webhook_public_key": "MFkwEwYH-secret-value"})
    assert "secret-value" not in repr(hook)


# --- Mailchimp (mailchimp.md §10) ----------------------------------------------------------------

MC_KEY = "0123456789abcdef0123456789abcdef-us6"
MC_HOOKS = "https://us6.api.mailchimp.com/3.0/lists/a1b2c3d4e5/webhooks"
MC_AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"sharpsend:{MC_KEY}".encode()).decode()}
)


@pytest.fixture
def mailchimp(make_integration):
    integration = make_integration(
        "mailchimp", region="auto", credentials={"api_key": MC_KEY, "list_id": "a1b2c3d4e5"}
    )
    return MailchimpClient(integration)


def test_mailchimp_creates_a_list_webhook_with_explicit_sources(mailchimp):
    sent = {
        "url": TOKEN_URL,
        "events": {"subscribe": True, "unsubscribe": True, "profile": True, "cleaned": True,
                   "upemail": True, "campaign": False},
        "sources": {"user": True, "admin": True, "api": False},
    }  # fmt: skip
    with strict() as rsps:
        rsps.get(MC_HOOKS, match=[MC_AUTH], json={"webhooks": [], "total_items": 0})
        rsps.post(
            MC_HOOKS,
            match=[MC_AUTH, JSON_BODY, body(sent)],
            json={**sent, "id": "d2f9a3", "list_id": "a1b2c3d4e5", "signing_secret": "whsec-1"},
        )
        (hook,) = mailchimp.ensure_webhooks(TOKEN_URL)
    assert (hook.remote_id, hook.created) == ("d2f9a3", True)
    assert hook.issued == {"webhook_signing_secret": "whsec-1"}
    assert set(hook.events) == {"subscribe", "unsubscribe", "profile", "cleaned", "upemail"}


def test_mailchimp_reuses_the_webhook_already_on_the_url(mailchimp):
    existing = {"id": "d2f9a3", "url": TOKEN_URL, "events": {"unsubscribe": True}}
    other = {"id": "zz", "url": "https://elsewhere.example.com/hook", "events": {}}
    with strict() as rsps:
        rsps.get(MC_HOOKS, match=[MC_AUTH], json={"webhooks": [other, existing]})
        (hook,) = mailchimp.ensure_webhooks(TOKEN_URL)
    assert (hook.remote_id, hook.created, hook.issued) == ("d2f9a3", False, {})


# --- Campaign Monitor (campaign_monitor.md §10) ---------------------------------------------------

CM_KEY = "cm-test-api-key-0123456789"
CM_HOOKS = f"https://api.createsend.com/api/v3.3/lists/{'b' * 32}/webhooks"
CM_AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"{CM_KEY}:x".encode()).decode()}
)


@pytest.fixture
def campaign_monitor(make_integration):
    integration = make_integration(
        "campaign_monitor",
        credentials={"api_key": CM_KEY, "client_id": "a" * 32, "list_id": "b" * 32},
    )
    return CampaignMonitorClient(integration)


def test_campaign_monitor_creates_a_json_list_webhook(campaign_monitor):
    sent = {
        "Events": ["Subscribe", "Deactivate", "Update"],
        "Url": TOKEN_URL,
        "PayloadFormat": "json",
    }
    with strict() as rsps:
        rsps.get(f"{CM_HOOKS}.json", match=[CM_AUTH], json=[])
        rsps.post(
            f"{CM_HOOKS}.json", match=[CM_AUTH, JSON_BODY, body(sent)], json="ee1b38", status=201
        )
        (hook,) = campaign_monitor.ensure_webhooks(TOKEN_URL)
    assert (hook.remote_id, hook.events, hook.created) == ("ee1b38", tuple(sent["Events"]), True)


def test_campaign_monitor_turns_a_deactivated_webhook_back_on(campaign_monitor):
    listed = [{"WebhookID": "ee1b38", "Events": ["Deactivate"], "Url": TOKEN_URL,
               "Status": "Deactivated", "PayloadFormat": "Json"}]  # fmt: skip
    with strict() as rsps:
        rsps.get(f"{CM_HOOKS}.json", match=[CM_AUTH], json=listed)
        rsps.put(f"{CM_HOOKS}/ee1b38/activate.json", match=[CM_AUTH], body="")
        (hook,) = campaign_monitor.ensure_webhooks(TOKEN_URL)
    assert (hook.remote_id, hook.active, hook.created) == ("ee1b38", True, False)


# --- Keap (keap.md §10: REST v1 hooks, one per event key) ----------------------------------------

KEAP_HOOKS = "https://api.keap.com/crm/rest/v1/hooks"
KEAP_AUTH = matchers.header_matcher({"Authorization": "Bearer test-access-not-real"})


@pytest.fixture
def keap(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration,
        {"access_token": "test-access-not-real", "refresh_token": "r-not-real", "expires_in": 3600},
    )
    return integration.client()


def _keap_hook(key, event, status="Verified", url=TOKEN_URL):
    return {"key": key, "eventKey": event, "hookUrl": url, "status": status}


def test_keap_subscribes_one_hook_per_missing_event_key(keap):
    with strict() as rsps:
        rsps.get(KEAP_HOOKS, match=[KEAP_AUTH], json=[_keap_hook("7", "contact.edit")])
        for key, event in (("8", "contact.add"), ("9", "contact.delete")):
            rsps.post(
                KEAP_HOOKS,
                match=[KEAP_AUTH, JSON_BODY, body({"eventKey": event, "hookUrl": TOKEN_URL})],
                json=_keap_hook(key, event),
            )
        hooks = keap.ensure_webhooks(TOKEN_URL)
    assert [(h.remote_id, h.events, h.created) for h in hooks] == [
        ("8", ("contact.add",), True),
        ("7", ("contact.edit",), False),
        ("9", ("contact.delete",), True),
    ]
    assert all(h.active for h in hooks)


def test_keap_verifies_a_hook_that_is_not_verified_yet(keap):
    listed = [_keap_hook(k, e, "Unverified") for k, e in
              (("7", "contact.add"), ("8", "contact.edit"), ("9", "contact.delete"))]  # fmt: skip
    with strict() as rsps:
        rsps.get(KEAP_HOOKS, match=[KEAP_AUTH], json=listed)
        for key, event in (("7", "contact.add"), ("8", "contact.edit"), ("9", "contact.delete")):
            rsps.post(f"{KEAP_HOOKS}/{key}/verify", match=[KEAP_AUTH], json=_keap_hook(key, event))
        hooks = keap.ensure_webhooks(TOKEN_URL)
    assert [h.status for h in hooks] == ["Verified"] * 3


# --- Klaviyo (klaviyo.md §10; stable.json create_webhook) ----------------------------------------

KLAVIYO = "https://a.klaviyo.com/api"
TOPICS = [
    "event:klaviyo.email_delivered", "event:klaviyo.opened_email", "event:klaviyo.clicked_email",
    "event:klaviyo.bounced_email", "event:klaviyo.sent_sms",
]  # fmt: skip


@pytest.fixture
def klaviyo(make_integration):
    integration = make_integration(
        "klaviyo", credentials={"private_api_key": "pk_sandbox-klaviyo-private-key"}
    )
    return KlaviyoClient(integration)


@pytest.fixture(scope="module")
def klaviyo_create_schema():
    spec = json.loads((SPECS / "klaviyo/stable.json").read_text())
    content = spec["paths"]["/api/webhooks"]["post"]["requestBody"]["content"]
    return _closed(
        _resolve(content["application/vnd.api+json"]["schema"], spec["components"]["schemas"])
    )


def test_klaviyo_creates_a_webhook_with_the_topics_the_account_has(klaviyo, klaviyo_create_schema):
    topics = {"data": [{"type": "webhook-topic", "id": t} for t in TOPICS]}
    wanted = [t for t in TOPICS if t != "event:klaviyo.sent_sms"]
    sent = {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": hook_name(URL),
                "description": "Email engagement for the SharpSend console",
                "endpoint_url": URL,
                "secret_key": "console-made-secret",
            },
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in wanted]}
            },
        }
    }
    assert not list(jsonschema.Draft4Validator(klaviyo_create_schema).iter_errors(sent))
    created = {"data": {"type": "webhook", "id": "01HWH", "attributes": {
        "name": hook_name(URL), "endpoint_url": "https://console.example.com", "enabled": True}}}  # fmt: skip
    with strict() as rsps:
        rsps.get(f"{KLAVIYO}/webhooks", match=[HEADERS, matchers.query_param_matcher(
            {"include": "webhook-topics"})], json={"data": []})  # fmt: skip
        rsps.get(f"{KLAVIYO}/webhook-topics", match=[HEADERS], json=topics)
        rsps.post(
            f"{KLAVIYO}/webhooks",
            match=[HEADERS, JSON_API_BODY, body(sent)],
            json=created,
            status=201,
        )
        (hook,) = klaviyo.ensure_webhooks(URL, "console-made-secret")
    assert (hook.remote_id, hook.created) == ("01HWH", True)


def test_klaviyo_finds_its_webhook_by_name_behind_the_truncated_url(klaviyo):
    listed = {"data": [{"type": "webhook", "id": "01HWH", "attributes": {
        "name": hook_name(URL), "endpoint_url": "https://console.example.com", "enabled": True},
        "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic",
                                                      "id": TOPICS[1]}]}}}]}  # fmt: skip
    with strict() as rsps:
        rsps.get(f"{KLAVIYO}/webhooks", match=[HEADERS], json=listed)
        (hook,) = klaviyo.ensure_webhooks(URL, "console-made-secret")
    assert (hook.remote_id, hook.created, hook.events) == ("01HWH", False, (TOPICS[1],))


def test_klaviyo_says_so_when_the_account_has_no_email_topic(klaviyo):
    with strict() as rsps:
        rsps.get(f"{KLAVIYO}/webhooks", match=[HEADERS], json={"data": []})
        rsps.get(f"{KLAVIYO}/webhook-topics", match=[HEADERS], json={"data": [
            {"type": "webhook-topic", "id": "event:klaviyo.sent_sms"}]})  # fmt: skip
        with pytest.raises(ValidationFailed, match="none of the email topics"):
            klaviyo.ensure_webhooks(URL, "console-made-secret")


# --- SendGrid (sendgrid.md §10; tsg_webhooks_v3.json) ----------------------------------------------

SG_SETTINGS = "https://api.sendgrid.com/v3/user/webhooks/event/settings"
SG_AUTH = matchers.header_matcher({"Authorization": "Bearer SG.test-key-0123456789"})
SG_EVENTS = {
    "processed": False, "delivered": True, "deferred": False, "bounce": True, "dropped": False,
    "open": True, "click": True, "spam_report": True, "unsubscribe": True,
    "group_unsubscribe": True, "group_resubscribe": False,
}  # fmt: skip


@pytest.fixture
def sendgrid(make_integration):
    integration = make_integration(
        "sendgrid", region="global", credentials={"api_key": "SG.test-key-0123456789"}
    )
    return SendGridClient(integration)


@pytest.fixture(scope="module")
def sendgrid_request_schema():
    spec = json.loads((SPECS / "sendgrid/tsg_webhooks_v3.json").read_text())
    schema = _resolve(
        spec["components"]["schemas"]["EventWebhookRequest"], spec["components"]["schemas"]
    )
    return _closed(schema)


def test_sendgrid_creates_then_turns_signing_on_for_the_public_key(
    sendgrid, sendgrid_request_schema
):
    sent = {"enabled": True, "url": URL, **SG_EVENTS, "friendly_name": hook_name(URL)}
    assert not list(jsonschema.Draft4Validator(sendgrid_request_schema).iter_errors(sent))
    with strict() as rsps:
        rsps.get(f"{SG_SETTINGS}/all", match=[SG_AUTH], json={"max_allowed": 5, "webhooks": [{}]})
        rsps.post(SG_SETTINGS, match=[SG_AUTH, JSON_BODY, body(sent)], status=201,
                  json={**sent, "id": "77d4a5da-7015-11ed-a1eb-0242ac120002"})  # fmt: skip
        rsps.patch(
            f"{SG_SETTINGS}/signed/77d4a5da-7015-11ed-a1eb-0242ac120002",
            match=[SG_AUTH, JSON_BODY, body({"enabled": True})],
            json={"id": "77d4a5da-7015-11ed-a1eb-0242ac120002", "public_key": "MFkwEwYHKoZI"},
        )
        (hook,) = sendgrid.ensure_webhooks(URL)
    assert hook.created and hook.issued == {"webhook_public_key": "MFkwEwYHKoZI"}


def test_sendgrid_reuses_a_signed_webhook_as_it_is(sendgrid):
    listed = {"webhooks": [{"id": "w1", "url": URL, "enabled": True, "open": True,
                            "public_key": "MFkwEwYHKoZI"}]}  # fmt: skip
    with strict() as rsps:
        rsps.get(f"{SG_SETTINGS}/all", match=[SG_AUTH], json=listed)
        (hook,) = sendgrid.ensure_webhooks(URL)
    assert (hook.remote_id, hook.created, hook.issued) == (
        "w1",
        False,
        {"webhook_public_key": "MFkwEwYHKoZI"},
    )


def test_sendgrid_turns_signing_on_for_an_unsigned_webhook_it_finds(sendgrid):
    listed = {"webhooks": [{"id": "w1", "url": URL, "enabled": True}]}
    with strict() as rsps:
        rsps.get(f"{SG_SETTINGS}/all", match=[SG_AUTH], json=listed)
        rsps.patch(f"{SG_SETTINGS}/signed/w1", match=[SG_AUTH, body({"enabled": True})],
                   json={"id": "w1", "public_key": "MFkwEwYHKoZI"})  # fmt: skip
        (hook,) = sendgrid.ensure_webhooks(URL)
    assert hook.issued == {"webhook_public_key": "MFkwEwYHKoZI"}


def test_sendgrid_without_a_public_key_is_an_error(sendgrid):
    with strict() as rsps:
        rsps.get(
            f"{SG_SETTINGS}/all", match=[SG_AUTH], json={"webhooks": [{"id": "w1", "url": URL}]}
        )
        rsps.patch(f"{SG_SETTINGS}/signed/w1", json={"id": "w1", "public_key": ""})
        with pytest.raises(ValidationFailed, match="no public key"):
            sendgrid.ensure_webhooks(URL)


# --- Customer.io (customerio.md §10; cio_journeys_app_api.json createWebhook, listWebhooks) --------

CIO_HOOKS = "https://api.customer.io/v1/reporting_webhooks"
CIO_AUTH = matchers.header_matcher({"Authorization": "Bearer sandbox-app-key-us"})
CIO_EVENTS = [
    "email_delivered", "email_opened", "email_clicked", "email_bounced", "email_spammed",
    "email_unsubscribed", "customer_unsubscribed", "customer_subscribed",
]  # fmt: skip


@pytest.fixture
def customerio(make_integration):
    credentials = {"site_id": "sandbox-site-us", "track_api_key": "sandbox-track-key-us",
                   "app_api_key": "sandbox-app-key-us"}  # fmt: skip
    return CustomerIoClient(make_integration("customerio", region="us", credentials=credentials))


@pytest.fixture(scope="module")
def customerio_webhook_schema():
    spec = json.loads((SPECS / "customerio/cio_journeys_app_api.json").read_text())
    operation = spec["paths"]["/v1/reporting_webhooks"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    resolved = _resolve(schema, spec["components"]["schemas"])
    resolved["properties"].pop("id")  # readOnly: never sent
    return _closed(resolved)


def test_customerio_creates_a_reporting_webhook_with_the_email_events(
    customerio, customerio_webhook_schema
):
    sent = {"name": hook_name(URL), "endpoint": URL, "events": CIO_EVENTS, "disabled": False,
            "full_resolution": True, "with_content": False}  # fmt: skip
    assert not list(jsonschema.Draft4Validator(customerio_webhook_schema).iter_errors(sent))
    with strict() as rsps:
        rsps.get(CIO_HOOKS, match=[CIO_AUTH], json={"reporting_webhooks": [
            {"id": 3, "name": "Warehouse", "endpoint": "https://dw.example.com/cio",
             "events": ["email_sent"], "disabled": False}]})  # fmt: skip
        rsps.post(CIO_HOOKS, match=[CIO_AUTH, JSON_BODY, body(sent)], json={**sent, "id": 4})
        (hook,) = customerio.ensure_webhooks(URL)
    # Created, with no secret: Customer.io's API never returns the signing key.
    assert (hook.remote_id, hook.created, hook.active, dict(hook.issued)) == ("4", True, True, {})
    assert tuple(CIO_EVENTS) == hook.events


def test_customerio_switches_its_disabled_webhook_back_on(customerio):
    listed = {"id": 4, "name": hook_name(URL), "endpoint": URL, "events": ["email_opened"],
              "disabled": True}  # fmt: skip
    sent = {"name": hook_name(URL), "endpoint": URL, "events": sorted(CIO_EVENTS),
            "disabled": False}  # fmt: skip
    with strict() as rsps:
        rsps.get(CIO_HOOKS, match=[CIO_AUTH], json={"reporting_webhooks": [listed]})
        rsps.put(f"{CIO_HOOKS}/4", match=[CIO_AUTH, body(sent)], json={**sent, "id": 4})
        (hook,) = customerio.ensure_webhooks(URL)
    assert (hook.remote_id, hook.created, hook.active) == ("4", False, True)


def test_customerio_reuses_its_active_webhook_without_a_call(customerio):
    listed = {"id": 4, "name": hook_name(URL), "endpoint": URL, "events": CIO_EVENTS}
    with strict() as rsps:
        rsps.get(CIO_HOOKS, match=[CIO_AUTH], json={"reporting_webhooks": [listed]})
        (hook,) = customerio.ensure_webhooks(URL)
    assert (hook.remote_id, hook.created) == ("4", False)


# --- Kit (kit.md §10; the webhook endpoints pages of developers.kit.com) ---------------------------

KIT_ENDPOINTS = "https://api.kit.com/v4/webhook_endpoints"
KIT_AUTH = matchers.header_matcher({"X-Kit-Api-Key": "kit_test-key-0123456789"})
KIT_EVENTS = [
    "subscriber.created", "subscriber.activated", "subscriber.unsubscribed",
    "subscriber.bounced", "subscriber.complained",
]  # fmt: skip
KIT_PAGE = {"has_previous_page": False, "has_next_page": False, "start_cursor": None,
            "end_cursor": None, "per_page": 1000}  # fmt: skip


@pytest.fixture
def kit(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": "kit_test-key-0123456789"}))


def test_kit_creates_a_signed_endpoint_and_keeps_the_secret_it_shows_once(kit):
    sent = {"url": TOKEN_URL, "events": KIT_EVENTS, "name": hook_name(TOKEN_URL),
            "description": "Subscriber changes for the SharpSend console"}  # fmt: skip
    made = {**sent, "id": 12, "status": "active", "secret": "kit-endpoint-secret-not-real"}
    with strict() as rsps:
        rsps.get(KIT_ENDPOINTS, match=[KIT_AUTH, matchers.query_param_matcher({"per_page": 1000})],
                 json={"webhook_endpoints": [], "pagination": KIT_PAGE})  # fmt: skip
        rsps.post(KIT_ENDPOINTS, match=[KIT_AUTH, JSON_BODY, body(sent)], status=201,
                  json={"webhook_endpoint": made})  # fmt: skip
        (hook,) = kit.ensure_webhooks(TOKEN_URL)
    assert (hook.remote_id, hook.created, hook.active) == ("12", True, True)
    assert hook.issued == {"webhook_signing_secret": "kit-endpoint-secret-not-real"}


def test_kit_pages_through_endpoints_and_adds_missing_events_to_its_own(kit):
    ours = {"id": 12, "url": URL, "name": hook_name(URL), "status": "active",
            "events": ["subscriber.unsubscribed"]}  # fmt: skip
    more = {**KIT_PAGE, "has_next_page": True, "end_cursor": "WzFd"}
    with strict() as rsps:
        rsps.get(KIT_ENDPOINTS, match=[matchers.query_param_matcher({"per_page": 1000})],
                 json={"webhook_endpoints": [{"id": 3, "url": "https://zap.example.com/k",
                                              "events": ["subscriber.created"]}],
                       "pagination": more})  # fmt: skip
        rsps.get(KIT_ENDPOINTS,
                 match=[matchers.query_param_matcher({"per_page": 1000, "after": "WzFd"})],
                 json={"webhook_endpoints": [ours], "pagination": KIT_PAGE})  # fmt: skip
        rsps.put(f"{KIT_ENDPOINTS}/12", match=[KIT_AUTH, body({"events": sorted(KIT_EVENTS)})],
                 json={"webhook_endpoint": {**ours, "events": sorted(KIT_EVENTS)}})  # fmt: skip
        (hook,) = kit.ensure_webhooks(URL)
    # Found, not made again; no secret comes back (the one stored at creation stays).
    assert (hook.remote_id, hook.created, dict(hook.issued)) == ("12", False, {})
    assert set(hook.events) == set(KIT_EVENTS)
