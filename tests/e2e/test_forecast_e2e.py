"""The mapping forecast tells the truth: for the demo audience, on every platform, its counts
are the next real run's outcome counts over the sandbox."""

from collections import Counter

import pytest

from audience.demo import create_demo_audience
from audience.models import Subscriber
from integrations.models import Outcome
from integrations.platforms.registry import all_platforms
from integrations.platforms.types import Capability
from integrations.services import preview, sync
from integrations.services.demo import create_demo_integrations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_AUDIENCE = 120  # seed_demo's default
SLUGS = [p.slug for p in all_platforms()]


def forecast_then_run(slug: str, sandbox_url: str):
    integration = next(i for i in create_demo_integrations(sandbox_url) if i.platform == slug)
    client = integration.client()
    targets = client.list_fields() if client.supports(Capability.LIST_FIELDS) else None
    forecast = preview.forecast(integration, list(integration.field_mappings.all()), targets)

    run, _ = sync.start_sync(integration, "command")
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    return forecast, run


def assert_forecast_was_the_run(forecast, run) -> None:
    assert forecast.excluded == run.excluded, run.error
    assert forecast.would_send == run.created + run.updated + run.unchanged, run.error
    assert forecast.rejected == run.rejected_data, run.error
    recorded = Counter(
        run.records.filter(outcome=Outcome.REJECTED_DATA).values_list("code", flat=True)
    )
    assert forecast.reasons == Counter({c.replace("_", " "): n for c, n in recorded.items()})
    assert run.rejected_compliance == run.rejected_auth == run.throttled == run.unknown == 0


@pytest.mark.parametrize("slug", SLUGS)
def test_forecast_counts_equal_the_next_runs_outcomes(slug, sandbox_url, e2e_clock):
    create_demo_audience(DEMO_AUDIENCE)
    forecast, run = forecast_then_run(slug, sandbox_url)
    assert forecast.total == DEMO_AUDIENCE
    assert_forecast_was_the_run(forecast, run)


@pytest.mark.parametrize("slug", SLUGS)
def test_forecast_names_an_invalid_address_as_the_run_records_it(slug, sandbox_url, e2e_clock):
    create_demo_audience(10)
    Subscriber.objects.create(email="ada@@example.com", first_name="Ada")
    Subscriber.objects.create(email="ben@localhost", first_name="Ben")
    forecast, run = forecast_then_run(slug, sandbox_url)
    assert forecast.rejected == 2
    assert_forecast_was_the_run(forecast, run)
