"""The "do not sell / suppress" call per platform, against strict `responses` mocks with the
exact request the fact sheets (../shared/platforms/<slug>.md §9) and specs name, and the
receipt it turns the answer into. Platforms without such a call say why."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.braze import BrazeClient
from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.errors import PermissionDenied
from integrations.platforms.keap import KeapClient
from integrations.platforms.kit import KitClient
from integrations.platforms.klaviyo import REVISION, KlaviyoClient
from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.registry import get_platform
from integrations.platforms.sendgrid import SendGridClient
from integrations.platforms.types import Capability, PrivacyState
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import _closed, _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"  # steady_retries gives it a fake OAuth app

EMAIL = "Reader@Example.com"
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})

WIRED = {
    "braze", "campaign_monitor", "customerio", "keap", "kit", "klaviyo", "mailchimp", "sendgrid",
}  # fmt: skip


def test_the_wired_platforms_declare_suppression_and_the_others_say_why():
    from integrations.platforms.registry import all_platforms

    declared = {cls.slug for cls in all_platforms() if cls.supports(Capability.SUPPRESS_CONTACT)}
    assert declared == WIRED
    for cls in all_platforms():
        if cls.slug not in WIRED:
            reason = cls.unsupported_reasons[Capability.SUPPRESS_CONTACT]
            assert len(reason) > 40, cls.slug  # a reason an operator can act on
    iterable = get_platform("iterable").unsupported(Capability.SUPPRESS_CONTACT).message
    assert "forget" in iterable and "deletion request" in iterable


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


# --- Keap: the address's opt-in status ---------------------------------------------------------

KEAP = "https://api.keap.com/crm/rest/v2"
KEAP_TOKEN = "test-access-not-real"


@pytest.fixture
def keap(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration,
        {"access_token": KEAP_TOKEN, "refresh_token": "test-refresh-not-real", "expires_in": 3600},
    )
    return KeapClient(integration)


def test_keap_opts_the_address_out(keap):
    with strict() as rsps:
        rsps.patch(
            f"{KEAP}/emailAddresses/ann%2Bnews@example.com/status",
            match=[
                matchers.header_matcher({"Authorization": f"Bearer {KEAP_TOKEN}"}),
                JSON_BODY,
                matchers.json_params_matcher(
                    {
                        "opted_in": False,
                        "reason": "Do not sell / suppress request (SharpSend privacy request)",
                    }
                ),
            ],
            json={"email": "ann+news@example.com", "opted_in": False, "status": "MANUAL"},
        )
        receipt = keap.suppress_contact("ann+news@example.com")
    assert receipt.state == PrivacyState.DONE
    assert receipt.detail == "Keap opted the address out (MANUAL; contact kept)."


def test_keap_an_unknown_address_is_nothing_held_and_a_marketable_answer_fails(keap):
    with strict() as rsps:
        rsps.patch(f"{KEAP}/emailAddresses/nobody@example.com/status", status=404, json={})
        rsps.patch(
            f"{KEAP}/emailAddresses/ann@example.com/status",
            json={"email": "ann@example.com", "opted_in": True, "status": "SINGLE_OPT_IN"},
        )
        assert keap.suppress_contact("nobody@example.com").detail == (
            "Keap holds no such email address."
        )
        assert keap.suppress_contact("ann@example.com").state == PrivacyState.FAILED


# --- Customer.io: unsubscribed through an identify, after a look-up ------------------------------

CIO_APP = "https://api.customer.io/v1/customers"
CIO_TRACK = "https://track.customer.io/api/v2/batch"
CIO_BASIC = "Basic " + base64.b64encode(b"cio-test-site:cio-test-track-key").decode()


@pytest.fixture
def customerio(make_integration):
    credentials = {
        "site_id": "cio-test-site",
        "track_api_key": "cio-test-track-key",
        "app_api_key": "cio-test-app-key",
    }
    return CustomerIoClient(make_integration("customerio", region="us", credentials=credentials))


def _identify(identifiers):
    entry = {
        "type": "person",
        "identifiers": identifiers,
        "action": "identify",
        "attributes": {"unsubscribed": True},
    }
    return matchers.json_params_matcher({"batch": [entry]})


def test_customerio_looks_the_known_id_up_then_unsubscribes_by_it(customerio):
    person = {"identifiers": {"email": "ann@example.com", "id": "42", "cio_id": "a3000001"}}
    with strict() as rsps:
        rsps.get(
            f"{CIO_APP}/42/attributes",
            match=[
                matchers.header_matcher({"Authorization": "Bearer cio-test-app-key"}),
                matchers.query_param_matcher({"id_type": "id"}),
            ],
            json={"customer": person},
        )
        rsps.post(
            CIO_TRACK,
            match=[
                matchers.header_matcher({"Authorization": CIO_BASIC}),
                JSON_BODY,
                _identify({"id": "42"}),
            ],
            body="",
        )
        receipt = customerio.suppress_contact("ann@example.com", platform_id="42")
    assert receipt.state == PrivacyState.DONE
    assert receipt.job_id == "a3000001"
    assert receipt.detail == "Customer.io marked the person unsubscribed (profile kept)."


def test_customerio_by_email_without_an_id_and_never_creates_a_person(customerio):
    person = {"identifiers": {"email": "ann@example.com", "id": None, "cio_id": "a3000002"}}
    with strict() as rsps:
        rsps.get(
            f"{CIO_APP}/ann@example.com/attributes",
            match=[matchers.query_param_matcher({"id_type": "email"})],
            json={"customer": person},
        )
        rsps.post(CIO_TRACK, match=[_identify({"email": "ann@example.com"})], body="")
        assert customerio.suppress_contact("ann@example.com").state == PrivacyState.DONE
    with strict() as rsps:  # no such person: nothing is written
        rsps.get(f"{CIO_APP}/nobody@example.com/attributes", status=404, json={})
        receipt = customerio.suppress_contact("nobody@example.com")
    assert receipt.detail == "Customer.io holds no such person."


def test_customerio_a_refused_identify_fails_the_receipt(customerio):
    person = {"identifiers": {"email": "ann@example.com", "id": None, "cio_id": "a1"}}
    with strict() as rsps:
        rsps.get(f"{CIO_APP}/ann@example.com/attributes", json={"customer": person})
        rsps.post(
            CIO_TRACK,
            status=207,
            json={"errors": [{"batch_index": 0, "reason": "suppressed", "message": "suppressed"}]},
        )
        receipt = customerio.suppress_contact("ann@example.com")
    assert receipt.state == PrivacyState.FAILED
    assert receipt.detail == "Customer.io refused the unsubscribe: suppressed"
