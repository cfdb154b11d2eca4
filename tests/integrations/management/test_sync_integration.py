import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audience.models import Subscriber, SubscriberStatus
from integrations.models import SyncRun, SyncStatus, SyncTrigger

BAD_CREDENTIALS = {"site_id": "sandbox-site-us", "track_api_key": "wrong", "app_api_key": "wrong"}


def run_command(*args):
    out = StringIO()
    call_command("sync_integration", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def audience(db):
    for i in range(5):
        Subscriber.objects.create(email=f"reader{i}@example.com", first_name=f"R{i}")
    Subscriber.objects.create(email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)


@pytest.fixture
def customerio(make_integration, sandbox_url):
    return make_integration("customerio", name="CIO sandbox", base_url=f"{sandbox_url}/customerio")


@pytest.mark.django_db(transaction=True)
def test_sync_by_name_succeeds_and_prints_a_summary(customerio, audience):
    out = run_command("CIO sandbox")
    run = SyncRun.objects.get()
    assert (run.status, run.trigger, run.created) == (SyncStatus.SUCCEEDED, SyncTrigger.COMMAND, 5)
    assert f"Run #{run.pk} succeeded: 5 of 5 seen; created 5, updated 0, unchanged 0," in out
    assert "excluded 1;" in out
    calls = "1 API call;" if run.api_calls == 1 else f"{run.api_calls} API calls;"
    assert calls in out and run.api_calls >= 1
    assert "0 warnings." in out

    # by id, a second time: changed-only, nothing to send
    out = run_command(str(customerio.pk))
    assert "created 0, updated 0, unchanged 5," in out
    # --full sends everyone again
    out = run_command(str(customerio.pk), "--full")
    assert "created 0, updated 5, unchanged 0," in out
    assert SyncRun.objects.filter(mode="full").count() == 1


@pytest.mark.django_db(transaction=True)
def test_dry_run_prints_the_preview_and_sends_nothing(customerio, audience):
    out = run_command("CIO sandbox", "--dry-run")
    run = SyncRun.objects.get()
    assert run.dry_run and run.status == SyncStatus.SUCCEEDED
    assert "(dry run)" in out
    assert "The requests the first 5 subscribers become" in out
    # The Customer.io request body itself: one batch of the five.
    [request] = json.loads(out[out.index("[") :])
    assert request["method"] == "POST" and request["url"].endswith("/api/v2/batch")
    first = request["body"]["batch"][0]
    assert first["identifiers"] == {"email": "reader0@example.com"}
    assert first["attributes"]["first_name"] == "R0"
    assert run.api_calls == 0
    # nothing was recorded as sent: a real sync still creates all five
    assert "created 5," in run_command("CIO sandbox")


@pytest.mark.django_db(transaction=True)
def test_failed_run_exits_1(make_integration, sandbox_url, audience):
    make_integration(
        "customerio",
        name="Bad keys",
        base_url=f"{sandbox_url}/customerio",
        credentials=BAD_CREDENTIALS,
    )
    with pytest.raises(CommandError, match=r"Sync run #\d+ failed: .*401") as excinfo:
        run_command("Bad keys")
    assert excinfo.value.returncode == 1
    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED
    assert "wrong" not in run.error


@pytest.mark.django_db(transaction=True)
def test_partial_run_exits_2(make_integration, sandbox_url):
    make_integration(
        "customerio",
        name="By id",
        base_url=f"{sandbox_url}/customerio",
        mappings=[("attributes.cid", "id", "", True), ("email", "email", "", False)],
    )
    Subscriber.objects.create(email="with@example.com", attributes={"cid": "c-1"})
    Subscriber.objects.create(email="without@example.com")
    out = StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("sync_integration", "By id", stdout=out)
    assert excinfo.value.code == 2
    text = out.getvalue()
    assert "partial" in text and "created 1" in text and "rejected (data) 1" in text
    assert "1 records were not accepted" in text
    assert SyncRun.objects.get().status == SyncStatus.PARTIAL


@pytest.mark.django_db(transaction=True)
def test_refuses_while_a_run_is_active(customerio, audience):
    active = SyncRun.objects.create(
        integration=customerio, trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING
    )
    from django.utils import timezone

    SyncRun.objects.filter(pk=active.pk).update(heartbeat_at=timezone.now())
    with pytest.raises(CommandError, match=f"sync run #{active.pk} is already running"):
        run_command("CIO sandbox")
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db
def test_unknown_integration_lists_the_known_ones(make_integration):
    known = make_integration("iterable", name="Iterable main")
    with pytest.raises(CommandError) as excinfo:
        run_command("nope")
    assert f"{known.pk}: Iterable main (iterable)" in str(excinfo.value)
    with pytest.raises(CommandError, match="No integration with id or name '999'"):
        run_command("999")


@pytest.mark.django_db(transaction=True)
def test_disabled_integration_is_not_synced_but_can_be_previewed(customerio, audience):
    customerio.enabled = False
    customerio.save()
    with pytest.raises(CommandError, match="CIO sandbox is disabled"):
        run_command("CIO sandbox")
    assert not SyncRun.objects.exists()
    assert "(dry run)" in run_command("CIO sandbox", "--dry-run")
