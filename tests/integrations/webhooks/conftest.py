"""Fixtures for the webhook tests: an integration per platform with its webhook secret."""

from __future__ import annotations

import pytest

from integrations.models import Integration
from integrations.platforms.registry import get_platform
from tests.integrations.webhooks.samples import stored_secret


@pytest.fixture
def webhook_integration(db):
    """webhook_integration("kit") → an integration whose webhook secret is stored."""

    def make(slug: str, *, secret: bool = True, key: str | None = None, **fields):
        platform = get_platform(slug)
        credentials = {f.key: f"test-{f.key}-value" for f in platform.credential_fields}
        if secret:
            credentials[key or platform.webhook_scheme.secret.key] = stored_secret(slug)
        return Integration.objects.create(
            platform=slug,
            name=fields.pop("name", f"webhooks {slug}"),
            region=platform.default_region(),
            credentials=credentials,
            **fields,
        )

    return make
