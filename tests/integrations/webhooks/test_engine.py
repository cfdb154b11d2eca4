"""The one verifier engine (integrations/platforms/webhooks.py), scheme by scheme."""

from __future__ import annotations

import base64

import pytest

from audience.models import EngagementKind
from integrations.platforms.registry import all_platforms
from integrations.platforms.webhook_events import Kind, parse_timestamp
from integrations.platforms.webhooks import (
    InboundRequest,
    Method,
    WebhookRejected,
    WebhookScheme,
    verify,
)
from integrations.sandbox.webhooks import new_ecdsa_key, sign

NOW = 1_800_000_000.0


def test_kinds_are_the_engagement_kinds():
    assert {k.value for k in Kind} == set(EngagementKind.values)


@pytest.mark.parametrize("cls", all_platforms(), ids=lambda c: c.slug)
def test_every_platform_declares_a_sourced_scheme_with_steps(cls):
    scheme = cls.webhook_scheme
    assert scheme is not None
    assert scheme.source.startswith("https://")
    assert scheme.steps
    for link in scheme.schemes():
        if not link.signed:
            assert link.note, f"{cls.slug}: say why nothing is signed"
        if link.method in (Method.HMAC, Method.ECDSA):
            assert link.has_timestamp or link.note


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1800000000", "s", NOW),
        ("1800000000000", "ms", NOW),
        ("1800000000000", "any", NOW),
        ("2027-01-15T08:00:00Z", "any", NOW),
        ("Fri, 15 Jan 2027 08:00:00 GMT", "any", NOW),
    ],
)
def test_timestamps_as_platforms_send_them(value, unit, expected):
    assert parse_timestamp(value, unit) == expected


@pytest.mark.parametrize("value", ["", "soon", "2027-13-45"])
def test_unreadable_timestamps_are_refused(value):
    scheme = WebhookScheme(
        Method.HMAC,
        source="https://x",
        header="Sig",
        timestamp_header="Ts",
        message="{timestamp}{body}",
    )
    request = InboundRequest(b"{}", {"Sig": "00", "Ts": value})
    with pytest.raises(WebhookRejected, match="timestamp"):
        verify(scheme, request, {"webhook_secret": "s"}, NOW)


def test_basic_auth():
    scheme = WebhookScheme(Method.BASIC_AUTH, source="https://x")
    good = "Basic " + base64.b64encode(b"user:pass").decode()
    verify(
        scheme, InboundRequest(b"", {"Authorization": good}), {"webhook_secret": "user:pass"}, NOW
    )
    for bad in (
        "Basic " + base64.b64encode(b"user:nope").decode(),
        "Bearer user:pass",
        "Basic %%%",
        "",
    ):
        with pytest.raises(WebhookRejected):
            verify(
                scheme,
                InboundRequest(b"", {"Authorization": bad}),
                {"webhook_secret": "user:pass"},
                NOW,
            )


def test_token_prefixes_are_exact():
    """Iterable: the raw token, or "OAuth2 <token>"; nothing else."""
    scheme = WebhookScheme(
        Method.TOKEN, source="https://x", header="Authorization", prefixes=("", "OAuth2 ")
    )
    secrets = {"webhook_secret": "tok-123"}
    for good in ("tok-123", "OAuth2 tok-123"):
        verify(scheme, InboundRequest(b"", {"authorization": good}), secrets, NOW)
    for bad in ("Bearer tok-123", "tok-1234", "OAuth2 tok", ""):
        with pytest.raises(WebhookRejected):
            verify(scheme, InboundRequest(b"", {"Authorization": bad}), secrets, NOW)


def test_rotating_secrets_any_v1_matches():
    """Kit sends two v1 values while a secret rotates."""
    from integrations.platforms.kit.webhooks import SCHEME

    body = b'{"events": []}'
    signed = sign("kit", body, "new-secret", NOW).headers["X-Kit-Signature"]
    old = sign("kit", body, "old-secret", NOW).headers["X-Kit-Signature"].split(",")[1]
    both = InboundRequest(body, {"X-Kit-Signature": f"{signed},{old}"})
    verify(SCHEME, both, {"webhook_signing_secret": "old-secret"}, NOW)
    verify(SCHEME, both, {"webhook_signing_secret": "new-secret"}, NOW)


def test_crisp_signs_its_compact_reserialisation():
    from integrations.platforms.crisp.webhooks import SCHEME

    spaced = b'{"event": "people:profile:updated", "data": {"email": "a@example.com"}}'
    compact = b'{"event":"people:profile:updated","data":{"email":"a@example.com"}}'
    headers = sign("crisp", compact, "s3cret", NOW).headers
    verify(SCHEME, InboundRequest(spaced, headers), {"webhook_signing_secret": "s3cret"}, NOW)


def test_sendgrid_takes_a_pem_key_and_refuses_a_bad_one():
    from integrations.platforms.sendgrid.webhooks import SCHEME

    private, public_der = new_ecdsa_key()
    pem = "-----BEGIN PUBLIC KEY-----\n" + public_der + "\n-----END PUBLIC KEY-----\n"
    body = b"[]"
    request = InboundRequest(body, sign("sendgrid", body, private, NOW).headers)
    verify(SCHEME, request, {"webhook_public_key": pem}, NOW)
    with pytest.raises(WebhookRejected, match="public key"):
        verify(SCHEME, request, {"webhook_public_key": "bm90IGEga2V5"}, NOW)
    garbled = InboundRequest(
        body, {**request.headers, "X-Twilio-Email-Event-Webhook-Signature": "%%"}
    )
    with pytest.raises(WebhookRejected):
        verify(SCHEME, garbled, {"webhook_public_key": public_der}, NOW)


def test_hidden_headers_cover_every_secret_header():
    from integrations.platforms.keap.webhooks import SCHEME as KEAP
    from integrations.platforms.mailchimp.webhooks import SCHEME as MAILCHIMP

    assert {"x-mailchimp-signature", "authorization", "cookie"} <= MAILCHIMP.hidden_headers()
    assert "x-hook-secret" in KEAP.hidden_headers()
