"""A demo integration is connected once a real connection test passed, not by decree."""

import pytest

from integrations import tasks
from integrations.models import Integration, IntegrationStatus
from integrations.services import queue
from integrations.services.demo import create_demo_integrations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_demo_integrations_are_draft_until_their_queued_connection_test_passes(
    sandbox_url, e2e_clock, monkeypatch
):
    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    integrations = create_demo_integrations(sandbox_url)
    assert {i.status for i in Integration.objects.all()} == {IntegrationStatus.DRAFT}
    assert sorted(queued) == sorted(
        ("integrations.tasks.test_connection", (i.pk,)) for i in integrations
    )
    for func, args in queued:  # what the q cluster does with them
        assert func == "integrations.tasks.test_connection"
        tasks.test_connection(*args)
    for integration in Integration.objects.all():
        assert integration.status == IntegrationStatus.CONNECTED, integration.last_error
        assert integration.connection_report["ok"] is True
        assert integration.last_tested_at is not None
