"""The emulators' privacy endpoints added for "do not sell / suppress" and Customer.io's
access reads: their answers, their refusals, and what they store."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from integrations.sandbox import klaviyo as klaviyo_emulator
from integrations.sandbox.models import SandboxContact, SandboxSuppression

pytestmark = pytest.mark.django_db


def post(client, url, body, headers, content_type="application/json"):
    return client.post(url, data=orjson.dumps(body), content_type=content_type, headers=headers)


def stored(platform, account, identifier, **attributes):
    return SandboxContact.objects.create(
        platform=platform, account=account, identifier=identifier, attributes=attributes
    )


# --- SendGrid ------------------------------------------------------------------------------------

SG = "/sandbox/sendgrid/api.sendgrid.com/v3/asm/suppressions/global"
SG_FULL = {"Authorization": "Bearer SG.sandbox-sendgrid-full-key"}
SG_MAIL_ONLY = {"Authorization": "Bearer SG.sandbox-sendgrid-mail-only-key"}


def test_sendgrid_global_suppressions(client):
    response = post(client, SG, {"recipient_emails": ["Ann@Example.com"]}, SG_FULL)
    assert response.status_code == 201
    assert response.json() == {"recipient_emails": ["ann@example.com"]}
    assert list(SandboxSuppression.objects.values_list("platform", "email")) == [
        ("sendgrid", "ann@example.com")
    ]
    again = post(client, SG, {"recipient_emails": ["ann@example.com"]}, SG_FULL)
    assert again.status_code == 201 and SandboxSuppression.objects.count() == 1
    assert post(client, SG, {"recipient_emails": []}, SG_FULL).status_code == 400
    assert post(client, SG, {"recipient_emails": ["not-an-email"]}, SG_FULL).status_code == 400
    refused = post(client, SG, {"recipient_emails": ["bob@example.com"]}, SG_MAIL_ONLY)
    assert refused.status_code == 403


# --- Klaviyo -------------------------------------------------------------------------------------

KL = "/sandbox/klaviyo/a.klaviyo.com/api/profile-suppression-bulk-create-jobs"
KL_HEADERS = {
    "Authorization": "Klaviyo-API-Key pk_sandbox-klaviyo-private-key",
    "revision": klaviyo_emulator.REVISION,
}
KL_READ_ONLY = {**KL_HEADERS, "Authorization": "Klaviyo-API-Key pk_sandbox-klaviyo-readonly-key"}
MEDIA = "application/vnd.api+json"


def suppression_job(*emails):
    profiles = [{"type": "profile", "attributes": {"email": e}} for e in emails]
    return {
        "data": {
            "type": "profile-suppression-bulk-create-job",
            "attributes": {"profiles": {"data": profiles}},
        }
    }


def test_klaviyo_suppression_jobs(client):
    response = post(client, KL, suppression_job("ann@example.com"), KL_HEADERS, MEDIA)
    assert response.status_code == 202, response.content
    job = response.json()["data"]
    assert job["type"] == "profile-suppression-bulk-create-job"
    assert job["attributes"]["status"] == "complete"
    assert job["attributes"]["total_count"] == 1
    assert SandboxSuppression.objects.filter(platform="klaviyo", email="ann@example.com").exists()
    wrong = {"data": {"type": "profile-subscription-bulk-create-job", "attributes": {}}}
    assert post(client, KL, wrong, KL_HEADERS, MEDIA).status_code == 400
    many = suppression_job(*[f"r{i}@example.com" for i in range(101)])
    assert post(client, KL, many, KL_HEADERS, MEDIA).status_code == 400
    read_only = post(client, KL, suppression_job("bob@example.com"), KL_READ_ONLY, MEDIA)
    assert read_only.status_code == 403


# --- Mailchimp -----------------------------------------------------------------------------------

MC_KEY = "sandbox0mailchimp0key0000000000aa-us6"
MC_VIEWER = "sandbox0mailchimp0viewer000000000cc-us6"
MC = "/sandbox/mailchimp/us6.api.mailchimp.com/3.0/lists/sandbox6a/members/"


def basic(user: str, key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}


def patch(client, email, body, key=MC_KEY):
    digest = hashlib.md5(email.encode()).hexdigest()  # noqa: S324 - Mailchimp's id
    return client.patch(
        MC + digest,
        data=orjson.dumps(body),
        content_type="application/json",
        headers=basic("any", key),
    )


def test_mailchimp_member_status_patch(client):
    row = stored(
        "mailchimp", "sandbox-audience-us6", "ann@example.com",
        email_address="ann@example.com", status="subscribed",
    )  # fmt: skip
    assert (
        patch(client, "ann@example.com", {"status": "unsubscribed"}, MC_VIEWER).status_code == 403
    )
    response = patch(client, "ann@example.com", {"status": "unsubscribed"})
    assert response.status_code == 200
    assert response.json()["status"] == "unsubscribed"
    row.refresh_from_db()
    assert row.attributes["status"] == "unsubscribed"
    refused = patch(client, "ann@example.com", {"status": "subscribed"})
    assert refused.status_code == 400 and refused.json()["title"] == "Member In Compliance State"
    assert patch(client, "ann@example.com", {"status": "gone"}).status_code == 400
    assert patch(client, "nobody@example.com", {"status": "unsubscribed"}).status_code == 404
    read = client.get(MC + hashlib.md5(b"ann@example.com").hexdigest(), headers=basic("a", MC_KEY))  # noqa: S324
    assert read.status_code == 200 and read.json()["status"] == "unsubscribed"


# --- Braze ---------------------------------------------------------------------------------------

BRAZE = "/sandbox/braze/rest.iad-01.braze.com/email/status"
BRAZE_KEY = {"Authorization": "Bearer sandbox-braze-rest-key-us01"}
BRAZE_RESTRICTED = {"Authorization": "Bearer sandbox-braze-restricted-key-us01"}


def test_braze_email_status(client):
    by_email = stored(
        "braze", "sandbox-braze-workspace-us", "ann@example.com", email_subscribe="subscribed"
    )
    by_id = stored(
        "braze", "sandbox-braze-workspace-us", "external_id:7",
        email="ann@example.com", email_subscribe="opted_in",
    )  # fmt: skip
    other = stored(
        "braze", "sandbox-braze-workspace-us", "bob@example.com", email_subscribe="subscribed"
    )
    body = {"email": "Ann@Example.com", "subscription_state": "unsubscribed"}
    response = post(client, BRAZE, body, BRAZE_KEY)
    assert response.status_code == 201 and response.json() == {"message": "success"}
    for row in (by_email, by_id, other):
        row.refresh_from_db()
    assert by_email.attributes["email_subscribe"] == by_id.attributes["email_subscribe"]
    assert by_id.attributes["email_subscribe"] == "unsubscribed"
    assert other.attributes["email_subscribe"] == "subscribed"
    bad = {"email": "ann@example.com", "subscription_state": "gone"}
    assert post(client, BRAZE, bad, BRAZE_KEY).status_code == 400
    assert post(client, BRAZE, body, BRAZE_RESTRICTED).status_code == 403


# --- Campaign Monitor ----------------------------------------------------------------------------

CM = "/sandbox/campaign_monitor/api.createsend.com/api/v3.3/clients/{}/suppress.json"
CM_KEY = basic("sandbox-cm-account-key", "x")
CLIENT = "c11e0000000000000000000000000001"


def test_campaign_monitor_client_suppression(client):
    row = stored("campaign_monitor", "sandbox-cm-account", "ann@example.com", State="Active")
    response = post(
        client,
        CM.format(CLIENT),
        {"EmailAddresses": ["Ann@example.com", "new@example.com"]},
        CM_KEY,
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.suppressed and row.attributes == {"State": "Active"}  # the record stays
    new = SandboxContact.objects.get(platform="campaign_monitor", identifier="new@example.com")
    assert new.suppressed
    assert (
        post(client, CM.format("f" * 32), {"EmailAddresses": ["a@example.com"]}, CM_KEY).json()[
            "Code"
        ]
        == 102
    )
    assert post(client, CM.format(CLIENT), {"EmailAddresses": []}, CM_KEY).status_code == 400


# --- Customer.io ---------------------------------------------------------------------------------

CIO = "/sandbox/customerio/api.customer.io/v1/customers/"
CIO_APP = {"Authorization": "Bearer sandbox-app-key-us"}


def test_customerio_person_reads(client):
    stored("customerio", "sandbox-site-us", "ann@example.com", first_name="Ann")
    attributes = client.get(f"{CIO}ann@example.com/attributes?id_type=email", headers=CIO_APP)
    assert attributes.status_code == 200
    customer = attributes.json()["customer"]
    assert customer["identifiers"]["email"] == "ann@example.com"
    assert customer["attributes"]["first_name"] == "Ann"
    segments = client.get(f"{CIO}ann@example.com/segments?id_type=email", headers=CIO_APP)
    assert segments.status_code == 200 and "segments" in segments.json()
    messages = client.get(f"{CIO}ann@example.com/messages?id_type=email", headers=CIO_APP)
    assert messages.json() == {"messages": [], "next": ""}
    assert (
        client.get(f"{CIO}nobody@example.com/attributes?id_type=email", headers=CIO_APP).status_code
        == 404
    )
    assert (
        client.get(f"{CIO}ann@example.com/attributes", headers=CIO_APP).status_code == 404
    )  # an id
    assert (
        client.get(f"{CIO}ann@example.com/attributes?id_type=x", headers=CIO_APP).status_code == 400
    )
    assert client.get(f"{CIO}ann@example.com/attributes?id_type=email").status_code == 401
