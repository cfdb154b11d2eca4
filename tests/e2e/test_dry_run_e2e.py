"""A dry run shows the requests a sync then sends, body byte for byte, on every platform."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
import pytest
from django.core.handlers.base import BaseHandler

from audience.demo import create_demo_audience
from integrations.models import SyncStatus, SyncTrigger
from integrations.platforms.registry import all_platforms, get_platform
from integrations.sandbox import registry
from integrations.services import preview, sync
from integrations.services.demo import create_demo_integrations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUDIENCE = 8


@pytest.fixture
def received(monkeypatch):
    """Every request the sandbox receives: (method, path, query, body: JSON, or bytes if not)."""
    seen: list[tuple] = []
    original = BaseHandler.get_response

    def recording(handler, request):
        if request.path.startswith("/sandbox/"):
            try:
                body = orjson.loads(request.body) if request.body else None
            except orjson.JSONDecodeError:  # a form (the OAuth token endpoint)
                body = request.body
            seen.append((request.method, request.path, sorted(request.GET.items()), body))
        return original(handler, request)

    monkeypatch.setattr(BaseHandler, "get_response", recording)
    return seen


def as_received(planned: dict) -> tuple:
    url = urlsplit(planned["url"])
    return (planned["method"], unquote(url.path), sorted(parse_qsl(url.query)), planned["body"])


@pytest.mark.parametrize("slug", [platform.slug for platform in all_platforms()])
def test_the_dry_run_shows_the_requests_the_sync_then_sends(slug, sandbox_url, e2e_clock, received):
    create_demo_audience(AUDIENCE)
    [integration] = [i for i in create_demo_integrations(sandbox_url) if i.platform == slug]
    planned = sync.dry_run_requests(integration, limit=AUDIENCE)
    planned_subscribers = {key for request in planned for key in request["subscribers"]}
    assert len(planned_subscribers) >= AUDIENCE - 2  # a few demo readers are unsubscribed
    for request in planned:
        assert "headers" not in request
        assert "Authorization" not in orjson.dumps(request).decode()
    del received[:]

    run, _ = sync.start_sync(integration, SyncTrigger.COMMAND)
    sync.execute_sync(run.pk)
    run.refresh_from_db()

    assert run.status == SyncStatus.SUCCEEDED, f"{slug}: {run.error}"
    assert run.created + run.updated == len(planned_subscribers)
    for request in planned:
        assert as_received(request) in received, (slug, request)


def test_keap_previews_the_custom_fields_it_then_sends(
    oauth_integration, sandbox_url, e2e_clock, received, make_subscribers
):
    # Keap sends custom fields by id, read from its contact model: the preview used to skip
    # them because it built the body before the model was read.
    registry.seed("keap")
    mappings = (
        *get_platform("keap").suggested_mappings,
        ("attributes.interest", "interest", "", False),
    )
    integration = oauth_integration("keap", base_url=f"{sandbox_url}/keap", mappings=mappings)
    make_subscribers(3, unsubscribed=())
    client = integration.client()
    forecast = preview.forecast(
        integration, list(integration.field_mappings.all()), client.list_fields()
    )
    planned = sync.dry_run_requests(integration, limit=3)
    assert forecast.payloads == planned
    first = planned[0]["body"]
    assert first["custom_fields"] == [{"id": first["custom_fields"][0]["id"], "content": "growth"}]
    del received[:]

    run, _ = sync.start_sync(integration, SyncTrigger.COMMAND)
    sync.execute_sync(run.pk)
    run.refresh_from_db()

    assert run.status == SyncStatus.SUCCEEDED, run.error
    for request in planned:
        assert as_received(request) in received, request
