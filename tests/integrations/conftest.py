"""Fixtures for the integrations tests."""

import pytest

from integrations import metering
from tests.integrations.oauth_fixtures import oauth_connected, oauth_platform  # noqa: F401


@pytest.fixture
def record_api_call():
    """record_api_call(integration, ok=False, latency=40.0, status=500, kind="transient")."""

    def record(integration, *, ok=True, latency=10.0, path="/api/lists", status=200, kind=""):
        metering.record_call(
            integration,
            surface="api",
            method="GET",
            path=path,
            status_code=status,
            ok=ok,
            error_kind=kind,
            latency_ms=latency,
            bytes_sent=3,
            bytes_received=7,
        )

    return record
