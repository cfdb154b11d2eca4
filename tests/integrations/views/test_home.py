"""The console home at /console/: who may see it and what it shows."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from integrations.models import ApiCall, ApiFeature, IntegrationStatus

pytestmark = pytest.mark.django_db


def test_staff_without_the_view_permission_are_refused(client):
    client.force_login(User.objects.create_user("nobody", is_staff=True))
    assert client.get(reverse("integrations:home")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("integrations:home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_home_shows_health_usage_and_charts_data(admin_client, make_integration):
    make_integration("kit", name="Kit newsletter")
    keap = make_integration(
        "keap", name="Keap CRM", status=IntegrationStatus.NEEDS_ATTENTION, last_error="reconnect"
    )
    ApiCall.objects.create(
        integration=keap, surface="api", method="GET", path="/x", status_code=401, ok=False,
        latency_ms=12.0, at=timezone.now(), feature=ApiFeature.CONNECTION,
    )  # fmt: skip
    page = admin_client.get(reverse("integrations:home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 integration needs a look" in html
    assert "Keap CRM</a>: Needs attention: reconnect" in html
    assert 'data-feature="connection"' in html
    start = html.index('id="console-charts"')
    charts = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert [s["name"] for s in charts["hourly"]["integrations"]] == ["Keap CRM"]
    assert charts["features"][0]["feature"] == "connection"
    assert 'id="console-charts"' in html  # the data the charts are drawn from
    assert "chart-4.6.1.umd.min.js" in html


def test_the_admin_index_links_to_the_console_home(admin_client):
    page = admin_client.get(reverse("admin:index"))
    assert reverse("integrations:home").encode() in page.content
