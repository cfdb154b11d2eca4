"""integrations/0013_webhooks: existing integrations each get their own webhook id."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("integrations", "0012_segment_members")]
AFTER = [("integrations", "0013_webhooks")]


@pytest.mark.django_db(transaction=True)
def test_existing_integrations_get_distinct_webhook_ids():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("integrations", "Integration")
    for n in range(3):
        old.objects.create(platform="customerio", name=f"before {n}", credentials={})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("integrations", "Integration")
    ids = list(new.objects.values_list("webhook_id", flat=True))
    assert len(ids) == 3 and None not in ids and len(set(ids)) == 3
    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
