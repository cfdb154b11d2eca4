"""The endpoint's answers to bad input: never a 500, always a record where one is due."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings
from django.test.client import ClientHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import WebhookEvent, WebhookState
from integrations.models.webhooks import WEBHOOK_MAX_BODY
from integrations.sandbox import webhooks as signing
from integrations.services.webhooks import ensure_secret, webhook_path
from sharpsend.webhook_handler import LeanMiddleware
from tests.integrations.webhooks.helpers import post, post_signed
from tests.integrations.webhooks.samples import SAMPLES, SECRET

pytestmark = pytest.mark.django_db


class LeanClientHandler(LeanMiddleware, ClientHandler):
    """The test client's handler with the webhook handler's middleware (and CSRF enforced, as
    a platform's post carries no token)."""


@pytest.fixture(params=["full stack", "webhook handler"])
def client(request, client):
    """Each test of the endpoint through Django's full middleware stack and through the lean
    handler sharpsend/wsgi.py gives /webhooks/<id>/ (same view, fewer middleware)."""
    if request.param == "webhook handler":
        client.handler = LeanClientHandler(enforce_csrf_checks=True)
    return client


def test_an_unknown_integration_is_404(client):
    assert (
        client.post(
            f"/webhooks/{uuid.uuid4()}/", data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/webhooks/not-a-uuid/", data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_a_disabled_integration_is_404(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio", enabled=False)
    assert post_signed(client, integration, fake_clock.time).status_code == 404


def test_the_url_is_probed_with_a_get_without_the_secret(client, webhook_integration):
    """Mailchimp checks the URL answers when the webhook is saved."""
    integration = webhook_integration("mailchimp")
    assert client.get(webhook_path(integration)).status_code == 200
    assert client.put(webhook_path(integration)).status_code == 405
    assert not WebhookEvent.objects.exists()


def test_a_body_over_the_limit_is_413_and_not_stored(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio")
    body = b'{"x": "' + b"a" * WEBHOOK_MAX_BODY + b'"}'
    assert post_signed(client, integration, fake_clock.time, body=body).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_malformed_json_is_400_and_kept_as_failed(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio")
    response = post_signed(client, integration, fake_clock.time, body=b'{"event_id": ')
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.state == WebhookState.FAILED and "JSON" in event.error


def test_a_wrong_content_type_is_415(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio")
    body = SAMPLES["customerio"][0]
    signed = signing.sign("customerio", body, SECRET, fake_clock.time)
    assert post(client, integration, body, "text/plain", signed).status_code == 415
    assert WebhookEvent.objects.get().state == WebhookState.FAILED


def test_secret_headers_are_not_stored(client, webhook_integration, fake_clock):
    integration = webhook_integration("drift")
    post_signed(client, integration, fake_clock.time)
    event = WebhookEvent.objects.get()
    assert not {k.lower() for k in event.headers} & {
        "x-verification-token",
        "authorization",
        "cookie",
    }


def test_a_secret_in_the_body_is_blanked(client, webhook_integration, fake_clock):
    """Drift also sends its token in the body."""
    integration = webhook_integration("drift")
    body = SAMPLES["drift"][0].replace(b"TOKEN-PLACEHOLDER", SECRET.encode())
    assert post_signed(client, integration, fake_clock.time, body=body).status_code == 200
    assert SECRET.encode() not in bytes(WebhookEvent.objects.get().body)


def test_keap_handshake_echoes_the_hook_secret(client, webhook_integration):
    integration = webhook_integration("keap")
    path = webhook_path(integration) + "?token=" + SECRET
    response = client.post(path, headers={"X-Hook-Secret": "keap-generated-value"})
    assert response.status_code == 200
    assert response["X-Hook-Secret"] == "keap-generated-value"
    # Without the URL token, no echo: the handshake proves nothing to a stranger.
    refused = client.post(webhook_path(integration), headers={"X-Hook-Secret": "x"})
    assert refused.status_code == 401 and "X-Hook-Secret" not in refused


def test_front_challenge_is_answered_when_signed(client, webhook_integration, fake_clock):
    integration = webhook_integration("front")
    body = b'{"type": "sync", "authorization": {"id": "cmp_abc"}}'
    signed = signing.sign("front", body, SECRET, fake_clock.time)
    signed.headers["X-Front-Challenge"] = "challenge-value"
    response = post(client, integration, body, "application/json", signed)
    assert response.status_code == 200
    assert response.json() == {"challenge": "challenge-value"}
    forged = signing.forge("front", body, fake_clock.time)
    forged.headers["X-Front-Challenge"] = "challenge-value"
    assert post(client, integration, body, "application/json", forged).status_code == 401


def test_csrf_is_exempt_for_the_webhook_view_only(webhook_integration, fake_clock):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    integration = webhook_integration("customerio")
    assert post_signed(strict, integration, fake_clock.time).status_code == 200
    assert strict.post("/console/connect/").status_code in (302, 403)


def test_a_generated_token_is_made_once(webhook_integration):
    integration = webhook_integration("campaign_monitor", secret=False)
    token = ensure_secret(integration)
    assert len(token) >= 40
    integration.refresh_from_db()
    assert ensure_secret(integration) == token == integration.secrets["webhook_secret"]


HEADER_NAMES = st.sampled_from(
    [
        "X-CIO-Signature",
        "X-CIO-Timestamp",
        "Content-Type",
        "Authorization",
        "X-Hook-Secret",
        "X-Front-Challenge",
    ]
)


@override_settings(DEBUG=False)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    slug=st.sampled_from(sorted(SAMPLES)),
    body=st.binary(max_size=2048) | st.sampled_from([s[0] for s in SAMPLES.values()]),
    headers=st.dictionaries(
        HEADER_NAMES,
        st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=80),
        max_size=4,
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
            "application/json; charset=utf-8",
        ]
    ),
    query=st.sampled_from(["", "?token=", "?token=" + SECRET, "?token=%ff%fe", "?a=1&a=2"]),
)
def test_fuzzing_the_endpoint_never_errors(
    client, webhook_integration, slug, body, headers, content_type, query
):
    """Random bodies, headers, content types and queries (also with the right token): never
    a server error, whatever the platform."""
    from integrations.models import Integration

    integration = Integration.objects.filter(platform=slug).first() or webhook_integration(slug)
    client.raise_request_exception = False
    response = client.generic(
        "POST",
        webhook_path(integration) + query,
        data=body,
        content_type=content_type,
        headers=headers,
    )
    assert response.status_code < 500, response.content


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "events",
                    "data",
                    "Events",
                    "object_keys",
                    "type",
                    "event",
                    "email",
                    "timestamp",
                    "metric",
                    "eventName",
                    "payload",
                    "topic",
                    "id",
                    "time",
                    "Date",
                    "State",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(slug=st.sampled_from(sorted(SAMPLES)), data=JSON_VALUES)
def test_fuzzing_verified_bodies_never_errors(
    client,
    webhook_integration,
    fake_clock,
    monkeypatch,
    django_capture_on_commit_callbacks,
    slug,
    data,
):
    """Correctly signed but odd bodies: answered below 500, and processing ends processed or
    failed with its error kept (never an exception out of the task)."""
    import json

    from django_q.conf import Conf

    from integrations.models import Integration

    monkeypatch.setattr(Conf, "SYNC", True)
    integration = Integration.objects.filter(platform=slug).first() or webhook_integration(slug)
    body = json.dumps(data).encode()
    if slug == "mailchimp":
        body = b"type=" + body
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, integration, fake_clock.time, body=body)
    assert response.status_code < 500
    states = set(
        WebhookEvent.objects.filter(integration=integration).values_list("state", flat=True)
    )
    assert states <= {WebhookState.PROCESSED, WebhookState.FAILED, WebhookState.DUPLICATE}


def test_an_empty_post_is_a_probe_answered_and_not_stored(client, webhook_integration):
    integration = webhook_integration("mailchimp")
    empty = client.generic("POST", webhook_path(integration), data=b"", content_type="")
    assert empty.status_code == 200
    assert not WebhookEvent.objects.exists()


def test_klaviyo_body_and_header_webhook_ids_must_agree(client, webhook_integration, fake_clock):
    integration = webhook_integration("klaviyo")
    body = SAMPLES["klaviyo"][0]
    signed = signing.sign("klaviyo", body, SECRET, fake_clock.time)
    signed.headers["Klaviyo-Webhook-Id"] = "01HWH00"
    assert post(client, integration, body, "application/json", signed).status_code == 200
    signed.headers["Klaviyo-Webhook-Id"] = "another-webhook"
    assert post(client, integration, body, "application/json", signed).status_code == 401
    assert "Klaviyo-Webhook-Id" in WebhookEvent.objects.get(state=WebhookState.REJECTED).error


def test_no_session_is_made(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio")
    response = post_signed(client, integration, fake_clock.time)
    assert response.status_code == 200
    assert "Set-Cookie" not in response and not response.cookies
