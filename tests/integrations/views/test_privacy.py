"""The privacy pages: the access bundle (JSON and readable) and the capability matrix, by role."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditEntry
from integrations.services import privacy
from tests.integrations.privacy_fixtures import staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_queue")]

CHANGELIST = "admin:integrations_privacyrequest_changelist"


def test_the_bundle_downloads_for_the_officer_until_it_expires(client, officer):
    request = privacy.advance(privacy.open_request("access", "nobody@example.com"))
    url = reverse("integrations:privacy-bundle", args=[request.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.json()["subject"] == "nobody@example.com"
    summary = client.get(reverse("integrations:privacy-bundle-summary", args=[request.pk]))
    assert summary.status_code == 200
    assert b"nobody@example.com" in summary.content
    assert b"SharpSend holds no subscriber with this email." in summary.content
    change = client.get(reverse("admin:integrations_privacyrequest_change", args=[request.pk]))
    assert url.encode() in change.content
    request.bundle_expires_at = timezone.now() - timedelta(seconds=1)
    request.save()
    assert client.get(url).status_code == 404
    assert AuditEntry.objects.filter(summary="Access bundle downloaded").exists()


def test_the_bundle_is_refused_to_an_operator(client):
    request = privacy.advance(privacy.open_request("access", "nobody@example.com"))
    staff(client, "Operator")
    url = reverse("integrations:privacy-bundle", args=[request.pk])
    assert client.get(url).status_code == 403


def test_the_capability_matrix_page(client, officer, make_integration):
    make_integration("kit", name="Kit")
    make_integration("sendgrid", name="SendGrid")
    page = client.get(reverse("integrations:privacy-capabilities"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kit app" in text and "asynchronous" in text
    staff(client, "Operator")
    assert client.get(reverse("integrations:privacy-capabilities")).status_code == 403


def test_the_capability_matrix_page_shows_suppression(client, officer, make_integration):
    make_integration("kit", name="Kit")
    make_integration("drift", name="Drift")
    page = client.get(reverse("integrations:privacy-capabilities"))
    text = page.content.decode()
    assert "<th>Do not sell / suppress</th>" in text
    assert "Drift cannot suppress contact: Drift&#x27;s email unsubscribe endpoint" in text
