""" "Do not sell / suppress" per platform: each client's suppress call against strict `responses`
mocks with the exact request the fact sheets (../shared/platforms/<slug>.md §9) and specs name,
and the receipt it turns the answer into. Platforms without such a call say why."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.braze import BrazeClient
from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.errors import PermissionDenied
from integrations.platforms.kit import KitClient
from integrations.platforms.klaviyo import REVISION, KlaviyoClient
from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.registry import get_platform
from integrations.platforms.sendgrid import SendGridClient
from integrations.platforms.types import Capability, PrivacyState
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import _closed, _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

EMAIL = "Reader@Example.com"
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})

WIRED = {"braze", "campaign_monitor", "kit", "klaviyo", "mailchimp", "sendgrid"}


def test_the_wired_platforms_declare_suppression_and_the_others_say_why():
    from integrations.platforms.registry import all_platforms

    declared = {cls.slug for cls in all_platforms() if cls.supports(Capability.SUPPRESS_CONTACT)}
    assert declared == WIRED
    for cls in all_platforms():
        if cls.slug not in WIRED:
            reason = cls.unsupported_reasons[Capability.SUPPRESS_CONTACT]
            assert len(reason) > 40, cls.slug  # a reason an operator can act on
    customerio = get_platform("customerio").unsupported(Capability.SUPPRESS_CONTACT).message
    assert "deletes the profile" in customerio


# --- SendGrid: global unsubscribes --------------------------------------------------------------

SG_KEY = "SG.test-key-0123456789"


@pytest.fixture
def sendgrid(make_integration):
    credentials = {"api_key": SG_KEY, "list_id": "00000000-0000-4000-8000-000000000001"}
    return SendGridClient(make_integration("sendgrid", region="global", credentials=credentials))


def _sendgrid_body_schema():
    spec = json.loads((SPECS / "sendgrid" / "tsg_suppressions_v3.json").read_text())
    body = spec["paths"]["/v3/asm/suppressions/global"]["post"]["requestBody"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["requestBodies"][ref]["content"]["application/json"]["schema"]
    return _closed(_resolve(schema, spec["components"].get("schemas", {})))


def test_sendgrid_adds_the_address_to_the_global_unsubscribes(sendgrid):
    schema = _sendgrid_body_schema()
    with strict() as rsps:
        rsps.post(
            "https://api.sendgrid.com/v3/asm/suppressions/global",
            match=[
                matchers.header_matcher({"Authorization": f"Bearer {SG_KEY}"}),
                JSON_BODY,
                matchers.json_params_matcher({"recipient_emails": [EMAIL]}),
            ],
            status=201,
            json={"recipient_emails": [EMAIL.lower()]},
        )
        receipt = sendgrid.suppress_contact(EMAIL)
        jsonschema.Draft4Validator(schema).validate(json.loads(rsps.calls[0].request.body))
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == (
        "SendGrid added the address to its global unsubscribes (the contact is kept)."
    )


def test_sendgrid_not_listing_the_address_fails_the_receipt(sendgrid):
    with strict() as rsps:
        rsps.post(
            "https://api.sendgrid.com/v3/asm/suppressions/global",
            status=201,
            json={"recipient_emails": []},
        )
        receipt = sendgrid.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.FAILED


def test_sendgrid_a_key_without_the_scope_is_refused(sendgrid):
    with strict() as rsps:
        rsps.post(
            "https://api.sendgrid.com/v3/asm/suppressions/global",
            status=403,
            json={"errors": [{"field": None, "message": "access forbidden"}]},
        )
        with pytest.raises(PermissionDenied):
            sendgrid.suppress_contact(EMAIL)


# --- Klaviyo: a profile suppression job ---------------------------------------------------------

KL_KEY = "pk_sandbox-klaviyo-private-key"
KL_JOBS = "https://a.klaviyo.com/api/profile-suppression-bulk-create-jobs"


def test_klaviyo_submits_a_suppression_job_shaped_as_the_spec(make_integration):
    client = KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KL_KEY}))
    spec = json.loads((SPECS / "klaviyo" / "stable.json").read_text())
    content = spec["paths"]["/api/profile-suppression-bulk-create-jobs"]["post"]["requestBody"]
    schema = _closed(
        _resolve(
            content["content"]["application/vnd.api+json"]["schema"],
            spec["components"]["schemas"],
        )
    )
    expected = {
        "data": {
            "type": "profile-suppression-bulk-create-job",
            "attributes": {
                "profiles": {"data": [{"type": "profile", "attributes": {"email": EMAIL}}]}
            },
        }
    }
    with strict() as rsps:
        rsps.post(
            KL_JOBS,
            match=[
                matchers.header_matcher(
                    {
                        "Authorization": f"Klaviyo-API-Key {KL_KEY}",
                        "revision": REVISION,
                        "Content-Type": "application/vnd.api+json",
                    }
                ),
                matchers.json_params_matcher(expected),
            ],
            status=202,
            json={
                "data": {
                    "type": "profile-suppression-bulk-create-job",
                    "id": "job-7",
                    "attributes": {"status": "queued", "total_count": 1, "completed_count": 0},
                }
            },
        )
        receipt = client.suppress_contact(EMAIL, platform_id="01HPROFILE")
        jsonschema.Draft4Validator(schema).validate(json.loads(rsps.calls[0].request.body))
    assert receipt.state == PrivacyState.DONE
    assert receipt.job_id == "job-7"
    assert receipt.detail == (
        "Klaviyo accepted the suppression and applies it asynchronously (job job-7)."
    )


# --- Mailchimp: the member's status --------------------------------------------------------------

MC_KEY = "0123456789abcdef0123456789abcdef-us6"
MC_LIST = "a1b2c3d4e5"


@pytest.fixture
def mailchimp(make_integration):
    credentials = {"api_key": MC_KEY, "list_id": MC_LIST}
    return MailchimpClient(make_integration("mailchimp", region="auto", credentials=credentials))


def _mc_member_url() -> str:
    import hashlib

    digest = hashlib.md5(EMAIL.lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's id
    return f"https://us6.api.mailchimp.com/3.0/lists/{MC_LIST}/members/{digest}"


def test_mailchimp_marks_the_member_unsubscribed(mailchimp):
    auth = "Basic " + base64.b64encode(f"sharpsend:{MC_KEY}".encode()).decode()
    with strict() as rsps:
        rsps.patch(
            _mc_member_url(),
            match=[
                matchers.header_matcher({"Authorization": auth}),
                JSON_BODY,
                matchers.json_params_matcher({"status": "unsubscribed"}),
            ],
            json={"id": "x", "email_address": EMAIL.lower(), "status": "unsubscribed"},
        )
        receipt = mailchimp.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == "Mailchimp marked the member unsubscribed (data kept)."


def test_mailchimp_an_address_the_audience_lacks_is_nothing_held(mailchimp):
    with strict() as rsps:
        rsps.patch(
            _mc_member_url(),
            status=404,
            content_type="application/problem+json",
            json={"title": "Resource Not Found", "status": 404, "detail": "not found"},
        )
        receipt = mailchimp.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == "Mailchimp's audience holds no such member."


# --- Braze: the email subscription state ---------------------------------------------------------

BR_KEY = "sandbox-braze-rest-key-us01"


def test_braze_sets_the_email_subscription_to_unsubscribed(make_integration):
    client = BrazeClient(make_integration("braze", region="us-01", credentials={"api_key": BR_KEY}))
    with strict() as rsps:
        rsps.post(
            "https://rest.iad-01.braze.com/email/status",
            match=[
                matchers.header_matcher({"Authorization": f"Bearer {BR_KEY}"}),
                JSON_BODY,
                matchers.json_params_matcher(
                    {"email": EMAIL, "subscription_state": "unsubscribed"}
                ),
            ],
            status=201,
            json={"message": "success"},
        )
        receipt = client.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.DONE
    assert "unsubscribed" in receipt.detail


# --- Kit: unsubscribe by subscriber id ----------------------------------------------------------

KIT_KEY = "kit-test-v4-key-000"
KIT = "https://api.kit.com/v4"
KIT_AUTH = matchers.header_matcher({"X-Kit-Api-Key": KIT_KEY})


@pytest.fixture
def kit(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": KIT_KEY}))


def test_kit_uses_the_id_the_console_knows(kit):
    with strict() as rsps:
        rsps.post(f"{KIT}/subscribers/4242/unsubscribe", match=[KIT_AUTH], status=204)
        receipt = kit.suppress_contact(EMAIL, platform_id="4242")
        assert len(rsps.calls) == 1  # no look-up
    assert receipt.state == PrivacyState.DONE
    assert receipt.job_id == "4242"
    assert receipt.detail == (
        "Kit unsubscribed subscriber 4242 (found by the id the console knew; data kept)."
    )


def test_kit_looks_the_email_up_without_an_id_or_with_a_stale_one(kit):
    with strict() as rsps:
        rsps.post(
            f"{KIT}/subscribers/9/unsubscribe",
            status=404,
            json={"errors": ["Not Found"]},
        )
        rsps.get(
            f"{KIT}/subscribers",
            match=[
                KIT_AUTH,
                matchers.query_param_matcher({"email_address": EMAIL, "status": "all"}),
            ],
            json={
                "subscribers": [{"id": 77, "email_address": EMAIL.lower(), "state": "active"}],
                "pagination": {"has_next_page": False},
            },
        )
        rsps.post(f"{KIT}/subscribers/77/unsubscribe", match=[KIT_AUTH], status=204)
        receipt = kit.suppress_contact(EMAIL, platform_id="9")
    assert receipt.state == PrivacyState.DONE
    assert receipt.job_id == "77"
    assert "an email look-up" in receipt.detail


def test_kit_without_the_subscriber_holds_nothing(kit):
    with strict() as rsps:
        rsps.get(f"{KIT}/subscribers", json={"subscribers": [], "pagination": {}})
        receipt = kit.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == "Kit holds no such subscriber."


# --- Campaign Monitor: the client's suppression list ---------------------------------------------

CM_KEY = "cm-test-api-key-0123456789"
CM_CLIENT = "a" * 32


def test_campaign_monitor_adds_the_address_to_the_clients_suppression_list(make_integration):
    client = CampaignMonitorClient(
        make_integration(
            "campaign_monitor",
            credentials={"api_key": CM_KEY, "client_id": CM_CLIENT, "list_id": "b" * 32},
        )
    )
    auth = "Basic " + base64.b64encode(f"{CM_KEY}:x".encode()).decode()
    with strict() as rsps:
        rsps.post(
            f"https://api.createsend.com/api/v3.3/clients/{CM_CLIENT}/suppress.json",
            match=[
                matchers.header_matcher({"Authorization": auth}),
                JSON_BODY,
                matchers.json_params_matcher({"EmailAddresses": [EMAIL]}),
            ],
            status=200,
            body="",
        )
        receipt = client.suppress_contact(EMAIL)
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == (
        "Campaign Monitor added the address to the client's suppression list."
    )
