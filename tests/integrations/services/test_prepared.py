"""Statements compiled once (integrations/services/prepared.py) give what the ORM gives."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from integrations.models import Integration, WebhookEvent, WebhookState
from integrations.services.prepared import PreparedInsert, PreparedQuery

BY_WEBHOOK_ID = PreparedQuery(
    lambda key, region: (
        Integration.objects.filter(webhook_id=key, region=region, enabled=True)
        .order_by()
        .values_list("pk", "name")
    ),
    [Integration._meta.get_field("webhook_id"), Integration._meta.get_field("region")],
    [uuid.UUID("0e7d4c61-0000-4000-8000-0000000000aa"), "sample-region"],
)


def integration(name: str, **fields) -> Integration:
    return Integration.objects.create(
        name=name, platform="customerio", **{"region": "us", **fields}
    )


@pytest.mark.django_db
def test_a_query_runs_with_each_call_s_values_in_place():
    one, two = integration("one"), integration("two", region="eu")
    assert BY_WEBHOOK_ID.rows(one.webhook_id, "us") == [(one.pk, "one")]
    assert BY_WEBHOOK_ID.rows(two.webhook_id, "eu") == [(two.pk, "two")]
    assert BY_WEBHOOK_ID.rows(two.webhook_id, "us") == []
    assert BY_WEBHOOK_ID.rows(uuid.uuid4(), "us") == []
    Integration.objects.filter(pk=one.pk).update(enabled=False)
    assert BY_WEBHOOK_ID.rows(one.webhook_id, "us") == []


def test_a_sample_found_twice_in_the_parameters_is_refused(db):
    twice = PreparedQuery(
        lambda a: Integration.objects.filter(pk=a).exclude(pk=a),
        [Integration._meta.pk],
        [-4_000_001],
    )
    with pytest.raises(ValueError, match="not once"):
        twice.rows(1)


def _event(owner: Integration, key: str) -> WebhookEvent:
    return WebhookEvent(
        integration=owner,
        dedupe_key=key,
        state=WebhookState.VERIFIED,
        content_type="application/json",
        body=b'{"a": 1}',
        headers={"Content-Type": "application/json", "X-Odd": "ü"},
    )


def _stored(event: WebhookEvent) -> dict:
    row = WebhookEvent.objects.filter(pk=event.pk).values().get()
    row.pop("id")
    row["body"] = bytes(row["body"])
    return row


@pytest.mark.django_db(transaction=True)
def test_an_insert_stores_what_save_stores_in_autocommit():
    assert not connection.in_atomic_block
    owner = integration("owner")
    inserted = PreparedInsert(WebhookEvent).insert(_event(owner, "k1"))
    saved = _event(owner, "k2")
    saved.save(force_insert=True)
    assert inserted.pk and inserted.pk != saved.pk and not inserted._state.adding
    first, second = _stored(inserted), _stored(saved)
    assert first["received_at"] and second["received_at"]
    for row in (first, second):
        row.pop("received_at"), row.pop("dedupe_key")
    assert first == second
    assert first["headers"] == {"Content-Type": "application/json", "X-Odd": "ü"}
    with pytest.raises(IntegrityError):  # the unique key holds (one statement: nothing left open)
        PreparedInsert(WebhookEvent).insert(_event(owner, "k1"))
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
def test_an_insert_in_a_savepoint_leaves_the_transaction_usable():
    owner = integration("owner")
    insert = PreparedInsert(WebhookEvent)
    insert.insert(_event(owner, "k1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.insert(_event(owner, "k1"))
    assert WebhookEvent.objects.filter(integration=owner).count() == 1
