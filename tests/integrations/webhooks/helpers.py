"""Posting to an integration's webhook URL the way its platform would."""

from __future__ import annotations

from urllib.parse import urlencode

from integrations.sandbox import webhooks as signing
from integrations.services.webhooks import webhook_path
from tests.integrations.webhooks.samples import SAMPLES, signing_secret


def post(client, integration, body: bytes, content_type: str, signed):
    path = webhook_path(integration)
    if signed.query:
        path += "?" + urlencode(signed.query)
    return client.generic(
        "POST", path, data=body, content_type=content_type, headers=signed.headers
    )


def post_signed(client, integration, now: float, *, body=None, unsigned=False):
    sample_body, content_type, _ = SAMPLES[integration.platform]
    body = sample_body if body is None else body
    secret = signing_secret(integration.platform)
    signed = signing.sign(integration.platform, body, secret, now, unsigned=unsigned)
    return post(client, integration, body, content_type, signed)
