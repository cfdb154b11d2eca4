"""Two integrations on one Kit API key share Kit's 120 requests a minute: 0 × 429."""

from __future__ import annotations

import pytest

from integrations.models import ApiCall, SyncStatus
from integrations.platforms.registry import get_platform
from integrations.sandbox import registry

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "kit"


def test_two_integrations_on_one_key_stay_within_its_limit_together(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    registry.seed(SLUG)
    make_subscribers(90, unsubscribed=())
    first = make_integration(SLUG, base_url=base_url, name="Kit one")
    second = make_integration(SLUG, base_url=base_url, name="Kit two")  # the same demo key
    assert first.client().rate_scope() == second.client().rate_scope()
    assert first.client().rate_scope().startswith("credential-")

    started = e2e_clock.now()
    runs = [run_sync(first), run_sync(second)]
    assert [r.status for r in runs] == [SyncStatus.SUCCEEDED] * 2, [r.error for r in runs]
    assert ApiCall.objects.filter(status_code=429).count() == 0
    calls = ApiCall.objects.count()
    assert calls > 150  # together more than one minute's worth of Kit's limit
    rate = next(iter(get_platform(SLUG).limits.rates.values()))
    assert e2e_clock.now() - started >= (calls - 1) * rate.interval  # spaced as one budget


def test_different_keys_have_their_own_budgets(make_integration):
    one = make_integration(SLUG, name="one", credentials={"api_key": "kit-fake-key-one"})
    two = make_integration(SLUG, name="two", credentials={"api_key": "kit-fake-key-two"})
    assert one.client().rate_scope() != two.client().rate_scope()
    assert "kit-fake-key" not in one.client().rate_key("api")  # a digest, never the key
