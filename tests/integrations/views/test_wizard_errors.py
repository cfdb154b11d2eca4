"""Malformed wizard input is a form error or a redirect to the right step, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Integration

pytestmark = pytest.mark.django_db
PREFIX = "integration_wizard_new"
RESUME = f"{reverse('integrations:connect')}?resume=1"


@pytest.fixture
def wizard(admin_client):
    """The admin with a wizard started (its first GET); exceptions become responses."""
    admin_client.raise_request_exception = False
    assert admin_client.get(reverse("integrations:connect")).status_code == 200
    return admin_client


def post(client, current: str, **data):
    return client.post(reverse("integrations:connect"), {f"{PREFIX}-current_step": current, **data})


def choose(client, slug: str = "iterable"):
    response = post(client, "platform", **{"platform-platform": slug})
    assert b"Credentials for" in response.content


def shown_step(response) -> str:
    """The step the page shows as current (its data-step in the step list)."""
    html = response.content.decode()
    marker = 'class="current" data-step="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_a_bogus_step_name_redirects_to_the_current_step(wizard):
    choose(wizard)
    response = post(wizard, "no-such-step")
    assert response.status_code == 302 and response["Location"] == RESUME
    page = wizard.get(response["Location"])
    assert page.status_code == 200
    assert shown_step(page) == "credentials"
    assert b"That wizard step does not exist" in page.content


@pytest.mark.parametrize("later", ["credentials", "test", "mapping", "settings"])
def test_posting_a_later_step_first_goes_back_to_the_platform_step(wizard, later):
    response = post(wizard, later, **{f"{later}-name": "Skipped"})
    assert response.status_code == 302 and response["Location"] == RESUME
    page = wizard.get(response["Location"])
    assert page.status_code == 200
    assert shown_step(page) == "platform"
    assert b"Complete the Platform step first" in page.content
    assert not Integration.objects.exists()


@pytest.mark.parametrize("later", ["test", "mapping", "settings"])
def test_going_to_a_later_step_stops_at_the_first_step_not_done(wizard, later):
    choose(wizard)
    response = post(wizard, "credentials", wizard_goto_step=later)
    assert response.status_code == 302 and response["Location"] == RESUME
    page = wizard.get(response["Location"])
    assert shown_step(page) == "credentials"
    assert b"Complete the Credentials step first" in page.content
    assert b"Credentials for Iterable" in page.content


def test_resuming_at_a_step_whose_earlier_steps_are_missing_shows_the_missing_one(wizard):
    choose(wizard)
    session = wizard.session
    storage = session[f"wizard_{PREFIX}"]
    storage["step"] = "mapping"  # e.g. a session left at a later step by an older version
    session[f"wizard_{PREFIX}"] = storage
    session.save()
    page = wizard.get(RESUME)
    assert page.status_code == 200
    assert shown_step(page) == "credentials"


@pytest.mark.parametrize("url", ["https://[::1", "http://[zz::1]/", "https://api.iterable.com:x"])
def test_a_malformed_base_url_is_a_form_error(wizard, url):
    choose(wizard)
    response = post(
        wizard,
        "credentials",
        **{
            "credentials-name": "Malformed URL",
            "credentials-region": "us",
            "credentials-api_base_url": url,
            "credentials-credential_api_key": "not-a-real-key",
        },
    )
    assert response.status_code == 200
    assert shown_step(response) == "credentials"
    form = response.context["wizard"]["form"]
    assert "is not a valid URL" in form.errors["api_base_url"][0]
    assert not Integration.objects.exists()
