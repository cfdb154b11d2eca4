from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audience.models import Subscriber
from integrations.models import (
    ApiCall,
    Integration,
    IntegrationStatus,
    OAuthConnection,
    Outcome,
    Segment,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from integrations.services import queue

pytestmark = pytest.mark.django_db

TRACK_KEY = "cio-track-secret-7f3a9b"
APP_KEY = "cio-app-secret-c81d2e"
SITE_ID = "site-4242"


@pytest.fixture
def customerio(make_integration):
    return make_integration(
        "customerio",
        name="Customer.io main",
        credentials={"site_id": SITE_ID, "track_api_key": TRACK_KEY, "app_api_key": APP_KEY},
        mappings=[],
        connection_report={
            "ok": True,
            "can_write": True,
            "account": "Acme workspace",
            "region": "us",
            "detail": "Track and App keys accepted.",
            "permissions": {"upsert_contacts": True, "list_segments": True},
        },
    )


def change_data(integration, **overrides):
    data = {
        "name": integration.name,
        "enabled": "on",
        "sync_frequency": integration.sync_frequency,
        "update_existing": "on",
        "region": integration.region or "us",
        "api_base_url": integration.api_base_url,
        "credential_site_id": SITE_ID,
        "credential_track_api_key": "",
        "credential_app_api_key": "",
        "field_mappings-TOTAL_FORMS": "0",
        "field_mappings-INITIAL_FORMS": "0",
        "field_mappings-MIN_NUM_FORMS": "0",
        "field_mappings-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


_queued: list = []


@pytest.fixture(autouse=True)
def capture_queue(monkeypatch):
    """What the admin actions put on the queue, whichever broker is configured."""
    _queued.clear()
    monkeypatch.setattr(
        queue, "async_task", lambda func, *args, **kwargs: _queued.append((func, args))
    )


def queued_tasks():
    return list(_queued)


def make_runs(integration, count=3):
    runs = []
    for index in range(count):
        run = SyncRun.objects.create(
            integration=integration,
            trigger=SyncTrigger.MANUAL,
            status=SyncStatus.PARTIAL if index % 2 else SyncStatus.SUCCEEDED,
            total=10,
            seen=10,
            created=5,
            updated=2,
            unchanged=1,
            rejected_data=2 if index % 2 else 0,
            api_calls=3,
            started_at=timezone.now() - timedelta(seconds=30),
            finished_at=timezone.now(),
            warnings=["Customer.io accepted the batch with notes"],
            preview=[{"subscriber": 1, "identifier": {"email": "a@example.com"}, "fields": {}}],
        )
        runs.append(run)
    return runs


# --- the integration list -------------------------------------------------------------------------


def test_integration_changelist_shows_badges_and_last_sync_without_n_plus_1(
    admin_client, make_integration, django_assert_max_num_queries
):
    integrations = [
        make_integration(
            "customerio" if i % 2 else "iterable",
            name=f"Integration {i}",
            status=IntegrationStatus.ERROR if i == 3 else IntegrationStatus.CONNECTED,
            last_error="Customer.io answered 401 " + "x" * 200 if i == 3 else "",
        )
        for i in range(8)
    ]
    for integration in integrations:
        make_runs(integration, 2)
    SyncRun.objects.create(
        integration=integrations[0], trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING
    )
    url = reverse("admin:integrations_integration_changelist")
    with django_assert_max_num_queries(10):
        response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    for integration in integrations:
        assert integration.name in content
    assert "Error</span>" in content and "Connected</span>" in content
    assert "Running</span>" in content  # the latest run of Integration 0
    assert "x" * 200 not in content  # last error truncated
    rows = {i.name: i for i in response.context["cl"].result_list}
    assert rows["Integration 0"].last_sync_status == SyncStatus.RUNNING
    assert rows["Integration 1"].last_sync_status == SyncStatus.PARTIAL
    # sorting by the annotated last sync works
    assert admin_client.get(url, {"o": "4"}).status_code == 200
    assert (
        admin_client.get(url, {"platform__exact": "iterable", "enabled__exact": "1"}).status_code
        == 200
    )


def test_integration_changelist_shows_oauth_token_health_without_n_plus_1(
    admin_client, make_integration, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(6):
        integration = make_integration("keap", name=f"Keap {i}", credentials={})
        OAuthConnection.objects.create(
            integration=integration,
            access_token=f"fake-access-{i}",
            refresh_token=f"fake-refresh-{i}",
            expires_at=now + timedelta(minutes=30) if i else now - timedelta(minutes=1),
            refresh_failures=2 if i == 3 else 0,
            last_refresh_error="invalid_grant" if i == 3 else "",
        )
    make_integration("iterable", name="Iterable by key")
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse("admin:integrations_integration_changelist"))
    content = response.content.decode()
    assert "OAuth token" in content
    assert content.count("expires in 2") == 5  # "expires in 29 minutes"
    assert "expired" in content
    assert "2 refresh failures" in content and 'title="invalid_grant"' in content
    assert "fake-access" not in content and "fake-refresh" not in content


# --- credentials are write-only -------------------------------------------------------------------


def test_change_form_never_renders_stored_secrets(admin_client, customerio):
    response = admin_client.get(
        reverse("admin:integrations_integration_change", args=[customerio.pk])
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert TRACK_KEY not in content
    assert APP_KEY not in content
    assert TRACK_KEY[-4:] not in content and APP_KEY[-4:] not in content
    assert 'name="credentials"' not in content
    assert 'type="password" name="credential_track_api_key"' in content
    assert "A value is stored; leave blank to keep it." in content
    assert SITE_ID in content  # not a secret: shown so it can be edited
    # the region is a choice of the platform's regions
    form = response.context["adminform"].form
    assert list(form.fields["region"].choices) == [
        ("us", "United States"),
        ("eu", "European Union"),
    ]
    assert not form.fields["credential_track_api_key"].required


def test_change_page_shows_connection_report_and_api_usage(admin_client, customerio):
    now = timezone.now()
    for ok, latency in ((True, 100.0), (True, 300.0), (False, 50.0)):
        ApiCall.objects.create(
            integration=customerio,
            surface="track",
            method="POST",
            path="/api/v2/batch",
            status_code=200 if ok else 500,
            ok=ok,
            latency_ms=latency,
            at=now,
        )
    ApiCall.objects.create(
        integration=customerio,
        surface="track",
        method="POST",
        path="/old",
        status_code=200,
        ok=True,
        latency_ms=1.0,
        at=now - timedelta(days=2),
    )
    content = admin_client.get(
        reverse("admin:integrations_integration_change", args=[customerio.pk])
    ).content.decode()
    assert "Acme workspace" in content
    assert "Track and App keys accepted." in content
    assert "upsert contacts: yes" in content
    assert "<tr><th>Calls</th><td>3</td></tr>" in content  # the 2-day-old call is not counted
    assert "1 (33.3 %)" in content
    assert "<tr><th>Median latency</th><td>100 ms</td></tr>" in content


def test_blank_secret_keeps_the_stored_value_and_new_one_replaces_it(admin_client, customerio):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    response = admin_client.post(url, change_data(customerio, name="Renamed"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    customerio.refresh_from_db()
    assert customerio.name == "Renamed"
    assert customerio.credentials == {
        "site_id": SITE_ID,
        "track_api_key": TRACK_KEY,
        "app_api_key": APP_KEY,
    }

    response = admin_client.post(
        url,
        change_data(
            customerio,
            credential_track_api_key="  brand-new-track-key  ",
            credential_site_id="site-9",
        ),
    )
    assert response.status_code == 302
    customerio.refresh_from_db()
    assert customerio.credentials == {
        "site_id": "site-9",
        "track_api_key": "brand-new-track-key",
        "app_api_key": APP_KEY,
    }
    # the raw credentials field cannot be posted around the form
    admin_client.post(url, change_data(customerio, credentials='{"track_api_key": "hijack"}'))
    customerio.refresh_from_db()
    assert customerio.credentials["track_api_key"] == "brand-new-track-key"


def test_saving_in_the_admin_sets_the_schedule(admin_client, customerio):
    from django_q.models import Schedule

    from integrations.services.schedules import schedule_name

    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    response = admin_client.post(url, change_data(customerio, sync_frequency="hourly"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Schedule.objects.get(name=schedule_name(customerio.pk)).minutes == 60
    response = admin_client.post(
        url, change_data(customerio, sync_frequency="hourly", enabled=None)
    )
    assert response.status_code == 302
    assert not Schedule.objects.filter(name=schedule_name(customerio.pk)).exists()


def test_moving_an_integration_to_another_endpoint_requires_its_secrets_again(
    admin_client, customerio, settings
):
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    for moved in (
        {"region": "eu"},
        {"api_base_url": "http://127.0.0.1:8000/sandbox/customerio"},
    ):
        response = admin_client.post(url, change_data(customerio, **moved))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "type the Track API key again" in errors["credential_track_api_key"][0]
        customerio.refresh_from_db()
        assert (customerio.region, customerio.api_base_url) == ("us", "")
        assert customerio.credentials["track_api_key"] == TRACK_KEY

    response = admin_client.post(
        url, change_data(customerio, region="eu", credential_track_api_key="eu-track-key")
    )
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["credential_app_api_key"]  # each secret, not only the one typed
    response = admin_client.post(
        url,
        change_data(
            customerio,
            region="eu",
            credential_track_api_key="eu-track-key",
            credential_app_api_key="eu-app-key",
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    customerio.refresh_from_db()
    assert customerio.region == "eu"
    assert customerio.credentials == {
        "site_id": SITE_ID,
        "track_api_key": "eu-track-key",
        "app_api_key": "eu-app-key",
    }


def mapping_rows(*rows):
    """The inline's POST data for new mapping rows (source, target, is_identifier)."""
    data = {"field_mappings-TOTAL_FORMS": str(len(rows))}
    for index, (source, target, identifier) in enumerate(rows):
        prefix = f"field_mappings-{index}-"
        data.update(
            {prefix + "source": source, prefix + "target": target, prefix + "transform": ""}
        )
        if identifier:
            data[prefix + "is_identifier"] = "on"
    return data


def test_two_identifier_mappings_are_an_inline_error_not_a_500(admin_client, customerio):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    rows = mapping_rows(("email", "email", True), ("first_name", "id", True))
    response = admin_client.post(url, change_data(customerio, **rows))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert errors == ["Exactly one mapping must be marked as the identifier."]
    assert "Exactly one mapping must be marked as the identifier." in response.content.decode()
    assert not customerio.field_mappings.exists()

    rows = mapping_rows(("email", "email", True), ("first_name", "first_name", False))
    response = admin_client.post(url, change_data(customerio, **rows))
    assert response.status_code == 302
    assert list(customerio.field_mappings.values_list("target", "is_identifier")) == [
        ("email", True),
        ("first_name", False),
    ]


def test_invalid_base_url_and_region_are_form_errors(admin_client, customerio):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    response = admin_client.post(
        url, change_data(customerio, api_base_url="http://attacker.example.com", region="mars")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "must be https on one of Customer.io's hosts" in errors["api_base_url"][0]
    assert "region" in errors
    response = admin_client.post(
        url,
        change_data(
            customerio,
            api_base_url="https://track-eu.customer.io",
            region="eu",
            credential_track_api_key="eu-track-key",  # a new endpoint takes its keys anew
            credential_app_api_key="eu-app-key",
        ),
    )
    assert response.status_code == 302
    customerio.refresh_from_db()
    assert (customerio.api_base_url, customerio.region) == ("https://track-eu.customer.io", "eu")


def test_add_form_asks_for_the_platform_first(admin_client):
    url = reverse("admin:integrations_integration_add")
    response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "credentials are entered once the platform is chosen" in content
    assert "credential_" not in content
    assert "?platform=customerio" in content

    response = admin_client.get(url, {"platform": "iterable"})
    content = response.content.decode()
    assert 'name="credential_api_key"' in content
    assert response.context["adminform"].form.fields["credential_api_key"].required


def test_add_with_posted_platform_requires_then_stores_credentials(admin_client):
    url = reverse("admin:integrations_integration_add")
    data = {
        "platform": "iterable",
        "name": "Iterable EU",
        "enabled": "on",
        "sync_frequency": "manual",
        "field_mappings-TOTAL_FORMS": "0",
        "field_mappings-INITIAL_FORMS": "0",
    }
    # Without the platform's fields: the form comes back with them, required.
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "credential_api_key" in response.context["adminform"].form.errors
    assert not Integration.objects.exists()

    response = admin_client.post(
        url, {**data, "region": "eu", "api_base_url": "", "credential_api_key": "iter-secret-123"}
    )
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert (integration.platform, integration.region) == ("iterable", "eu")
    assert integration.credentials == {"api_key": "iter-secret-123"}
    # and it is never shown again
    content = admin_client.get(
        reverse("admin:integrations_integration_change", args=[integration.pk])
    ).content.decode()
    assert "iter-secret-123" not in content


# --- actions --------------------------------------------------------------------------------------


def post_action(admin_client, action, integrations):
    return admin_client.post(
        reverse("admin:integrations_integration_changelist"),
        {"action": action, "_selected_action": [i.pk for i in integrations]},
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_sync_now_queues_a_run_once(admin_client, customerio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "sync_now", [customerio])
    run = SyncRun.objects.get()
    assert (run.status, run.trigger, run.integration_id) == (
        SyncStatus.QUEUED,
        SyncTrigger.MANUAL,
        customerio.pk,
    )
    assert queued_tasks() == [("integrations.tasks.run_sync", (run.pk,))]
    assert f"Customer.io main: sync run #{run.pk} queued." in messages_of(response)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "sync_now", [customerio])
    assert SyncRun.objects.count() == 1
    assert len(queued_tasks()) == 1
    assert (
        f"Customer.io main: a sync is already queued (run #{run.pk}); no new run queued."
        in messages_of(response)
    )


def test_sync_now_skips_disabled_integrations(
    admin_client, customerio, django_capture_on_commit_callbacks
):
    Integration.objects.filter(pk=customerio.pk).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "sync_now", [customerio])
    assert not SyncRun.objects.exists() and not queued_tasks()
    assert "Customer.io main: disabled, not synced." in messages_of(response)


@pytest.mark.parametrize(
    "action, func, message",
    [
        ("test_connection", "integrations.tasks.test_connection", "Connection test queued for"),
        ("import_segments", "integrations.tasks.import_segments", "Segment import queued for"),
    ],
)
def test_other_actions_queue_their_tasks(
    admin_client, make_integration, django_capture_on_commit_callbacks, action, func, message
):
    first = make_integration("customerio", name="One")
    second = make_integration("iterable", name="Two")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, action, [first, second])
    assert sorted(queued_tasks()) == sorted([(func, (first.pk,)), (func, (second.pk,))])
    assert any(m.startswith(message) and "One" in m and "Two" in m for m in messages_of(response))


# --- sync runs, records, segments, API calls ------------------------------------------------------


@pytest.fixture
def history(make_integration):
    integrations = [make_integration("customerio", name=f"CIO {i}") for i in range(3)]
    subscriber = Subscriber.objects.create(email="reader@example.com")
    runs = []
    for integration in integrations:
        for run in make_runs(integration, 3):
            runs.append(run)
            for j in range(4):
                SyncRecord.objects.create(
                    run=run,
                    subscriber=subscriber,
                    email=f"r{j}@example.com",
                    outcome=Outcome.REJECTED_DATA if j % 2 else Outcome.CREATED,
                    code="invalid_email" if j % 2 else "",
                    message=f"message {run.pk}-{j}",
                    hint="Fix the address",
                )
        for j in range(4):
            Segment.objects.create(
                integration=integration,
                remote_id=str(j),
                name=f"Segment {j}",
                kind="dynamic",
                member_count=j * 10,
                imported_at=timezone.now(),
            )
            ApiCall.objects.create(
                integration=integration,
                surface="track",
                method="POST",
                path="/api/v2/batch",
                status_code=200,
                ok=True,
                latency_ms=12.5,
                at=timezone.now(),
            )
    return runs


@pytest.mark.parametrize(
    "model, max_queries, expected",
    [
        ("syncrun", 12, ["5 created · 2 updated · 1 unchanged · 2 failed", "3 API calls", "CIO 2"]),
        ("syncrecord", 10, ["r1@example.com", "invalid_email", "Fix the address"]),
        ("segment", 10, ["Segment 3", "CIO 1", "30"]),
        ("apicall", 12, ["/api/v2/batch", "CIO 0", "12 ms", "200"]),
    ],
)
def test_log_changelists_in_bounded_queries(
    admin_client, history, django_assert_max_num_queries, model, max_queries, expected
):
    with django_assert_max_num_queries(max_queries):
        response = admin_client.get(reverse(f"admin:integrations_{model}_changelist"))
    assert response.status_code == 200
    content = response.content.decode()
    for text in expected:
        assert text in content


def test_logs_cannot_be_added_or_edited(admin_client, history):
    run = history[0]
    assert admin_client.get(reverse("admin:integrations_syncrun_add")).status_code == 403
    assert admin_client.get(reverse("admin:integrations_syncrecord_add")).status_code == 403
    url = reverse("admin:integrations_syncrun_change", args=[run.pk])
    response = admin_client.post(url, {"status": "failed"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED


def test_sync_run_detail_shows_outcomes_and_links_to_its_records(admin_client, history):
    run = history[1]  # partial, 2 rejected (data)
    response = admin_client.get(reverse("admin:integrations_syncrun_change", args=[run.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<tr><th>Rejected (data)</th><td>2</td></tr>" in content
    assert "Customer.io accepted the batch with notes" in content
    assert "a@example.com" in content  # the preview
    link = reverse("admin:integrations_syncrecord_changelist") + f"?run__id__exact={run.pk}"
    assert link in content
    response = admin_client.get(link)
    assert response.status_code == 200
    records = list(response.context["cl"].result_list)
    assert len(records) == 4 and {r.run_id for r in records} == {run.pk}


def test_sync_record_search_and_filter(admin_client, history):
    url = reverse("admin:integrations_syncrecord_changelist")
    response = admin_client.get(url, {"outcome__exact": "rejected_data"})
    assert {r.outcome for r in response.context["cl"].result_list} == {"rejected_data"}
    # Every run's records: an email or code starting with the words.
    response = admin_client.get(url, {"q": "R3@"})
    assert {r.email for r in response.context["cl"].result_list} == {"r3@example.com"}
    assert len(response.context["cl"].result_list) == len(history)
    response = admin_client.get(url, {"q": "invalid_e"})
    assert {r.code for r in response.context["cl"].result_list} == {"invalid_email"}
    assert not admin_client.get(url, {"q": "example.com"}).context["cl"].result_list
    # Within one run: words anywhere, messages included (the run page's search).
    one_run = {"q": f"message {history[0].pk}-3", "run__id__exact": history[0].pk}
    response = admin_client.get(url, one_run)
    assert [r.email for r in response.context["cl"].result_list] == ["r3@example.com"]


ACTIONS = (b'value="sync_now"', b'value="test_connection"', b'value="import_segments"')


def test_only_users_who_may_run_syncs_get_the_actions(client, customerio):
    from django.contrib.auth.models import Permission, User

    editor = User.objects.create_user("editor", password="editor-pw-123", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_integration", "change_integration"])
    )
    client.force_login(editor)
    page = client.get(reverse("admin:integrations_integration_changelist"))
    assert page.status_code == 200
    assert not any(action in page.content for action in ACTIONS)
    editor.user_permissions.add(Permission.objects.get(codename="run_sync"))
    client.force_login(User.objects.get(pk=editor.pk))
    page = client.get(reverse("admin:integrations_integration_changelist"))
    assert all(action in page.content for action in ACTIONS)


@pytest.mark.parametrize("action", ["sync_now", "test_connection", "import_segments"])
def test_a_view_only_user_posting_an_action_gets_403_and_nothing_is_queued(
    client, customerio, django_capture_on_commit_callbacks, action
):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="viewer-pw-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:integrations_integration_changelist"),
            {"action": action, "_selected_action": [customerio.pk]},
        )
    assert response.status_code == 403
    assert queued_tasks() == [] and not SyncRun.objects.exists()


def test_import_segments_is_refused_with_the_reason_where_the_platform_has_none(
    admin_client, make_integration, django_capture_on_commit_callbacks
):
    from integrations.platforms.registry import all_platforms
    from integrations.platforms.types import Capability

    without = next(p for p in all_platforms() if not p.supports(Capability.LIST_SEGMENTS))
    with_segments = make_integration("customerio", name="Has segments")
    lacking = make_integration(without.slug, name="No segments")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "import_segments", [with_segments, lacking])
    assert queued_tasks() == [("integrations.tasks.import_segments", (with_segments.pk,))]
    reason = without.unsupported_reasons[Capability.LIST_SEGMENTS]
    assert any(m.startswith("No segments:") and reason in m for m in messages_of(response))


def test_import_members_queues_platforms_that_list_members_and_says_why_not_otherwise(
    admin_client, make_integration, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from integrations.models import Segment

    now = timezone.now()
    cio = Segment.objects.create(integration=make_integration("customerio", name="cio"),
                                 remote_id="1", name="Growth", imported_at=now)  # fmt: skip
    braze = Segment.objects.create(integration=make_integration("braze", name="bz"),
                                   remote_id="2", name="Braze readers", imported_at=now)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:integrations_segment_changelist"),
            {"action": "import_members", "_selected_action": [cio.pk, braze.pk]},
            follow=True,
        )
    assert queued_tasks() == [("integrations.tasks.refresh_segment_members", (cio.pk,))]
    shown = messages_of(response)
    assert "Member import queued for Growth." in shown
    assert any(m.startswith("Braze readers") and "cannot list segment members" in m for m in shown)
    page = admin_client.get(reverse("admin:integrations_segment_changelist")).content.decode()
    assert "not read" in page


# --- Import profiles ------------------------------------------------------------------------------


@pytest.fixture
def mailchimp(make_integration):
    return make_integration("mailchimp", name="Mailchimp main")


def staff_with(*codenames):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("staffer", password="staffer-pw-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_import_profiles_queues_an_import_run_with_the_permission(
    client, mailchimp, django_capture_on_commit_callbacks
):
    client.force_login(staff_with("view_integration", "change_integration", "import_profiles"))
    page = client.get(reverse("admin:integrations_integration_changelist"))
    assert b'value="import_profiles"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, "import_profiles", [mailchimp])
    run = SyncRun.objects.get()
    assert (run.kind, run.status, run.trigger) == ("import", SyncStatus.QUEUED, SyncTrigger.MANUAL)
    assert queued_tasks() == [("integrations.tasks.run_sync", (run.pk,))]
    assert (
        f"Mailchimp main: profile import run #{run.pk} queued (sharpsend wins (existing "
        "subscribers are not changed)); it shows in the sync logs." in messages_of(response)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, "import_profiles", [mailchimp])
    assert SyncRun.objects.count() == 1 and len(queued_tasks()) == 1
    assert f"run #{run.pk} is already queued; no import queued." in messages_of(response)[0]


def test_import_profiles_without_the_permission_is_hidden_and_refused(
    client, mailchimp, django_capture_on_commit_callbacks
):
    # May run syncs, not import profiles: the import writes the audience.
    client.force_login(staff_with("view_integration", "change_integration", "run_sync"))
    page = client.get(reverse("admin:integrations_integration_changelist"))
    assert b'value="sync_now"' in page.content
    assert b'value="import_profiles"' not in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:integrations_integration_changelist"),
            {"action": "import_profiles", "_selected_action": [mailchimp.pk]},
        )
    assert response.status_code == 403
    assert queued_tasks() == [] and not SyncRun.objects.exists()


def test_import_profiles_says_why_a_platform_cannot_and_skips_disabled_ones(
    admin_client, mailchimp, make_integration, django_capture_on_commit_callbacks
):
    braze = make_integration("braze", name="Braze main")
    off = make_integration("kit", name="Kit off", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "import_profiles", [braze, off])
    said = messages_of(response)
    assert any(m.startswith("Braze main: Braze cannot list contacts: Braze exports") for m in said)
    assert "Kit off: disabled, not imported." in said
    assert queued_tasks() == [] and not SyncRun.objects.exists()


def test_the_run_list_shows_imports_beside_syncs(admin_client, mailchimp):
    SyncRun.objects.create(
        integration=mailchimp,
        kind="import",
        trigger=SyncTrigger.MANUAL,
        status=SyncStatus.SUCCEEDED,
        conflict_policy="fill_blanks",
        created=3,
    )
    page = admin_client.get(reverse("admin:integrations_syncrun_changelist"))
    assert b"profile import \xc2\xb7 fill_blanks" in page.content
    filtered = admin_client.get(reverse("admin:integrations_syncrun_changelist"), {"kind": "push"})
    assert b"profile import" not in filtered.content


def test_the_conflict_policy_is_set_on_the_integrations_form(admin_client, customerio):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    response = admin_client.post(url, change_data(customerio, conflict_policy="fill_blanks"))
    assert response.status_code == 302
    customerio.refresh_from_db()
    assert customerio.conflict_policy == "fill_blanks"
    # A post without the field keeps the stored policy.
    response = admin_client.post(url, change_data(customerio))
    assert response.status_code == 302
    customerio.refresh_from_db()
    assert customerio.conflict_policy == "fill_blanks"
