"""Real-shaped webhook bodies per platform (shapes from each fact sheet's webhooks section),
and the normalised events each must become."""

from __future__ import annotations

import json

from integrations.sandbox.webhooks import FORM, JSON, new_ecdsa_key

READER = "reader@example.com"
SECRET = "test-webhook-secret-0123456789abcdef"


def _json(data) -> bytes:
    return json.dumps(data).encode()


SAMPLES: dict[str, tuple[bytes, str, list[tuple[str, str]]]] = {
    "mailchimp": (
        b"type=unsubscribe&fired_at=2026-12-03+10%3A00%3A00&data%5Baction%5D=unsub"
        b"&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054"
        b"&data%5Bemail%5D=reader%40example.com&data%5Bcampaign_id%5D=4fjk2ma9xd",
        FORM,
        [("unsubscribed", READER)],
    ),
    "kit": (
        _json(
            {
                "events": [
                    {
                        "id": "evt_1",
                        "type": "subscriber.bounced",
                        "created_at": "2026-12-03T10:00:00Z",
                        "data": {"subscriber": {"id": 7, "email_address": READER}},
                    }
                ]
            }
        ),
        JSON,
        [("bounced_hard", READER)],
    ),
    "campaign_monitor": (
        _json(
            {
                "Events": [
                    {
                        "Type": "Deactivate",
                        "Date": "2026-12-03 10:00:00",
                        "EmailAddress": READER,
                        "Name": "Ada Reader",
                        "State": "Unsubscribed",
                    },
                    {"Type": "Update", "Date": "2026-12-03 10:01:00", "EmailAddress": READER},
                ],
                "ListID": "96c0bbdaa54760c8d9e62a2b7ffa2e13",
            }
        ),
        JSON,
        [("unsubscribed", READER), ("contact_updated", READER)],
    ),
    "sendgrid": (
        _json(
            [
                {
                    "email": READER,
                    "timestamp": 1796292000,
                    "event": "open",
                    "sg_event_id": "sg_event_id_open_1",
                    "sg_message_id": "14c5d75ce93.dfd.64b469",
                },
                {
                    "email": READER,
                    "timestamp": 1796292060,
                    "event": "click",
                    "url": "https://news.example.com/a",
                    "sg_event_id": "sg_event_id_click_1",
                },
                {"email": READER, "timestamp": 1796292000, "event": "processed"},
            ]
        ),
        JSON,
        [("opened", READER), ("clicked", READER)],
    ),
    "iterable": (
        _json(
            {
                "email": READER,
                "eventName": "emailComplaint",
                "dataFields": {
                    "campaignId": 59667,
                    "messageId": "d0aa7801f91f4824997a631f3ed583c3",
                    "createdAt": "2026-12-03 10:00:00 +00:00",
                },
            }
        ),
        JSON,
        [("complained", READER)],
    ),
    "customerio": (
        _json(
            {
                "event_id": "01E4C4CT6YDC7Y5M7FE1GWWPQJ",
                "object_type": "email",
                "metric": "clicked",
                "timestamp": 1796292000,
                "data": {
                    "identifiers": {"id": "42", "email": READER},
                    "customer_id": "42",
                    "delivery_id": "RAECAAFwnUSneIa0ZXkmq8EdkAM==",
                    "href": "https://news.example.com/b",
                    "newsletter_id": 17,
                },
            }
        ),
        JSON,
        [("clicked", READER)],
    ),
    "keap": (
        _json(
            {
                "event_key": "contact.edit",
                "object_type": "contact",
                "object_keys": [
                    {
                        "id": 123,
                        "apiUrl": "https://api.infusionsoft.com/crm/rest/v1/contacts/123",
                        "timestamp": "2026-12-03T10:00:00Z",
                    }
                ],
            }
        ),
        JSON,
        [("contact_updated", "")],
    ),
    "braze": (
        _json(
            {
                "events": [
                    {
                        "event_type": "users.messages.email.Unsubscribe",
                        "id": "a1b2c3d4-0000-4000-8000-000000000001",
                        "time": 1796292000,
                        "user": {"user_id": "u1", "external_user_id": "reader-1"},
                        "properties": {"campaign_id": "camp-1", "email_address": READER},
                    }
                ]
            }
        ),
        JSON,
        [("unsubscribed", READER)],
    ),
    "klaviyo": (
        _json(
            {
                "data": [
                    {
                        "external_id": "3bd2b1d0-klaviyo-event",
                        "topic": "event:klaviyo.opened_email",
                        "payload": {"datetime": "2026-12-03T10:00:00+00:00", "email": READER},
                    }
                ],
                "meta": {"klaviyo_account_id": "AbC123", "klaviyo_webhook_id": "01HWH00"},
            }
        ),
        JSON,
        [("opened", READER)],
    ),
    "drift": (
        _json(
            {
                "orgId": 0,
                "type": "contact_updated",
                "token": "TOKEN-PLACEHOLDER",
                "data": {
                    "endUserId": 12345678,
                    "timestamp": 1796292000000,
                    "diff": [{"name": "attributes.email", "previous": "", "updated": READER}],
                },
            }
        ),
        JSON,
        [("contact_updated", READER)],
    ),
    "crisp": (
        _json(
            {
                "website_id": "42286ab3-b29a-4fde-8538-da0ae501d825",
                "event": "people:profile:updated",
                "data": {"people_id": "c5bd5e0a", "email": READER},
                "timestamp": 1796292000000,
            }
        ),
        JSON,
        [("contact_updated", READER)],
    ),
    "front": (
        _json(
            {
                "type": "message_bounce_error",
                "authorization": {"id": "cmp_abc"},
                "payload": {
                    "id": "evt_55c8c149",
                    "type": "message_bounce_error",
                    "emitted_at": 1796292000.0,
                    "conversation": {"recipient": {"handle": READER}},
                },
            }
        ),
        JSON,
        [("bounced_soft", READER)],
    ),
}

_ECDSA = new_ecdsa_key()


def signing_secret(slug: str) -> str:
    """What the platform signs with (SendGrid: its private key)."""
    return _ECDSA[0] if slug == "sendgrid" else SECRET


def stored_secret(slug: str) -> str:
    """What the console stores (SendGrid: the public key as SendGrid shows it)."""
    return _ECDSA[1] if slug == "sendgrid" else SECRET
