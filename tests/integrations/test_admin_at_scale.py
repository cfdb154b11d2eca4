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
from sharpsend.admin_paging import CappedCountPaginator

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
        Subscriber(email=f"r{i}@example.com", first_name=("Tara" if i % 3 == 0 else "Ada"),
                   last_name=("Rossi" if i == 3 else "Chen"))
        for i in range(30)
    )  # fmt: skip
    SyncRecord.objects.bulk_create(
        SyncRecord(run=run, subscriber=s, email=s.email, outcome="rejected_data",
                   code="rejected_email")
        for s in subscribers
    )  # fmt: skip
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


def test_a_whole_email_is_found_by_its_index_and_a_start_by_a_search(admin_client, rows):
    url = reverse("admin:audience_subscriber_changelist")
    with CaptureQueriesContext(connection) as queries:
        found = admin_client.get(url, {"q": "R7@Example.com"})
    assert [s.email for s in found.context["cl"].result_list] == ["r7@example.com"]
    assert not any("LIKE" in q["sql"] for q in queries)
    start = admin_client.get(url, {"q": "R1"})
    assert {s.email for s in start.context["cl"].result_list} == {
        f"r{i}@example.com" for i in (1, *range(10, 20))
    }
    names = admin_client.get(url, {"q": "tara ROSS"})
    assert [s.email for s in names.context["cl"].result_list] == ["r3@example.com"]
    # A starts-with search: the middle of an address (a domain) is not searched.
    assert not admin_client.get(url, {"q": "@example.com"}).context["cl"].result_list
    assert "starts with" in admin_client.get(url).content.decode()


def plan(response) -> str:
    """The database's plan for the changelist's rows (searched and filtered, in its order).

    PostgreSQL prefers reading a table of 30 rows whole: with sequential scans priced out it
    says whether an index *can* serve the query, which is what a million rows need."""
    queryset = response.context["cl"].queryset
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize(
    ("name", "params", "indexes"),
    [
        ("audience_subscriber", {"q": "tara"}, ["subscriber_email_prefix",
         "subscriber_first_name_prefix", "subscriber_last_name_prefix"]),
        ("audience_subscriber", {"q": "tara ross"}, ["subscriber_first_name_prefix",
         "subscriber_last_name_prefix"]),
        ("integrations_syncrecord", {"q": "r1"}, ["record_email_prefix", "record_code_prefix"]),
        ("integrations_syncrecord", {"outcome__exact": "rejected_data"}, ["record_by_outcome"]),
        ("integrations_apicall", {"ok__exact": "0"}, ["api_call_failed"]),
    ],
    ids=["subscribers-searched", "subscribers-two-words", "records-searched",
         "records-by-outcome", "calls-failed"],
)  # fmt: skip
def test_a_search_or_filter_reads_its_index(admin_client, rows, name, params, indexes):
    response = admin_client.get(reverse(f"admin:{name}_changelist"), params)
    assert response.status_code == 200 and response.context["cl"].result_list
    explained = plan(response)
    assert all(index in explained for index in indexes), explained


def test_a_record_search_of_every_run_finds_emails_and_codes_by_their_start(admin_client, rows):
    url = reverse("admin:integrations_syncrecord_changelist")
    found = admin_client.get(url, {"q": "R2"}).context["cl"].result_list
    assert {r.email for r in found} == {
        "r2@example.com",
        *(f"r{i}@example.com" for i in range(20, 30)),
    }
    assert len(admin_client.get(url, {"q": "rejected"}).context["cl"].result_list) == 30
    assert not admin_client.get(url, {"q": "example"}).context["cl"].result_list


# --- counted up to a cap (sharpsend/admin_paging.py) -------------------------------------------


@pytest.fixture
def cap(monkeypatch):
    """A cap of 10 and pages of 4 rows for the lists of subscribers and sync records."""
    monkeypatch.setattr(CappedCountPaginator, "cap", 10)
    for model in (Subscriber, SyncRecord):
        monkeypatch.setattr(admin.site._registry[model], "list_per_page", 4)


def listed(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def test_a_search_past_the_cap_says_more_than_and_its_pages_walk_the_list(admin_client, rows, cap):
    url = reverse("admin:integrations_syncrecord_changelist")
    expected = list(SyncRecord.objects.order_by("id").values_list("pk", flat=True))[:10]
    pages = []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url, {"q": "rejected", "p": number})
        assert response.status_code == 200 and len(queries) <= MAX_QUERIES
        pages.append(listed(response))
        page = response.content.decode()
        assert "More than 10 sync records" in page and "30" not in page.split("paginator")[1][:400]
        assert "Select all matching sync records (more than 10)" in page
        assert "results (" not in page  # no "N results" in the search form
    assert pages == [expected[:4], expected[4:8], expected[8:10]]
    assert 'href="?p=2&amp;q=rejected"' in page
    beyond = admin_client.get(url, {"q": "rejected", "p": 4})  # past the first 10 rows
    assert beyond.status_code == 302 and "e=1" in beyond["Location"]
    # On SQLite the page walks the records by id, checking each against the search (EXISTS
    # on its id); PostgreSQL picks that walk itself from its statistics.
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(url, {"q": "rejected"})
    walked = any("EXISTS" in q["sql"] and "LIMIT 4" in q["sql"] for q in queries)
    assert walked == (connection.vendor == "sqlite")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    assert counts and all("LIMIT 11" in sql for sql in counts), counts


def test_below_the_cap_the_count_is_exact(admin_client, rows, cap):
    url = reverse("admin:audience_subscriber_changelist")
    response = admin_client.get(url, {"q": "tara"})  # readers 0, 3, … 27: 10
    page = response.content.decode()
    assert response.context["cl"].result_count == 10
    assert "10 subscribers" in page and "10 results" in page and "More than" not in page
    assert "Select all 10 subscribers" in page
    second = admin_client.get(url, {"q": "tara", "p": 2})
    assert len(listed(second)) == 4 and not set(listed(second)) & set(listed(response))


def test_a_subscriber_search_past_the_cap_keeps_its_order_and_pages(admin_client, rows, cap):
    url = reverse("admin:audience_subscriber_changelist")
    ada = Subscriber.objects.filter(first_name="Ada")  # 20 readers
    expected = sorted(ada, key=lambda s: -s.pk)[:10]  # a search: newest first
    first, third = (admin_client.get(url, {"q": "ada", "p": p}) for p in (1, 3))
    assert "More than 10 subscribers" in first.content.decode()
    assert listed(first) + listed(admin_client.get(url, {"q": "ada", "p": 2})) + listed(third) == [
        s.pk for s in expected
    ]


def test_an_unfiltered_list_is_counted_exactly(admin_client, rows, cap):
    page = admin_client.get(reverse("admin:audience_subscriber_changelist")).content.decode()
    assert "30 subscribers" in page and "More than" not in page


def test_a_subscriber_search_sorted_by_email_sorts_its_matches(admin_client, rows):
    url = reverse("admin:audience_subscriber_changelist")
    for order, reverse_ in (("1", False), ("-1", True)):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url, {"q": "ada", "o": order})
        emails = [s.email for s in response.context["cl"].result_list]
        assert emails == sorted(emails, reverse=reverse_) and len(emails) == 20
        # (email || ''): not the email index, which PostgreSQL would walk for the matches.
        assert any("||" in q["sql"] and "ORDER BY" in q["sql"] for q in queries)
