"""The sandbox index tells the truth: each key does what the page says, over real HTTP."""

from __future__ import annotations

import pytest

from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, catalog, registry
from integrations.services import connection

pytestmark = pytest.mark.django_db(transaction=True)
CHECKED = (catalog.WORKING, catalog.READ_ONLY, catalog.OTHER_REGION)


def keyed_platforms() -> list[str]:
    return sorted(slug for slug in registry.emulators() if get_platform(slug).credential_fields)


@pytest.mark.parametrize("slug", keyed_platforms())
def test_each_listed_key_connects_or_is_refused_as_the_index_says(
    slug, live_server, settings, e2e_clock, make_integration
):
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    registry.seed(slug)
    demo = accounts.demo_account(slug)
    entry = catalog.describe(get_platform(slug))
    assert entry.base_url == f"{live_server.url}/sandbox/{slug}"
    checked = 0
    for n, key in enumerate(k for k in entry.credentials if k.kind in CHECKED):
        # The key's fields over the demo account's others (e.g. the list ID beside a key).
        credentials = {**demo.credentials, **{f.key: f.value for f in key.fields}}

        def report(region: str, name: str, credentials=credentials):
            integration = make_integration(
                slug,
                name=name,
                base_url=entry.base_url,
                region=region,
                credentials=credentials,
            )
            return connection.test_connection(integration)

        result = report(demo.region, f"{slug} {n} demo region")
        if key.kind == catalog.WORKING:
            assert result.ok, (key, result.detail)
        else:
            assert not result.ok, key
            assert result.detail, key  # refused with the reason
        if key.kind == catalog.OTHER_REGION:
            assert report(key.region_key, f"{slug} {n} own region").ok, key
        checked += 1
    assert checked >= 1
