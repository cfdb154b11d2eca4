"""Sync logs pages: runs, records with filters, progress JSON, CSV, retry and sync buttons."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audience.models import Subscriber
from integrations.models import Outcome, SyncMode, SyncRecord, SyncRun, SyncStatus, SyncTrigger
from integrations.services import queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(make_integration):
    integration = make_integration("customerio")
    run = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.PARTIAL,
        total=3, seen=3, created=1, rejected_data=1, rejected_compliance=1,
    )  # fmt: skip
    ann = Subscriber.objects.create(email="ann@example.com")
    bob = Subscriber.objects.create(email="bob@example.com")
    SyncRecord.objects.create(run=run, subscriber=ann, email=ann.email, outcome=Outcome.REJECTED_DATA,
                              code="invalid", message="email is invalid", hint="Fix it")  # fmt: skip
    SyncRecord.objects.create(run=run, subscriber=bob, email=bob.email,
                              outcome=Outcome.REJECTED_COMPLIANCE, code="suppressed")  # fmt: skip
    return run


def test_integration_page_lists_runs_and_usage(admin_client, run):
    page = admin_client.get(reverse("integrations:integration", args=[run.integration.pk]))
    assert page.status_code == 200
    assert b"Partial" in page.content and b"API calls (24 h)" in page.content


def test_run_page_filters_records_by_outcome_and_search(admin_client, run):
    url = reverse("integrations:run", args=[run.pk])
    everything = admin_client.get(url).content
    assert b"ann@example.com" in everything and b"bob@example.com" in everything
    only_data = admin_client.get(url, {"outcome": Outcome.REJECTED_DATA}).content
    assert b"ann@example.com" in only_data and b"bob@example.com" not in only_data
    searched = admin_client.get(url, {"q": "suppressed"}).content
    assert b"bob@example.com" in searched and b"ann@example.com" not in searched


def test_run_page_and_admin_find_the_same_records(admin_client, run):
    page = reverse("integrations:run", args=[run.pk])
    admin_list = reverse("admin:integrations_syncrecord_changelist")
    for query in ("suppressed", "is invalid", "invalid email", '"is invalid"', '"invalid is"'):
        found = {r.email for r in admin_client.get(page, {"q": query}).context["records"]}
        listed = admin_client.get(admin_list, {"q": query, "run__id__exact": run.pk})
        assert found == {r.email for r in listed.context["cl"].result_list}, query
    assert found == set()  # '"invalid is"' is a phrase no record holds


def test_integration_page_and_admin_show_the_same_token_health(admin_client, run):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import OAuthConnection

    OAuthConnection.objects.create(
        integration=run.integration,
        access_token="fake-access",
        refresh_token="fake-refresh",
        expires_at=timezone.now() - timedelta(minutes=5),
    )
    page = admin_client.get(reverse("integrations:integration", args=[run.integration.pk]))
    assert "access token expired;" in page.content.decode()
    admin_page = admin_client.get(
        reverse("admin:integrations_integration_change", args=[run.integration.pk])
    )
    assert "Access token expired;" in admin_page.content.decode()


def test_status_json_reports_progress(admin_client, run):
    data = admin_client.get(reverse("integrations:run-status", args=[run.pk])).json()
    assert data["finished"] is True and data["progress"] == 100
    assert data["counts"]["rejected_data"] == 1
    assert data["api_calls_text"] == "0 API calls"


def test_failures_download_as_csv(admin_client, run):
    response = admin_client.get(reverse("integrations:run-failures", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["email", "outcome", "code", "message", "hint"]
    assert rows[1] == [
        "ann@example.com",
        "Rejected (data)",
        "invalid",
        "email is invalid",
        "Fix it",
    ]
    assert len(rows) == 3


def test_failures_csv_cells_never_open_as_formulas(admin_client, run):
    hostile = Subscriber.objects.create(email="=1+2-8@example.org")
    SyncRecord.objects.create(run=run, subscriber=hostile, email=hostile.email,
                              outcome=Outcome.REJECTED_DATA, code="+cmd",
                              message="=cmd|' /C calc'!A0", hint="@SUM(A1)")  # fmt: skip
    response = admin_client.get(reverse("integrations:run-failures", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[-1] == [
        "'=1+2-8@example.org",
        "Rejected (data)",
        "'+cmd",
        "'=cmd|' /C calc'!A0",
        "'@SUM(A1)",
    ]
    assert rows[1][0] == "ann@example.com"  # ordinary cells are left alone


def test_retry_failed_queues_a_run_of_pending_records(
    admin_client, run, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("integrations:run-retry", args=[run.pk]))
    retry = SyncRun.objects.exclude(pk=run.pk).get()
    assert retry.mode == SyncMode.RETRY and retry.status == SyncStatus.QUEUED
    assert response["Location"] == reverse("integrations:run", args=[retry.pk])
    assert queued == [("integrations.tasks.run_sync", (retry.pk,))]


def test_an_import_run_shows_as_one_and_offers_no_retry(
    admin_client, run, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    SyncRun.objects.filter(pk=run.pk).update(kind="import")
    page = admin_client.get(reverse("integrations:run", args=[run.pk]))
    assert b"Profile import" in page.content
    assert b'id="retry-failed"' not in page.content
    assert b'id="failures-csv"' in page.content
    listing = admin_client.get(reverse("integrations:integration", args=[run.integration.pk]))
    assert b"Profile import" in listing.content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("integrations:run-retry", args=[run.pk]), follow=True)
    assert SyncRun.objects.count() == 1 and queued == []
    assert "correct them there, then import again" in str(list(response.context["messages"])[0])


def test_a_segment_push_run_shows_its_changes_and_push_again_queues_the_next_push(
    admin_client, make_integration, django_capture_on_commit_callbacks, monkeypatch
):
    from audience.models import AudienceSegment
    from integrations.models import SegmentPush, SyncKind

    queued = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    integration = make_integration("iterable")
    segment = AudienceSegment.objects.create(name="VIPs", slug="vips")
    push = SegmentPush.objects.create(
        segment=segment, integration=integration, remote_id="41", remote_name="VIPs list"
    )
    run = SyncRun.objects.create(
        integration=integration, kind=SyncKind.SEGMENT, segment_push=push,
        trigger=SyncTrigger.COMMAND, status=SyncStatus.PARTIAL, created=4, removed=3,
        rejected_compliance=1,
    )  # fmt: skip
    SyncRecord.objects.create(run=run, email="gone@example.com", action="remove",
                              outcome=Outcome.REJECTED_COMPLIANCE, code="Forgotten")  # fmt: skip
    page = admin_client.get(reverse("integrations:run", args=[run.pk])).content.decode()
    assert "Segment push #" in page and "VIPs list (41)" in page
    assert '<strong id="run-added">4</strong>' in page
    assert '<strong id="run-removed">3</strong>' in page
    assert "<td>Remove</td>" in page and "gone@example.com" in page
    assert ">Push again<" in page
    failures = admin_client.get(reverse("integrations:run-failures", args=[run.pk]))
    assert list(csv.reader(io.StringIO(failures.getvalue().decode())))[1][:3] == [
        "gone@example.com",
        "remove",
        "Rejected (compliance)",
    ]
    home = admin_client.get(reverse("integrations:home")).content.decode()
    assert "Segment push" in home
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("integrations:run-retry", args=[run.pk]))
    again = SyncRun.objects.exclude(pk=run.pk).get()
    assert (again.kind, again.segment_push, again.status) == (
        SyncKind.SEGMENT,
        push,
        SyncStatus.QUEUED,
    )
    assert response["Location"] == reverse("integrations:run", args=[again.pk])
    assert queued == [("integrations.tasks.run_sync", (again.pk,))]


def test_pages_need_the_view_permission(client, run):
    someone = User.objects.create_user("staff", password="pw-123456", is_staff=True)
    client.force_login(someone)
    assert client.get(reverse("integrations:run", args=[run.pk])).status_code == 403
    someone.user_permissions.add(Permission.objects.get(codename="view_integration"))
    someone = User.objects.get(pk=someone.pk)
    client.force_login(someone)
    assert client.get(reverse("integrations:run", args=[run.pk])).status_code == 200
    assert client.post(reverse("integrations:run-retry", args=[run.pk])).status_code == 403


def test_sync_now_needs_post_and_csrf(client, run, admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    url = reverse("integrations:sync", args=[run.integration.pk])
    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403  # no CSRF token


def test_dry_run_shows_the_planned_requests_and_queues_nothing(admin_client, run):
    integration = run.integration
    page = admin_client.post(reverse("integrations:dry-run", args=[integration.pk]))
    assert page.status_code == 200
    [request] = page.context["dry_run"]["requests"]
    assert request["method"] == "POST"
    region = integration.region or "us"
    host = {"us": "track.customer.io", "eu": "track-eu.customer.io"}[region]
    assert request["url"] == f"https://{host}/api/v2/batch"
    emails = [entry["identifiers"]["email"] for entry in request["body"]["batch"]]
    assert emails == ["ann@example.com", "bob@example.com"]
    content = page.content.decode()
    assert 'id="dry-run-result"' in content
    assert "POST https://" in content and "ann@example.com" in content
    for secret in integration.secrets.values():
        if len(str(secret)) >= 4:
            assert str(secret) not in content
    assert SyncRun.objects.filter(integration=integration).count() == 1  # only the fixture's


def test_dry_run_needs_post_and_the_run_sync_permission(client, run):
    url = reverse("integrations:dry-run", args=[run.integration.pk])
    someone = User.objects.create_user("viewer", password="pw-123456", is_staff=True)
    someone.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(someone)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    page = client.get(reverse("integrations:integration", args=[run.integration.pk]))
    assert 'id="dry-run"' not in page.content.decode()
    someone.user_permissions.add(Permission.objects.get(codename="run_sync"))
    client.force_login(User.objects.get(pk=someone.pk))
    assert client.post(url).status_code == 200


def test_run_page_says_a_changed_only_run_read_only_the_changes(admin_client, run):
    from datetime import UTC, datetime

    url = reverse("integrations:run", args=[run.pk])
    assert b'id="run-reads-since"' not in admin_client.get(url).content
    run.reads_since = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    run.save()
    page = admin_client.get(url).content.decode()
    assert "changed since 30 Nov 2026, 08:15" in page
