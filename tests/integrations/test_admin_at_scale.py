"""Every admin changelist stays cheap however large its table (figures: bench/admin_scale.py)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audience.models import Subscriber
from integrations.models import ApiCall, SyncRecord, SyncRun, SyncTrigger

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
# Tables that grow with the audience or with every API call: a changelist may count them and
# read one page of them, never scan them for a filter's choices or a date hierarchy.
LARGE_TABLES = ("audience_subscriber", "integrations_syncrecord", "integrations_apicall")


@pytest.fixture
def rows(make_integration):
    integration = make_integration("customerio")
    run = SyncRun.objects.create(integration=integration, trigger=SyncTrigger.MANUAL)
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.com") for i in range(30)
    )
    SyncRecord.objects.bulk_create(
        SyncRecord(run=run, subscriber=s, email=s.email, outcome="rejected_data")
        for s in subscribers
    )
    ApiCall.objects.bulk_create(
        ApiCall(integration=integration, surface="track", method="POST", path="/x", ok=i % 2 == 0,
                error_kind="" if i % 2 == 0 else "transient", latency_ms=1, status_code=200,
                at=timezone.now())
        for i in range(30)
    )  # fmt: skip


def changelists() -> list:
    """Every registered model's changelist, as a list (pytest warns about generator argvalues)."""
    return [
        pytest.param(
            f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist", id=m._meta.label_lower
        )
        for m in admin.site._registry
    ]


def scans(sql: str) -> bool:
    lowered = sql.lower()
    return "distinct" in lowered or "datetime_trunc" in lowered or "min(" in lowered


@pytest.mark.parametrize("name", changelists())
def test_a_changelist_takes_few_queries_and_never_scans_a_large_table(admin_client, rows, name):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(name))
    assert response.status_code == 200
    assert len(queries) <= MAX_QUERIES, [q["sql"][:120] for q in queries]
    scanning = [
        q["sql"][:160]
        for q in queries
        if scans(q["sql"]) and any(f'"{table}"' in q["sql"] for table in LARGE_TABLES)
    ]
    assert not scanning


def test_the_api_call_filters_offer_the_known_values(admin_client, rows):
    page = admin_client.get(reverse("admin:integrations_apicall_changelist")).content.decode()
    assert "?surface=track" in page and "?error_kind=transient" in page
    only = admin_client.get(
        reverse("admin:integrations_apicall_changelist"), {"error_kind": "transient"}
    )
    assert {c.error_kind for c in only.context["cl"].result_list} == {"transient"}


def test_a_whole_email_is_found_by_its_index_and_a_part_by_a_search(admin_client, rows):
    url = reverse("admin:audience_subscriber_changelist")
    with CaptureQueriesContext(connection) as queries:
        found = admin_client.get(url, {"q": "R7@Example.com"})
    assert [s.email for s in found.context["cl"].result_list] == ["r7@example.com"]
    assert not any("LIKE" in q["sql"] for q in queries)
    partial = admin_client.get(url, {"q": "r1"})
    assert {s.email for s in partial.context["cl"].result_list} >= {
        "r1@example.com",
        "r10@example.com",
    }
    domain = admin_client.get(url, {"q": "@example.com"})
    assert len(domain.context["cl"].result_list) == 30
