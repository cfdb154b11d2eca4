"""The mapping forecast tells the truth: for the demo audience, on every platform, its counts
are the next real run's outcome counts over the sandbox."""

from collections import Counter

import pytest

from audience.demo import create_demo_audience
from integrations.models import Outcome
from integrations.platforms.registry import all_platforms
from integrations.platforms.types import Capability
from integrations.services import preview, sync
from integrations.services.demo import create_demo_integrations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_AUDIENCE = 120  # seed_demo's default


@pytest.mark.parametrize("slug", [p.slug for p in all_platforms()])
def test_forecast_counts_equal_the_next_runs_outcomes(slug, sandbox_url, e2e_clock):
    create_demo_audience(DEMO_AUDIENCE)
    integration = next(i for i in create_demo_integrations(sandbox_url) if i.platform == slug)
    client = integration.client()
    targets = client.list_fields() if client.supports(Capability.LIST_FIELDS) else None
    forecast = preview.forecast(integration, list(integration.field_mappings.all()), targets)

    run, _ = sync.start_sync(integration, "command")
    sync.execute_sync(run.pk)
    run.refresh_from_db()

    assert forecast.total == DEMO_AUDIENCE
    assert forecast.excluded == run.excluded, run.error
    assert forecast.would_send == run.created + run.updated + run.unchanged, run.error
    assert forecast.rejected == run.rejected_data, run.error
    recorded = Counter(
        run.records.filter(outcome=Outcome.REJECTED_DATA).values_list("code", flat=True)
    )
    assert forecast.reasons == Counter({c.replace("_", " "): n for c, n in recorded.items()})
    assert run.rejected_compliance == run.rejected_auth == run.throttled == run.unknown == 0
