"""A target's content and its signed URLs (campaigns/content.py): one code path for what the
send carries and what the URL serves; genuine, unexpired tokens of this assignment only."""

from __future__ import annotations

import time
import types
from urllib.parse import urlsplit

import pytest
from django.core import signing

from campaigns import content
from campaigns.models import Experiment, Variant
from campaigns.services.specs import spec_for

HTML = '<p>Hello <a href="https://example.com/x?a=1&amp;b=2">readers</a> — ünïcode</p>'


@pytest.fixture
def target(make_assignment, make_integration, settings):
    settings.CONSOLE_BASE_URL = "https://console.example.com/"
    integration = make_integration("campaign_monitor")
    assignment = make_assignment((integration, "", "campaign", ""), html=HTML, plain_text="Hi")
    return assignment.targets.get()


def token_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


def test_the_url_is_under_the_console_base_and_names_the_assignment(target):
    url = content.content_url(target, content.HTML)
    assert url.startswith(f"https://console.example.com/content/{target.assignment_id}/")
    assert "Hello" not in url  # ids only, never the content


def test_a_genuine_token_names_the_target_and_the_kind(target):
    for kind in (content.HTML, content.TEXT):
        token = token_of(content.content_url(target, kind))
        assert content.resolve(target.assignment_id, token) == (target, kind)


def test_the_spec_carries_what_the_urls_serve(target):
    spec = spec_for(target)
    assert spec.html == content.content_of(target).html == HTML
    assert spec.plain_text == content.content_of(target).plain_text == "Hi"
    assert content.resolve(target.assignment_id, token_of(spec.content_url)) == (target, "html")
    assert content.resolve(target.assignment_id, token_of(spec.text_url)) == (target, "text")


def test_an_ab_variant_has_its_own_html(target):
    experiment = Experiment.objects.create(assignment=target.assignment)
    target.variant = Variant.objects.create(experiment=experiment, label="B", html="<p>B</p>")
    target.save()
    found = content.content_of(target)
    assert (found.html, found.plain_text, found.source) == ("<p>B</p>", "Hi", "variant B")
    assert spec_for(target).html == "<p>B</p>"


def test_no_text_url_without_plain_text(target):
    target.assignment.plain_text = ""
    target.assignment.save()
    assert spec_for(target).text_url == ""


def test_a_tampered_token_names_nothing(target):
    token = token_of(content.content_url(target, content.HTML))
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert content.resolve(target.assignment_id, forged) is None
    other_use = signing.dumps({"t": target.pk, "k": "html"}, salt="another-use")
    assert content.resolve(target.assignment_id, other_use) is None
    other_kind = signing.dumps({"t": target.pk, "k": "pdf"}, salt=content.SALT)
    assert content.resolve(target.assignment_id, other_kind) is None


def test_an_expired_token_names_nothing(target, settings, monkeypatch):
    token = token_of(content.content_url(target, content.HTML))
    later = time.time() + settings.CAMPAIGN_CONTENT_URL_MAX_AGE + 5
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: later))
    assert content.resolve(target.assignment_id, token) is None


def test_a_token_is_valid_for_its_own_assignment_only(target, make_assignment):
    other = make_assignment((target.integration, "", "campaign", ""))
    token = token_of(content.content_url(target, content.HTML))
    assert content.resolve(other.pk, token) is None


def test_a_deleted_target_names_nothing(target):
    token = token_of(content.content_url(target, content.HTML))
    assignment_id = target.assignment_id
    target.delete()
    assert content.resolve(assignment_id, token) is None
