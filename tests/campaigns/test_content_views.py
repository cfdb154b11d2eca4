"""The content view (campaigns/content_views.py): served to anyone holding a genuine URL,
exactly as the send carries it; a plain 404 for anything else."""

from __future__ import annotations

import time
import types
from urllib.parse import urlsplit

import pytest
from django.core import signing

from campaigns import content
from campaigns.services.specs import spec_for

HTML = "<p>Hello — ünïcode &amp; more</p>"


@pytest.fixture
def target(make_assignment, make_integration, settings):
    settings.CONSOLE_BASE_URL = "https://console.example.com"
    integration = make_integration("campaign_monitor")
    assignment = make_assignment((integration, "", "campaign", ""), html=HTML, plain_text="Hi")
    return assignment.targets.get()


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_served_without_login_exactly_as_the_send_carries_it(client, target):
    spec = spec_for(target)
    html = client.get(path_of(spec.content_url))
    assert html.status_code == 200
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert html.content.decode() == spec.html == HTML
    text = client.get(path_of(spec.text_url))
    assert text.status_code == 200
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text.content.decode() == spec.plain_text == "Hi"
    assert not html.cookies  # no session, no CSRF cookie


def test_never_cached_indexed_or_referred(client, target):
    response = client.get(path_of(content.content_url(target, content.HTML)))
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_tampered_token_is_a_404(client, target):
    prefix, token, _ = path_of(content.content_url(target, content.HTML)).rsplit("/", 2)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(f"{prefix}/{forged}/")
    assert response.status_code == 404
    assert HTML.encode() not in response.content


def test_an_expired_token_is_a_404(client, target, settings, monkeypatch):
    path = path_of(content.content_url(target, content.HTML))
    later = time.time() + settings.CAMPAIGN_CONTENT_URL_MAX_AGE + 5
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: later))
    assert client.get(path).status_code == 404


def test_the_token_of_another_assignment_is_a_404(client, target, make_assignment):
    other = make_assignment((target.integration, "", "campaign", ""))
    token = path_of(content.content_url(target, content.HTML)).rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/content/{other.pk}/{token}/").status_code == 404


def test_only_get(client, target):
    path = path_of(content.content_url(target, content.HTML))
    assert client.post(path).status_code == 405
    assert client.put(path).status_code == 405
