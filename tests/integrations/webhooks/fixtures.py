"""An integration per platform with its webhook secret stored (webhook_integration)."""

from __future__ import annotations

import pytest

from integrations.models import Integration
from integrations.platforms.registry import get_platform
from tests.integrations.webhooks.samples import stored_secret


def integration_with_secret(slug: str, *, secret: bool = True, key: str | None = None, **fields):
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


@pytest.fixture
def webhook_integration(db):
    """webhook_integration("kit", secret=False, key=..., **fields) → an Integration."""
    return integration_with_secret
